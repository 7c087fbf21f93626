"""robust-recovery: one SubGM step at the quick configuration against its numeric floor and against a
naive loop over trials, all measured in the same run.

Run: python benchmarks/bench_robust_recovery.py [--trials R]   (prints a table; asserts nothing)

Quick configuration (experiments/robust_recovery: d = 10, r = 2, eta0 = 1.2, rho = 0.96, outlier
noise N(0, 10^2)), R = 32 trials (the quick run has 8), one sensing operator A (m, d^2) per trial
(problems.robust_recovery.make_instances), three unit shapes:
- outlier sweep: r' = r = 2, m = 200, p = 0.3;  alpha sweep: r' = d = 10, m = 400, p = 0.1;
  sample sweep, largest unit: d = r' = 20, m = 400 (10 d r), p = 0.1;
- lockstep: algorithms.subgradient.subgradient_method over N steps (recording only the end), per
  step;
- floor: one step's arithmetic on the same arrays, without the Recorder, namespace look-ups or
  the sensing helpers: U U^T, A vec(U U^T) (one batched matvec per trial), sign, A^T s (the
  second batched matvec), (G + G^T) U / m and the update;
- loop: the same N steps as R separate one-trial calls of subgradient_method, per step.
One BLAS thread, as the runner runs units.  The step is memory-bound: it reads each trial's A twice;
in lockstep all R operators are streamed (41 MB at d = 20), while a one-trial run keeps its A
(1.3 MB) in the 2 MB L2 cache across its steps, so the loop can beat the lockstep there.
Extra line: the alpha unit runs its 7 scales one after the other on the same A; the two products
of one step (A vec(U U^T), A^T sign) for all 7 at once (problems.sensing.measure_many /
adjoint_many, A read once) against 7 times those of one run.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from algorithms.subgradient import subgradient_method  # noqa: E402
from problems.robust_recovery import initial_factor, make_instances  # noqa: E402
from problems.sensing import adjoint_many, measure_many  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402
from timing import best_time  # noqa: E402

R_RANK, ETA0, RHO, SCALE, STEPS = 2, 1.2, 0.96, 10.0, 40
CASES = (("outlier sweep", 10, R_RANK, 200, 0.3, 1e-3),
         ("alpha sweep, r'=d", 10, 10, 400, 0.1, 1e-6),
         ("sample sweep, largest", 20, 20, 400, 0.1, 1e-12))
N_ALPHAS = 7


def case(R, d, k, m, p, alpha):
    rngs = [np.random.default_rng([0, r]) for r in range(R)]
    A, X, y = make_instances(rngs, d, R_RANK, m, "outlier", p, SCALE)
    return A, y, alpha * initial_factor(rngs, d, k), X


def run(A, y, U0, X, steps=STEPS):
    return subgradient_method(A, y, U0, X, eta0=ETA0, rho=RHO, iterations=steps, record=[steps])


def floor_step(A, y, U, step):
    """One SubGM step's arithmetic on plain arrays (the same products as l1_subgradient)."""
    R, d, _ = U.shape
    Z = np.matmul(U, U.transpose(0, 2, 1)).reshape(R, d * d, 1)
    s = np.sign(np.matmul(A, Z)[..., 0] - y)
    G = np.matmul(s[:, None, :], A).reshape(R, d, d) / y.shape[-1]
    return U - step * np.matmul(G + G.transpose(0, 2, 1), U)


def products_many(A, Z):
    """The two products of one step for G runs of each trial at once: A read once."""
    d = Z.shape[-1]
    return adjoint_many(A, np.sign(measure_many(A, Z)), d, d)


def interleaved(fns, rounds):
    """Best time per call of each (fn, number), timed in turn ``rounds`` times (a passing load hits all)."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        best = [min(b, best_time(fn, repeat=1, number=k)) for b, (fn, k) in zip(best, fns)]
    return best


def row(label, lockstep, floor, loop):
    return (f"| {label:<44} | {lockstep * 1e6:9.1f} | {floor * 1e6:9.1f} | {lockstep / floor:6.2f}x | "
            f"{loop * 1e6:10.1f} | {loop / lockstep:6.2f}x |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=32)
    R = ap.parse_args(argv).trials
    print(f"## robust-recovery: one SubGM step at the quick configuration, R = {R} trials, 1 BLAS thread "
          f"(per step, microseconds; floor and loop measured in the same run)")
    print("| hot path | lockstep us | floor us | /floor | loop us | loop/lockstep |")
    print("|---|---|---|---|---|---|")
    with threadpool_limits(limits=1):        # as the runner runs units
        for label, d, k, m, p, alpha in CASES:
            A, y, U0, X = case(R, d, k, m, p, alpha)
            U = U0 / alpha * 0.3
            singles = [(A[r:r + 1], y[r:r + 1], U0[r:r + 1], X[r:r + 1]) for r in range(R)]
            lock, floor, loop = interleaved([(lambda: run(A, y, U0, X), 1), (lambda: floor_step(A, y, U, 0.1), 10),
                                             (lambda: [run(*s) for s in singles], 1)], 5)
            print(row(f"{label} (d={d}, r'={k}, m={m})", lock / STEPS, floor, loop / STEPS))
            if label.startswith("alpha"):
                Zg = np.repeat(np.matmul(U, U.transpose(0, 2, 1))[:, None], N_ALPHAS, axis=1)
                single, many = interleaved([(lambda: products_many(A, Zg[:, :1]), 10), (lambda: products_many(A, Zg), 10)], 5)
    print("floor: the step's arithmetic on the same arrays (no Recorder, no helpers); loop: R one-trial "
          "calls of the same function.")
    print(f"alpha sweep: the two products of one step cost {single * 1e6:.1f} us per run, {N_ALPHAS} x {single * 1e6:.1f} = "
          f"{N_ALPHAS * single * 1e6:.1f} us for its {N_ALPHAS} scales one after the other, {many * 1e6:.1f} us for all "
          f"{N_ALPHAS} at once with A read once (measure_many/adjoint_many): {N_ALPHAS * single / many:.2f}x less.")


if __name__ == "__main__":
    main()
