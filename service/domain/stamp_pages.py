"""Cursor pages of an address's stamps (the reference's `get_passport_stamps` in
`api/v2/api/api_stamps.py`).

Tokens are the reference's (`api/registry/utils.py` encode_cursor/decode_cursor): base64url without
padding of `json.dumps({"d": "next"|"prev", "id": <int>})`, so a token minted by either service
works on both.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from service.domain.params import fits_bigint
from service.plumbing.errors import BadRequest

MAX_LIMIT = 1000
NEXT = "next"
PREV = "prev"


class InvalidLimit(BadRequest):
    detail = "Invalid limit."


class InvalidToken(BadRequest):
    detail = "Invalid token."


@dataclass(frozen=True)
class Cursor:
    """`direction` None reads the first page (no token, or a direction the reference ignores)."""

    direction: str | None
    id: int | None


def check_limit(limit: int) -> None:
    if limit > MAX_LIMIT or limit < 0:
        raise InvalidLimit()


def encode_cursor(direction: str, row_id: int) -> str:
    text = json.dumps({"d": direction, "id": row_id})
    return base64.urlsafe_b64encode(text.encode("utf-8")).rstrip(b"=").decode("ascii")


def decode_cursor(token: str) -> Cursor:
    """Decodes as the reference does (padding restored, then a lenient base64url decode); what
    the reference would answer with a 500 is 400 `Invalid token.`."""
    if not token:
        return Cursor(None, None)
    try:
        # The reference's re-padding: nothing when the length is a multiple of 4.
        raw = base64.urlsafe_b64decode(token + "===="[: -(len(token) % 4)])
        cursor = json.loads(raw.decode("utf-8"))
    except (ValueError, binascii.Error, RecursionError):
        raise InvalidToken() from None
    if not isinstance(cursor, dict):
        raise InvalidToken()
    direction = cursor.get("d")
    if direction not in (NEXT, PREV):
        return Cursor(None, None)
    return Cursor(direction, _cursor_id(cursor.get("id")))


def _cursor_id(value: Any) -> int:
    """Django's IntegerField lookup preparation, `int(value)`; a value it refuses, or one no row
    id can equal, is an invalid token."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidToken()
    if not isinstance(value, int | float | str):
        raise InvalidToken()
    try:
        number = int(value)
    except ValueError:
        raise InvalidToken() from None
    if not fits_bigint(number):
        raise InvalidToken()
    return number


def page_link(base_url: str, address: str, direction: str, row_id: int, limit: int) -> str:
    """A link back to this route, query in the reference's order (`token`, then `limit`)."""
    query = urlencode({"token": encode_cursor(direction, row_id), "limit": limit})
    return f"{base_url}/v2/stamps/{quote(address, safe='')}?{query}"


def request_base_url(forwarded_proto: str | None, scheme: str, host: str) -> str:
    """The client's scheme (the load balancer's X-Forwarded-Proto) and the request's host."""
    proto = (forwarded_proto or "").split(",")[0].strip().lower()
    return f"{proto if proto in ('http', 'https') else scheme}://{host}"


@dataclass(frozen=True)
class PageJson:
    """An answer already rendered as JSON text."""

    text: str


def page_json(
    next_link: str | None,
    prev_link: str | None,
    items: list[tuple[str, dict[str, Any] | None]],
) -> PageJson:
    """`{"next", "prev", "items"}` as the reference renders it (json.dumps separators), each
    item's credential spliced in as the stored JSON text. `metadata` is always present, null
    unless asked for (the reference's serialiser keeps it)."""
    rendered = ", ".join(
        f'{{"version": "1.0.0", "credential": {_as_ascii(credential)},'
        f' "metadata": {json.dumps(metadata)}}}'
        for credential, metadata in items
    )
    return PageJson(
        f'{{"next": {json.dumps(next_link)}, "prev": {json.dumps(prev_link)},'
        f' "items": [{rendered}]}}'
    )


def _as_ascii(stored_json: str) -> str:
    """PostgreSQL writes non-ASCII characters as they are; json.dumps escapes them. Such rows
    (rare in credentials) take the slow path so the text stays the reference's. Numbers keep
    the stored digits (json.dumps would print `1.50` as `1.5`)."""
    return stored_json if stored_json.isascii() else json.dumps(json.loads(stored_json))
