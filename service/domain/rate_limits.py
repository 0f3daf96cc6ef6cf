"""The reference's per-key rate limit arithmetic (ADR-0013), so that both services count a key's
requests in the same Redis counter.

The reference is django-ratelimit 4.1.0 behind Django's Redis cache: a fixed window per key whose
end is jittered by the key's CRC-32, a counter named by the SHA-256 of group, normalised rate, key
and window end, and Django's cache key prefix `:1:` in front. Every detail below is observable in
the shared Redis, so none of it may drift.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass

# django-ratelimit's pattern, used with `match` (anchored at the start only, as there):
# "125/15mxyz" reads as 125 per 15 minutes.
_RATE_RE = re.compile(r"([\d]+)/([\d]*)([smhd])?")
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# The group of every route this service limits; `/passport/` and `/v2/models/score/` would be
# "analysis", and this service serves neither.
REGISTRY_GROUP = "registry"

# ADR-0013: a rate the reference cannot parse (its 500) is the lowest tier here.
LOWEST_TIER = "125/15m"

# django-ratelimit keeps a counter a few seconds past its window (EXPIRATION_FUDGE).
_EXPIRATION_FUDGE_S = 5

# Django's cache key for `rl:...`: KEY_PREFIX "" and VERSION 1.
_DJANGO_CACHE_PREFIX = ":1:"


class UnparsableRate(ValueError):
    """A `rate_limit` value the reference's regex does not read (or with a zero period)."""


@dataclass(frozen=True)
class Rate:
    limit: int
    period_s: int

    @property
    def normalised(self) -> str:
        """`3/1m` and `3/60s` are the same counter: the key hashes this form."""
        return f"{self.limit}/{self.period_s}s"


@dataclass(frozen=True)
class Window:
    """The counter of one key for the window containing `now`."""

    counter_key: str
    end: int
    ttl_s: int
    rate: Rate


def parse_rate(text: str) -> Rate:
    match = _RATE_RE.match(text)
    if match is None:
        raise UnparsableRate(text)
    count, multiplier, unit = match.groups()
    period = _PERIOD_SECONDS[unit or "s"]
    if multiplier:
        period *= int(multiplier)
    if period <= 0:
        # The reference divides by the period (a ZeroDivisionError, its 500).
        raise UnparsableRate(text)
    return Rate(limit=int(count), period_s=period)


def window_end(value: str, period_s: int, now: int) -> int:
    """The last second of the fixed window holding `now`; a window covers (end - period, end]."""
    if period_s == 1:
        return now
    end = now - now % period_s + zlib.crc32(value.encode()) % period_s
    return end + period_s if end < now else end


def counter_key(group: str, rate: Rate, value: str, end: int) -> str:
    # The trailing "" is django-ratelimit's `method=ALL` part.
    preimage = f"{group}{rate.normalised}{value}{end}"
    return _DJANGO_CACHE_PREFIX + "rl:" + hashlib.sha256(preimage.encode()).hexdigest()


def window_for(rate: Rate, key_prefix: str, now: float, group: str = REGISTRY_GROUP) -> Window:
    """`key_prefix` is the API key's 8-character prefix, the reference's rate-limit key."""
    second = int(now)
    end = window_end(key_prefix, rate.period_s, second)
    return Window(
        counter_key=counter_key(group, rate, key_prefix, end),
        end=end,
        ttl_s=rate.period_s + _EXPIRATION_FUDGE_S,
        rate=rate,
    )


def retry_after_s(window: Window, now: float) -> int:
    """Whole seconds until the next window opens (its first second is `end + 1`)."""
    return max(1, window.end + 1 - int(now))
