"""JSON parameters are sent as text and cast in SQL, so their encoding is ours, not the driver's;
and credentials read as text are parsed once per process."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from service.plumbing.bounded_cache import BoundedCache


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Credentials read from the cache, by the text PostgreSQL renders for them. jsonb renders one
# value as one text (keys sorted its way, no insignificant whitespace), and a rescoring reads the
# same credentials again and again: a repeat costs a lookup instead of a parse. The values are
# shared between requests and so must never be changed; the scoring code only reads them. A
# parsed credential and its text take about 16 KiB: at most 32 MiB.
PARSED_TEXTS_SIZE = 2048
_parsed: BoundedCache[str, tuple[Any, bytes]] = BoundedCache(PARSED_TEXTS_SIZE)


def loads_remembered(text: str) -> tuple[Any, bytes]:
    """The JSON value of `text`, and a SHA-256 digest of the text: as the value is a function of
    the text, equal digests mean equal values."""
    return _parsed.get_or_make(
        text, lambda: (json.loads(text), hashlib.sha256(text.encode()).digest())
    )


def forget_parsed() -> None:
    _parsed.clear()
