"""Matrix-sensing GD: one iteration of the real quick-configuration hot path against its BLAS floor
and against a naive loop over trials, all measured in the same run.

Run: python benchmarks/bench_matrix_sensing.py [--trials R] [--threads T] [--paper-size]
(prints a markdown table; asserts nothing)

Quick configuration (n = 20, k = 3, m_sym = 120, m_asym = 240, 5 initialization scales in the
asymmetric grid), R = 32 trials, each case with one sensing operator per trial (as
experiments/matrix_sensing/runs.py) and with one operator shared by every trial:
- lockstep: algorithms.factorized_gd (symmetric_gd / asymmetric_gd with its group axis) as the
  experiment calls it, trials in the cache-sized blocks it picks (column ``block``), per step;
- floor: the two batched BLAS products a step is made of (A vec(Z), then A^T r, the same
  expressions on the same arrays), block by block with the block's operators already in cache:
  what those products cost at the least on this machine;
- unblocked: the same function with every trial in one block (the lockstep before blocking);
- loop: R one-trial calls of the same function (running trials one by one), per step.
BLAS runs on ``--threads`` threads (default 1, as ``verify`` runs its units).
``--paper-size`` adds the older n = 50, m = 1500 case (R = 8 per-trial operators, 30 MB each).
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
from problems.sensing import cache_block_trials, measure  # noqa: E402
from timing import best_time  # noqa: E402

QUICK = dict(n=20, k=3, m_sym=120, m_asym=240, alphas=(0.14, 0.2, 0.28, 0.4, 0.56), step=0.2)
STEPS = 50


def _rngs(R, seed=0):
    return [np.random.default_rng([seed, r]) for r in range(R)]


def _shared(A, M):
    """The first trial's operator for every trial, with the measurements it gives."""
    return A[:1], measure(A[:1], M)


def symmetric_case(R, n, k, m, shared=False):
    """(A, M, y, X0) of symmetric_gd."""
    A, M, y = symmetric_instance(_rngs(R), n, m, (1.0, 0.7))
    if shared:
        A, y = _shared(A, M)
    return A, M, y, random_factor(_rngs(R, 1), n, k, 0.05)


def asymmetric_case(R, n, k, m, alphas, shared=False):
    """(A, M, y, F0, G0) of asymmetric_gd, with the group axis of initialization scales."""
    A, M, y = asymmetric_instance(_rngs(R), n, n, m, (1.0, 0.7))
    if shared:
        A, y = _shared(A, M)
    scales = np.asarray(alphas)[None, :, None, None]
    F0 = random_factor(_rngs(R, 1), n, k, 1.0)[:, None] * scales
    G0 = random_factor(_rngs(R, 2), n, k, 1.0)[:, None] * scales / 3
    return A, M[:, None], y, F0, G0


def run_symmetric(A, M, y, X0, steps=STEPS, block=None):
    return symmetric_gd(A, y, X0, step=QUICK["step"], iterations=steps, record=[steps], target=M,
                        trials_per_block=block)


def run_asymmetric(A, M, y, F0, G0, steps=STEPS, block=None):
    return asymmetric_gd(A, y, F0, G0, step=QUICK["step"], iterations=steps, record=[steps], target=M,
                         trials_per_block=block)


def floor_products(A, Z):
    """The two batched products of one gradient, as problems.sensing writes them: A vec(Z) for
    every run of a trial, then A^T r."""
    Zf = Z.reshape(Z.shape[0], -1, A.shape[2])            # (R, G, n^2)
    r = A @ Zf.mT                                         # (R, m, G)
    return r.mT @ A                                       # (R, G, n^2)


def blocked_floor(A, Z, block):
    """floor_products block by block, each block timed warm (its operators in cache); summed."""
    R = Z.shape[0]
    total = 0.0
    for lo in range(0, R, block):
        Ab = A if A.shape[0] == 1 else A[lo:lo + block]
        Zb = Z[lo:lo + block]
        total += best_time(lambda: floor_products(Ab, Zb), repeat=10, number=5)
    return total


def measure_case(run, args, Z, steps=STEPS, repeat=7):
    """Per-step seconds of (lockstep, floor, unblocked lockstep, loop) and the block size."""
    A, R = args[0], args[2].shape[0]
    block = cache_block_trials(A, R)
    lock = best_time(lambda: run(*args, steps), repeat=repeat) / steps
    floor = blocked_floor(A, Z, block)
    unblocked = best_time(lambda: run(*args, steps, block=R), repeat=repeat) / steps
    singles = [tuple(a if a.shape[0] == 1 and R > 1 else a[r:r + 1] for a in args) for r in range(R)]
    loop = best_time(lambda: [run(*s, steps) for s in singles], repeat=max(2, repeat // 2)) / steps
    return block, lock, floor, unblocked, loop


def row(label, operators, block, lock, floor, unblocked, loop):
    us = 1e6
    return (f"| {label} | {operators} | {block} | {lock * us:8.1f} | {floor * us:8.1f} | {lock / floor:5.2f}x "
            f"| {unblocked * us:8.1f} | {unblocked / lock:5.2f}x | {loop * us:8.1f} | {loop / lock:5.2f}x |")


def quick_rows(R):
    q = QUICK
    for shared in (False, True):
        operators = "shared" if shared else "one per trial"
        A, M, y, X0 = symmetric_case(R, q["n"], q["k"], q["m_sym"], shared)
        case = measure_case(run_symmetric, (A, M, y, X0), X0 @ X0.mT)
        yield row(f"symmetric GD (n={q['n']}, k={q['k']}, m={q['m_sym']})", operators, *case)
        A, M, y, F0, G0 = asymmetric_case(R, q["n"], q["k"], q["m_asym"], q["alphas"], shared)
        case = measure_case(run_asymmetric, (A, M, y, F0, G0), F0 @ G0.mT)
        yield row(f"asymmetric GD, {len(q['alphas'])} scales (m={q['m_asym']})", operators, *case)


def paper_size_row():
    R, n, m, k, steps = 8, 50, 1500, 5, 10
    A, M, y, X0 = symmetric_case(R, n, k, m)
    case = measure_case(run_symmetric, (A, M, y, X0), X0 @ X0.mT, steps=steps, repeat=3)
    return row(f"paper size: symmetric GD (n={n}, m={m}), R={R}", "one per trial", *case)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (verify runs units on 1)")
    ap.add_argument("--paper-size", action="store_true")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    print(f"## matrix-sensing: one GD iteration at the quick configuration, R = {args.trials} trials, "
          f"{args.threads} BLAS thread(s) (microseconds per iteration; all measured in this run)")
    print("| hot path | operators | block | lockstep us | floor us | /floor | unblocked us | unblocked/lockstep "
          "| loop us | loop/lockstep |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with threadpool_limits(limits=args.threads):
        for line in quick_rows(args.trials):
            print(line)
        if args.paper_size:
            print(paper_size_row())
    print("block: trials per cache-sized block (problems.sensing.cache_block_trials); floor: the step's two "
          "products (A vec(Z), A^T r) per block, operators in cache; unblocked: every trial in one block; "
          "loop: R one-trial calls of the same function.")


if __name__ == "__main__":
    main()
