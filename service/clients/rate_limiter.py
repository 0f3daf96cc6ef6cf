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
process per period, not one per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import falcon
import pybreaker
import redis
from opentelemetry import metrics
from redis.backoff import NoBackoff
from redis.retry import Retry

from service.auth.api_key import AuthenticatedKey
from service.domain import rate_limits
from service.plumbing.errors import RateLimited
from service.plumbing.settings import Settings

log = logging.getLogger("service.rate_limit")

# django-ratelimit's `cache.add` (SET NX EX) then `cache.incr`, in one atomic round trip. The TTL
# is set when the counter is created only, as the reference does.
_COUNT_SCRIPT = """
if redis.call('SET', KEYS[1], '1', 'EX', ARGV[1], 'NX') then
  return 1
end
return redis.call('INCR', KEYS[1])
"""

# Outcomes, as they appear in the request log's `ratelimit` field.
OFF = "off"
UNLIMITED = "unlimited"
ALLOWED = "allowed"
LIMITED = "limited"
FAIL_OPEN = "fail_open"


class _CircuitLog(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        if new_state.name == pybreaker.STATE_OPEN:
            log.error(
                "rate-limit store unavailable: serving without limits",
                extra={"retry_in_s": cb.reset_timeout},
            )
        elif new_state.name == pybreaker.STATE_CLOSED and old_state is not None:
            log.warning("rate-limit store reachable again: limits apply")


class RateLimiter:
    """One per process: it holds the process's Redis client and circuit."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._clock = clock
        self._fail_open_counter = metrics.get_meter(
            "service", meter_provider=meter_provider
        ).create_counter(
            "ratelimit.fail_open",
            unit="{request}",
            description="Requests served without a rate-limit check because Redis failed",
        )
        self._client: redis.Redis | None = None
        if settings.ratelimit_enable and settings.celery_broker_url:
            self._client = redis.Redis.from_url(
                settings.celery_broker_url,
                socket_connect_timeout=settings.ratelimit_redis_connect_timeout_ms / 1000,
                socket_timeout=settings.ratelimit_redis_timeout_ms / 1000,
                # redis-py retries up to 10 times by default: an outage would cost 10 timeouts.
                retry=Retry(NoBackoff(), 0),
                health_check_interval=0,
            )
            self._count = self._client.register_script(_COUNT_SCRIPT)
        self._circuit = pybreaker.CircuitBreaker(
            fail_max=1,
            reset_timeout=settings.ratelimit_circuit_open_s,
            # A script error on one key's counter (a non-integer value) is not an outage.
            exclude=[redis.exceptions.ResponseError],
            listeners=[_CircuitLog()],
            throw_new_error_on_trip=False,
            name="ratelimit-redis",
        )

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def check(self, req: falcon.Request, key: AuthenticatedKey) -> None:
        """Counts the request against the key's window; raises RateLimited past the limit."""
        outcome, retry_after = self._count_request(key)
        if outcome != OFF:
            req.context.ratelimit = outcome
        if outcome == LIMITED:
            raise RateLimited(retry_after)

    def _count_request(self, key: AuthenticatedKey) -> tuple[str, int]:
        if self._client is None:
            return OFF, 0
        if not key.rate_limit:
            # "" and NULL are unlimited: no Redis command at all, as in the reference.
            return UNLIMITED, 0
        rate = _rate_of(key)
        now = self._clock()
        window = rate_limits.window_for(rate, key.prefix, now)
        try:
            count = int(
                self._circuit.call(self._count, keys=[window.counter_key], args=[window.ttl_s])
            )
        except pybreaker.CircuitBreakerError:
            return self._fail_open("circuit_open"), 0
        except (redis.exceptions.RedisError, OSError) as exc:
            log.warning(
                "rate-limit check failed; request served without it",
                extra={"error": f"{type(exc).__name__}: {exc}"},
            )
            return self._fail_open(type(exc).__name__), 0
        if count > rate.limit:
            return LIMITED, rate_limits.retry_after_s(window, now)
        return ALLOWED, 0

    def _fail_open(self, reason: str) -> str:
        self._fail_open_counter.add(1, {"reason": reason})
        return FAIL_OPEN

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


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
