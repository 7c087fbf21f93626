"""halpern-vr: one step of the real quick-configuration hot paths against their numeric floor and
against a naive loop over trials, all measured in the same run.

Run: python benchmarks/bench_halpern_vr.py [--trials R]   (prints a table; asserts nothing)

Quick configuration: least squares, n = 128 components of dimension d = 8 (problems.
monotone_instances.least_squares), R = 32 trials, each with its own instance:
- Alg. 2 inner step: algorithms.halpern_vr.vr_forb_resolvent (single-sample VR-FoRB, batch 1,
  the experiment's inner loop: 3n steps per outer step), timed through the real function over
  N steps, per step;
- PAGE-Halpern step (Alg. 1, batch ceil(sqrt n) = 12): algorithms.halpern_vr.page_halpern over N
  steps recording only the end, per step;
- floor: the device arithmetic of one step on the same arrays with the random indices drawn
  beforehand (gather of the sampled components, their mean, the batched products, the update;
  PAGE adds the full evaluation), i.e. without host RNG, call counting or Python control;
- loop: the same N steps as R separate one-trial calls (one operator and one generator each).
"""
from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from algorithms.halpern_vr import page_halpern, vr_forb_resolvent  # noqa: E402
from problems import monotone_instances as inst  # noqa: E402
from problems.monotone import FiniteSumOperator  # noqa: E402
from timing import best_time  # noqa: E402

N_COMP, DIM, STEPS = 128, 8, 200


def arrays(R, seed=0):
    data = [inst.least_squares(np.random.default_rng([seed, r]), N_COMP, DIM) for r in range(R)]
    return np.stack([d["M"] for d in data]), np.stack([d["c"] for d in data])


def rngs(R, seed=1):
    return [np.random.default_rng([seed, r]) for r in range(R)]


def alg2_run(M, c, u, seed_rngs, steps=STEPS):
    op = FiniteSumOperator(M, c)
    scale = math.sqrt(op.n)
    step = 1.0 / (math.sqrt(op.n) * (1.0 + scale))
    return vr_forb_resolvent(op, u, u, scale, steps, 1, seed_rngs, step)


def page_run(M, c, u, seed_rngs, steps=STEPS):
    op = FiniteSumOperator(M, c)
    batch = int(math.ceil(math.sqrt(op.n)))
    return page_halpern(op, u, 1.0, steps, batch, seed_rngs, record=[steps], measure=lambda x: {})


def alg2_floor(op, idx, z, w_prev, anchor, Fw, scale, step):
    """One inner step's arithmetic with pre-drawn indices idx (R, 1) (no refresh: p = 1/n)."""
    R, B = idx.shape
    sel = (idx + np.arange(R)[:, None] * op.n).reshape(R * B)
    Ms = np.take(op.M_flat, sel, axis=0).reshape(R, B, DIM, DIM).mean(axis=1)
    diff = scale * np.matmul(Ms, (z - w_prev)[..., None])[..., 0] + (z - w_prev)
    estimate = scale * Fw + w_prev - anchor + diff
    return z - step * estimate


def page_floor(op, idx, u, u_prev, u0, est, lam):
    """One PAGE step's arithmetic with pre-drawn indices and coins (mini-batch branch + full F)."""
    R, B = idx.shape
    sel = (idx + np.arange(R)[:, None] * op.n).reshape(R * B)
    Ms = np.take(op.M_flat, sel, axis=0).reshape(R, B, DIM, DIM).mean(axis=1)
    full = np.matmul(op.Mbar, u[..., None])[..., 0] + op.cbar
    recursive = est + np.matmul(Ms, (u - u_prev)[..., None])[..., 0]
    est = np.where(np.zeros((R, 1), dtype=bool), full, recursive)
    return lam * u0 + (1.0 - lam) * u - est


def row(label, lockstep, floor, loop):
    return (f"| {label:<44} | {lockstep * 1e6:8.1f} | {floor * 1e6:8.1f} | {lockstep / floor:6.2f}x | "
            f"{loop * 1e6:9.1f} | {loop / lockstep:6.2f}x |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=32)
    args = ap.parse_args(argv)
    R = args.trials
    M, c = arrays(R)
    u = np.full((R, DIM), 0.1)
    op = FiniteSumOperator(M, c)
    gen = np.random.default_rng(5)
    print(f"## halpern-vr: one step at the quick configuration (least squares, n={N_COMP}, d={DIM}), "
          f"R = {R} trials (per step, microseconds; floor and loop measured in the same run)")
    print("| hot path | lockstep us | floor us | /floor | loop us | loop/lockstep |")
    print("|---|---|---|---|---|---|")

    singles = [(M[r:r + 1], c[r:r + 1], u[r:r + 1]) for r in range(R)]
    lock = best_time(lambda: alg2_run(M, c, u, rngs(R)), repeat=5) / STEPS
    idx1 = gen.integers(0, N_COMP, (R, 1))
    scale = math.sqrt(N_COMP)
    Fw = op.apply(u)
    z = u + 0.01
    floor = best_time(lambda: alg2_floor(op, idx1, z, u, u, Fw, scale, 0.01), repeat=20, number=20)
    loop = best_time(lambda: [alg2_run(m, cc, uu, rngs(1, 2 + r)) for r, (m, cc, uu) in enumerate(singles)],
                     repeat=3) / STEPS
    print(row("Alg. 2 inner step (VR-FoRB, batch 1)", lock, floor, loop))

    batch = int(math.ceil(math.sqrt(N_COMP)))
    lock = best_time(lambda: page_run(M, c, u, rngs(R)), repeat=5) / STEPS
    idxb = gen.integers(0, N_COMP, (R, batch))
    est = op.apply(u)
    floor = best_time(lambda: page_floor(op, idxb, z, u, u, est, 0.01), repeat=20, number=20)
    loop = best_time(lambda: [page_run(m, cc, uu, rngs(1, 2 + r)) for r, (m, cc, uu) in enumerate(singles)],
                     repeat=3) / STEPS
    print(row(f"PAGE-Halpern step (Alg. 1, batch {batch})", lock, floor, loop))
    print("floor: the step's array arithmetic on the same arrays with indices drawn beforehand "
          "(no host RNG, counting or control flow); loop: R one-trial calls of the same function.")


if __name__ == "__main__":
    main()
