"""registry_hashscorerlink: which address holds each nullifier within a community."""

from __future__ import annotations

from collections.abc import Sequence

from service.db.connection import Transaction
from service.db.jsonb import dumps
from service.domain.lifo import Link, LinkUpdate, NewLink


def find(tx: Transaction, hashes: Sequence[str], community_id: int) -> list[Link]:
    if not hashes:
        return []
    rows = tx.run(
        "SELECT id, hash, address, expires_at FROM registry_hashscorerlink"
        " WHERE community_id = :community_id AND hash = ANY(CAST(:hashes AS varchar[]))",
        community_id=community_id,
        hashes=list(hashes),
    )
    return [Link(*row) for row in rows]


def insert(tx: Transaction, links: Sequence[NewLink], community_id: int) -> None:
    """One multi-row INSERT; rows keep the given order, and so do their ids."""
    if not links:
        return
    tx.run(
        "INSERT INTO registry_hashscorerlink (hash, address, expires_at, community_id)"
        " SELECT e.v->>'hash', e.v->>'address', CAST(e.v->>'expires_at' AS timestamptz),"
        "  :community_id"
        " FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS e(v, ord)"
        " ORDER BY e.ord",
        community_id=community_id,
        rows=dumps(
            [
                {
                    "hash": link.hash,
                    "address": link.address,
                    "expires_at": link.expires_at.isoformat(),
                }
                for link in links
            ]
        ),
    )


def claim(tx: Transaction, updates: Sequence[LinkUpdate], *, address: str, now_iso: str) -> None:
    """Takes over own or expired links. A link someone else claimed meanwhile is left alone;
    the ownership check that follows then sees the conflict and the attempt is retried."""
    if not updates:
        return
    tx.run(
        "UPDATE registry_hashscorerlink l SET address = :address, expires_at = u.expires_at"
        " FROM (SELECT CAST(e.v->>'id' AS bigint) AS id,"
        "  CAST(e.v->>'expires_at' AS timestamptz) AS expires_at"
        "  FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS e(v)) u"
        " WHERE l.id = u.id"
        " AND (l.address = :address OR l.expires_at <= CAST(:now AS timestamptz))",
        address=address,
        now=now_iso,
        rows=dumps([{"id": u.link_id, "expires_at": u.expires_at.isoformat()} for u in updates]),
    )


def count_owned(tx: Transaction, hashes: Sequence[str], *, address: str, community_id: int) -> int:
    if not hashes:
        return 0
    return int(
        tx.scalar(
            "SELECT count(*) FROM registry_hashscorerlink WHERE address = :address"
            " AND community_id = :community_id AND hash = ANY(CAST(:hashes AS varchar[]))",
            address=address,
            community_id=community_id,
            hashes=list(hashes),
        )
    )
