"""Which strings PostgreSQL can hold. Pure.

A text value with a NUL character or an unpaired surrogate (both possible in decoded JSON) can
be neither stored nor compared by PostgreSQL: sending one fails the statement. Such a value
cannot be in any row either, so a lookup skips it and a write refuses it up front.
"""

from __future__ import annotations

import math
from typing import Any


def storable_text(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_json(value: Any) -> bool:
    """jsonb refuses what text refuses, and NaN or infinite numbers."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(storable_text(key) and storable_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(storable_json(item) for item in value)
    return True
