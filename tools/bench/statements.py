"""5. SQL statements per scoring request, for 1 and 25 stamps: a passport's first scoring and a
rescoring. Counted by `Transaction.statement_count` (what the request's transaction ran, BEGIN and
COMMIT excluded) and cross-checked against the service's per-statement spans, whose SQL text
names any statement that runs once per stamp."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tools.bench.in_process import InProcessApp, SpanRecorder
from tools.bench.world import STATEMENT_STAMP_COUNTS

_SQL_PREFIX = "db."


@dataclass(frozen=True)
class StatementCounts:
    first: dict[int, int]  # stamps -> statements of the first scoring request
    rescore: dict[int, int]
    rescore_round_trips: dict[int, int]  # every exchange, COMMIT's included
    transactions: int  # per request
    spans_agree: bool  # the commands the spans name add up to statement_count, every request
    growing: tuple[str, ...]  # SQL run more often with more stamps

    @property
    def constant(self) -> bool:
        return len(set(self.first.values())) == 1 and len(set(self.rescore.values())) == 1


def measure(app: InProcessApp, recorder: SpanRecorder) -> StatementCounts:
    first: dict[int, int] = {}
    rescore: dict[int, int] = {}
    round_trips: dict[int, int] = {}
    texts: dict[int, Counter[str]] = {}
    transactions: set[int] = set()
    spans_agree = True
    for stamps in STATEMENT_STAMP_COUNTS:
        address = app.world.statement_addresses[stamps]
        for target in (first, rescore):
            recorder.take()
            mark = len(app.db.counts)
            app.score(address, stamps)
            counts = app.db.counts[mark:]
            transactions.add(len(counts))
            target[stamps] = sum(counts)
            round_trips[stamps] = sum(app.db.round_trips[mark:])
            statements: Counter[str] = Counter()
            for span in recorder.take():
                if not span.name.startswith(_SQL_PREFIX):
                    continue
                attributes = span.attributes or {}
                # Statements sent together (Transaction.run_together) share one span.
                sent = int(str(attributes.get("db.statement_count", 1)))
                statements[str(attributes.get("db.statement", span.name))] += sent
                # SAVEPOINTs travel in the round trip of the statement that follows them, as
                # BEGIN does, which statement_count leaves out.
                for command in str(attributes.get("db.preceded_by", "")).split("; "):
                    if command and command != "START TRANSACTION":
                        statements[command.rstrip("0123456789")] += 1
            spans_agree = spans_agree and statements.total() == target[stamps]
            texts[stamps] = texts.get(stamps, Counter()) + statements
    fewest, most = min(STATEMENT_STAMP_COUNTS), max(STATEMENT_STAMP_COUNTS)
    growing = tuple(
        f"{count_most}x with {most} stamps vs {texts[fewest][sql]}x with {fewest}"
        f" (first scoring + rescoring): {sql[:200]}"
        for sql, count_most in texts[most].items()
        if count_most > texts[fewest][sql]
    )
    return StatementCounts(
        first=first,
        rescore=rescore,
        rescore_round_trips=round_trips,
        transactions=max(transactions),
        spans_agree=spans_agree,
        growing=growing,
    )
