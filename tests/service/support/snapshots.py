"""Making responses and written rows comparable across runs: volatile timestamps become '<now>'."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pg8000.native
from pg8000.native import identifier

_WINDOW = timedelta(minutes=10)
_ISO_IN_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")


def _is_recent(moment: datetime) -> bool:
    if moment.tzinfo is None:
        return False
    return abs(datetime.now(UTC) - moment) < _WINDOW


def _recent_text(text: str) -> bool:
    try:
        return _is_recent(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return False


def normalize(value: Any) -> Any:
    """Recent timestamps (written as 'now' by the code under test) → '<now>'; the rest kept."""
    if isinstance(value, datetime):
        return "<now>" if _is_recent(value) else value.isoformat()
    if isinstance(value, Decimal):
        return f"Decimal({value})"
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    if isinstance(value, str):
        if _ISO_IN_TEXT.fullmatch(value):
            return "<now>" if _recent_text(value) else value
        if value.startswith("{") and _ISO_IN_TEXT.search(value):
            # A JSON document stored as a string (the analytics `response` column).
            return _ISO_IN_TEXT.sub(
                lambda m: "<now>" if _recent_text(m.group(0)) else m.group(0), value
            )
    return value


def rows(
    conn: pg8000.native.Connection, table: str, *, order_by: str = "id"
) -> list[dict[str, Any]]:
    result = conn.run(f"SELECT * FROM {identifier(table)} ORDER BY {order_by}")
    names = [column["name"] for column in conn.columns]
    return [normalize(dict(zip(names, row, strict=True))) for row in result]


SCORING_TABLES = (
    "registry_passport",
    "registry_score",
    "registry_stamp",
    "registry_event",
    "registry_hashscorerlink",
    "account_accountapikeyanalytics",
)


def written(
    conn: pg8000.native.Connection, tables: tuple[str, ...] = SCORING_TABLES
) -> dict[str, Any]:
    return {table: rows(conn, table) for table in tables}


def compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
