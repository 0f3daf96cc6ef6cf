"""account_accountapikey: lookup by prefix, and the lazy SHA-256 migration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.db.connection import Transaction


@dataclass(frozen=True)
class ApiKeyRow:
    id: str
    prefix: str
    hashed_key: str
    hashed_key_sha256: str | None
    revoked: bool
    expiry_date: datetime | None
    account_id: int
    read_scores: bool
    rate_limit: str | None
    historical_endpoint: bool


# No `revoked` filter here: the caller rejects revoked keys itself so that the failed attempt
# can still be attributed to the key in the analytics table.
BY_PREFIX_SQL = (
    "SELECT id, prefix, hashed_key, hashed_key_sha256, revoked, expiry_date, account_id,"
    " read_scores, rate_limit, historical_endpoint FROM account_accountapikey"
    " WHERE prefix = :prefix"
)

# The account of a key that passes, on the SHA-256 fast path, every check
# `auth.api_key.authenticate` makes for a route that reads scores; NULL for any other key.
# Parameters: :prefix, :key_sha256 (`sha256_form` of the presented key) and :now.
VERIFIED_KEY_ACCOUNT = (
    "(SELECT k.account_id FROM account_accountapikey k WHERE k.prefix = :prefix"
    " AND COALESCE(NULLIF(k.hashed_key_sha256, ''), k.hashed_key) = :key_sha256"
    " AND NOT k.revoked AND (k.expiry_date IS NULL OR k.expiry_date > CAST(:now AS timestamptz))"
    " AND k.read_scores)"
)


def find_by_prefix(tx: Transaction, prefix: str) -> ApiKeyRow | None:
    return row_of(tx.one(BY_PREFIX_SQL, prefix=prefix))


def row_of(row: list[Any] | None) -> ApiKeyRow | None:
    return ApiKeyRow(*row) if row else None


# SKIP LOCKED: a request whose key another open transaction is migrating leaves the migration
# to it (the stored value is the same) instead of waiting for the row. Waiting would hold
# whatever this request had already locked, such as its passport, which the other request may
# want next: the two would deadlock, and the request would fail for a write it can skip.
# NO KEY UPDATE, the lock a plain UPDATE of this non-key column takes: FOR UPDATE would also
# block the foreign-key checks (FOR KEY SHARE) of other requests' analytics rows for the key.
_STORE_SHA256_SQL = (
    "UPDATE account_accountapikey SET hashed_key_sha256 = :value WHERE id = ("
    "SELECT id FROM account_accountapikey WHERE id = :id FOR NO KEY UPDATE SKIP LOCKED)"
)


def store_sha256(tx: Transaction, key_id: str, value: str) -> None:
    tx.run(_STORE_SHA256_SQL, value=value, id=key_id)


def embed_rate_limit(tx: Transaction, key_id: str) -> str | None:
    """The key's `embed_rate_limit` ("125/15m", "350/15m", "2000/15m", "" or NULL)."""
    value = tx.scalar(
        "SELECT embed_rate_limit FROM account_accountapikey WHERE id = :id", id=key_id
    )
    return None if value is None else str(value)
