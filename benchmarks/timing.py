"""Timing helpers for the benchmarks: best-of-k wall time, interleaved timings, and the table row
of a hot path against its floor and a loop measured in the same run (never an assertion)."""
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


def interleaved(fns, rounds: int) -> list[float]:
    """Best time per call of each (fn, number), the functions timed in turn ``rounds`` times, so a
    load that comes and goes on a shared machine hits all of them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        best = [min(b, best_time(fn, repeat=1, number=k)) for b, (fn, k) in zip(best, fns)]
    return best


RATIO_HEADER = ("| hot path | lockstep us | floor us | /floor | loop us | loop/lockstep |\n"
                "|---|---|---|---|---|---|")


def ratio_row(label: str, lockstep: float, floor: float, loop: float, width: int = 46) -> str:
    """One row under RATIO_HEADER: lockstep, floor and loop in microseconds, lockstep/floor, loop/lockstep."""
    return (f"| {label:<{width}} | {lockstep * 1e6:9.1f} | {floor * 1e6:9.1f} | {lockstep / floor:6.2f}x | "
            f"{loop * 1e6:10.1f} | {loop / lockstep:6.2f}x |")
