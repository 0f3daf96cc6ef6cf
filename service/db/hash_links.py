"""registry_hashscorerlink: which address holds each nullifier within a community (read again
when a scoring run is retried; written by service/db/scoring_run.py)."""

from __future__ import annotations

from collections.abc import Sequence

from service.db.connection import Transaction
from service.domain.lifo import Link


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
