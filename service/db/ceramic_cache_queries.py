"""ceramic_cache_ceramiccache: the credential cache that scoring reads stamps from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.db import jsonb
from service.db.connection import Transaction, timestamptz_in
from service.db.jsonb import dumps
from service.domain.ceramic_cache_rules import STAMP_TYPE_V1, NewCacheRow
from service.domain.lifo import Link


@dataclass(frozen=True)
class CachedStamp:
    provider: str
    credential: dict[str, Any]
    updated_at: datetime
    id: int | None = None
    # A digest of the credential's JSON text, where it was read as text (jsonb.loads_remembered).
    digest: bytes | None = None


@dataclass(frozen=True)
class LiveStamps:
    """The address's live cache rows, and the community's hash links of the nullifiers they
    name, read together."""

    rows: list[CachedStamp]
    # Every nullifier (and subject hash) the rows name, with its link or None.
    links: dict[str, Link | None]

    def links_of(self, hashes: Sequence[str]) -> list[Link] | None:
        """The links of `hashes`, as `hash_links.find` would return them; None when a hash was
        not among those read (the caller then reads them itself)."""
        found: list[Link] = []
        for nullifier in hashes:
            if not isinstance(nullifier, str) or nullifier not in self.links:
                return None
            link = self.links[nullifier]
            if link is not None:
                found.append(link)
        return found


def live_stamps_sql(community: str) -> str:
    """The statement of `live_stamps`, with `community` the SQL expression of the community id
    whose links are read (a parameter, or a subquery that finds it)."""
    return (
        # The subject is taken out of the (TOASTed) credential once per row, in the CTE that
        # both halves read; each link is found through the (hash, community) unique index.
        "WITH live AS (SELECT cc.id, cc.type, cc.provider, cc.stamp, cc.updated_at,"
        "  cc.stamp->'credentialSubject' AS subject"
        "  FROM ceramic_cache_ceramiccache cc"
        "  WHERE cc.address = :address AND cc.deleted_at IS NULL"
        "  AND NOT EXISTS (SELECT 1 FROM ceramic_cache_revocation r"
        "   WHERE r.ceramic_cache_id = cc.id)),"
        " named AS (SELECT DISTINCT n.hash FROM live,"
        "  LATERAL (SELECT live.subject->>'hash'"
        "   WHERE jsonb_typeof(live.subject->'hash') = 'string'"
        "   UNION ALL SELECT jsonb_array_elements_text(live.subject->'nullifiers')"
        "   WHERE jsonb_typeof(live.subject->'nullifiers') = 'array') n(hash)"
        "  WHERE n.hash IS NOT NULL)"
        # Credentials come as text, parsed here once per distinct text (jsonb.loads_remembered).
        " SELECT 0 AS kind, live.type, live.provider, CAST(live.stamp AS text), live.updated_at,"
        "  live.id FROM live"
        " UNION ALL"
        # The links in one row, as [hash, id, address, expires_at text] arrays: the driver
        # decodes one JSON value far faster than a row per link.
        " SELECT 1, NULL, NULL, CAST((SELECT COALESCE(jsonb_agg(jsonb_build_array(named.hash,"
        "  l.id, l.address, CAST(l.expires_at AS text))), '[]') FROM named"
        "  LEFT JOIN LATERAL (SELECT l.id, l.address, l.expires_at"
        "   FROM registry_hashscorerlink l"
        f"   WHERE l.hash = named.hash AND l.community_id = {community}) l ON true) AS text),"
        " NULL, NULL"
        " ORDER BY 1, 2, 3"
    )


_LIVE_STAMPS_SQL = live_stamps_sql(":community_id")


def live_stamps(tx: Transaction, address: str, *, community_id: int) -> LiveStamps:
    """Non-deleted, non-revoked rows of any type, and the links of the nullifiers they name.

    The reference's query has no ORDER BY but is answered from the partial unique index on
    (type, address, provider); ordering by (type, provider) reproduces that order, and with it
    the order of everything downstream (links, stamp ids, key order of the score JSON).

    Which stamps are valid, and so which nullifiers deduplication needs, is only known after
    verification; reading the links of every nullifier the rows name (a superset) saves the
    round trip that would otherwise follow it.
    """
    return live_stamps_from_rows(
        tx.run(_LIVE_STAMPS_SQL, address=address, community_id=community_id)
    )


def live_stamps_from_rows(rows: Sequence[Sequence[Any]]) -> LiveStamps:
    stamps: list[CachedStamp] = []
    links: dict[str, Link | None] = {}
    for kind, _type, provider, text, updated_at, row_id in rows:
        if kind == 0:
            credential, digest = jsonb.loads_remembered(text)
            stamps.append(CachedStamp(provider, credential, updated_at, row_id, digest))
            continue
        for name, link_id, owner, expires_at in json.loads(text):
            links[name] = (
                None if link_id is None else Link(link_id, name, owner, timestamptz_in(expires_at))
            )
    return LiveStamps(stamps, links)


@dataclass(frozen=True)
class CacheEntry:
    """One row of the current-stamps listing (`CachedStampResponse`)."""

    id: int
    address: str
    provider: str
    stamp: Any


def current_stamps(tx: Transaction, address: str, *, v1_only: bool = True) -> list[CacheEntry]:
    """Live, non-revoked rows of the address, by id (ADR-0015).

    Every listing of the reference filters on type 1 except the one the bulk DELETE returns.
    """
    rows = tx.run(
        "SELECT cc.id, cc.address, cc.provider, cc.stamp FROM ceramic_cache_ceramiccache cc"
        " WHERE cc.address = :address AND cc.deleted_at IS NULL"
        + _type_filter("cc.type", v1_only)
        + " AND NOT EXISTS (SELECT 1 FROM ceramic_cache_revocation r"
        "  WHERE r.ceramic_cache_id = cc.id)"
        " ORDER BY cc.id",
        address=address,
    )
    return [CacheEntry(*row) for row in rows]


@dataclass(frozen=True)
class ListedStamp:
    id: int
    provider: str
    # The credential as PostgreSQL renders jsonb: `json.dumps`'s separators and key order, so it
    # goes into the answer as it is, without a parse and a re-serialisation per row.
    stamp_json: str


@dataclass(frozen=True)
class StampPage:
    """Rows by id descending, and whether older (`has_more`) or newer (`has_prev`) rows exist."""

    rows: list[ListedStamp]
    has_more: bool
    has_prev: bool


_PAGE_SQL = (
    "WITH page AS (SELECT id, provider, stamp FROM ceramic_cache_ceramiccache"
    " WHERE address = :address AND deleted_at IS NULL{bound} ORDER BY id {order} LIMIT :limit)"
    " SELECT p.id, p.provider, CAST(p.stamp AS text),"
    " EXISTS (SELECT 1 FROM ceramic_cache_ceramiccache c WHERE c.address = :address"
    "  AND c.deleted_at IS NULL AND c.id < (SELECT min(id) FROM page)),"
    " EXISTS (SELECT 1 FROM ceramic_cache_ceramiccache c WHERE c.address = :address"
    "  AND c.deleted_at IS NULL AND c.id > (SELECT max(id) FROM page))"
    " FROM page p ORDER BY p.id DESC"
)
_FIRST_PAGE = _PAGE_SQL.format(bound="", order="DESC")
_OLDER_PAGE = _PAGE_SQL.format(bound=" AND id < :cursor_id", order="DESC")
_NEWER_PAGE = _PAGE_SQL.format(bound=" AND id > :cursor_id", order="ASC")


def stamp_page(
    tx: Transaction, address: str, *, older_than: int | None, newer_than: int | None, limit: int
) -> StampPage:
    """One page of the address's rows that are not soft-deleted, of every type, revoked or not
    (the stamps list's rows, as the reference's `get_passport_stamps` in
    `api/v2/api/api_stamps.py` lists them), in one round trip. `newer_than` takes the
    `limit` rows just above the id, as the reference's `prev` does."""
    params: dict[str, Any] = {"address": address, "limit": limit}
    if older_than is not None:
        sql, params["cursor_id"] = _OLDER_PAGE, older_than
    elif newer_than is not None:
        sql, params["cursor_id"] = _NEWER_PAGE, newer_than
    else:
        sql = _FIRST_PAGE
    result = tx.run(sql, **params)
    if not result:
        return StampPage([], has_more=False, has_prev=False)
    return StampPage(
        [ListedStamp(*row[:3]) for row in result],
        has_more=bool(result[0][3]),
        has_prev=bool(result[0][4]),
    )


def soft_delete(
    tx: Transaction,
    address: str,
    providers: Sequence[str],
    *,
    now: datetime,
    v1_only: bool,
) -> list[int]:
    """Marks the address's live rows of these providers deleted; returns their ids.

    POST and the embed write only touch type-1 rows; PATCH and DELETE touch every type.
    """
    if not providers:
        return []
    # Every write of an address's cache rows starts here. Two requests writing the same
    # provider at once would otherwise both find nothing live to delete and both insert,
    # and the second would hit the one-live-row-per-provider index; the transaction-scoped
    # lock makes them take turns.
    tx.run(
        "SELECT pg_advisory_xact_lock(hashtextextended('ceramic_cache:' || :address, 0))",
        address=address,
    )
    rows = tx.run(
        "UPDATE ceramic_cache_ceramiccache SET updated_at = :now, deleted_at = :now"
        " WHERE address = :address AND deleted_at IS NULL"
        " AND provider = ANY(CAST(:providers AS varchar[]))"
        + _type_filter("type", v1_only)
        + " RETURNING id",
        now=now,
        address=address,
        providers=list(providers),
    )
    return sorted(int(row[0]) for row in rows)


def insert(
    tx: Transaction,
    address: str,
    rows: Sequence[NewCacheRow],
    *,
    now: datetime,
    source_app: int | None,
    source_scorer_id: int | None,
) -> None:
    """One multi-row INSERT in the given order, so ids ascend in payload order."""
    if not rows:
        return
    tx.run(
        "INSERT INTO ceramic_cache_ceramiccache (type, address, provider, stamp, proof_value,"
        " created_at, updated_at, deleted_at, compose_db_save_status, compose_db_stream_id,"
        " issuance_date, expiration_date, source_app, source_scorer_id)"
        " SELECT :v1, :address, e.v->>'provider', e.v->'stamp', e.v->>'proof_value',"
        "  :now, :now, NULL, 'pending', '',"
        "  CAST(e.v->>'issuance_date' AS timestamptz),"
        "  CAST(e.v->>'expiration_date' AS timestamptz),"
        "  CAST(:source_app AS integer), CAST(:source_scorer_id AS bigint)"
        " FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS e(v, ord)"
        " ORDER BY e.ord",
        v1=STAMP_TYPE_V1,
        address=address,
        now=now,
        source_app=source_app,
        source_scorer_id=source_scorer_id,
        rows=dumps([_row_json(row) for row in rows]),
    )


def replace(
    tx: Transaction,
    address: str,
    rows: Sequence[NewCacheRow],
    *,
    now: datetime,
    source_app: int,
    source_scorer_id: int | None,
) -> None:
    """The reference's `handle_add_stamps_only` write, shared by the ceramic-cache POST
    (source app 1) and the embed stamps endpoint (source app 2): soft-delete the address's live
    type-1 rows of these providers, then insert the new rows."""
    soft_delete(tx, address, [row.provider for row in rows], now=now, v1_only=True)
    insert(tx, address, rows, now=now, source_app=source_app, source_scorer_id=source_scorer_id)


def _type_filter(column: str, v1_only: bool) -> str:
    return f" AND {column} = {STAMP_TYPE_V1}" if v1_only else ""


def _row_json(row: NewCacheRow) -> dict[str, Any]:
    return {
        "provider": row.provider,
        "stamp": row.stamp,
        "proof_value": row.proof_value,
        "issuance_date": None if row.issuance_date is None else row.issuance_date.isoformat(),
        "expiration_date": None if row.expiration_date is None else row.expiration_date.isoformat(),
    }
