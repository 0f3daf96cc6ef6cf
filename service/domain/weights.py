"""Scorer weights as the weights endpoints answer them (ADR-0009). Pure.

The response is typed `Dict[str, float]`, so stored strings and integers come back as floats:
`{"Ens": "0.208", "Google": 1}` → `{"Ens": 0.208, "Google": 1.0}`.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

_FLOAT_WEIGHTS = TypeAdapter(dict[str, float])


def float_weights(weights: Any) -> dict[str, float] | None:
    """None when the stored weights are not an object of numbers (the reference then fails
    to render its response)."""
    try:
        return _FLOAT_WEIGHTS.validate_python(weights)
    except ValidationError:
        return None


def community_id_of(text: str) -> int | None:
    """The id Django's integer field makes of a lookup value: Python's `int()`, so " 5", "+5"
    and "1_0" are ids too; anything else matches no community."""
    try:
        return int(text)
    except ValueError:
        return None
