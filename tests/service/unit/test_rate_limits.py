"""The reference's rate-limit arithmetic: rates, jittered windows and counter keys (ADR-0013)."""

from __future__ import annotations

import hashlib
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.rate_limits import (
    LOWEST_TIER,
    Rate,
    UnparsableRate,
    counter_key,
    parse_rate,
    retry_after_s,
    window_end,
    window_for,
)

# ADR-0013's worked example: key `rl3_1m`, observed in the reference's Redis.
PREFIX = "rxDLEXy5"
FIRST_REQUEST_TS = 1796125734


def test_worked_example_matches_the_reference_redis_to_the_byte() -> None:
    rate = parse_rate("3/1m")

    window = window_for(rate, PREFIX, FIRST_REQUEST_TS)

    assert zlib.crc32(PREFIX.encode()) == 993131361
    assert window.end == 1796125761
    assert (
        window.counter_key
        == ":1:rl:1c1e3f26b89541481db7fbbe4e0afb54e603d414a16b6247b1844aa547e239b1"
    )
    assert window.ttl_s == 65


def test_worked_example_window_holds_for_the_whole_minute() -> None:
    rate = parse_rate("3/1m")
    first = window_for(rate, PREFIX, FIRST_REQUEST_TS)

    # The window covers (1796125701, 1796125761]; a float clock is truncated like int(time()).
    assert window_for(rate, PREFIX, 1796125702).counter_key == first.counter_key
    assert window_for(rate, PREFIX, 1796125761.999).counter_key == first.counter_key
    assert window_for(rate, PREFIX, 1796125762).end == 1796125821
    assert window_for(rate, PREFIX, 1796125701).end == 1796125701


@pytest.mark.parametrize(
    ("text", "limit", "period"),
    [
        ("125/15m", 125, 900),
        ("350/15m", 350, 900),
        ("2000/15m", 2000, 900),
        ("3/1m", 3, 60),
        ("3/60s", 3, 60),
        ("1/1s", 1, 1),
        ("10/2h", 10, 7200),
        ("5/d", 5, 86400),
        ("7/", 7, 1),  # no unit: seconds
        ("125/15mxyz", 125, 900),  # `match` is anchored at the start only
        ("0/1m", 0, 60),
    ],
)
def test_rates_parse_as_django_ratelimit_reads_them(text: str, limit: int, period: int) -> None:
    assert parse_rate(text) == Rate(limit=limit, period_s=period)


@pytest.mark.parametrize("text", ["abc", "", "/15m", "15m", " 125/15m", "5/0m"])
def test_unreadable_rates_are_refused(text: str) -> None:
    with pytest.raises(UnparsableRate):
        parse_rate(text)


def test_the_lowest_tier_is_125_per_15_minutes() -> None:
    assert parse_rate(LOWEST_TIER) == Rate(125, 900)


def test_rates_that_normalise_alike_share_a_counter() -> None:
    one_minute = window_for(parse_rate("3/1m"), PREFIX, FIRST_REQUEST_TS)
    sixty_seconds = window_for(parse_rate("3/60s"), PREFIX, FIRST_REQUEST_TS)

    assert one_minute.counter_key == sixty_seconds.counter_key


def test_125_per_15m_window_wraps_to_the_next_period() -> None:
    # crc32 % 900 = 261; 1796126000 % 900 = 500, so 1796125500 + 261 < ts: add 900.
    window = window_for(parse_rate("125/15m"), PREFIX, 1796126000)

    assert window.end == 1796126661
    assert window.ttl_s == 905
    preimage = f"registry125/900s{PREFIX}1796126661"
    assert window.counter_key == ":1:rl:" + hashlib.sha256(preimage.encode()).hexdigest()


def test_10_per_2h_window() -> None:
    # crc32 % 7200 = 6561; 1796125800 % 7200 = 6600, so 1796119200 + 6561 < ts: add 7200.
    window = window_for(parse_rate("10/2h"), PREFIX, 1796125800)

    assert window.end == 1796132961
    assert window.ttl_s == 7205
    preimage = f"registry10/7200s{PREFIX}1796132961"
    assert window.counter_key == ":1:rl:" + hashlib.sha256(preimage.encode()).hexdigest()


def test_one_second_windows_end_on_the_current_second_without_jitter() -> None:
    rate = parse_rate("1/1s")

    assert window_end(PREFIX, 1, FIRST_REQUEST_TS) == FIRST_REQUEST_TS
    assert window_for(rate, PREFIX, FIRST_REQUEST_TS).ttl_s == 6
    assert (
        window_for(rate, PREFIX, FIRST_REQUEST_TS).counter_key
        != window_for(rate, PREFIX, FIRST_REQUEST_TS + 1).counter_key
    )


def test_the_key_is_django_caches_prefix_then_rl_then_the_hex_digest() -> None:
    key = counter_key("registry", Rate(3, 60), PREFIX, 1796125761)

    assert key.startswith(":1:rl:")
    assert len(key) == len(":1:rl:") + 64


@given(
    prefix=st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        min_size=8,
        max_size=8,
    ),
    period=st.sampled_from([60, 900, 3600, 7200, 86400]),
    ts=st.integers(min_value=1_600_000_000, max_value=2_000_000_000),
)
def test_every_window_holds_its_second_and_ends_on_the_keys_jitter(
    prefix: str, period: int, ts: int
) -> None:
    end = window_end(prefix, period, ts)

    assert end - period < ts <= end
    assert end % period == zlib.crc32(prefix.encode()) % period


def test_retry_after_counts_to_the_first_second_of_the_next_window() -> None:
    window = window_for(parse_rate("3/1m"), PREFIX, FIRST_REQUEST_TS)

    assert retry_after_s(window, FIRST_REQUEST_TS) == 28
    assert retry_after_s(window, 1796125761.5) == 1
