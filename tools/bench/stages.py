"""Where an in-process scoring request spends its time, step by step, from the service's own
spans: each `scoring.*` step, the SQL statements under it, and what lies outside the steps
(routing, BEGIN/COMMIT, the savepoints, JSON)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan

from tools.bench.in_process import InProcessApp, SpanRecorder, by_id, span_ms
from tools.bench.world import STAMP_COUNTS

ROOT_SPAN = "bench.request"
OUTSIDE = "outside the scoring.* steps"
_STEP_PREFIX = "scoring."
_SQL_PREFIX = "db."
SLOWEST = 3


@dataclass(frozen=True)
class Step:
    name: str
    ms: float  # mean per request
    sql_ms: float  # of which in SQL statements
    statements: float


@dataclass(frozen=True)
class Breakdown:
    stamps: int
    requests: int
    total_ms: float  # traced, so a little slower than untraced
    steps: tuple[Step, ...]
    slowest: tuple[tuple[str, float], ...]  # SQL text (shortened), mean ms per request


def measure(app: InProcessApp, recorder: SpanRecorder, *, requests: int) -> list[Breakdown]:
    breakdowns = []
    for stamps in STAMP_COUNTS:
        address = app.world.latency_addresses[stamps]
        app.score(address, stamps)
        recorder.take()
        totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        order: list[str] = []
        total_ms = 0.0
        per_statement: dict[str, float] = defaultdict(float)
        for _ in range(requests):
            with recorder.tracer.start_as_current_span(ROOT_SPAN):
                app.score(address, stamps)
            spans = recorder.take()
            request_ms, steps = _attribute(spans)
            total_ms += request_ms
            for span in spans:
                if span.name.startswith(_SQL_PREFIX):
                    per_statement[_statement(span)] += span_ms(span)
            for name, values in steps.items():
                if name not in order:
                    order.append(name)
                for index, value in enumerate(values):
                    totals[name][index] += value
        order.sort(key=lambda name: name == OUTSIDE)  # stable: steps in order, the rest last
        breakdowns.append(
            Breakdown(
                stamps=stamps,
                requests=requests,
                total_ms=total_ms / requests,
                steps=tuple(
                    Step(name, *(value / requests for value in totals[name])) for name in order
                ),
                slowest=tuple(
                    (sql, total / requests)
                    for sql, total in sorted(
                        per_statement.items(), key=lambda item: item[1], reverse=True
                    )[:SLOWEST]
                ),
            )
        )
    return breakdowns


def _statement(span: ReadableSpan) -> str:
    text = " ".join(str((span.attributes or {}).get("db.statement", span.name)).split())
    return text if len(text) <= 90 else text[:87] + "..."


def _attribute(spans: tuple[ReadableSpan, ...]) -> tuple[float, dict[str, list[float]]]:
    """(request ms, step -> [ms, SQL ms, statements]) for the spans of one request."""
    spans_by_id = by_id(spans)
    # The bench's own span around the request, found by having no parent: the service renames
    # the current span after the route template (SpanNameMiddleware).
    root = next(span for span in spans if span.parent is None)

    def step_of(span: ReadableSpan) -> str:
        parent = span.parent
        while parent is not None and parent.span_id in spans_by_id:
            ancestor = spans_by_id[parent.span_id]
            if ancestor.name.startswith(_STEP_PREFIX):
                return ancestor.name
            parent = ancestor.parent
        return OUTSIDE

    steps: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    steps[OUTSIDE][0] = span_ms(root)
    for span in spans:
        if span.name.startswith(_STEP_PREFIX) and step_of(span) == OUTSIDE:
            steps[span.name][0] += span_ms(span)
            steps[OUTSIDE][0] -= span_ms(span)
        elif span.name.startswith(_SQL_PREFIX):
            owner = step_of(span)
            steps[owner][1] += span_ms(span)
            # Statements sent together (Transaction.run_together) share one span.
            steps[owner][2] += int(str((span.attributes or {}).get("db.statement_count", 1)))
    return span_ms(root), dict(steps)
