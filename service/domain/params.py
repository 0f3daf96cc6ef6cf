"""Path and query parameters validated the way django-ninja (pydantic, lax mode) validates them."""

from __future__ import annotations

from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from service.plumbing.errors import NotFound, ValidationFailed

T = TypeVar("T")

_INT = TypeAdapter(int)
_BOOL = TypeAdapter(bool)

# Postgres bigint bounds: ids outside them cannot match any row.
BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1


def parse_int(value: str, *, loc: list[str | int]) -> int:
    """Accepts what pydantic's lax int accepts ("007", " 7", "1.0", "1_000", "-3")."""
    return _validated(_INT, value, loc)


def parse_bool(value: str, *, loc: list[str | int]) -> bool:
    """Accepts what pydantic's lax bool accepts (true/false, 1/0, yes/no, on/off, t/f, y/n)."""
    return _validated(_BOOL, value, loc)


def _validated(adapter: TypeAdapter[T], value: str, loc: list[str | int]) -> T:
    """The value as ninja would read it, or its 422 with each error located under `loc`."""
    try:
        return adapter.validate_python(value)
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
