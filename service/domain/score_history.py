"""The score history route's rules (the reference's `get_score_history` in
`api/v2/api/api_stamps.py`): reading `created_at`, and the answer built from a stored SCU event."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ValidationError

from service.plumbing.errors import ApiError, BadRequest, InternalError, NotFound

INVALID_CREATED_AT = "Invalid created_at."
CREATED_AT_REQUIRED = "You must provide created_at as a query param."
NO_PERMISSION = "Invalid permissions for action."
NO_COMMUNITY = "No Community matches the given query."

# Django's `datetime_re` (django/utils/dateparse.py), the fallback after `fromisoformat`.
_DJANGO_DATETIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"[T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:[.,](?P<microsecond>\d{1,6})\d{0,6})?)?"
    r"\s*(?P<tzinfo>Z|[+-]\d{2}(?::?\d{2})?)?$"
)

# `…T00:00:00 00:00`: an unencoded `+` before an offset arrives as a space.
_SPACE_FOR_PLUS = re.compile(r"(?P<head>.*\d) (?P<offset>\d{2}(?::?\d{2})?)")


class Forbidden(ApiError):
    status = "403 Forbidden"
    detail = NO_PERMISSION


class CreatedAtRequired(BadRequest):
    detail = CREATED_AT_REQUIRED


class InvalidCreatedAt(BadRequest):
    detail = INVALID_CREATED_AT


class NoScoreFound(NotFound):
    """404 whose body also carries the address, as the reference's `ScoreDoesNotExist`."""

    def __init__(self, address: str, created_at: str) -> None:
        super().__init__(f"No Score Found for {address} at {created_at}")
        self.address = address

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "address": self.address}


class UnreadableScoreEvent(InternalError):
    """A stored event the response cannot represent: a JSON 500 whose analytics row keeps the
    reason (the reference's pydantic message)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def parse_created_at(raw: str) -> datetime:
    """As django-filter's IsoDateTimeField reads it (Django `parse_datetime`, naive = UTC), plus
    the space-for-plus repair; anything still unreadable is 400 `Invalid created_at.`."""
    value = raw.strip()
    parsed = _django_parse_datetime(value)
    if parsed is None:
        repaired = _SPACE_FOR_PLUS.fullmatch(value)
        if repaired:
            parsed = _django_parse_datetime(f"{repaired['head']}+{repaired['offset']}")
    if parsed is None:
        raise InvalidCreatedAt()
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _django_parse_datetime(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    match = _DJANGO_DATETIME.match(value)
    if not match:
        return None
    parts = match.groupdict()
    tz_text = parts.pop("tzinfo")
    tz: timezone | None = None
    if tz_text == "Z":
        tz = UTC
    elif tz_text is not None:
        minutes = int(tz_text[1:3]) * 60 + (int(tz_text[-2:]) if len(tz_text) > 3 else 0)
        tz = timezone(timedelta(minutes=-minutes if tz_text[0] == "-" else minutes))
    if parts["microsecond"]:
        parts["microsecond"] = parts["microsecond"].ljust(6, "0")
    numbers = {name: int(text) for name, text in parts.items() if text}
    try:
        return datetime(**numbers, tzinfo=tz)
    except (ValueError, OverflowError):
        return None


class _StampScore(BaseModel):
    score: str
    dedup: bool
    expiration_date: str | None
    source_wallet: str | None = None


class _HistoricScore(BaseModel):
    """The reference's `V2ScoreResponse` fields that come from the event (lax pydantic, so a
    value passes or fails exactly as it does there)."""

    score: Decimal | None
    threshold: Decimal
    last_score_timestamp: str | None
    expiration_timestamp: str | None
    error: str | None
    stamps: dict[str, _StampScore] | None


def history_answer(address: str, event_data: Any) -> dict[str, Any]:
    """The answer for one SCU event, in either shape the reference stores and reads: Django's
    serialised score (`{"model", "pk", "fields": {...}}`) or the older top-level
    `{"score", "evidence", ...}`."""
    data = (
        event_data["fields"]
        if isinstance(event_data, dict) and "fields" in event_data
        else event_data
    )
    if not isinstance(data, dict):
        raise UnreadableScoreEvent("the event's score data is not an object")
    evidence = data.get("evidence") or {}
    if not isinstance(evidence, dict):
        raise UnreadableScoreEvent("the event's evidence is not an object")
    threshold = evidence.get("threshold", "0")
    score = evidence["rawScore"] if "rawScore" in evidence else data.get("score", "0")
    try:
        passing = bool(score) and Decimal(score) >= Decimal(threshold)
        model = _HistoricScore(
            score=score,
            threshold=threshold,
            last_score_timestamp=data.get("last_score_timestamp"),
            expiration_timestamp=data.get("expiration_date"),
            error=data.get("error"),
            stamps=data.get("stamps"),
        )
    except (TypeError, ValueError, InvalidOperation, ValidationError) as exc:
        raise UnreadableScoreEvent(str(exc)) from None
    if model.score is None:
        raise UnreadableScoreEvent("the event has no score")
    return {
        "address": address,
        "score": format(model.score, ".5f"),
        "passing_score": passing,
        "last_score_timestamp": model.last_score_timestamp,
        "expiration_timestamp": model.expiration_timestamp,
        "threshold": format(model.threshold, ".5f"),
        "error": model.error,
        "stamps": None
        if model.stamps is None
        else {name: _stamp(stamp) for name, stamp in model.stamps.items()},
        "points_data": None,
        "possible_points_data": None,
        "linked_score": None,
    }


def _stamp(stamp: _StampScore) -> dict[str, Any]:
    body: dict[str, Any] = {
        "score": stamp.score,
        "dedup": stamp.dedup,
        "expiration_date": stamp.expiration_date,
    }
    if stamp.source_wallet is not None:
        body["source_wallet"] = stamp.source_wallet
    return body
