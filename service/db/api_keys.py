"""account_accountapikey: lookup by prefix, and the lazy SHA-256 migration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def find_by_prefix(tx: Transaction, prefix: str) -> ApiKeyRow | None:
    # No `revoked` filter here: the caller rejects revoked keys itself so that the failed
    # attempt can still be attributed to the key in the analytics table.
    row = tx.one(
        "SELECT id, prefix, hashed_key, hashed_key_sha256, revoked, expiry_date, account_id,"
        " read_scores, rate_limit, historical_endpoint FROM account_accountapikey"
        " WHERE prefix = :prefix",
        prefix=prefix,
    )
    return ApiKeyRow(*row) if row else None


def store_sha256(tx: Transaction, key_id: str, value: str) -> None:
    tx.run(
        "UPDATE account_accountapikey SET hashed_key_sha256 = :value WHERE id = :id",
        value=value,
        id=key_id,
    )


def embed_rate_limit(tx: Transaction, key_id: str) -> str | None:
    """The key's `embed_rate_limit` ("125/15m", "350/15m", "2000/15m", "" or NULL)."""
    value = tx.scalar(
        "SELECT embed_rate_limit FROM account_accountapikey WHERE id = :id", id=key_id
    )
    return None if value is None else str(value)
