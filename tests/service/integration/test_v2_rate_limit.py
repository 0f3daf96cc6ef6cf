"""Per-key rate limits on the v2 score route, against a real Redis (ADR-0013).

Counters are arranged and read under the reference's keys, built here from django-ratelimit's
recipe (not with the service's helpers), so a counter the reference advanced stops this service too.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
import zlib
from collections.abc import Callable, Iterator

import falcon.testing
import pg8000.native
import pytest
import redis
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from service.app import create_app
from service.clients.rate_limiter import RateLimiter
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.snapshots import rows
from tools import seed
from tools.redisserver import EphemeralRedis

RATE_LIMITED = {"detail": "You have been rate limited!"}
PREFIX = sc.API_KEY.split(".", 1)[0]


def reference_key(rate_limit: int, period_s: int, prefix: str, now: float) -> tuple[str, int]:
    """The counter django-ratelimit 4.1.0 names for the window holding `now`, and its end."""
    ts = int(now)
    if period_s == 1:
        end = ts
    else:
        end = ts - ts % period_s + zlib.crc32(prefix.encode()) % period_s
        if end < ts:
            end += period_s
    digest = hashlib.sha256(f"registry{rate_limit}/{period_s}s{prefix}{end}".encode())
    return ":1:rl:" + digest.hexdigest(), end


def steady_window(period_s: int, prefix: str = PREFIX) -> None:
    """Waits out the last seconds of the current window, so a test stays inside one window."""
    _, end = reference_key(1, period_s, prefix, time.time())
    if end - time.time() < 3:
        time.sleep(end + 1.05 - time.time())


def set_rate_limit(conn: pg8000.native.Connection, key_id: str, value: str | None) -> None:
    conn.run(
        "UPDATE account_accountapikey SET rate_limit = :value WHERE id = :id",
        value=value,
        id=key_id,
    )


def commands_processed(client: redis.Redis) -> int:
    return int(client.info("stats")["total_commands_processed"])


def fail_open_counts(reader: InMemoryMetricReader) -> dict[str, int]:
    """The `ratelimit.fail_open` counter's value per reason."""
    data = reader.get_metrics_data()
    assert data is not None
    return {
        str(point.attributes["reason"]): int(point.value)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "ratelimit.fail_open"
        for point in metric.data.data_points  # type: ignore[union-attr]
        if point.attributes
    }


def outcomes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.ratelimit
        for record in caplog.records
        if record.name == "service.request" and hasattr(record, "ratelimit")
    ]


@pytest.fixture
def settings_env(settings_env: dict[str, str], redis_url: str) -> dict[str, str]:
    return {
        **settings_env,
        "TRUSTED_IAM_ISSUERS": sc.trusted_issuers_json(),
        "RATELIMIT_ENABLE": "true",
        "CELERY_BROKER_URL": redis_url,
    }


@pytest.fixture
def make_world(
    clean_db: pg8000.native.Connection, settings_env: dict[str, str], db: Database
) -> Iterator[Callable[..., sc.Scenario]]:
    limiters: list[RateLimiter] = []

    def build(
        clock: Callable[[], float] = time.time,
        meter_provider: MeterProvider | None = None,
        **overrides: str,
    ) -> sc.Scenario:
        settings = Settings.from_env({**settings_env, **overrides})
        limiter = RateLimiter(settings, clock=clock, meter_provider=meter_provider)
        limiters.append(limiter)
        world = sc.build(clean_db)
        world.client = falcon.testing.TestClient(create_app(settings, db, limiter=limiter))
        return world

    yield build
    for limiter in limiters:
        limiter.close()


@pytest.fixture
def world(make_world: Callable[..., sc.Scenario], redis_client: redis.Redis) -> sc.Scenario:
    return make_world()


# --- the shared budget ------------------------------------------------------------------------


def test_a_counter_advanced_by_the_other_service_stops_this_one_at_the_limit(
    world: sc.Scenario, redis_client: redis.Redis
) -> None:
    # Given the reference has counted 123 of the key's 125 requests in this window
    steady_window(900)
    key, _ = reference_key(125, 900, PREFIX, time.time())
    redis_client.set(key, 123, ex=905)

    # When this service serves four more
    statuses = []
    counts = []
    for _ in range(4):
        statuses.append(world.score().status_code)
        counts.append(int(redis_client.get(key) or 0))

    # Then requests 124 and 125 pass, 126 and 127 are refused, each counted exactly once
    assert statuses == [200, 200, 429, 429]
    assert counts == [124, 125, 126, 127]


def test_the_first_request_creates_the_reference_counter_with_its_ttl(
    world: sc.Scenario, redis_client: redis.Redis
) -> None:
    steady_window(900)

    world.score()

    key, _ = reference_key(125, 900, PREFIX, time.time())
    assert redis_client.get(key) == "1"
    assert 900 <= redis_client.ttl(key) <= 905
    assert redis_client.keys("*") == [key]


def test_the_worked_example_of_the_reference(
    make_world: Callable[..., sc.Scenario], redis_client: redis.Redis
) -> None:
    # ADR-0013's worked example: key prefix rxDLEXy5, rate 3/1m, first request at 1796125734.
    world = make_world(clock=lambda: 1796125734.0)
    key = seed.create_api_key(
        world.conn,
        account_id=world.account_id,
        key="rxDLEXy5." + "k" * 32,
        pbkdf2_iterations=1000,
        with_sha256=True,
    )
    set_rate_limit(world.conn, key.id, "3/1m")
    counter = ":1:rl:1c1e3f26b89541481db7fbbe4e0afb54e603d414a16b6247b1844aa547e239b1"

    statuses, values = [], []
    for _ in range(5):
        statuses.append(world.score(headers={"X-API-Key": key.key}).status_code)
        values.append(redis_client.get(counter))

    assert statuses == [200, 200, 200, 429, 429]
    assert values == ["1", "2", "3", "4", "5"]
    assert 60 <= redis_client.ttl(counter) <= 65


# --- the 429 ----------------------------------------------------------------------------------


def test_a_limited_request_answers_the_reference_429_with_retry_after_and_scores_nothing(
    make_world: Callable[..., sc.Scenario], redis_client: redis.Redis
) -> None:
    now = 1796125734.0
    world = make_world(clock=lambda: now)
    key, end = reference_key(125, 900, PREFIX, now)
    redis_client.set(key, 125, ex=905)
    world.cache(sc.stamp("Google"))

    result = world.score()

    assert result.status_code == 429
    assert result.json == RATE_LIMITED
    assert result.text == '{"detail": "You have been rate limited!"}'
    assert result.headers["content-type"].startswith("application/json")
    assert result.headers["retry-after"] == str(end + 1 - int(now))
    for table in ("registry_passport", "registry_score", "registry_event", "registry_stamp"):
        assert rows(world.conn, table) == []


def test_a_limited_request_writes_the_reference_analytics_row(
    world: sc.Scenario, redis_client: redis.Redis
) -> None:
    steady_window(900)
    key, _ = reference_key(125, 900, PREFIX, time.time())
    redis_client.set(key, 125, ex=905)

    world.score(query="include_human_points=true")

    [row] = rows(world.conn, "account_accountapikeyanalytics")
    assert row["status_code"] == 429
    assert row["error"] == ""
    assert row["response"] is None
    assert row["response_skipped"] is False
    assert row["api_key_id"] == world.api_key.id
    assert row["query_params"] == {"include_human_points": ["true"]}


# --- what is counted (ADR-0035) ---------------------------------------------------------------


def test_authentication_failures_are_not_counted_and_touch_no_redis(
    world: sc.Scenario, redis_client: redis.Redis
) -> None:
    before = commands_processed(redis_client)

    unknown = world.score(headers={"X-API-Key": "NoSuchKy.secret"})
    wrong_secret = world.score(headers={"X-API-Key": PREFIX + ".wrong"})
    missing = world.score(headers={})

    assert [unknown.status_code, wrong_secret.status_code, missing.status_code] == [401] * 3
    assert commands_processed(redis_client) - before == 1  # the second INFO itself


def test_parameter_errors_are_not_counted(world: sc.Scenario, redis_client: redis.Redis) -> None:
    steady_window(900)

    result = world.score(scorer_id="abc")

    assert result.status_code == 422
    assert redis_client.keys("*") == []


def test_errors_after_the_counting_point_are_counted(
    world: sc.Scenario, redis_client: redis.Redis
) -> None:
    steady_window(900)

    not_found = world.score(scorer_id=world.community_id + 1000)
    bad_address = world.score("0x123")

    assert [not_found.status_code, bad_address.status_code] == [404, 400]
    key, _ = reference_key(125, 900, PREFIX, time.time())
    assert redis_client.get(key) == "2"


@pytest.mark.parametrize("unlimited", ["", None])
def test_unlimited_keys_make_no_redis_call(
    world: sc.Scenario,
    redis_client: redis.Redis,
    caplog: pytest.LogCaptureFixture,
    unlimited: str | None,
) -> None:
    set_rate_limit(world.conn, world.api_key.id, unlimited)
    before = commands_processed(redis_client)
    caplog.set_level(logging.INFO)

    statuses = [world.score().status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert outcomes(caplog) == ["unlimited"] * 3
    assert commands_processed(redis_client) - before == 1  # the second INFO itself
    assert redis_client.keys("*") == []


def test_an_unparsable_rate_is_the_lowest_tier_and_logged(
    world: sc.Scenario, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    steady_window(900)
    set_rate_limit(world.conn, world.api_key.id, "abc")
    key, _ = reference_key(125, 900, PREFIX, time.time())
    redis_client.set(key, 124, ex=905)

    with caplog.at_level(logging.ERROR, logger="service.rate_limit"):
        statuses = [world.score().status_code for _ in range(2)]

    assert statuses == [200, 429]
    assert redis_client.get(key) == "126"
    assert any("unparsable rate_limit" in record.getMessage() for record in caplog.records)


def test_limits_are_off_without_ratelimit_enable(
    make_world: Callable[..., sc.Scenario],
    redis_client: redis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = make_world(RATELIMIT_ENABLE="false")
    set_rate_limit(world.conn, world.api_key.id, "1/1m")
    before = commands_processed(redis_client)
    caplog.set_level(logging.INFO)

    statuses = [world.score().status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert commands_processed(redis_client) - before == 1
    # The request log says nothing about limits that are off.
    assert outcomes(caplog) == []


# --- windows ----------------------------------------------------------------------------------


def test_a_new_window_starts_a_new_budget(
    make_world: Callable[..., sc.Scenario], redis_client: redis.Redis
) -> None:
    old_key, end = reference_key(2, 60, PREFIX, 1796125734)
    clock = {"now": end + 0.5}  # the last second of the key's window
    world = make_world(clock=lambda: clock["now"])
    set_rate_limit(world.conn, world.api_key.id, "2/1m")

    in_window = [world.score().status_code for _ in range(3)]
    clock["now"] += 1
    next_window = [world.score().status_code for _ in range(3)]

    assert in_window == [200, 200, 429]
    assert next_window == [200, 200, 429]
    new_key, new_end = reference_key(2, 60, PREFIX, end + 1)
    assert new_end == end + 60
    assert redis_client.get(old_key) == "3"
    assert redis_client.get(new_key) == "3"
    assert redis_client.get(old_key) == "3"
    assert redis_client.get(new_key) == "3"


def test_one_second_windows_roll_over_on_the_real_clock(
    world: sc.Scenario, redis_client: redis.Redis
) -> None:
    set_rate_limit(world.conn, world.api_key.id, "1/1s")
    # Start early in a second, so the first two requests share it.
    time.sleep(1 - time.time() % 1 + 0.01)

    second = int(time.time())
    first, second_in_same = world.score().status_code, world.score().status_code
    assert int(time.time()) == second, "the machine was too slow to stay within one second"
    time.sleep(second + 1.01 - time.time())
    next_second = world.score().status_code

    assert (first, second_in_same, next_second) == (200, 429, 200)


# --- Redis trouble: fail open, circuit, recovery ---------------------------------------------


def test_redis_stopped_and_restarted_under_a_running_app(
    make_world: Callable[..., sc.Scenario],
    own_redis: EphemeralRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reader = InMemoryMetricReader()
    world = make_world(
        meter_provider=MeterProvider(metric_readers=[reader]),
        CELERY_BROKER_URL=own_redis.url,
        RATELIMIT_CIRCUIT_OPEN_SECONDS="0.5",
    )
    set_rate_limit(world.conn, world.api_key.id, "2/1h")
    steady_window(3600)
    caplog.set_level(logging.INFO)

    before = world.score().status_code
    own_redis.stop()
    during = [world.score().status_code for _ in range(3)]
    own_redis.start()
    time.sleep(0.6)  # the circuit's open period
    after = [world.score().status_code for _ in range(3)]

    assert before == 200
    assert during == [200, 200, 200]
    # Redis lost its counters (no persistence), so the budget starts again: 2 allowed, then 429.
    assert after == [200, 200, 429]
    assert outcomes(caplog) == [
        "allowed",
        "fail_open",
        "fail_open",
        "fail_open",
        "allowed",
        "allowed",
        "limited",
    ]
    # One attempt failed, two were skipped by the open circuit; all three were counted.
    assert fail_open_counts(reader) == {"ConnectionError": 1, "circuit_open": 2}
    messages = [record.getMessage() for record in caplog.records]
    assert "rate-limit store unavailable: serving without limits" in messages
    assert "rate-limit store reachable again: limits apply" in messages


def test_a_redis_that_accepts_and_never_answers_costs_one_timeout_then_the_circuit_opens(
    make_world: Callable[..., sc.Scenario], caplog: pytest.LogCaptureFixture
) -> None:
    # A listening socket nobody reads: connections are accepted by the kernel, never answered.
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = silent.getsockname()[1]
    try:
        world = make_world(
            CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0", RATELIMIT_REDIS_TIMEOUT_MS="30"
        )
        caplog.set_level(logging.INFO)

        statuses = [world.score().status_code for _ in range(3)]
    finally:
        silent.close()

    assert statuses == [200, 200, 200]
    assert outcomes(caplog) == ["fail_open"] * 3
    failures = [r for r in caplog.records if r.getMessage().startswith("rate-limit check failed")]
    # One attempt timed out; the next two never tried (the circuit is open).
    assert len(failures) == 1
    assert failures[0].error.startswith("TimeoutError")


def test_a_counter_holding_a_non_number_fails_open_without_opening_the_circuit(
    world: sc.Scenario, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    steady_window(900)
    key, _ = reference_key(125, 900, PREFIX, time.time())
    redis_client.set(key, "not a number", ex=905)
    caplog.set_level(logging.INFO)

    first = world.score().status_code
    redis_client.set(key, 125, ex=905)
    second = world.score().status_code

    assert (first, second) == (200, 429)
    assert outcomes(caplog) == ["fail_open", "limited"]


# --- one budget for every v2 route ------------------------------------------------------------


def test_the_read_routes_and_the_score_route_spend_one_budget_per_key(
    world: sc.Scenario, redis_client: redis.Redis
) -> None:
    # Given a key allowed 3 requests a minute, with the history permission
    steady_window(60)
    set_rate_limit(world.conn, world.api_key.id, "3/1m")
    world.conn.run(
        "UPDATE account_accountapikey SET historical_endpoint = true WHERE id = :id",
        id=world.api_key.id,
    )
    world.cache(sc.stamp("Google"))
    headers = {"X-API-Key": sc.API_KEY}
    history = f"/v2/stamps/{world.community_id}/score/{sc.ADDRESS}/history"

    # When the three read routes are called once each, then the score route
    statuses = [
        world.client.simulate_get("/v2/stamps/metadata", headers=headers).status_code,
        world.client.simulate_get(f"/v2/stamps/{sc.ADDRESS}", headers=headers).status_code,
        world.client.simulate_get(
            history, headers=headers, query_string="created_at=2026-01-01"
        ).status_code,
    ]
    scored = world.score()

    # Then the reads spent the budget (whatever they answered), and the score is refused unscored
    key, _ = reference_key(3, 60, PREFIX, time.time())
    assert 429 not in statuses
    assert redis_client.get(key) == "4"
    assert scored.status_code == 429
    assert scored.json == RATE_LIMITED
    for table in ("registry_passport", "registry_score", "registry_event"):
        assert rows(world.conn, table) == []


def test_a_read_route_past_the_limit_answers_429_with_a_skipped_response_row(
    world: sc.Scenario, redis_client: redis.Redis
) -> None:
    steady_window(900)
    key, _ = reference_key(125, 900, PREFIX, time.time())
    redis_client.set(key, 125, ex=905)

    result = world.client.simulate_get(
        f"/v2/stamps/{sc.ADDRESS}", headers={"X-API-Key": sc.API_KEY}
    )

    assert result.status_code == 429
    assert result.json == RATE_LIMITED
    assert int(result.headers["retry-after"]) >= 1
    [row] = rows(world.conn, "account_accountapikeyanalytics")
    assert (row["status_code"], row["error"], row["response_skipped"]) == (429, "", True)
