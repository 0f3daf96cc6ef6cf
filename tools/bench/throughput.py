"""2. Throughput: 1, 4 and 16 concurrent clients rescoring 5-stamp passports for a fixed time.

Each client is a thread with its own kept-alive connection and its own address. The workers' threads
take requests from every connection as they arrive, so no client can hold on to a worker (the
per-client counts show it).
"""

from __future__ import annotations

import resource
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pg8000.native

from tools.bench import procstat
from tools.bench.client import Client
from tools.bench.http_latency import warm_up
from tools.bench.server import HOST, LocalServer
from tools.bench.stats import Latency
from tools.bench.world import CLIENT_COUNTS, THROUGHPUT_STAMPS, World


@dataclass(frozen=True)
class ThroughputResult:
    clients: int
    seconds: float
    completed: int
    errors: int
    error_kinds: dict[str, int]
    per_client: tuple[int, ...]
    latency: Latency | None
    connects: int
    worker_cores: float | None  # average number of cores the workers kept busy
    database_cores: float | None
    harness_cores: float  # the client threads share the machine

    @property
    def requests_per_second(self) -> float:
        return self.completed / self.seconds


@dataclass
class _ClientRun:
    client: Client
    path: str
    samples: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def run(self, start: threading.Barrier, seconds: float, stop: threading.Event) -> None:
        try:
            start.wait()
        except threading.BrokenBarrierError:
            return  # the harness was interrupted before the run began
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not stop.is_set():
            reply = self.client.get(self.path)
            if reply.ok:
                self.samples.append(reply.elapsed_ns)
            elif reply.failure is not None:
                self.errors[reply.failure] += 1
            elif reply.status == 200:
                self.errors["ERROR score"] += 1
            else:
                self.errors[f"HTTP {reply.status}"] += 1
        self.client.close()


def measure(
    world: World, server: LocalServer, conn: pg8000.native.Connection, *, seconds: float
) -> list[ThroughputResult]:
    warmer = Client(HOST, server.port, world.headers)
    for address in world.client_addresses:
        warm_up(warmer, world, address, THROUGHPUT_STAMPS, requests=1)
    warmer.close()
    return [_run(world, server, conn, clients, seconds) for clients in CLIENT_COUNTS]


def _run(
    world: World,
    server: LocalServer,
    conn: pg8000.native.Connection,
    clients: int,
    seconds: float,
) -> ThroughputResult:
    runs = [
        _ClientRun(Client(HOST, server.port, world.headers), world.score_path(address))
        for address in world.client_addresses[:clients]
    ]
    start = threading.Barrier(clients + 1)
    stop = threading.Event()
    threads = [
        threading.Thread(target=run.run, args=(start, seconds, stop), daemon=True) for run in runs
    ]
    for thread in threads:
        thread.start()
    workers, backends = server.worker_pids(), server.database_pids(conn)
    worker_cpu, database_cpu = procstat.cpu_seconds(workers), procstat.cpu_seconds(backends)
    harness_cpu = _own_cpu_seconds()
    try:
        start.wait()
        started = time.perf_counter()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)  # short joins keep Ctrl-C responsive
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        start.abort()
    worker_cpu = procstat.cpu_seconds(workers) - worker_cpu
    database_cpu = procstat.cpu_seconds(backends) - database_cpu
    harness_cpu = _own_cpu_seconds() - harness_cpu

    samples = [sample for run in runs for sample in run.samples]
    kinds: Counter[str] = Counter()
    for run in runs:
        kinds.update(run.errors)
    return ThroughputResult(
        clients=clients,
        seconds=elapsed,
        completed=len(samples),
        errors=sum(kinds.values()),
        error_kinds=dict(kinds),
        per_client=tuple(len(run.samples) for run in runs),
        latency=Latency.of_ns(samples) if samples else None,
        connects=sum(run.client.connects for run in runs),
        worker_cores=worker_cpu / elapsed if workers else None,
        database_cores=database_cpu / elapsed if backends else None,
        harness_cores=harness_cpu / elapsed,
    )


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
