"""The JSON that registry_event rows carry; other readers of the table depend on these shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.domain.scoring import StoredScore


def django_datetime(value: datetime | None) -> str | None:
    """DjangoJSONEncoder: milliseconds (truncated, not rounded) and `Z` for UTC."""
    if value is None:
        return None
    text = value.isoformat()
    if value.microsecond:
        text = text[:23] + text[26:]
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def score_update_data(*, score_id: int, passport_id: int, stored: StoredScore) -> dict[str, Any]:
    """`serialize_score`: Django's serializer output for the score, element [0], as an object."""
    return {
        "model": "registry.score",
        "pk": score_id,
        "fields": {
            "passport": passport_id,
            "score": str(stored.score) if stored.score is not None else None,
            "last_score_timestamp": django_datetime(stored.last_score_timestamp),
            "status": stored.status,
            "error": stored.error,
            "evidence": stored.evidence,
            "stamp_scores": stored.stamp_scores,
            "stamps": stored.stamps,
            "expiration_date": django_datetime(stored.expiration_date),
        },
    }


def dedup_data(*, nullifiers: list[str], provider: str, community_id: int) -> dict[str, Any]:
    return {"nullifiers": nullifiers, "provider": provider, "community_id": community_id}
