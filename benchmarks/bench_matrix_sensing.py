"""Matrix-sensing GD: one iteration of the real quick-configuration hot path against its BLAS floor
and against a naive loop over trials, all measured in the same run.

Run: python benchmarks/bench_matrix_sensing.py [--trials R] [--paper-size]   (prints; asserts nothing)

Quick configuration (n = 20, k = 3, m_sym = 120, m_asym = 240, 5 initialization scales in the
asymmetric grid), R = 32 trials, one instance per trial (as experiments/matrix_sensing/runs.py):
- lockstep: one iteration of algorithms.factorized_gd (symmetric_gd / asymmetric_gd with its
  group axis), timed through the real function (iterations=N, recording only the end) per step;
- floor: the two batched BLAS products one iteration is made of (A vec(Z) and A^T r, on the same
  arrays, timed alone);
- loop: the same N iterations as R separate one-trial calls (what running trials one by one would
  cost), per step.
``--paper-size`` adds the older n = 50, m = 1500 case (R = 1 vs its two products; memory heavy
for R = 32 per-trial operators, so R = 8 there).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from algorithms.factorized_gd import asymmetric_gd, symmetric_gd  # noqa: E402
from problems.matrix_sensing import asymmetric_instance, random_factor, symmetric_instance  # noqa: E402
from timing import best_time  # noqa: E402

QUICK = dict(n=20, k=3, m_sym=120, m_asym=240, alphas=(0.14, 0.2, 0.28, 0.4, 0.56), step=0.2)
STEPS = 50


def _rngs(R, seed=0):
    return [np.random.default_rng([seed, r]) for r in range(R)]


def symmetric_case(R, n, k, m):
    A, M, y = symmetric_instance(_rngs(R), n, m, (1.0, 0.7))
    X0 = random_factor(_rngs(R, 1), n, k, 0.05)
    return A, M, y, X0


def asymmetric_case(R, n, k, m, alphas):
    A, M, y = asymmetric_instance(_rngs(R), n, n, m, (1.0, 0.7))
    scales = np.asarray(alphas)[None, :, None, None]
    F0 = random_factor(_rngs(R, 1), n, k, 1.0)[:, None] * scales
    G0 = random_factor(_rngs(R, 2), n, k, 1.0)[:, None] * scales / 3
    return A, M[:, None], y, F0, G0


def run_symmetric(A, M, y, X0, steps=STEPS):
    return symmetric_gd(A, y, X0, step=QUICK["step"], iterations=steps, record=[steps], target=M)


def run_asymmetric(A, M, y, F0, G0, steps=STEPS):
    return asymmetric_gd(A, y, F0, G0, step=QUICK["step"], iterations=steps, record=[steps], target=M)


def floor_products(A, Z):
    """The two batched products of one gradient: A vec(Z) for every run of a trial, then A^T r."""
    R = A.shape[0]
    Zf = Z.reshape(R, -1, A.shape[2])                   # (R, G, n^2)
    r = np.matmul(A, Zf.transpose(0, 2, 1))            # (R, m, G)
    return np.matmul(r.transpose(0, 2, 1), A)          # (R, G, n^2)


def row(label, lockstep, floor, loop):
    return (f"| {label:<38} | {lockstep * 1e6:9.1f} | {floor * 1e6:9.1f} | {lockstep / floor:6.2f}x | "
            f"{loop * 1e6:9.1f} | {loop / lockstep:6.2f}x |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--paper-size", action="store_true")
    args = ap.parse_args(argv)
    R, q = args.trials, QUICK
    print(f"## matrix-sensing: one GD iteration at the quick configuration, R = {R} trials "
          f"(per iteration, microseconds; floor and loop measured in the same run)")
    print("| hot path | lockstep us | floor us | /floor | loop us | loop/lockstep |")
    print("|---|---|---|---|---|---|")

    A, M, y, X0 = symmetric_case(R, q["n"], q["k"], q["m_sym"])
    lock = best_time(lambda: run_symmetric(A, M, y, X0), repeat=5) / STEPS
    Z = np.matmul(X0, np.swapaxes(X0, -1, -2))
    floor = best_time(lambda: floor_products(A, Z), repeat=20, number=5)
    singles = [tuple(a[r:r + 1] for a in (A, M, y, X0)) for r in range(R)]
    loop = best_time(lambda: [run_symmetric(*s) for s in singles], repeat=3) / STEPS
    print(row(f"symmetric GD (n={q['n']}, k={q['k']}, m={q['m_sym']})", lock, floor, loop))

    A, M, y, F0, G0 = asymmetric_case(R, q["n"], q["k"], q["m_asym"], q["alphas"])
    lock = best_time(lambda: run_asymmetric(A, M, y, F0, G0), repeat=5) / STEPS
    Z = np.matmul(F0, np.swapaxes(G0, -1, -2))
    floor = best_time(lambda: floor_products(A, Z), repeat=20, number=5)
    singles = [tuple(a[r:r + 1] for a in (A, M, y, F0, G0)) for r in range(R)]
    loop = best_time(lambda: [run_asymmetric(*s) for s in singles], repeat=3) / STEPS
    print(row(f"asymmetric GD, {len(q['alphas'])} scales (m={q['m_asym']})", lock, floor, loop))
    print("floor: the two batched products (A vec(Z), A^T r) of one iteration on the same arrays; "
          "loop: R one-trial calls of the same function.")

    if args.paper_size:
        Rp, n, m, k = 8, 50, 1500, 5
        A, M, y, X0 = symmetric_case(Rp, n, k, m)
        lock = best_time(lambda: run_symmetric(A, M, y, X0, 10), repeat=3) / 10
        Z = np.matmul(X0, np.swapaxes(X0, -1, -2))
        floor = best_time(lambda: floor_products(A, Z), repeat=5)
        singles = [tuple(a[r:r + 1] for a in (A, M, y, X0)) for r in range(Rp)]
        loop = best_time(lambda: [run_symmetric(*s, 10) for s in singles], repeat=2) / 10
        print(row(f"paper size: symmetric GD (n={n}, m={m}), R={Rp}", lock, floor, loop))


if __name__ == "__main__":
    main()
