"""ceramic_cache_ban: the active bans of a subject address or of credential hashes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from service.db.connection import Transaction
from service.domain.bans_rules import Ban
from service.domain.text import storable_text


def active_bans(
    tx: Transaction, *, address: str, hashes: Sequence[str], now: datetime
) -> list[Ban]:
    """Bans without an end or ending after `now` that name the address (compared as the
    reference's `iexact` does) or one of the hashes; in id order (ADR-0015)."""
    rows = tx.run(
        "SELECT id, type, provider, hash, address, end_time, reason FROM ceramic_cache_ban"
        " WHERE (end_time IS NULL OR end_time > :now)"
        " AND (hash = ANY(CAST(:hashes AS varchar[])) OR UPPER(address) = UPPER(:address))"
        " ORDER BY id",
        now=now,
        # Text PostgreSQL cannot hold cannot be in any row either; NULL matches nothing.
        hashes=[h for h in hashes if storable_text(h)],
        address=address if storable_text(address) else None,
    )
    return [Ban(*row) for row in rows]
