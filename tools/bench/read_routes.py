"""1b. The v2 read routes over HTTP: score history (a passport rescored many times, so its
events are many), a full 1000-item stamps page, and stamp metadata (served from the per-process
copy after each worker's first fetch from the local site)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.bench.client import Client
from tools.bench.http_latency import PipelineError
from tools.bench.server import HOST, LocalServer
from tools.bench.stats import Latency
from tools.bench.world import STAMPS_PAGE_ITEMS, THROUGHPUT_STAMPS, World

WARMUP_REQUESTS = 10


@dataclass(frozen=True)
class ReadRouteResult:
    route: str
    latency: Latency
    errors: int


def measure(
    world: World, server: LocalServer, *, seconds_per_route: float, min_requests: int
) -> list[ReadRouteResult]:
    history_address = world.latency_addresses[THROUGHPUT_STAMPS]
    routes: list[tuple[str, str, Callable[[Any], bool]]] = [
        (
            "score history",
            world.history_path(history_address),
            lambda body: (
                body.get("address") == history_address
                and len(body.get("stamps") or {}) == THROUGHPUT_STAMPS
            ),
        ),
        (
            f"stamps list, a {STAMPS_PAGE_ITEMS}-item page",
            world.stamps_path(world.stamps_page_address),
            lambda body: len(body.get("items", [])) == STAMPS_PAGE_ITEMS,
        ),
        (
            "stamp metadata",
            "/v2/stamps/metadata",
            lambda body: isinstance(body, list) and len(body) > 0,
        ),
    ]
    return [
        _measure_route(server, world, name, path, valid, seconds_per_route, min_requests)
        for name, path, valid in routes
    ]


def _measure_route(
    server: LocalServer,
    world: World,
    name: str,
    path: str,
    valid: Callable[[Any], bool],
    seconds: float,
    min_requests: int,
) -> ReadRouteResult:
    client = Client(HOST, server.port, world.headers)
    for _ in range(WARMUP_REQUESTS):
        reply = client.get(path)
        if reply.status != 200 or not valid(json.loads(reply.body)):
            raise PipelineError(f"{name} answered {reply.status}: {reply.body[:300]!r}")
    samples: list[int] = []
    errors = 0
    deadline = time.monotonic() + seconds
    while len(samples) + errors < min_requests or time.monotonic() < deadline:
        reply = client.get(path)
        if reply.status == 200:
            samples.append(reply.elapsed_ns)
        else:
            errors += 1
    client.close()
    if not samples:
        raise PipelineError(f"every {name} request failed: {dict(client.failures)}")
    return ReadRouteResult(name, Latency.of_ns(samples), errors)
