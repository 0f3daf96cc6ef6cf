"""1. v2 score latency over HTTP: one client rescoring passports of 1, 5, 10 and 25 stamps."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pg8000.native

from tools.bench import procstat
from tools.bench.client import Client
from tools.bench.server import HOST, LocalServer
from tools.bench.stats import Latency
from tools.bench.world import STAMP_COUNTS, World

WARMUP_REQUESTS = 10


class PipelineError(RuntimeError):
    """The scorer did not count every stamp: a benchmark of that would measure the wrong thing."""


@dataclass(frozen=True)
class LatencyResult:
    stamps: int
    latency: Latency
    errors: int
    mean_connect_ms: float
    worker_cpu_ms: float | None  # server CPU per request, all workers
    database_cpu_ms: float | None  # PostgreSQL backend CPU per request


def check_reply(body: bytes, stamps: int) -> None:
    score = json.loads(body)
    if (
        score.get("error") is not None
        or len(score.get("stamps") or {}) != stamps
        or not isinstance(score.get("points_data"), dict)
    ):
        raise PipelineError(
            f"expected a score counting {stamps} valid stamps, with its Human Points, got: "
            f"{body[:300]!r}"
        )


def warm_up(client: Client, world: World, address: str, stamps: int, requests: int) -> None:
    """The first request scores the passport (links, stamps); the rest warm both workers."""
    for _ in range(requests):
        reply = client.get(world.score_path(address))
        if reply.status != 200:
            raise PipelineError(f"warm-up answered {reply.status}: {reply.body[:300]!r}")
        check_reply(reply.body, stamps)


def health_latency(server: LocalServer, requests: int = 200) -> Latency:
    """GET /health over HTTP: the HTTP layer alone (connect, gunicorn, Falcon, the request log)."""
    client = Client(HOST, server.port, {})
    samples = []
    for _ in range(requests):
        reply = client.get("/health")
        if reply.status != 200:
            raise PipelineError(f"/health answered {reply.status}")
        samples.append(reply.elapsed_ns)
    client.close()
    return Latency.of_ns(samples[10:])


def measure(
    world: World,
    server: LocalServer,
    conn: pg8000.native.Connection,
    *,
    seconds_per_size: float,
    min_requests: int,
    max_requests: int,
) -> list[LatencyResult]:
    results = []
    for stamps in STAMP_COUNTS:
        address = world.latency_addresses[stamps]
        client = Client(HOST, server.port, world.headers)
        warm_up(client, world, address, stamps, WARMUP_REQUESTS)
        workers, backends = server.worker_pids(), server.database_pids(conn)
        cpu_before = procstat.cpu_seconds(workers), procstat.cpu_seconds(backends)
        connects_before, connect_ns_before = client.connects, client.connect_ns
        samples: list[int] = []
        errors = 0
        path = world.score_path(address)
        deadline = time.monotonic() + seconds_per_size
        while len(samples) + errors < max_requests and (
            len(samples) + errors < min_requests or time.monotonic() < deadline
        ):
            reply = client.get(path)
            if reply.ok:
                samples.append(reply.elapsed_ns)
            else:
                errors += 1
        client.close()
        if not samples:
            raise PipelineError(f"every {stamps}-stamp request failed: {dict(client.failures)}")
        requests = len(samples) + errors
        worker_cpu = procstat.cpu_seconds(workers) - cpu_before[0]
        database_cpu = procstat.cpu_seconds(backends) - cpu_before[1]
        connects = client.connects - connects_before
        results.append(
            LatencyResult(
                stamps=stamps,
                latency=Latency.of_ns(samples),
                errors=errors,
                mean_connect_ms=(client.connect_ns - connect_ns_before) / max(connects, 1) / 1e6,
                worker_cpu_ms=worker_cpu * 1000 / requests if workers else None,
                database_cpu_ms=database_cpu * 1000 / requests if backends else None,
            )
        )
    return results


@dataclass(frozen=True)
class FirstScoreResult:
    stamps: int
    latency: Latency


def measure_first_scores(world: World, server: LocalServer) -> list[FirstScoreResult]:
    """One request per passport whose stamps the server has never verified, so nothing the
    service remembers between requests (verified signers) can answer for them."""
    client = Client(HOST, server.port, world.headers)
    results = []
    for stamps, addresses in sorted(world.first_score_addresses.items()):
        samples = []
        for address in addresses:
            reply = client.get(world.score_path(address))
            if reply.status != 200:
                raise PipelineError(f"a first scoring answered {reply.status}: {reply.body!r}")
            check_reply(reply.body, stamps)
            samples.append(reply.elapsed_ns)
        results.append(FirstScoreResult(stamps, Latency.of_ns(samples)))
    client.close()
    return results
