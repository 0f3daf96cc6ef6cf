"""Stamps submitted by the embed service (api/embed/api.py). Pure: no I/O.

Each credential is cached under its own `credentialSubject.provider`; the row itself is what
every stamp write stores (`ceramic_cache_rules.rows_to_insert`). What the reference only finds out
when the database refuses it (a 500 after its soft delete has committed) is a 422 here, found
before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.domain.bodies_rules import PAYLOAD
from service.domain.ceramic_cache_rules import (
    MAX_BULK_CACHE_SIZE,
    MAX_TEXT_COLUMN,
    NewCacheRow,
    StampItem,
    UnusableStamp,
    rows_to_insert,
)
from service.domain.text import storable_json
from service.plumbing.errors import UnprocessableEntity, ValidationFailed

TOO_MANY_STAMPS = "You have submitted too many stamps."

_STAMPS_LOC: tuple[str, ...] = ("body", PAYLOAD, "stamps")
_PROVIDER_LOC = ("credentialSubject", "provider")


def embed_rows(stamps: Sequence[Any]) -> list[NewCacheRow]:
    """The rows to insert, in submission order.

    Checked in the reference's order: every stamp's provider, then the stamp count, then the
    rest of each row.
    """
    providers = [_provider(stamp, index) for index, stamp in enumerate(stamps)]
    if len(stamps) > MAX_BULK_CACHE_SIZE:
        raise UnprocessableEntity(TOO_MANY_STAMPS)
    for index, stamp in enumerate(stamps):
        if not storable_json(stamp):
            raise ValidationFailed.single(
                type_="value_error",
                loc=[*_STAMPS_LOC, index],
                msg="Value error, the stamp holds a value PostgreSQL cannot store"
                " (a NUL character, an unpaired surrogate, NaN or an infinity)",
            )
    try:
        rows = rows_to_insert(
            [StampItem(provider, stamp) for provider, stamp in zip(providers, stamps, strict=True)],
            only_with_stamp=False,
        )
    except UnusableStamp as unusable:
        raise UnprocessableEntity(str(unusable)) from None
    for index, row in enumerate(rows):
        if len(row.proof_value) > MAX_TEXT_COLUMN:
            raise _too_long([*_STAMPS_LOC, index, "proof", "proofValue"])
    return rows


def _provider(stamp: Any, index: int) -> str:
    """`stamp.get("credentialSubject", {}).get("provider")`, which must be a string."""
    loc: list[str | int] = [*_STAMPS_LOC, index]
    if not isinstance(stamp, dict):
        raise ValidationFailed.single(
            type_="dict_type", loc=loc, msg="Input should be a valid dictionary"
        )
    subject = stamp.get("credentialSubject", {})
    if not isinstance(subject, dict):
        raise ValidationFailed.single(
            type_="dict_type",
            loc=[*loc, "credentialSubject"],
            msg="Input should be a valid dictionary",
        )
    provider = subject.get("provider")
    if not isinstance(provider, str):
        raise ValidationFailed.single(
            type_="string_type", loc=[*loc, *_PROVIDER_LOC], msg="Input should be a valid string"
        )
    if len(provider) > MAX_TEXT_COLUMN:
        raise _too_long([*loc, *_PROVIDER_LOC])
    return provider


def _too_long(loc: list[str | int]) -> ValidationFailed:
    return ValidationFailed(
        [
            {
                "type": "string_too_long",
                "loc": loc,
                "msg": f"String should have at most {MAX_TEXT_COLUMN} characters",
                "ctx": {"max_length": MAX_TEXT_COLUMN},
            }
        ]
    )
