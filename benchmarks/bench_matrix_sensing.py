"""Matrix-sensing GD: cost of one iteration against its BLAS floor, and of lockstep batching.

Run: python benchmarks/bench_matrix_sensing.py   (prints ratios; asserts nothing)

1. One symmetric-GD iteration (n=50, m=1500, k=5, R=1) against the two products it is made of,
   A vec(X X^T) and A^T r, timed alone in the same run.  Target <= 1.5x.
2. R=32 trials in lockstep against R=1, per iteration.  Target <= 4x.  Measured twice: with one
   instance per trial (R times the bytes of A: memory-bound matrix-vector products, so the cost
   must grow ~R-fold) and with one instance shared by trials that differ in their starting point
   (one matrix-matrix product; the grouped path of algorithms.factorized_gd).
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from algorithms.factorized_gd import symmetric_gradient  # noqa: E402
from problems.sensing import measure  # noqa: E402
from timing import best_time, report  # noqa: E402

N, M, K, STEP = 50, 1500, 5, 0.1


def instance(trials: int, shared: bool, seed: int = 0):
    """Independent instances per trial, or one instance (A, y) shared by trials that differ only in
    their starting point (then A is (1, m, n^2) and the trials are columns of one product)."""
    rng = np.random.default_rng(seed)
    instances = 1 if shared else trials
    A = rng.standard_normal((instances, M, N * N))
    X = 0.1 * rng.standard_normal((trials, N, K))
    y = measure(A, rng.standard_normal((instances, N, N)))
    return A, y, X


def gd_iteration(A, y, X):
    return X - STEP * symmetric_gradient(A, y, X)


def main():
    A, y, X = instance(1, shared=False)
    a2, z, r = A[0], np.random.default_rng(1).standard_normal(N * N), y[0]
    floor = best_time(lambda: (a2 @ z, r @ a2), repeat=20, number=5)
    step = best_time(lambda: gd_iteration(A, y, X), repeat=20, number=5)
    report("GD iteration (R=1)", step, floor, 1.5, "two BLAS products")

    for shared in (False, True):
        A1, y1, X1 = instance(1, shared)
        AR, yR, XR = instance(32, shared)
        t1 = best_time(lambda: gd_iteration(A1, y1, X1), repeat=10, number=3)
        tR = best_time(lambda AR=AR, yR=yR, XR=XR: gd_iteration(AR, yR, XR), repeat=5, number=2)
        label = "shared operator" if shared else "one operator per trial"
        report(f"lockstep R=32 vs R=1 ({label})", tR, t1, 4.0, "R=1")
        del AR, yR, XR


if __name__ == "__main__":
    main()
