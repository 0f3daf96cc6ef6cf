"""The benchmark's charts, drawn with matplotlib (headless, Agg) next to BENCHMARKS.md:
latency percentiles by stamp count, throughput and p99 by client count, and one rescoring
split by stage."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# Figures built directly (no pyplot, so no GUI backend and no global state) are drawn by Agg,
# matplotlib's raster renderer, when saved as PNG.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tools.bench.report import (
    FIRST_SCORE_5_STAMPS_P50_MS,
    P50_5_STAMPS_MS,
    P50_25_STAMPS_MS,
    P99_5_STAMPS_MS,
    THROUGHPUT_MIN_RPS,
    Results,
)
from tools.bench.stages import OUTSIDE, Breakdown, Step

CHART_DIR = "benchmarks"
LATENCY = "latency.png"
THROUGHPUT = "throughput.png"
STAGES = "stages.png"
STAGE_STAMPS = 5

# Step spans as the chart names them, in pipeline order.
STAGE_LABELS = {
    "scoring.auth": "auth (API key)",
    "scoring.community": "community + scorer + passport",
    "scoring.open": "scorer config + passport",
    "scoring.load": "load stamps + links",
    "scoring.verify": "verify",
    "scoring.dedup": "dedup (LIFO plan)",
    "scoring.score": "score",
    "scoring.human_points": "human points (awards)",
    "scoring.persist": "writes (one statement)",
    "scoring.points_report": "human points (report)",
    "scoring.analytics": "analytics row (built; written with COMMIT)",
    OUTSIDE: "other (HTTP, COMMIT with the analytics row, JSON)",
}


def write_charts(results: Results, directory: Path) -> list[Path]:
    """Draws every chart into `directory`; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (
        (LATENCY, _latency),
        (THROUGHPUT, _throughput),
        (STAGES, _stages),
    ):
        figure = draw(results)
        FigureCanvasAgg(figure)
        path = directory / name
        figure.savefig(path, dpi=110, bbox_inches="tight")
        written.append(path)
    return written


def _latency(results: Results) -> Figure:
    figure = Figure(figsize=(8, 4.8))
    axes = figure.subplots()
    stamps = [result.stamps for result in results.latency]
    for name, color in (("p50", "tab:blue"), ("p95", "tab:orange"), ("p99", "tab:red")):
        values = [getattr(result.latency, name) for result in results.latency]
        axes.plot(stamps, values, marker="o", color=color, label=f"rescoring {name}")
    firsts = sorted(results.first_scores, key=lambda first: first.stamps)
    if firsts:
        first_stamps = [first.stamps for first in firsts]
        axes.plot(
            first_stamps,
            [first.latency.p50 for first in firsts],
            marker="s",
            linestyle="--",
            color="tab:purple",
            label="first scoring p50",
        )
        axes.plot(
            first_stamps,
            [first.latency.maximum for first in firsts],
            marker="s",
            linestyle=":",
            color="tab:purple",
            label="first scoring max",
        )
    targets = [
        (5, P50_5_STAMPS_MS, "tab:blue"),
        (5, P99_5_STAMPS_MS, "tab:red"),
        (25, P50_25_STAMPS_MS, "tab:blue"),
        (5, FIRST_SCORE_5_STAMPS_P50_MS, "tab:purple"),
    ]
    for index, (at, target, color) in enumerate(targets):
        axes.scatter(
            [at],
            [target],
            marker="_",
            s=500,
            linewidths=2,
            color=color,
            label="target" if index == 0 else None,
        )
    axes.set_xlabel("stamps per passport")
    axes.set_ylabel("ms per request (over HTTP)")
    axes.set_xticks(sorted({*stamps, *(first.stamps for first in firsts)}))
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title("v2 score latency by stamp count (targets as bars)")
    return figure


def _throughput(results: Results) -> Figure:
    figure = Figure(figsize=(8, 4.8))
    rate_axes = figure.subplots()
    runs = sorted(results.throughput, key=lambda run: run.clients)
    labels = [str(run.clients) for run in runs]
    bars = rate_axes.bar(
        labels, [run.requests_per_second for run in runs], color="tab:green", alpha=0.7
    )
    rate_axes.bar_label(bars, fmt="%.0f", fontsize=8)
    rate_axes.axhline(
        THROUGHPUT_MIN_RPS, color="tab:green", linestyle="--", label="target (16 clients)"
    )
    rate_axes.set_xlabel("concurrent clients")
    rate_axes.set_ylabel("requests per second", color="tab:green")
    rate_axes.set_ylim(bottom=0)
    p99_axes = rate_axes.twinx()
    p99_axes.plot(
        labels,
        [run.latency.p99 if run.latency else float("nan") for run in runs],
        marker="o",
        color="tab:red",
        label="p99",
    )
    p99_axes.set_ylabel("p99 latency, ms", color="tab:red")
    p99_axes.set_ylim(bottom=0)
    rate_axes.legend(loc="upper left", fontsize=8)
    p99_axes.legend(loc="upper right", fontsize=8)
    rate_axes.set_title("Throughput and p99 by client count (5 stamps)")
    return figure


def _stages(results: Results) -> Figure:
    breakdown = next((b for b in results.stages if b.stamps == STAGE_STAMPS), results.stages[0])
    steps = _ordered(breakdown)
    figure = Figure(figsize=(9, 4.8))
    axes = figure.subplots()
    names = [STAGE_LABELS.get(step.name, step.name) for step in steps]
    sql = [step.sql_ms for step in steps]
    python = [max(step.ms - step.sql_ms, 0.0) for step in steps]
    positions = range(len(steps))
    axes.barh(positions, sql, color="tab:blue", label="SQL statements (round trips)")
    axes.barh(positions, python, left=sql, color="tab:orange", label="Python")
    for position, step in zip(positions, steps, strict=True):
        note = f"{step.ms:.2f} ms" + (f", {step.statements:.0f} SQL" if step.statements else "")
        axes.text(step.ms, position, f"  {note}", va="center", fontsize=8)
    axes.set_yticks(list(positions), names)
    axes.invert_yaxis()
    axes.set_xlabel("ms per request (in process, traced)")
    axes.set_xlim(right=max(step.ms for step in steps) * 1.35)
    axes.legend(fontsize=8, loc="lower right")
    axes.set_title(
        f"One {breakdown.stamps}-stamp rescoring by stage: {breakdown.total_ms:.2f} ms in all"
    )
    return figure


def _ordered(breakdown: Breakdown) -> Sequence[Step]:
    rank = {name: index for index, name in enumerate(STAGE_LABELS)}
    return sorted(breakdown.steps, key=lambda step: rank.get(step.name, len(rank) - 1))
