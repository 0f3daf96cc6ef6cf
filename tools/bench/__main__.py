"""`python -m tools.bench` (`make bench`): measure the scorer and write BENCHMARKS.md.

Starts a throwaway PostgreSQL cluster (or uses DATABASE_URL, adding its own rows there), seeds a
community, an API key, a trusted issuer and passports of signed stamps, runs the local server
(`python -m service`, gunicorn threaded workers) on a free port, measures, and stops everything it
started, also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pg8000.native

from tools import local_site
from tools.bench import (
    charts,
    cold_start,
    http_latency,
    in_process,
    machine,
    micro,
    rate_limit,
    read_routes,
    stages,
    statements,
    throughput,
)
from tools.bench.in_process import InProcessApp, SpanRecorder
from tools.bench.report import Environment, Results, console_table, markdown
from tools.bench.server import REPO_ROOT, LocalServer, ServerError
from tools.bench.stats import Latency
from tools.bench.world import STAMP_COUNTS, build_world, connect
from tools.pgcluster import EphemeralCluster, apply_schema

_STARTED = time.perf_counter()


def _progress(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:5.1f} s] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__)
    parser.add_argument(
        "--workers",
        type=int,
        default=cores,
        help=f"server worker processes (default: one per core, {cores})",
    )
    parser.add_argument(
        "--duration", type=float, default=20.0, help="seconds per throughput run (default: 20)"
    )
    parser.add_argument(
        "--latency-seconds",
        type=float,
        default=5.0,
        help="seconds of latency measurement per stamp count (default: 5, at least 100 requests)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO_ROOT / "BENCHMARKS.md",
        help="where to write the report (default: BENCHMARKS.md at the repo root)",
    )
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        results = _run(args.workers, args.duration, args.latency_seconds, cores)
    except KeyboardInterrupt:
        print("\ninterrupted; everything the benchmark started has been stopped", file=sys.stderr)
        return 130
    except ServerError as exc:
        print(f"the server failed: {exc}", file=sys.stderr)
        return 1
    print(console_table(results))
    if not args.no_write:
        chart_dir = args.output.parent / charts.CHART_DIR
        written = charts.write_charts(results, chart_dir)
        titles = {
            charts.LATENCY: "Latency percentiles by stamp count, first scoring and rescoring",
            charts.THROUGHPUT: "Throughput and p99 by client count",
            charts.STAGES: "One rescoring split by stage",
        }
        links = [
            (titles[path.name], path.relative_to(args.output.parent).as_posix()) for path in written
        ]
        args.output.write_text(markdown(results, links))
        print(f"\nwrote {args.output} and {', '.join(str(path) for path in written)}")
    return 0


def _run(workers: int, duration: float, latency_seconds: float, cores: int) -> Results:
    load_start = os.getloadavg()
    ticks_start = machine.cpu_ticks()
    gauge_start = machine.cpu_gauge_ms()
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="scorer-bench-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        database_url, database = _database(stack)
        conn = connect(database_url)
        stack.callback(conn.close)
        apply_schema(conn)
        postgres = str(conn.run("SHOW server_version")[0][0])
        round_trip = _round_trip_ms(conn)

        _progress("seeding a community, an API key and passports of signed stamps")
        world = build_world(conn, database_url)
        env = world.server_env(os.environ)
        env["PASSPORT_PUBLIC_URL"] = stack.enter_context(local_site.serving())

        server = LocalServer(env, workers, workdir / "server.log")
        stack.callback(server.stop)
        _progress(f"starting the server: {server.display_command}")
        server.start()
        _progress(
            f"1. latency over HTTP for /health and {', '.join(map(str, STAMP_COUNTS))} stamps"
        )
        health = http_latency.health_latency(server)
        latency = http_latency.measure(
            world,
            server,
            conn,
            seconds_per_size=latency_seconds,
            min_requests=100,
            max_requests=2000,
        )
        first_scores = http_latency.measure_first_scores(world, server)
        _progress("1b. the read routes over HTTP: score history, a stamps page, metadata")
        reads = read_routes.measure(
            world, server, seconds_per_route=latency_seconds, min_requests=100
        )
        _progress(f"2. throughput, {duration:.0f} s per client count")
        rates = throughput.measure(world, server, conn, seconds=duration)
        server.stop()

        _progress("4. cold start (fresh interpreters)")
        cold = cold_start.measure(world, env)
        _progress("3. micro-benchmarks: credential verification, API-key checks")
        micro_result = micro.measure(world)
        _progress("6. the rate limiter: the check over loopback, requests with Redis up and down")
        limiter_result = rate_limit.measure(world, env, conn, seconds=latency_seconds)

        _progress("in process: timing, profile, statement counts, step breakdown")
        app = InProcessApp(world, env, workdir / "in_process.log")
        stack.callback(app.close)
        timings = in_process.time_requests(app, seconds_per_size=1.5, min_requests=15)
        request_profile = in_process.profile_requests(app, requests=20)
        recorder = SpanRecorder()
        counts = statements.measure(app, recorder)
        breakdown = stages.measure(app, recorder, requests=10)
        _progress("done; stopping what was started")
    gauge_end = machine.cpu_gauge_ms()
    ticks_end = machine.cpu_ticks()

    environment = Environment(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        revision=_revision(),
        cpu=_cpu_model(),
        cores=cores,
        python=platform.python_version(),
        postgres=postgres,
        database=database,
        server_command=server.display_command.replace(str(server.port), "<free port>"),
        workers=workers,
        workers_why=_workers_why(workers, cores),
        settings=(
            "FF_API_ANALYTICS=on; HUMAN_POINTS_ENABLED, HUMAN_POINTS_WRITE_ENABLED and "
            "HUMAN_POINTS_MTA_ENABLED on, the community in the program, every request with "
            "`include_human_points=true` (points awarded and reported); the seeded did:ethr "
            "issuer in TRUSTED_IAM_ISSUERS; LOG_LEVEL=INFO, one JSON "
            "request-log line per request, to a file; tracing off; the API key has its "
            "SHA-256 form stored (the fast path every migrated key takes)"
        ),
        load_start=load_start,
        load_end=os.getloadavg(),
        cpu_gauge_ms=(gauge_start, gauge_end),
        steal_percent=machine.steal_percent(ticks_start, ticks_end),
        round_trip=round_trip,
        runtime_s=time.perf_counter() - _STARTED,
    )
    return Results(
        environment=environment,
        latency=latency,
        health_http=health,
        first_scores=first_scores,
        read_routes=reads,
        throughput=rates,
        micro=micro_result,
        cold_start=cold,
        statements=counts,
        in_process=timings,
        request_profile=request_profile,
        stages=breakdown,
        rate_limit=limiter_result,
    )


def _database(stack: ExitStack) -> tuple[str, str]:
    given = os.environ.get("DATABASE_URL")
    if given:
        return given, "the database in DATABASE_URL (the benchmark added its rows to it)"
    _progress("starting a throwaway PostgreSQL cluster")
    cluster = EphemeralCluster.in_temp_dir(dbname="scorer_bench")
    stack.callback(cluster.destroy)
    url = cluster.start()
    return url, (
        "a throwaway local cluster (tools/pgcluster.py: fsync and synchronous_commit off,"
        " autovacuum every second)"
    )


def _round_trip_ms(conn: pg8000.native.Connection, count: int = 300) -> tuple[float, float]:
    """How long one statement's round trip takes right now: a gauge of the machine's load."""
    samples = []
    for _ in range(count):
        started = time.perf_counter_ns()
        conn.run("SELECT 1")
        samples.append(time.perf_counter_ns() - started)
    latency = Latency.of_ns(samples)
    return latency.p50, latency.p99


def _workers_why(workers: int, cores: int) -> str:
    reason = (
        "with one worker process per core, CPU-bound requests do not time-slice against each "
        "other across processes (PostgreSQL shares the same cores), while each worker's threads "
        "overlap one request's waits for PostgreSQL with another's work. Requests that spend "
        "most of their time waiting (see the CPU columns in 1. and the note under 2.) would "
        "gain throughput from more workers; "
        "`--workers N` measures that"
    )
    if workers == cores:
        return f"one per core; {reason}"
    return f"set with --workers ({cores} cores here; the default is one per core: {reason})"


def _revision() -> str:
    """The commit measured, and whether the service's code differed from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "service"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}, with uncommitted changes under service/" if dirty else head


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    sys.exit(main())
