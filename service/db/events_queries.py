"""registry_event reads: the score history route's lookup of SCU events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.db.connection import Transaction


@dataclass(frozen=True)
class ScoreEvent:
    id: int
    data: Any


def latest_score_event(
    tx: Transaction, *, community_id: int, address: str, at_or_before: datetime
) -> ScoreEvent | None:
    """The community's newest SCU event for the address created at or before the moment; events
    tied on `created_at` resolve to the greatest id. Served by `score_history_index`."""
    if "\x00" in address:
        return None  # PostgreSQL text cannot hold NUL, so no stored address has one
    row = tx.one(
        "SELECT id, data FROM registry_event"
        " WHERE action = 'SCU' AND address = :address AND community_id = :community_id"
        " AND created_at <= :at_or_before"
        " ORDER BY created_at DESC, id DESC LIMIT 1",
        address=address,
        community_id=community_id,
        at_or_before=at_or_before,
    )
    return ScoreEvent(int(row[0]), row[1]) if row else None
