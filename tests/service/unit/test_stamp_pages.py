"""Cursor tokens of the stamps list (ADR-0033): the reference's format both ways."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.stamp_pages import (
    Cursor,
    InvalidToken,
    decode_cursor,
    encode_cursor,
    page_link,
    request_base_url,
)


def test_the_references_example_token() -> None:
    assert encode_cursor("next", 4) == "eyJkIjogIm5leHQiLCAiaWQiOiA0fQ"
    assert decode_cursor("eyJkIjogIm5leHQiLCAiaWQiOiA0fQ") == Cursor("next", 4)


@given(st.sampled_from(["next", "prev"]), st.integers(min_value=0, max_value=2**63 - 1))
def test_tokens_round_trip(direction: str, row_id: int) -> None:
    assert decode_cursor(encode_cursor(direction, row_id)) == Cursor(direction, row_id)


@given(st.text(max_size=40))
def test_any_text_decodes_or_is_an_invalid_token(token: str) -> None:
    try:
        cursor = decode_cursor(token)
    except InvalidToken:
        return
    assert cursor.direction in (None, "next", "prev")


def test_no_token_reads_the_first_page() -> None:
    assert decode_cursor("") == Cursor(None, None)


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        (None, "http://h"),
        ("https", "https://h"),
        ("HTTPS, http", "https://h"),
        ("gopher", "http://h"),
    ],
)
def test_the_links_scheme(forwarded: str | None, expected: str) -> None:
    assert request_base_url(forwarded, "http", "h") == expected


def test_a_link_puts_token_before_limit() -> None:
    assert page_link("https://h", "0xab", "prev", 3, 2) == (
        "https://h/v2/stamps/0xab?token=eyJkIjogInByZXYiLCAiaWQiOiAzfQ&limit=2"
    )
