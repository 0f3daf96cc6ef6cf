"""4. Cold start: a fresh interpreter imports the Lambda handler and serves ALB events.

The child times itself from its first statement (import, each event) and reports its own peak
RSS; the harness times the whole process from outside, and a bare interpreter (`-c pass`) for
the part the child cannot see: interpreter start-up before its first statement.

Every child runs with the byte code of what it imports already compiled, as a deployed
interpreter that serves many cold starts from one installation has it: one unmeasured run first
compiles it into a temporary PYTHONPYCACHEPREFIX, so nothing is written into the working tree,
whatever PYTHONDONTWRITEBYTECODE says (with it set, every module of ours not yet compiled would
be compiled from source on every run).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.bench.server import REPO_ROOT
from tools.bench.world import THROUGHPUT_STAMPS, World

RUNS = 5
_RESULT_PREFIX = "BENCH_RESULT "
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")

# The peak RSS is the kernel's VmHWM of the child itself: exec resets it, whereas getrusage's
# ru_maxrss is carried over from the parent across fork and exec (it would report the harness).
_CHILD = rf"""
import time
_started = time.perf_counter()
import json, sys


def _peak_rss_kb():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


_rss_start_kb = _peak_rss_kb()
import service.lambda_handler as lambda_handler
_imported = time.perf_counter()
_rss_import_kb = _peak_rss_kb()


class _Context:
    aws_request_id = "cold-start-bench"
    function_name = "scorer-bench"


events = json.loads(sys.stdin.read())
served = []
for event in events:
    before = time.perf_counter()
    response = lambda_handler.handler(event, _Context())
    served.append(
        {{
            "path": event["path"],
            "status": response["statusCode"],
            "ms": (time.perf_counter() - before) * 1000,
            "max_rss_kb": _peak_rss_kb(),
        }}
    )
result = {{
    "import_ms": (_imported - _started) * 1000,
    "events": served,
    "modules": len(sys.modules),
    "rss_start_kb": _rss_start_kb,
    "rss_import_kb": _rss_import_kb,
}}
print({_RESULT_PREFIX!r} + json.dumps(result), flush=True)
"""


@dataclass(frozen=True)
class ColdStart:
    label: str
    interpreter_ms: float  # bare interpreter start and exit, measured from outside
    import_ms: float
    first_event_ms: float
    second_event_ms: float | None
    external_ms: float  # the whole child process, measured from outside
    fastest_ms: float  # the fastest run's interpreter + import + first event
    max_rss_mib: float  # after the last event
    start_rss_mib: float  # the bare interpreter, before the handler's import
    import_rss_mib: float  # after the import
    modules: int

    @property
    def cold_start_ms(self) -> float:
        """Interpreter start-up + handler import + the first event: a Lambda init + invoke."""
        return self.interpreter_ms + self.import_ms + self.first_event_ms


@dataclass(frozen=True)
class ImportCost:
    package: str  # top-level package
    self_ms: float  # own time of its modules, under -X importtime (which inflates it)
    imported_via: str  # the chain of packages that pulled it in, nearest first


@dataclass(frozen=True)
class ColdStartResult:
    health: ColdStart  # import + GET /health
    score: ColdStart  # import + GET /health + a v2 score (first DB connection included)
    score_first: ColdStart  # import + a v2 score as the first event
    imports: tuple[ImportCost, ...]  # the costliest top-level packages


def alb_event(path: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    path, _, query = path.partition("?")
    return {
        "requestContext": {
            "elb": {
                "targetGroupArn": (
                    "arn:aws:elasticloadbalancing:us-west-2:123456789012:"
                    "targetgroup/scorer-api-lambda/6d0ecf831eec9f09"
                )
            }
        },
        "httpMethod": "GET",
        "path": path,
        # An ALB passes the query string's parameters URL-encoded, as they arrived.
        "queryStringParameters": dict(
            (name, value) for name, _, value in (p.partition("=") for p in query.split("&") if p)
        ),
        "headers": {
            "accept": "*/*",
            "host": "api.scorer.example.org",
            "user-agent": "scorer-bench",
            "x-forwarded-for": "198.51.100.23",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            **{name.lower(): value for name, value in (headers or {}).items()},
        },
        "body": "",
        "isBase64Encoded": False,
    }


def measure(world: World, env: Mapping[str, str]) -> ColdStartResult:
    health = [alb_event("/health")]
    score = alb_event(world.score_path(world.client_addresses[0]), world.headers)
    with_score = [*health, score]
    # With a prefix the interpreter reads no `__pycache__` folder at all (the standard library's
    # neither), so the warm-up run compiles everything the measured runs import.
    pycache = tempfile.mkdtemp(prefix="scorer-bench-pycache-")
    try:
        compiling = {**env, "PYTHONPYCACHEPREFIX": pycache}
        compiling.pop("PYTHONDONTWRITEBYTECODE", None)
        # Compiles what the runs below import (a score imports a little more on first use).
        _child(compiling, with_score)
        # Nothing the measured runs would compile after all is written (each would compile it).
        compiled = {**compiling, "PYTHONDONTWRITEBYTECODE": "1"}
        interpreter_ms = statistics.median(_bare_interpreter_ms(compiled) for _ in range(RUNS))
        health_runs = [_child(compiled, health) for _ in range(RUNS)]
        score_runs = [_child(compiled, with_score) for _ in range(RUNS)]
        score_first_runs = [_child(compiled, [score]) for _ in range(RUNS)]
        imports = _import_breakdown(compiled, health)
    finally:
        shutil.rmtree(pycache, ignore_errors=True)
    for run in [*score_runs, *score_first_runs]:
        status = run[0]["events"][-1]["status"]
        if status != 200:
            raise RuntimeError(f"the cold-start score event answered {status}")
    return ColdStartResult(
        health=_summary("import + GET /health", interpreter_ms, health_runs),
        score=_summary(
            f"import + GET /health + v2 score ({THROUGHPUT_STAMPS} stamps)",
            interpreter_ms,
            score_runs,
        ),
        score_first=_summary(
            f"import + v2 score ({THROUGHPUT_STAMPS} stamps) as the first event",
            interpreter_ms,
            score_first_runs,
        ),
        imports=imports,
    )


def _bare_interpreter_ms(env: Mapping[str, str]) -> float:
    # The warm-up's compiled `site` and its imports serve this run too.
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=dict(env))
    return (time.perf_counter() - started) * 1000


def _child(
    env: Mapping[str, str], events: list[dict[str, Any]], *, flags: tuple[str, ...] = ()
) -> tuple[dict[str, Any], float, str]:
    """(the child's own report, the external wall time in ms, its stderr)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, *flags, "-c", _CHILD],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=dict(env),
        check=False,
    )
    external_ms = (time.perf_counter() - started) * 1000
    lines = [line for line in completed.stdout.splitlines() if line.startswith(_RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(
            f"the cold-start child failed ({completed.returncode}):\n{completed.stderr[-2000:]}"
        )
    report: dict[str, Any] = json.loads(lines[-1][len(_RESULT_PREFIX) :])
    return report, external_ms, completed.stderr


def _summary(
    label: str, interpreter_ms: float, runs: list[tuple[dict[str, Any], float, str]]
) -> ColdStart:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    reports = [report for report, _external, _stderr in runs]
    second = [r["events"][1]["ms"] for r in reports if len(r["events"]) > 1]
    return ColdStart(
        label=label,
        interpreter_ms=interpreter_ms,
        import_ms=median([r["import_ms"] for r in reports]),
        first_event_ms=median([r["events"][0]["ms"] for r in reports]),
        second_event_ms=median(second) if second else None,
        external_ms=median([external for _report, external, _stderr in runs]),
        fastest_ms=interpreter_ms + min(r["import_ms"] + r["events"][0]["ms"] for r in reports),
        max_rss_mib=median([r["events"][-1]["max_rss_kb"] / 1024 for r in reports]),
        start_rss_mib=median([r["rss_start_kb"] / 1024 for r in reports]),
        import_rss_mib=median([r["rss_import_kb"] / 1024 for r in reports]),
        modules=int(median([r["modules"] for r in reports])),
    )


def _import_breakdown(
    env: Mapping[str, str], events: list[dict[str, Any]], top: int = 8
) -> tuple[ImportCost, ...]:
    _report, _external, stderr = _child(env, events, flags=("-X", "importtime"))
    # (indent, module, self ms); a module's imports are listed before it, indented deeper.
    lines = [
        (len(match.group(3)), match.group(4), int(match.group(1)) / 1000)
        for match in map(_IMPORT_LINE.match, stderr.splitlines())
        if match
    ]
    per_package: dict[str, float] = defaultdict(float)
    for _indent, module, self_ms in lines:
        per_package[_root(module)] += self_ms
    ranked = sorted(per_package.items(), key=lambda item: item[1], reverse=True)[:top]
    return tuple(ImportCost(name, ms, _importers(lines, name)) for name, ms in ranked)


def _root(module: str) -> str:
    return module.split(".")[0]


def _importers(lines: list[tuple[int, str, float]], package: str) -> str:
    """ "a ← b ← c": the packages whose import first pulled `package` in, nearest first."""
    first = next(
        (i for i, (_indent, module, _ms) in enumerate(lines) if _root(module) == package), None
    )
    if first is None:
        return ""
    chain: list[str] = []
    indent = lines[first][0]
    for later_indent, module, _ms in lines[first + 1 :]:
        if later_indent < indent:
            indent = later_indent
            if _root(module) != package and (not chain or _root(chain[-1]) != _root(module)):
                chain.append(module)
    return " ← ".join(chain)
