"""ceramic_cache_ceramiccache: the credential cache that scoring reads stamps from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.db.connection import Transaction


@dataclass(frozen=True)
class CachedStamp:
    provider: str
    credential: dict[str, Any]
    updated_at: datetime


def live_stamps(tx: Transaction, address: str) -> list[CachedStamp]:
    """Non-deleted, non-revoked rows of any type.

    The reference's query has no ORDER BY but is answered from the partial unique index on
    (type, address, provider); ordering by (type, provider) reproduces that order, and with it
    the order of everything downstream (links, stamp ids, key order of the score JSON).
    """
    rows = tx.run(
        "SELECT cc.provider, cc.stamp, cc.updated_at FROM ceramic_cache_ceramiccache cc"
        " WHERE cc.address = :address AND cc.deleted_at IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM ceramic_cache_revocation r"
        "  WHERE r.ceramic_cache_id = cc.id)"
        " ORDER BY cc.type, cc.provider",
        address=address,
    )
    return [CachedStamp(provider, stamp, updated_at) for provider, stamp, updated_at in rows]
