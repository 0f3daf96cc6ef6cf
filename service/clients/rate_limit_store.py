"""The rate limiter's Redis side: the window counters, the circuit, fail-open (ADR-0013, ADR-0037).

`RateLimiter` (rate_limiter.py) imports this module only when rate limits are on, so a process
that serves without limits never loads redis-py (which loads its asyncio client as well),
pybreaker or the OpenTelemetry metrics API: about 60 ms of a cold start.
"""

from __future__ import annotations

import logging
from typing import Any

import pybreaker
import redis
from opentelemetry import metrics
from opentelemetry.metrics import MeterProvider
from redis.backoff import NoBackoff
from redis.retry import Retry

from service.domain import rate_limits
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


class _CircuitLog(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        if new_state.name == pybreaker.STATE_OPEN:
            log.error(
                "rate-limit store unavailable: serving without limits",
                extra={"retry_in_s": cb.reset_timeout},
            )
        elif new_state.name == pybreaker.STATE_CLOSED and old_state is not None:
            log.warning("rate-limit store reachable again: limits apply")


class WindowCounters:
    """One per process: the process's Redis client and circuit."""

    def __init__(
        self, settings: Settings, broker_url: str, *, meter_provider: MeterProvider | None
    ) -> None:
        self._fail_open_counter = metrics.get_meter(
            "service", meter_provider=meter_provider
        ).create_counter(
            "ratelimit.fail_open",
            unit="{request}",
            description="Requests served without a rate-limit check because Redis failed",
        )
        self._client = redis.Redis.from_url(
            broker_url,
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

    def count(self, window: rate_limits.Window) -> int | None:
        """The window's count with this request; None when Redis failed (the request is served
        without a check, and the failure is logged and counted)."""
        try:
            return int(
                self._circuit.call(self._count, keys=[window.counter_key], args=[window.ttl_s])
            )
        except pybreaker.CircuitBreakerError:
            self._fail_open("circuit_open")
        except (redis.exceptions.RedisError, OSError) as exc:
            log.warning(
                "rate-limit check failed; request served without it",
                extra={"error": f"{type(exc).__name__}: {exc}"},
            )
            self._fail_open(type(exc).__name__)
        return None

    def _fail_open(self, reason: str) -> None:
        self._fail_open_counter.add(1, {"reason": reason})

    def close(self) -> None:
        self._client.close()
