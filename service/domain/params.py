"""Path and query parameters validated the way django-ninja (pydantic, lax mode) validates them."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from service.plumbing.errors import NotFound, ValidationFailed

_INT = TypeAdapter(int)
_BOOL = TypeAdapter(bool)

# Postgres bigint bounds: ids outside them cannot match any row.
BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1


def parse_int(value: str, *, loc: list[str | int]) -> int:
    """Accepts what pydantic's lax int accepts ("007", " 7", "1.0", "1_000", "-3")."""
    try:
        return _INT.validate_python(value)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        raise ValidationFailed(
            [{"type": e["type"], "loc": [*loc, *e["loc"]], "msg": e["msg"]} for e in errors]
        ) from None


def parse_bool(value: str, *, loc: list[str | int]) -> bool:
    """Accepts what pydantic's lax bool accepts (true/false, 1/0, yes/no, on/off, t/f, y/n)."""
    try:
        return _BOOL.validate_python(value)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        raise ValidationFailed(
            [{"type": e["type"], "loc": [*loc, *e["loc"]], "msg": e["msg"]} for e in errors]
        ) from None


def fits_bigint(value: int) -> bool:
    return BIGINT_MIN <= value <= BIGINT_MAX


def route_int(value: str) -> int:
    """Django's `{int:...}` path converter: ASCII digits only. Any other segment does not match
    the route at all, so it is the generic 404, before authentication or validation. So are
    numbers past Python's int-string limit (4,300 digits): Django's converter raises ValueError
    on them, which it treats as "no match" too."""
    if not value.isascii() or not value.isdigit():
        raise NotFound()
    try:
        return int(value)
    except ValueError:
        raise NotFound() from None
