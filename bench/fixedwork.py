"""The machine's own latency tail: the same pure-Python work timed over and over on one core.

``python -m bench.fixedwork TARGET_MS SECONDS`` times one piece of work, sized to take TARGET_MS at
the median, back to back for SECONDS, and prints its p50 and p99 in ms as JSON. The work never
changes, allocates nothing that outlives it, makes no system call and touches a few kilobytes, so
whatever spread its times show is the CPU's: interrupts, the hypervisor, frequency. ``bench/app.py``
runs it on the core of the single-connection rounds, sized to the full service's p50 in the same
round, so the service's p99 ÷ p50 stands beside what the machine gives work that cannot vary.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

CALIBRATION_RUNS = 200
CALIBRATION_SIZE = 1000


def work(size: int) -> int:
    """Dictionary updates and integer arithmetic, the stuff of interpreted request handling."""
    totals: dict[int, int] = {}
    for i in range(size):
        totals[i & 63] = totals.get(i & 63, 0) + i
    return len(totals)


def _seconds(size: int) -> float:
    """One piece of work's time."""
    started = time.perf_counter()
    work(size)
    return time.perf_counter() - started


def percentiles(target_ms: float, seconds: float) -> tuple[float, float]:
    """(p50, p99) in ms of work sized to ``target_ms``, timed back to back for ``seconds``."""
    calibration = statistics.median(_seconds(CALIBRATION_SIZE) for _ in range(CALIBRATION_RUNS))
    size = max(1, round(CALIBRATION_SIZE * target_ms / 1000 / calibration))
    times = []
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        times.append(_seconds(size))
    times.sort()
    return times[len(times) // 2] * 1000, times[len(times) * 99 // 100] * 1000


if __name__ == "__main__":
    p50, p99 = percentiles(float(sys.argv[1]), float(sys.argv[2]))
    print(json.dumps({"p50_ms": p50, "p99_ms": p99}))
