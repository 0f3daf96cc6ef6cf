"""The results against the issue's targets: a table on stdout and BENCHMARKS.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tools.bench.cold_start import RUNS as COLD_START_RUNS
from tools.bench.cold_start import ColdStartResult
from tools.bench.http_latency import FirstScoreResult, LatencyResult
from tools.bench.in_process import InProcessTiming
from tools.bench.micro import PBKDF2_ITERATIONS, MicroResult
from tools.bench.profiles import Profile, Share
from tools.bench.rate_limit import UNREACHED_RATE, RateLimitResult
from tools.bench.read_routes import ReadRouteResult
from tools.bench.stages import OUTSIDE, Breakdown
from tools.bench.statements import StatementCounts
from tools.bench.stats import Latency
from tools.bench.throughput import ThroughputResult
from tools.bench.world import THROUGHPUT_STAMPS

# The performance targets (this 2-core machine, Human Points and analytics on).
P50_5_STAMPS_MS = 5.0
P99_5_STAMPS_MS = 8.0
P50_25_STAMPS_MS = 9.0
FIRST_SCORE_5_STAMPS_P50_MS = 7.0
THROUGHPUT_CLIENTS = 16
THROUGHPUT_MIN_RPS = 550.0
MAX_STATEMENTS = 9
VERIFY_PER_STAMP_MS = 0.6
SHA256_CHECK_MS = 0.05
COLD_START_MS = 300.0
RATE_LIMIT_CHECK_MS = 0.3
# Redis down must cost nothing: the p50 with limits on and Redis down may exceed the p50
# without limits by no more than run-to-run noise of the in-process medians.
REDIS_DOWN_NOISE = 0.05
PEAK_RSS_MIB = 120.0


@dataclass(frozen=True)
class Environment:
    date: str
    revision: str
    cpu: str
    cores: int
    python: str
    postgres: str
    database: str
    server_command: str
    workers: int
    workers_why: str
    settings: str
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float]
    round_trip: tuple[float, float]  # SELECT 1 p50 and p99 in ms, before the measurements
    runtime_s: float
    cpu_gauge_ms: tuple[float, float]  # tools/bench/machine.py, at the start and the end
    steal_percent: float | None  # of all CPU time during the run; None without /proc/stat


@dataclass(frozen=True)
class Results:
    environment: Environment
    latency: Sequence[LatencyResult]
    health_http: Latency  # GET /health over HTTP: the HTTP layer alone
    first_scores: Sequence[FirstScoreResult]
    read_routes: Sequence[ReadRouteResult]
    throughput: Sequence[ThroughputResult]
    micro: MicroResult
    cold_start: ColdStartResult
    statements: StatementCounts
    in_process: Sequence[InProcessTiming]
    request_profile: Profile
    stages: Sequence[Breakdown]
    rate_limit: RateLimitResult


@dataclass(frozen=True)
class Check:
    key: str  # which "what limits it" paragraph explains a miss
    measurement: str
    result: str
    target: str
    met: bool | None  # None: reported, no target
    gap: str = ""


def ms(value: float) -> str:
    if value < 0.1:
        return f"{value * 1000:.1f} µs"
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def _at_most(value: float, target: float, unit: str = "ms") -> tuple[bool, str]:
    if value <= target:
        return True, ""
    over = value - target
    shown = ms(over) if unit == "ms" else f"{over:.1f} {unit}"
    return False, f"{shown} over, {value / target - 1:.0%} above the target"


def checks(results: Results) -> list[Check]:
    latency = {result.stamps: result.latency for result in results.latency}
    rows: list[Check] = []

    def limit(key: str, label: str, value: float, target: float, unit: str = "ms") -> None:
        met, gap = _at_most(value, target, unit)
        shown = ms(value) if unit == "ms" else f"{value:.1f} {unit}"
        rows.append(
            Check(
                key,
                label,
                shown,
                f"≤ {ms(target) if unit == 'ms' else f'{target:g} {unit}'}",
                met,
                gap,
            )
        )

    targets = {
        (5, "p50"): P50_5_STAMPS_MS,
        (5, "p99"): P99_5_STAMPS_MS,
        (25, "p50"): P50_25_STAMPS_MS,
    }
    for stamps in sorted(latency):
        label = f"1. v2 rescoring over HTTP, {stamps} stamp{'s' * (stamps > 1)}"
        measured = {"p50": latency[stamps].p50, "p99": latency[stamps].p99}
        untargeted = [name for name in measured if (stamps, name) not in targets]
        for name, value in measured.items():
            if (stamps, name) in targets:
                limit("latency", f"{label}, {name}", value, targets[(stamps, name)])
        if untargeted:
            rows.append(
                Check(
                    "",
                    f"{label}, {' / '.join(untargeted)}",
                    " / ".join(ms(measured[name]) for name in untargeted),
                    "—",
                    None,
                )
            )
    for first in results.first_scores:
        label = f"1. v2 first scoring over HTTP (stamps new to the server), {first.stamps} stamps"
        if first.stamps == 5:
            limit("first", f"{label}, p50", first.latency.p50, FIRST_SCORE_5_STAMPS_P50_MS)
        else:
            rows.append(
                Check(
                    "",
                    f"{label}, p50 / max of {first.latency.count}",
                    f"{ms(first.latency.p50)} / {ms(first.latency.maximum)}",
                    "—",
                    None,
                )
            )
    for read in results.read_routes:
        rows.append(
            Check(
                "",
                f"1b. v2 {read.route} over HTTP, p50 / p99 of {read.latency.count}",
                f"{ms(read.latency.p50)} / {ms(read.latency.p99)}"
                + (f", {read.errors} errors" if read.errors else ""),
                "—",
                None,
            )
        )
    for run in results.throughput:
        rate = run.requests_per_second
        if run.clients == THROUGHPUT_CLIENTS:
            met = run.errors == 0 and rate >= THROUGHPUT_MIN_RPS
            target = f"≥ {THROUGHPUT_MIN_RPS:.0f} req/s, 0 errors"
            gap = "; ".join(
                part
                for part in (
                    ""
                    if rate >= THROUGHPUT_MIN_RPS
                    else f"{THROUGHPUT_MIN_RPS - rate:.1f} req/s short, "
                    f"{1 - rate / THROUGHPUT_MIN_RPS:.0%} below the target",
                    "" if run.errors == 0 else f"{run.errors} errors: {run.error_kinds}",
                )
                if part
            )
        else:
            met, target = run.errors == 0, "0 errors"
            gap = "" if run.errors == 0 else f"{run.errors} errors: {run.error_kinds}"
        rows.append(
            Check(
                "throughput",
                f"2. throughput, {run.clients} client{'s' * (run.clients > 1)}, "
                f"{THROUGHPUT_STAMPS} stamps, {run.seconds:.0f} s",
                f"{rate:.1f} req/s, {run.errors} errors",
                target,
                met,
                gap,
            )
        )
    micro = results.micro
    # Best of a few runs, as timeit advises: the least disturbed by other processes.
    limit(
        "verify",
        f"3. credential verification per stamp, first sight (best of "
        f"{micro.verify_first_sight.repeats})",
        micro.verify_first_sight.best,
        VERIFY_PER_STAMP_MS,
    )
    rows.append(
        Check(
            "",
            f"3. credential verification per stamp, seen before (best of "
            f"{micro.verify_seen.repeats})",
            ms(micro.verify_seen.best),
            "—",
            None,
        )
    )
    limit(
        "sha256",
        f"3. API-key check, SHA-256 fast path (best of {micro.sha256_check.repeats})",
        micro.sha256_check.best,
        SHA256_CHECK_MS,
    )
    rows.append(
        Check(
            "",
            f"3. API-key check, PBKDF2 {PBKDF2_ITERATIONS} iterations (median)",
            ms(micro.pbkdf2_check.median),
            "—",
            None,
        )
    )
    cold = results.cold_start
    limit(
        "cold",
        f"4. cold start: interpreter + import + first ALB event (/health), median of "
        f"{COLD_START_RUNS}",
        cold.health.cold_start_ms,
        COLD_START_MS,
    )
    limit(
        "rss",
        "4. cold start: peak RSS after the first event",
        cold.health.max_rss_mib,
        PEAK_RSS_MIB,
        unit="MiB",
    )
    rows.append(
        Check(
            "",
            "4. cold start with a v2 score as second event: time / peak RSS",
            f"{ms(cold.score.cold_start_ms + (cold.score.second_event_ms or 0))} / "
            f"{cold.score.max_rss_mib:.1f} MiB",
            "—",
            None,
        )
    )
    rows.append(
        Check(
            "",
            "4. cold start with a v2 score as first event: time / peak RSS",
            f"{ms(cold.score_first.cold_start_ms)} / {cold.score_first.max_rss_mib:.1f} MiB",
            "—",
            None,
        )
    )
    counts = results.statements
    most = max([*counts.first.values(), *counts.rescore.values()])
    rows.append(
        Check(
            "statements",
            "5. SQL statements per v2 request, 1 → 25 stamps (first scoring; rescoring)",
            f"{counts.first[1]} → {counts.first[25]}; {counts.rescore[1]} → {counts.rescore[25]}",
            f"≤ {MAX_STATEMENTS}, constant",
            counts.constant and most <= MAX_STATEMENTS,
            "; ".join(
                part
                for part in (
                    "" if counts.constant else "grows with the stamp count",
                    "" if most <= MAX_STATEMENTS else f"{most - MAX_STATEMENTS} too many",
                )
                if part
            ),
        )
    )
    limiter = results.rate_limit
    limit(
        "ratelimit",
        f"6. rate-limit check over loopback (Redis {limiter.redis_version}), p50 of "
        f"{limiter.check_up.count}",
        limiter.check_up.p50,
        RATE_LIMIT_CHECK_MS,
    )
    off = limiter.request_off.p50
    rows.append(
        Check(
            "",
            f"6. v2 rescoring in process, {THROUGHPUT_STAMPS} stamps, p50: limits off / on",
            f"{ms(off)} / {ms(limiter.request_on.p50)}",
            "—",
            None,
        )
    )
    met, gap = _at_most(limiter.request_down.p50, off * (1 + REDIS_DOWN_NOISE))
    rows.append(
        Check(
            "ratelimit",
            f"6. v2 rescoring in process, {THROUGHPUT_STAMPS} stamps, p50 with Redis down",
            ms(limiter.request_down.p50),
            f"≤ off ({ms(off)}) + {REDIS_DOWN_NOISE:.0%}",
            met,
            gap,
        )
    )
    return rows


def console_table(results: Results) -> str:
    rows = checks(results)
    width = max(len(row.measurement) for row in rows)
    result_width = max(len(row.result) for row in rows)
    lines = [
        f"{'measurement':<{width}}  {'result':<{result_width}}  {'target':<10}  met",
        "-" * (width + result_width + 20),
    ]
    for row in rows:
        lines.append(
            f"{row.measurement:<{width}}  {row.result:<{result_width}}  {row.target:<10}  "
            f"{_met(row.met)}{'  ' + row.gap if row.gap else ''}"
        )
    env = results.environment
    lines.append(
        f"\n{env.cpu}, {env.cores} cores; load average {_load(env.load_start)} at start, "
        f"{_load(env.load_end)} at the end; CPU gauge {env.cpu_gauge_ms[0]:.0f} / "
        f"{env.cpu_gauge_ms[1]:.0f} ms at start / end; {env.runtime_s:.0f} s in total"
    )
    return "\n".join(lines)


def _met(met: bool | None) -> str:
    return "—" if met is None else ("yes" if met else "NO")


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load)


def markdown(results: Results, charts: Sequence[tuple[str, str]] = ()) -> str:
    """The report; `charts` are (title, path relative to the report) of the images to link."""
    env = results.environment
    rows = checks(results)
    out: list[str] = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m tools.bench`); every run rewrites this file. "
        "Targets are the performance issue's, for this machine.",
        "",
        "## Machine and setup",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {env.date} |",
        f"| commit | {env.revision} |",
        f"| CPU | {env.cpu}, {env.cores} cores |",
        f"| load average (1 / 5 / 15 min; the end value includes the benchmark's own work) "
        f"| {_load(env.load_start)} at start, "
        f"{_load(env.load_end)} at the end |",
        f"| PostgreSQL round trip (`SELECT 1` from the harness, p50 / p99) "
        f"| {ms(env.round_trip[0])} / {ms(env.round_trip[1])} |",
        "| CPU speed gauge (a fixed Python loop, tools/bench/machine.py, best of 5; lower is "
        "faster; the same commit's figures follow it) "
        f"| {env.cpu_gauge_ms[0]:.0f} ms at start, {env.cpu_gauge_ms[1]:.0f} ms at the end |",
        "| CPU time taken by the hypervisor (steal) during the run "
        f"| {'not available' if env.steal_percent is None else f'{env.steal_percent:.1f} %'} |",
        f"| Python | {env.python} |",
        f"| PostgreSQL | {env.postgres}, {env.database} |",
        f"| server | `{env.server_command}` (gunicorn threaded workers) |",
        f"| workers | {env.workers}: {env.workers_why} |",
        f"| settings | {env.settings} |",
        f"| run time | {env.runtime_s:.0f} s |",
        "",
        "## Results",
        "",
        "| measurement | result | target | met |",
        "| --- | --- | --- | --- |",
    ]
    for row in rows:
        met = _met(row.met) + (f" ({row.gap})" if row.gap else "")
        out.append(f"| {row.measurement} | {row.result} | {row.target} | {met} |")
    if env.load_start[0] > env.cores / 2:
        out += [
            "",
            f"The load average was above {env.cores / 2:g} on {env.cores} cores at the start: "
            "other processes competed for the CPU, so wall times include waiting for a core. The "
            "server and PostgreSQL CPU time per request (below) is less affected by that.",
        ]
    if charts:
        out += ["", "## Charts", ""]
        for title, path in charts:
            out += [f"![{title}]({path})", ""]
        out.pop()
    missed = {row.key for row in rows if row.met is False}
    if missed:
        out += ["", "## What limits it", ""]
        for key, paragraph in _limits(results).items():
            if key in missed:
                out += [paragraph, ""]
        out.pop()
    out += ["", *_details(results)]
    return "\n".join(out) + "\n"


def _limits(results: Results) -> dict[str, str]:
    micro = results.micro
    cold = results.cold_start.health
    imports = _imports(results.cold_start)
    return {
        "latency": _latency_limits(results),
        "verify": _verify_limits(micro),
        "sha256": (
            f"**SHA-256 key check** takes {ms(micro.sha256_check.best)} (hashlib and "
            "hmac.compare_digest)."
        ),
        "cold": (
            f"**Cold start** {ms(cold.cold_start_ms)} (fastest run {ms(cold.fastest_ms)}): "
            f"interpreter start "
            f"{ms(cold.interpreter_ms)}, importing the handler {ms(cold.import_ms)}, the first "
            f"/health event {ms(cold.first_event_ms)}. The import loads {cold.modules} modules; "
            f"own import time of the costliest packages (under -X importtime, which inflates "
            f"it), with what pulled them in: {imports}."
        ),
        "rss": (
            f"**Peak RSS** {cold.max_rss_mib:.1f} MiB: {cold.start_rss_mib:.1f} MiB for the "
            f"bare interpreter, {cold.import_rss_mib:.1f} MiB after importing the handler "
            f"({cold.modules} modules); the costliest imports: {imports}."
        ),
        "statements": (
            "**SQL statements**: "
            + (
                "they grow with the stamp count: " + "; ".join(results.statements.growing)
                if results.statements.growing
                else f"more than {MAX_STATEMENTS} per request (see 5. below for the list)."
            )
        ),
        "ratelimit": _rate_limit_limits(results.rate_limit),
        "throughput": _throughput_limits(results),
        "first": (
            "**First scorings** verify every signature (see 3. for the per-stamp cost of a "
            "credential never seen before) on top of a rescoring's work."
        ),
    }


def _rate_limit_limits(limiter: RateLimitResult) -> str:
    return (
        f"**Rate limiter**: the check (CRC-32, SHA-256, one EVALSHA round trip) takes "
        f"{ms(limiter.check_up.p50)} at p50 and {ms(limiter.check_up.p99)} at p99 over "
        f"loopback; with Redis down {ms(limiter.check_down.p50)} at p50 and "
        f"{ms(limiter.check_down.maximum)} at worst (the connection attempt that opens the "
        "circuit). A miss on a loaded machine is the Redis round trip waiting for a core."
    )


def _throughput_limits(results: Results) -> str:
    errors = "; ".join(
        f"{run.clients} clients: {run.error_kinds}" for run in results.throughput if run.errors
    )
    busiest = max(results.throughput, key=lambda run: run.clients)
    text = f"**Throughput errors**: {errors}. " if errors else ""
    if busiest.completed and busiest.worker_cores is not None:
        per_request = (busiest.worker_cores + (busiest.database_cores or 0.0)) / (
            busiest.requests_per_second
        )
        text += (
            f"**Throughput** with {busiest.clients} clients: "
            f"{busiest.requests_per_second:.1f} req/s, the workers keeping "
            f"{busiest.worker_cores:.2f} cores busy and PostgreSQL "
            f"{_opt_cores(busiest.database_cores)} (the harness's clients "
            f"{busiest.harness_cores:.2f}), {ms(per_request * 1000)} of server and database CPU "
            f"per request on {results.environment.cores} cores shared with the clients and "
            "every other process on the machine."
        )
    return text


def _verify_limits(micro: MicroResult) -> str:
    return (
        f"**Credential verification** of a credential seen for the first time takes "
        f"{ms(micro.verify_first_sight.best)} per stamp at best "
        f"({ms(micro.verify_first_sight.median)} median; seen before: "
        f"{ms(micro.verify_seen.best)}). Under the profiler: "
        f"{_shares(micro.verify_profile.cumulative)} (cumulative, so they overlap). Own time "
        f"by package: {_shares(micro.verify_profile.packages[:5])}. Work that depends only on "
        "a credential's EIP-712 types or domain is done once per distinct content (ADR-0048)."
    )


def _latency_limits(results: Results) -> str:
    http = {result.stamps: result for result in results.latency}[5]
    in_process = {timing.stamps: timing for timing in results.in_process}
    stages = {breakdown.stamps: breakdown for breakdown in results.stages}
    five, most = stages[5], stages[max(stages)]
    verify5, verify_most = _step(five, "scoring.verify"), _step(most, "scoring.verify")
    sql5 = sum(step.sql_ms for step in five.steps)
    statements5 = sum(step.statements for step in five.steps)

    health = results.health_http
    text = [
        f"**Latency.** 5 stamps: p50 {ms(http.latency.p50)} over HTTP. The HTTP layer alone "
        f"(GET /health: the localhost round trip, gunicorn, Falcon and the request "
        f"log) takes "
        f"{ms(health.p50)} at p50"
        + (
            ", a small part."
            if health.p50 < 0.2 * http.latency.p50
            else f", {_pct(health.p50, http.latency.p50)} of it."
        )
    ]
    if http.worker_cpu_ms is not None and http.database_cpu_ms is not None:
        cpu = http.worker_cpu_ms + http.database_cpu_ms
        text.append(
            f" Per request the worker used {ms(http.worker_cpu_ms)} of CPU and PostgreSQL "
            f"{ms(http.database_cpu_ms)}: {ms(cpu)} of work in a {ms(http.latency.p50)} median"
            + (
                ", so the request is CPU-bound."
                if cpu >= 0.8 * http.latency.p50
                else ", the rest is waiting."
            )
        )
    text.append(
        f" In process (traced), {statements5:.0f} SQL statements take {ms(sql5)} of "
        f"{ms(five.total_ms)} ({_pct(sql5, five.total_ms)}) and credential verification "
        f"{ms(verify5)} ({_pct(verify5, five.total_ms)})."
    )
    slowest = [
        (slow_ms, sql, breakdown.stamps)
        for breakdown in results.stages
        for sql, slow_ms in breakdown.slowest[:1]
    ]
    if slowest and max(slowest)[0] < 5:
        text.append(f" No statement takes more than {ms(max(slowest)[0])} per request.")
    elif slowest:
        slow_ms, sql, at = max(slowest)
        text.append(
            f" The slowest statement seen is `{sql}`: {ms(slow_ms)} per request with {at} "
            f"stamp{'s' * (at > 1)}"
            + "".join(
                f"; {ms(other_ms)} with {other} stamp{'s' * (other > 1)}"
                for other_ms, other_sql, other in sorted(slowest, key=lambda item: item[2])
                if other_sql == sql and other != at
            )
            + "."
        )
    gains = [
        1 - timing.nodelay_p50_ms / timing.p50_ms
        for timing in in_process.values()
        if timing.nodelay_p50_ms is not None
    ]
    if gains and max(gains) >= 0.2:
        text.append(
            " With TCP_NODELAY on the database socket (a what-if measured in the harness's "
            "own process; neither the service nor pg8000 sets it) the in-process p50 goes "
            + ", ".join(
                f"from {ms(timing.p50_ms)} to {_opt_ms(timing.nodelay_p50_ms)} "
                f"for {stamps} stamp{'s' * (stamps > 1)}"
                for stamps, timing in sorted(in_process.items())
            )
            + ": the stamp-row INSERT carries every credential, and a message larger than "
            "pg8000's 8 KB write buffer leaves in two writes, the second of which Nagle's "
            "algorithm holds back until PostgreSQL acknowledges the first, which it may delay "
            "by up to 40 ms. Whether a request stalls depends on the acknowledgement timing, so "
            "the stall comes and goes between runs and stamp counts; the registry_stamp INSERT's "
            "time in the slowest-statement table shows it when it happened."
        )
    micro = results.micro
    if micro.verify_seen.best < 0.5 * micro.verify_first_sight.best:
        firsts = ", ".join(
            f"{ms(first.latency.p50)} with {first.stamps} stamps" for first in results.first_scores
        )
        text.append(
            f" The service remembers credentials it has verified: seen again, a stamp takes "
            f"{ms(micro.verify_seen.best)} instead of {ms(micro.verify_first_sight.best)}, so "
            f"these rescorings run on a warm cache; first scorings over HTTP (stamps new to the "
            f"server) take {firsts} at p50."
        )
    text.append(
        f" With {most.stamps} stamps verification takes {ms(verify_most)} of "
        f"{ms(most.total_ms)} ({_pct(verify_most, most.total_ms)}), linear in the stamp "
        f"count (~{ms(verify_most / most.stamps)} per stamp); the statement count is not. "
        f"By package, the profiled 5-stamp request spends its own time in: "
        f"{_shares(results.request_profile.packages[:5])}."
    )
    return "".join(text)


def _imports(cold: ColdStartResult, top: int = 4) -> str:
    return "; ".join(
        f"{cost.package} {cost.self_ms:.0f} ms"
        + (f" (via {cost.imported_via})" if cost.imported_via else "")
        for cost in cold.imports[:top]
    )


def _step(breakdown: Breakdown, name: str) -> float:
    return next((step.ms for step in breakdown.steps if step.name == name), 0.0)


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "n/a"


def _shares(shares: Sequence[Share]) -> str:
    return ", ".join(f"{share.name} {share.share:.0%}" for share in shares) or "n/a"


def _details(results: Results) -> list[str]:
    env = results.environment
    out = [
        "## Details",
        "",
        f"### 1. v2 score latency over HTTP (one client, {env.workers} workers)",
        "",
        "Each passport is scored once and warmed up before measuring, so every measured request "
        "is a rescoring of valid stamps: API-key check, stamp load, signature verification, "
        "LIFO dedup, stamp and score rows, Human Points awards and report, analytics row, one "
        "transaction. CPU per request is "
        'read from /proc for the workers and their PostgreSQL backends. "In process" is the '
        "same request through `falcon.testing` in the harness (no HTTP server), measured "
        "after the HTTP runs.",
    ]
    in_process = {timing.stamps: timing for timing in results.in_process}
    what_if = any(timing.nodelay_p50_ms is not None for timing in results.in_process)
    if what_if:
        out[-1] += (
            ' "TCP_NODELAY" is that with Nagle\'s algorithm off on the database socket, a '
            "what-if the service does not do today (the two alternate in runs of five requests)."
        )
    else:
        out[-1] += " The service's database connections have TCP_NODELAY set (checked)."
    out += [
        "",
        "| stamps | requests | p50 | p95 | p99 | mean | max | errors "
        "| worker CPU / req | PostgreSQL CPU / req | in process p50 |"
        + (" TCP_NODELAY p50 |" if what_if else ""),
        "| ---: " * (12 if what_if else 11) + "|",
    ]
    for result in results.latency:
        measured = result.latency
        timing = in_process[result.stamps]
        out.append(
            f"| {result.stamps} | {measured.count} | {ms(measured.p50)} | {ms(measured.p95)} "
            f"| {ms(measured.p99)} | {ms(measured.mean)} | {ms(measured.maximum)} "
            f"| {result.errors} | {_opt_ms(result.worker_cpu_ms)} "
            f"| {_opt_ms(result.database_cpu_ms)} | {ms(timing.p50_ms)} |"
            + (f" {_opt_ms(timing.nodelay_p50_ms)} |" if what_if else "")
        )
    out += [
        "",
        f"For comparison, GET /health over HTTP (the HTTP layer alone): p50 "
        f"{ms(results.health_http.p50)}, p99 {ms(results.health_http.p99)}.",
        "",
        "First scorings: each passport scored once, its stamps never seen by the server, so "
        "every signature is checked (the rows above rescore passports the workers have "
        "already verified):",
        "",
        "| stamps | passports | p50 | p95 | max |",
        "| ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {first.stamps} | {first.latency.count} | {ms(first.latency.p50)} "
            f"| {ms(first.latency.p95)} | {ms(first.latency.maximum)} |"
            for first in results.first_scores
        ),
    ]
    out += [
        "",
        f"### 2. Throughput ({THROUGHPUT_STAMPS} stamps, one address per client)",
        "",
        "Client threads in the harness, each with its own kept-alive connection; the workers' "
        "threads take requests from every connection as they arrive: no client can starve the "
        "others (see the per-client spread). Connection failures count as errors.",
        "",
        "| clients | seconds | requests | req/s | errors | p50 | p99 | per client min–max "
        "| connections | worker cores busy | PostgreSQL cores | harness cores |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in results.throughput:
        lat = run.latency
        out.append(
            f"| {run.clients} | {run.seconds:.1f} | {run.completed} "
            f"| {run.requests_per_second:.1f} | {run.errors} "
            f"| {ms(lat.p50) if lat else '—'} | {ms(lat.p99) if lat else '—'} "
            f"| {min(run.per_client)}–{max(run.per_client)} | {run.connects} "
            f"| {_opt_cores(run.worker_cores)} | {_opt_cores(run.database_cores)} "
            f"| {run.harness_cores:.2f} |"
        )
    busiest = max(results.throughput, key=lambda run: run.clients)
    if busiest.completed and busiest.worker_cores is not None:
        in_worker = env.workers * busiest.seconds / busiest.completed * 1000
        on_cpu = busiest.worker_cores * busiest.seconds / busiest.completed * 1000
        out += [
            "",
            f"With {busiest.clients} clients every one of the {env.workers} workers is always "
            f"busy, so each request took {ms(in_worker)} of a worker process "
            f"({env.workers} workers × {busiest.seconds:.1f} s / {busiest.completed} requests), "
            f"of which {ms(on_cpu)} on the CPU: the rest is the worker waiting (for PostgreSQL's "
            "answers, and for a core when other processes hold them). Throughput is "
            "workers ÷ that time; more requests in flight only lengthen the queue.",
        ]
    micro = results.micro
    out += [
        "",
        "### 3. Micro-benchmarks (in process)",
        "",
        "| what | best | median | runs |",
        "| --- | ---: | ---: | ---: |",
        f"| `validate_stamps`, per stamp, credentials never verified before ({micro.stamps} "
        f"freshly signed stamps per run) "
        f"| {ms(micro.verify_first_sight.best)} | {ms(micro.verify_first_sight.median)} "
        f"| {micro.verify_first_sight.repeats} |",
        f"| `validate_stamps`, per stamp, the same {micro.stamps} credentials again "
        f"| {ms(micro.verify_seen.best)} | {ms(micro.verify_seen.median)} "
        f"| {micro.verify_seen.repeats} |",
        f"| `verify_secret`, SHA-256 fast path (`hashed_key_sha256` set) "
        f"| {ms(micro.sha256_check.best)} | {ms(micro.sha256_check.median)} "
        f"| {micro.sha256_check.repeats} × 20000 |",
        f"| `verify_secret`, PBKDF2-SHA256, {PBKDF2_ITERATIONS} iterations (first use of a key) "
        f"| {ms(micro.pbkdf2_check.best)} | {ms(micro.pbkdf2_check.median)} "
        f"| {micro.pbkdf2_check.repeats} |",
        "",
        f"First-sight verification under cProfile "
        f"({ms(micro.verify_profile.total_ms_per_unit)} per stamp "
        "with the profiler's overhead), cumulative time of its parts:",
        "",
        *_share_table(micro.verify_profile.cumulative, "per stamp"),
        "",
        "Own time by package:",
        "",
        *_share_table(micro.verify_profile.packages[:8], "per stamp"),
    ]
    cold = results.cold_start
    out += [
        "",
        f"### 4. Cold start (a fresh interpreter per run, median of {COLD_START_RUNS})",
        "",
        "`python -c <script>`: the script imports `service.lambda_handler` with the benchmark's "
        "configuration and pushes ALB events through `handler`. The interpreter's own start-up "
        "is timed from outside with `python -c pass`; the rest by the script itself. Every run "
        "reads the byte code of what it imports, compiled beforehand by one unmeasured run into "
        "a temporary `PYTHONPYCACHEPREFIX`, as an installed interpreter keeps it (the Lambda "
        "bundle has none: each Lambda cold start also compiles it, ADR-0045). Peak RSS is the "
        "child's own high-water mark (VmHWM).",
        "",
        "| run | interpreter | import | first event | second event | cold start "
        "| fastest cold start | whole process (outside) | peak RSS | modules |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for child in (cold.health, cold.score, cold.score_first):
        out.append(
            f"| {child.label} | {ms(child.interpreter_ms)} | {ms(child.import_ms)} "
            f"| {ms(child.first_event_ms)} | {_opt_ms(child.second_event_ms)} "
            f"| {ms(child.cold_start_ms)} | {ms(child.fastest_ms)} | {ms(child.external_ms)} "
            f"| {child.max_rss_mib:.1f} MiB | {child.modules} |"
        )
    out += [
        "",
        "Import time by top-level package (own time of its modules under `-X importtime`, "
        "which inflates it), and the imports that pulled each in, nearest first:",
        "",
        "| package | import time | imported via |",
        "| --- | ---: | --- |",
        *(
            f"| {cost.package} | {cost.self_ms:.0f} ms | {cost.imported_via or '—'} |"
            for cost in cold.imports
        ),
    ]
    counts = results.statements
    out += [
        "",
        "### 5. SQL statements per scoring request",
        "",
        "Counted with `Transaction.statement_count` on the in-process app (each request ran "
        f"{counts.transactions} transaction; its BEGIN and COMMIT are not counted), and "
        "cross-checked against the per-statement spans: "
        + ("they agree." if counts.spans_agree else "they DISAGREE."),
        "",
        "| stamps | first scoring | rescoring | rescoring round trips, COMMIT included |",
        "| ---: | ---: | ---: | ---: |",
        *(
            f"| {stamps} | {counts.first[stamps]} | {counts.rescore[stamps]} "
            f"| {counts.rescore_round_trips[stamps]} |"
            for stamps in sorted(counts.first)
        ),
        "",
        "BEGIN and each SAVEPOINT travel in the round trip of the statement after them; the"
        " API key's read, the passport upsert and the stamp read travel together (ADR-0046);"
        " the analytics row travels with COMMIT (ADR-0050).",
        "",
        "Constant in the stamp count: " + ("yes." if counts.constant else "NO."),
    ]
    if counts.growing:
        out += ["", *(f"- {line}" for line in counts.growing)]
    out += ["", *_breakdown(results), "", *_rate_limit_details(results.rate_limit)]
    return out


def _rate_limit_details(limiter: RateLimitResult) -> list[str]:
    return [
        "### 6. Rate limiter",
        "",
        f"`RateLimiter.check` called {limiter.check_up.count} times in the harness against a "
        f"throwaway redis-server {limiter.redis_version} on 127.0.0.1 (key rate "
        f"`{UNREACHED_RATE}`, so every call counts and passes), then against a closed port "
        "(Redis down: connection refused, then the circuit skips Redis). The v2 rescoring "
        f"requests alternate between three in-process apps in runs of five: limits off, on, "
        "and on with Redis down.",
        "",
        "| measurement | count | p50 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {label} | {latency.count} | {ms(latency.p50)} | {ms(latency.p99)} "
            f"| {ms(latency.maximum)} |"
            for label, latency in (
                ("check, Redis up", limiter.check_up),
                ("check, Redis down", limiter.check_down),
                ("request, limits off", limiter.request_off),
                ("request, limits on", limiter.request_on),
                ("request, limits on, Redis down", limiter.request_down),
            )
        ),
    ]


def _breakdown(results: Results) -> list[str]:
    stamps = [breakdown.stamps for breakdown in results.stages]
    names: list[str] = []
    for breakdown in results.stages:
        for step in breakdown.steps:
            if step.name not in names:
                names.append(step.name)
    names.sort(key=lambda name: name == OUTSIDE)
    header = " | ".join(f"{count} stamp{'s' * (count > 1)}" for count in stamps)
    out = [
        "### Where a scoring request spends its time (in process)",
        "",
        "From the service's own spans (OpenTelemetry SDK in memory, which adds a little "
        'overhead), mean per request; "SQL" is the time in statements under each step, '
        "with their count.",
        "",
        f"| step | {header} |",
        "| --- | " + " | ".join("---:" for _ in stamps) + " |",
    ]
    for name in names:
        cells = []
        for breakdown in results.stages:
            found = next((s for s in breakdown.steps if s.name == name), None)
            cells.append(
                "—"
                if found is None
                else f"{ms(found.ms)} (SQL {ms(found.sql_ms)}, {found.statements:.0f})"
                if found.statements
                else ms(found.ms)
            )
        out.append(f"| `{name}` | " + " | ".join(cells) + " |")
    out.append(
        "| **request** | "
        + " | ".join(f"**{ms(breakdown.total_ms)}**" for breakdown in results.stages)
        + " |"
    )
    out += [
        "",
        "The slowest statements, mean per request:",
        "",
        "| stamps | statement | time |",
        "| ---: | --- | ---: |",
        *(
            f"| {breakdown.stamps} | `{sql}` | {ms(sql_ms)} |"
            for breakdown in results.stages
            for sql, sql_ms in breakdown.slowest
        ),
    ]
    profile = results.request_profile
    out += [
        "",
        f"cProfile of the {THROUGHPUT_STAMPS}-stamp request "
        f"({ms(profile.total_ms_per_unit)} per request with the profiler's overhead); "
        "cumulative time of its parts:",
        "",
        *_share_table(profile.cumulative, "per request"),
        "",
        "Own time by package or module:",
        "",
        *_share_table(profile.packages, "per request"),
        "",
        "Functions with the most own time:",
        "",
        *_share_table(profile.functions, "per request"),
    ]
    return out


def _share_table(shares: Sequence[Share], unit: str) -> list[str]:
    rows = [f"| | {unit} | share |", "| --- | ---: | ---: |"]
    rows += [f"| `{s.name}` | {ms(s.ms_per_unit)} | {s.share:.0%} |" for s in shares]
    return rows


def _opt_ms(value: float | None) -> str:
    return "—" if value is None else ms(value)


def _opt_cores(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
