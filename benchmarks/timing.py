"""Timing helpers for the benchmarks: best-of-k wall time, and a ratio against a floor measured
in the same run (never an absolute number, never an assertion)."""
from __future__ import annotations

import time


def best_time(fn, *, repeat: int = 5, number: int = 1) -> float:
    """Best of ``repeat`` timings of ``number`` calls, per call, in seconds."""
    best = float("inf")
    fn()  # warm-up (allocations, BLAS thread start)
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def report(name: str, measured: float, floor: float, target: float | None = None, floor_name="floor") -> str:
    ratio = measured / floor
    line = f"{name}: {measured * 1e6:9.1f} us vs {floor_name} {floor * 1e6:9.1f} us -> ratio {ratio:5.2f}x"
    if target is not None:
        line += f" (target <= {target:g}x: {'met' if ratio <= target else 'NOT met'})"
    print(line)
    return line
