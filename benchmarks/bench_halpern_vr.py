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
- floor: the device arithmetic of one step (Alg. 2: plus a snapshot refresh weighted by the
  chance 1 - (1 - 1/n)^R that some trial refreshes) on the same arrays with the random rows drawn
  beforehand (gather of the sampled components, their mean, the batched products, the update;
  PAGE adds the full evaluation for the trials whose coin came up), i.e. without host RNG, call
  counting or Python control;
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

from algorithms.halpern_vr import TrialDraws, page_halpern, vr_forb_resolvent  # noqa: E402
from problems import monotone_instances as inst  # noqa: E402
from problems.monotone import FiniteSumOperator  # noqa: E402
from timing import RATIO_HEADER, best_time, ratio_row  # noqa: E402

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
    return vr_forb_resolvent(op, u, u, scale, steps, TrialDraws(seed_rngs, op, 1), step)


def page_run(M, c, u, seed_rngs, steps=STEPS):
    op = FiniteSumOperator(M, c)
    batch = int(math.ceil(math.sqrt(op.n)))
    return page_halpern(op, u, 1.0, steps, batch, seed_rngs, record=[steps], measure=lambda x: {})


def alg2_floor(op, sel, z, w_prev, bw, scale, step):
    """One inner step's arithmetic with the sampled rows sel (R,) drawn beforehand (a step
    without a snapshot refresh, which p = 1/n makes the common case)."""
    R = z.shape[0]
    Ms = np.take(op.M_flat, sel, axis=0).reshape(R, DIM, DIM)
    dz = z - w_prev
    return z - step * (bw + (scale * np.matmul(Ms, dz[..., None])[..., 0] + dz))


def alg2_refresh_floor(op, mask, z_next, w, bw, anchor, scale):
    """A snapshot refresh's arithmetic (the trials whose coin came up take z_next and B at it)."""
    w = np.where(mask, z_next, w)
    return np.where(mask, scale * (np.matmul(op.Mbar, w[..., None])[..., 0] + op.cbar) + w - anchor, bw)


def page_floor(op, sel, u, u_prev, u0, est, lam, mask):
    """One PAGE step's arithmetic with the sampled rows and coins drawn beforehand (mini-batch
    estimate, the full F for the trials whose coin came up, the anchored update)."""
    R = u.shape[0]
    Ms = np.take(op.M_flat, sel, axis=0).reshape(R, -1, DIM, DIM).mean(axis=1)
    est = est + np.matmul(Ms, (u - u_prev)[..., None])[..., 0]
    est = np.where(mask, np.matmul(op.Mbar, u[..., None])[..., 0] + op.cbar, est)
    return lam * u0 + (1.0 - lam) * u - est


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
    print(RATIO_HEADER)

    singles = [(M[r:r + 1], c[r:r + 1], u[r:r + 1]) for r in range(R)]
    lock = best_time(lambda: alg2_run(M, c, u, rngs(R)), repeat=5) / STEPS
    sel1 = op.rows(gen.integers(0, N_COMP, (R, 1)))
    scale = math.sqrt(N_COMP)
    bw = scale * op.apply(u)
    z = u + 0.01
    floor = best_time(lambda: alg2_floor(op, sel1, z, u, bw, scale, 0.01), repeat=20, number=20)
    mask1 = (gen.random(R) < 1.0 / N_COMP)[:, None]
    refresh = best_time(lambda: alg2_refresh_floor(op, mask1, z, u, bw, u, scale), repeat=20, number=20)
    floor += (1.0 - (1.0 - 1.0 / N_COMP) ** R) * refresh     # expected refresh work per step
    loop = best_time(lambda: [alg2_run(m, cc, uu, rngs(1, 2 + r)) for r, (m, cc, uu) in enumerate(singles)],
                     repeat=3) / STEPS
    print(ratio_row("Alg. 2 inner step (VR-FoRB, batch 1)", lock, floor, loop))

    batch = int(math.ceil(math.sqrt(N_COMP)))
    lock = best_time(lambda: page_run(M, c, u, rngs(R)), repeat=5) / STEPS
    selb = op.rows(gen.integers(0, N_COMP, (R, batch)))
    est = op.apply(u)
    mask = (gen.random(R) < batch / (N_COMP + batch))[:, None]
    floor = best_time(lambda: page_floor(op, selb, z, u, u, est, 0.01, mask), repeat=20, number=20)
    loop = best_time(lambda: [page_run(m, cc, uu, rngs(1, 2 + r)) for r, (m, cc, uu) in enumerate(singles)],
                     repeat=3) / STEPS
    print(ratio_row(f"PAGE-Halpern step (Alg. 1, batch {batch})", lock, floor, loop))
    print("floor: the step's array arithmetic on the same arrays with indices drawn beforehand "
          "(no host RNG, counting or control flow); loop: R one-trial calls of the same function.")


if __name__ == "__main__":
    main()
