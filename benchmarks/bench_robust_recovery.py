"""robust-recovery: one SubGM step at the quick configuration against its numeric floor and against a
naive loop over trials, all measured in the same run.

Run: python benchmarks/bench_robust_recovery.py [--trials R]   (prints a table; asserts nothing)

Quick configuration (experiments/robust_recovery: d = 10, r = 2, eta0 = 1.2, rho = 0.96, outlier
noise N(0, 10^2)), R = 32 trials (the quick run has 8), one sensing operator A (m, d^2) per trial
(problems.robust_recovery.make_instances), three unit shapes:
- outlier sweep: r' = r = 2, m = 200, p = 0.3;  alpha sweep: r' = d = 10, m = 400, p = 0.1, its 7
  scales as one group axis, U0 (R, 7, d, r'), as the unit runs them;  sample sweep, largest unit:
  d = r' = 20, m = 400 (10 d r), p = 0.1;
- lockstep: algorithms.subgradient.subgradient_method over N steps (recording only the end), per
  step.  It runs the trials in blocks whose operators fit the L2 cache (problems.sensing.
  cache_block_trials: 9, 4 and 1 trials here), each block all N steps;
- floor: the same N steps on the same arrays in the same arrangement (the same blocks, each all
  N steps with its operators cached; the alpha scales as the group axis, A applied to all 7 in
  one product), per step, with only the arithmetic left: U U^T, A vec(U U^T) - y (one batched
  matmul per block), sign, A^T s (the second), (G + G^T) U and the update with eta_t / m folded
  into one scalar; no Recorder, blocks runner, namespace look-ups or sensing helpers;
- loop: the same N steps as R separate one-trial calls of subgradient_method, per step.
One BLAS thread, as the runner runs units.  The step is memory-bound: it reads each trial's A twice;
blocks keep them in the 2 MB L2 cache across the steps, which a one-trial loop also does, so at
d = 20 (one 1.3 MB operator per block) lockstep and loop do the same work.
Extra line: the two products of one step (A vec(U U^T), A^T sign) for all 7 scales at once
(problems.sensing.measure_many / adjoint_many, A read once) against 7 times those of one run, on
all R operators (streamed from memory, not blocked).
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
from problems.sensing import adjoint_many, cache_block_trials, measure_many  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402
from timing import RATIO_HEADER, interleaved, ratio_row  # noqa: E402

R_RANK, ETA0, RHO, SCALE, STEPS = 2, 1.2, 0.96, 10.0, 40
ALPHAS = (1e-7, 3e-7, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4)          # the quick alpha grid
CASES = (("outlier sweep", 10, R_RANK, 200, 0.3, 1e-3),
         ("alpha sweep, r'=d, 7 scales", 10, 10, 400, 0.1, ALPHAS),
         ("sample sweep, largest", 20, 20, 400, 0.1, 1e-12))


def case(R, d, k, m, p, alpha):
    rngs = [np.random.default_rng([0, r]) for r in range(R)]
    A, X, y = make_instances(rngs, d, R_RANK, m, "outlier", p, SCALE)
    B = initial_factor(rngs, d, k)
    U0 = np.stack([a * B for a in alpha], axis=1) if isinstance(alpha, tuple) else alpha * B
    return A, y, U0, X


def run(A, y, U0, X, steps=STEPS):
    return subgradient_method(A, y, U0, X, eta0=ETA0, rho=RHO, iterations=steps, record=[steps])


def floor(A, y, U0, steps=STEPS):
    """SubGM's arithmetic in the algorithm's arrangement: per cache block (the block size the
    algorithm picks), all ``steps`` steps on the block; U0 (R, d, k) runs as one group (G = 1:
    the same batched matvecs as the 3-D path)."""
    R, m = y.shape
    U0 = U0[:, None] if U0.ndim == 3 else U0
    G, d = U0.shape[1:3]
    size, out = cache_block_trials(A, R), []
    for lo in range(0, R, size):
        Ab, yb, U, step = A[lo:lo + size], y[lo:lo + size, :, None], U0[lo:lo + size], ETA0
        b = Ab.shape[0]
        for _ in range(steps):
            s = Ab @ (U @ U.mT).reshape(b, G, d * d).mT            # A vec(U U^T): (b, m, G)
            s -= yb
            Gr = (np.sign(s, out=s).mT @ Ab).reshape(b, G, d, d)   # A^T sign, unscaled
            U = U - (step / m) * ((Gr + Gr.mT) @ U)
            step *= RHO
        out.append(U)
    return out


def products_many(A, Z):
    """The two products of one step for G runs of each trial at once: A read once."""
    d = Z.shape[-1]
    return adjoint_many(A, np.sign(measure_many(A, Z)), d, d)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=32)
    R = ap.parse_args(argv).trials
    print(f"## robust-recovery: one SubGM step at the quick configuration, R = {R} trials, 1 BLAS thread "
          f"(per step, microseconds; floor and loop measured in the same run)")
    print(RATIO_HEADER)
    with threadpool_limits(limits=1):        # as the runner runs units
        for label, d, k, m, p, alpha in CASES:
            A, y, U0, X = case(R, d, k, m, p, alpha)
            singles = [(A[r:r + 1], y[r:r + 1], U0[r:r + 1], X[r:r + 1]) for r in range(R)]
            lock, fl, loop = interleaved([(lambda: run(A, y, U0, X), 1), (lambda: floor(A, y, U0), 1),
                                          (lambda: [run(*s) for s in singles], 1)], 5)
            print(ratio_row(f"{label} (d={d}, r'={k}, m={m}, {cache_block_trials(A, R)}/block)",
                            lock / STEPS, fl / STEPS, loop / STEPS, width=57), flush=True)
            if U0.ndim == 4:
                U = 0.3 / ALPHAS[0] * U0[:, :1]               # 0.3 B: an iterate past the start
                Zg = np.repeat(U @ U.mT, len(ALPHAS), axis=1)
                single, many = interleaved([(lambda: products_many(A, Zg[:, :1]), 10), (lambda: products_many(A, Zg), 10)], 5)
    print("floor: the same steps' arithmetic on the same arrays in the same trial blocks (no Recorder, no "
          "helpers); loop: R one-trial calls of the same function.")
    G = len(ALPHAS)
    print(f"alpha sweep, all R operators at once: the two products of one step cost {single * 1e6:.1f} us per run, "
          f"{G} x {single * 1e6:.1f} = {G * single * 1e6:.1f} us for its {G} scales one after the other, "
          f"{many * 1e6:.1f} us for all {G} at once with A read once (measure_many/adjoint_many): {G * single / many:.2f}x less.")


if __name__ == "__main__":
    main()
