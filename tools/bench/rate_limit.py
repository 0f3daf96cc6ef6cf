"""6. The rate limiter's cost: the check itself against a throwaway redis-server over loopback,
and v2 requests in process with limits off, on, and on with Redis down.

The API key gets a limit no run reaches (`1000000/15m`), so every request is counted and served.
"Redis down" is a closed port on 127.0.0.1 (connection refused): the first check of each circuit
period pays the refused connect, the others skip Redis until the circuit closes again.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import falcon.testing
import pg8000.native
import redis

from service.app import create_app
from service.auth.api_key import AuthenticatedKey
from service.clients.rate_limiter import RateLimiter
from service.db.connection import Database
from service.plumbing.settings import Settings
from tools.bench.http_latency import check_reply
from tools.bench.stats import Latency
from tools.bench.world import THROUGHPUT_STAMPS, World
from tools.redisserver import EphemeralRedis

UNREACHED_RATE = "1000000/15m"
_RUN_LENGTH = 5


@dataclass(frozen=True)
class RateLimitResult:
    redis_version: str
    check_up: Latency  # RateLimiter.check per call, Redis over loopback
    check_down: Latency  # the same with Redis down
    # in-process v2 score of THROUGHPUT_STAMPS stamps, per request
    request_off: Latency
    request_on: Latency
    request_down: Latency


def measure(
    world: World, env: dict[str, str], conn: pg8000.native.Connection, *, seconds: float
) -> RateLimitResult:
    store = EphemeralRedis()
    prefix = world.api_key.split(".", 1)[0]
    saved = conn.run("SELECT rate_limit FROM account_accountapikey WHERE prefix = :p", p=prefix)
    conn.run(
        "UPDATE account_accountapikey SET rate_limit = :r WHERE prefix = :p",
        r=UNREACHED_RATE,
        p=prefix,
    )
    # Redis is taken down on purpose: its failure logs would only clutter the progress output.
    limiter_log = logging.getLogger("service.rate_limit")
    saved_level = limiter_log.level
    limiter_log.setLevel(logging.CRITICAL)
    try:
        url = store.start()
        client = redis.Redis.from_url(url)
        version = str(cast(dict[str, Any], client.info("server"))["redis_version"])
        client.close()
        on = {**env, "RATELIMIT_ENABLE": "true", "CELERY_BROKER_URL": url}
        down = {**on, "CELERY_BROKER_URL": f"redis://127.0.0.1:{_closed_port()}/0"}
        check_up = _time_checks(Settings.from_env(on), calls=3000)
        check_down = _time_checks(Settings.from_env(down), calls=3000)
        off_req, on_req, down_req = _time_requests(
            world, [env, on, down], seconds=seconds, min_requests=200
        )
    finally:
        limiter_log.setLevel(saved_level)
        store.destroy()
        conn.run(
            "UPDATE account_accountapikey SET rate_limit = :r WHERE prefix = :p",
            r=saved[0][0] if saved else None,
            p=prefix,
        )
    return RateLimitResult(version, check_up, check_down, off_req, on_req, down_req)


def _time_checks(settings: Settings, *, calls: int) -> Latency:
    limiter = RateLimiter(settings)
    key = AuthenticatedKey(
        key_id="bench", account_id=1, prefix="BenchRL1", rate_limit=UNREACHED_RATE
    )
    req = falcon.testing.create_req()
    try:
        for _ in range(50):
            limiter.check(req, key)
        samples = []
        for _ in range(calls):
            started = time.perf_counter_ns()
            limiter.check(req, key)
            samples.append(time.perf_counter_ns() - started)
    finally:
        limiter.close()
    return Latency.of_ns(samples)


def _time_requests(
    world: World, envs: list[dict[str, str]], *, seconds: float, min_requests: int
) -> list[Latency]:
    """The variants alternate in runs of a few requests, so a change in the machine's load
    affects them alike."""
    address = world.latency_addresses[THROUGHPUT_STAMPS]
    clients: list[Callable[[], Any]] = []
    closers: list[Callable[[], None]] = []
    for env in envs:
        settings = Settings.from_env(env)
        db = Database(settings.database)
        limiter = RateLimiter(settings)
        client = falcon.testing.TestClient(create_app(settings, db, limiter=limiter))
        closers += [db.close, limiter.close]
        clients.append(_scorer(client, world, address))
    try:
        for score in clients:
            for _ in range(5):
                score()
        samples: list[list[int]] = [[] for _ in clients]
        deadline = time.monotonic() + seconds
        while len(samples[0]) < min_requests or time.monotonic() < deadline:
            for index, score in enumerate(clients):
                for _ in range(_RUN_LENGTH):
                    started = time.perf_counter_ns()
                    score()
                    samples[index].append(time.perf_counter_ns() - started)
    finally:
        for close in closers:
            close()
    return [Latency.of_ns(variant) for variant in samples]


def _scorer(client: falcon.testing.TestClient, world: World, address: str) -> Callable[[], None]:
    def score() -> None:
        result = client.simulate_get(world.score_path(address), headers=world.headers)
        if result.status_code != 200:
            raise RuntimeError(f"in-process score answered {result.status}: {result.text[:300]}")
        check_reply(result.content, THROUGHPUT_STAMPS)

    return score


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
