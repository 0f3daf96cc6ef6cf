"""How fast the machine is while it is measured: a fixed CPU workload, timed at the start and the
end of the run, and the share of CPU time the hypervisor took (steal) in between.

On a shared virtual machine the same commit measures differently from one hour to the next; these
two figures let a reader tell a slower machine from slower code.
"""

from __future__ import annotations

import time
from pathlib import Path

_GAUGE_RUNS = 5
_GAUGE_SIZE = 2_000_000


def cpu_gauge_ms() -> float:
    """The fastest of a few runs of a fixed pure-Python loop, in ms: lower is a faster core."""
    best = float("inf")
    for _ in range(_GAUGE_RUNS):
        started = time.perf_counter()
        sum(i * i for i in range(_GAUGE_SIZE))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def cpu_ticks() -> tuple[int, int] | None:
    """(all, steal) CPU ticks since boot, from /proc/stat; None where there is none."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    ticks = [int(value) for value in first[1:]]
    steal = ticks[7] if len(ticks) > 7 else 0
    # guest time is already counted in user time
    return sum(ticks[:8]), steal


def steal_percent(start: tuple[int, int] | None, end: tuple[int, int] | None) -> float | None:
    if start is None or end is None or end[0] <= start[0]:
        return None
    return 100 * (end[1] - start[1]) / (end[0] - start[0])
