"""Per-API-key rate limits on the reference's Redis (ADR-0013).

Every v2 route authenticated by API key calls `RateLimiter.check` once, at the point where the
reference counts: after authentication and parameter parsing, before the route's work.
Counters, windows and keys are the reference's, so during a rollout a key has one budget across
both services.

A route opts in by taking `limiter: RateLimiter` in its resource's constructor (`routes.py`
passes the one instance `create_app` built) and handing it to
`v2_access.authenticate_v2_request`, which calls `check` after the route's own checks (ADR-0035).
`check` raises `RateLimited` (429, `Retry-After`; `str()` is `""`, the reference's analytics
`error`), which is recorded in the request's analytics row like any other ApiError before it
propagates.

Redis trouble never fails a request: the request is served (fail open), the request log line says
`"ratelimit": "fail_open"` and the `ratelimit.fail_open` counter goes up. After a failure the
circuit stays open for `RATELIMIT_CIRCUIT_OPEN_SECONDS`, so an outage costs one timeout per
process per period, not one per request. That Redis side (client, circuit, fail-open counter) is
rate_limit_store.py, which loads only when limits are on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import falcon

from service.auth.api_key import AuthenticatedKey
from service.domain import rate_limits
from service.plumbing.errors import RateLimited
from service.plumbing.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider

    from service.clients.rate_limit_store import WindowCounters

log = logging.getLogger("service.rate_limit")

# Outcomes, as they appear in the request log's `ratelimit` field.
OFF = "off"
UNLIMITED = "unlimited"
ALLOWED = "allowed"
LIMITED = "limited"
FAIL_OPEN = "fail_open"


class RateLimiter:
    """One per process: it holds the process's Redis client and circuit (when limits are on)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._clock = clock
        self._counters: WindowCounters | None = None
        if settings.ratelimit_enable and settings.celery_broker_url:
            # Loaded here, not at the top: with limits off, redis-py and the circuit never load.
            from service.clients.rate_limit_store import WindowCounters

            self._counters = WindowCounters(
                settings, settings.celery_broker_url, meter_provider=meter_provider
            )

    @property
    def enabled(self) -> bool:
        return self._counters is not None

    def check(self, req: falcon.Request, key: AuthenticatedKey) -> None:
        """Counts the request against the key's window; raises RateLimited past the limit."""
        outcome, retry_after = self._count_request(key)
        if outcome != OFF:
            req.context.ratelimit = outcome
        if outcome == LIMITED:
            raise RateLimited(retry_after)

    def _count_request(self, key: AuthenticatedKey) -> tuple[str, int]:
        if self._counters is None:
            return OFF, 0
        if not key.rate_limit:
            # "" and NULL are unlimited: no Redis command at all, as in the reference.
            return UNLIMITED, 0
        rate = _rate_of(key)
        now = self._clock()
        window = rate_limits.window_for(rate, key.prefix, now)
        count = self._counters.count(window)
        if count is None:
            return FAIL_OPEN, 0
        if count > rate.limit:
            return LIMITED, rate_limits.retry_after_s(window, now)
        return ALLOWED, 0

    def close(self) -> None:
        if self._counters is not None:
            self._counters.close()


def _rate_of(key: AuthenticatedKey) -> rate_limits.Rate:
    assert key.rate_limit
    try:
        return rate_limits.parse_rate(key.rate_limit)
    except rate_limits.UnparsableRate:
        log.error(
            "unparsable rate_limit on an API key; applying the lowest tier",
            extra={"rate_limit": key.rate_limit, "lowest_tier": rate_limits.LOWEST_TIER},
        )
        return rate_limits.parse_rate(rate_limits.LOWEST_TIER)
