"""Percentiles and repetition summaries."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Latency:
    """Per-request wall times in milliseconds."""

    count: int
    p50: float
    p95: float
    p99: float
    mean: float
    minimum: float
    maximum: float

    @classmethod
    def of_ns(cls, samples_ns: Sequence[int]) -> Latency:
        if not samples_ns:
            raise ValueError("no samples")
        ms = sorted(sample / 1e6 for sample in samples_ns)
        return cls(
            count=len(ms),
            p50=percentile(ms, 50),
            p95=percentile(ms, 95),
            p99=percentile(ms, 99),
            mean=statistics.fmean(ms),
            minimum=ms[0],
            maximum=ms[-1],
        )


@dataclass(frozen=True)
class Repeated:
    """The best and the median of a few repetitions of one measurement (milliseconds per unit)."""

    best: float
    median: float
    repeats: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Repeated:
        return cls(best=min(values), median=statistics.median(values), repeats=len(values))


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on sorted input."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    rank = (len(sorted_values) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)
