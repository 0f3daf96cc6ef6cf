"""JSON parameters are sent as text and cast in SQL, so their encoding is ours, not the driver's."""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
