"""The app in the harness's own process (no HTTP server): for request timing without the network,
the profile, statement counts and the per-stage breakdown.

The app is built as every entry point builds it (`create_app`), with a Database that records how
many statements each transaction ran, and with the request log written to a file at INFO as the
server writes it.
"""

from __future__ import annotations

import logging
import socket
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import falcon.testing
import pg8000.native
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from service.app import create_app
from service.db.connection import Database, Transaction
from service.plumbing.logs import JsonFormatter
from service.plumbing.settings import Settings
from tools.bench.http_latency import check_reply
from tools.bench.profiles import Profile, profile
from tools.bench.world import STAMP_COUNTS, THROUGHPUT_STAMPS, World

# Where a scoring request spends its time, for the profile (path suffix : function).
REQUEST_PARTS = {
    "credential verification (validate_stamps)": "service/domain/credentials.py:validate_stamps",
    "SQL: driver + round trips (Transaction._with_reopen)": (
        "service/db/connection.py:_with_reopen"
    ),
    "COMMIT (Database.transaction)": "service/db/connection.py:transaction",
    "API-key auth (authenticate)": "service/auth/api_key.py:authenticate",
    "community, passport upsert, stamps and their hash links (passports.open_in_account)": (
        "service/db/passports.py:open_in_account"
    ),
    "LIFO plan and score (score_passport._plan_and_save, without its write)": (
        "service/use_cases/score_passport.py:_plan_and_save"
    ),
    "the run's one write (scoring_run.save_run)": "service/db/scoring_run.py:save_run",
    "Human Points report (human_points_awards.points_payload)": (
        "service/use_cases/human_points_awards.py:points_payload"
    ),
    "analytics row (analytics.record)": "service/db/analytics.py:record",
}


_RUN_LENGTH = 5


class CountingDatabase(Database):
    """Records `Transaction.statement_count` of every transaction (BEGIN and COMMIT excluded).

    With `tcp_nodelay`, its connections disable Nagle's algorithm: a what-if the harness
    measures in its own process, without touching the service. `service_nodelay` says whether
    the service's own connection code already did (None: not a TCP connection).
    """

    def __init__(self, *args: Any, tcp_nodelay: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counts: list[int] = []
        self.round_trips: list[int] = []
        self.tcp_nodelay = tcp_nodelay
        self.service_nodelay: bool | None = None

    def _connect(self) -> pg8000.native.Connection:
        conn = super()._connect()
        sock = conn._usock
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            self.service_nodelay = bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            if self.tcp_nodelay:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        # Counted once the transaction is over: COMMIT carries the analytics row (ADR-0050).
        opened: Transaction | None = None
        try:
            with super().transaction() as tx:
                opened = tx
                yield tx
        finally:
            if opened is not None:
                self.counts.append(opened.statement_count)
                # Every exchange the request waited for: COMMIT too when it went alone.
                self.round_trips.append(opened.round_trips + bool(opened.committed_alone))


class InProcessApp:
    """Two copies of the app: as configured, and with TCP_NODELAY on its database socket."""

    def __init__(self, world: World, env: dict[str, str], log_path: Path) -> None:
        self.world = world
        settings = Settings.from_env(env)

        def database(tcp_nodelay: bool) -> CountingDatabase:
            return CountingDatabase(
                settings.database,
                connect_timeout_s=settings.db_connect_timeout_s,
                statement_timeout_ms=settings.db_statement_timeout_ms,
                tcp_nodelay=tcp_nodelay,
            )

        self.db = database(tcp_nodelay=False)
        self.client = falcon.testing.TestClient(create_app(settings, self.db))
        self._nodelay_db = database(tcp_nodelay=True)
        self._nodelay_client = falcon.testing.TestClient(create_app(settings, self._nodelay_db))
        self._log_handler = logging.FileHandler(log_path)
        self._log_handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        self._saved_level = root.level
        root.addHandler(self._log_handler)
        root.setLevel(logging.INFO)

    @property
    def nodelay_what_if(self) -> bool:
        """Whether the TCP_NODELAY twin differs from the app as configured (known once the
        app has connected)."""
        return self.db.service_nodelay is False

    def score(self, address: str, stamps: int, *, tcp_nodelay: bool = False) -> None:
        client = self._nodelay_client if tcp_nodelay else self.client
        result = client.simulate_get(self.world.score_path(address), headers=self.world.headers)
        if result.status_code != 200:
            raise RuntimeError(f"in-process score answered {result.status}: {result.text[:300]}")
        check_reply(result.content, stamps)

    def close(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self._log_handler)
        root.setLevel(self._saved_level)
        self._log_handler.close()
        self.db.close()
        self._nodelay_db.close()


class SpanRecorder:
    """The service's own spans (steps and one per SQL statement), kept in memory.

    Installs the OpenTelemetry SDK as the global tracer provider, which can happen once per
    process: create it only after the untraced measurements.
    """

    def __init__(self) -> None:
        self._exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self._exporter))
        trace.set_tracer_provider(provider)
        self.tracer = trace.get_tracer("tools.bench")

    def take(self) -> tuple[ReadableSpan, ...]:
        spans = self._exporter.get_finished_spans()
        self._exporter.clear()
        return spans


@dataclass(frozen=True)
class InProcessTiming:
    stamps: int
    requests: int  # of each kind
    p50_ms: float
    # what-if: TCP_NODELAY on the database socket; None when the service already sets it
    nodelay_p50_ms: float | None


def time_requests(
    app: InProcessApp, *, seconds_per_size: float, min_requests: int
) -> list[InProcessTiming]:
    """The app as configured and its TCP_NODELAY twin, alternating in runs of a few requests so
    that a change in the machine's load affects both alike, while each connection still sees
    requests back to back as a server worker's does."""
    timings = []
    for stamps in STAMP_COUNTS:
        address = app.world.latency_addresses[stamps]
        for _ in range(3):
            app.score(address, stamps)
        variants = (False, True) if app.nodelay_what_if else (False,)
        for _ in range(3 if app.nodelay_what_if else 0):
            app.score(address, stamps, tcp_nodelay=True)
        samples: dict[bool, list[float]] = {False: [], True: []}
        deadline = time.monotonic() + seconds_per_size
        while len(samples[False]) < min_requests or time.monotonic() < deadline:
            for nodelay in variants:
                for _ in range(_RUN_LENGTH):
                    started = time.perf_counter_ns()
                    app.score(address, stamps, tcp_nodelay=nodelay)
                    samples[nodelay].append((time.perf_counter_ns() - started) / 1e6)
        timings.append(
            InProcessTiming(
                stamps=stamps,
                requests=len(samples[False]),
                p50_ms=statistics.median(samples[False]),
                nodelay_p50_ms=statistics.median(samples[True]) if samples[True] else None,
            )
        )
    return timings


def profile_requests(app: InProcessApp, *, requests: int) -> Profile:
    address = app.world.latency_addresses[THROUGHPUT_STAMPS]

    def work() -> None:
        for _ in range(requests):
            app.score(address, THROUGHPUT_STAMPS)

    return profile(work, units=requests, top=12, cumulative_of=REQUEST_PARTS)


def span_ms(span: ReadableSpan) -> float:
    if span.start_time is None or span.end_time is None:
        return 0.0
    return (span.end_time - span.start_time) / 1e6


def by_id(spans: Sequence[ReadableSpan]) -> dict[int, ReadableSpan]:
    return {span.context.span_id: span for span in spans if span.context is not None}
