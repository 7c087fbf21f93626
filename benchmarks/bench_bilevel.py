"""bilevel-unbounded and penalty-bilevel: one iteration of BO-REP and of the penalty method at their
quick configurations against their numeric floor and against a naive loop over trials, all measured
in the same run.

Run: python benchmarks/bench_bilevel.py [--trials R]   (prints a table; asserts nothing)

R = 32 trials (the quick runs have 8), one instance per trial, as the complexity units build them:
- BO-REP (algorithms.bilevel.bo_rep; bilevel-unbounded complexity unit at eps_max): cosh upper
  level, quadratic lower level, dx = 4, dy = 6, noisy oracles (std 0.1, problems.bilevel_oracles),
  period I = 2 with N = 5 lower SGD steps, beta = 0.8, eta = 0.025.  Timed over N iterations
  recording only the end, per iteration, without the one-off initialization refinement
  (refine_epochs = 0: its 56 lower steps happen once per run);
- penalty method (algorithms.penalty.penalty_method, single loop; penalty-bilevel complexity unit
  at eps_max): softplus upper level, instance (a), dx = 2, dy = 6, m = 4, sigma = 0.05,
  deterministic oracles;
- floor: one iteration's arithmetic on plain arrays (batched matvecs, link functions, the
  updates; BO-REP: noise drawn beforehand and N/I = 2.5 lower steps per iteration on average),
  without oracle objects, call counting, host RNG, namespace look-ups or the Recorder;
- loop: the same N iterations as R separate one-trial calls (one oracle object each), per iteration.
One BLAS thread, as the runner runs units.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from algorithms.bilevel import bo_rep  # noqa: E402
from algorithms.penalty import penalty_method  # noqa: E402
from problems import bilevel as bl  # noqa: E402
from problems import bilevel_unbounded as bu  # noqa: E402
from problems.bilevel_oracles import StochasticOracles  # noqa: E402
from problems.penalty_bilevel import QuadraticPenalty  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402
from timing import RATIO_HEADER, interleaved, ratio_row  # noqa: E402

STEPS = 200
BOREP = dict(dx=4, dy=6, mu=0.1, cond=10.0, noise=0.1, period=2, lower_steps=5, gamma=0.09, nu=0.05, eta=0.025, beta=0.8)
PEN = dict(dx=2, dy=6, m=4, mu=0.1, cond=2.0, coupling=2.0, sigma=0.25 * 0.2)


def rngs(R, seed):
    return [np.random.default_rng([seed, r]) for r in range(R)]


def borep_arrays(R):
    q = BOREP
    arrays = bl.stack_instances([bu.cosh_instance(g, q["dx"], q["dy"], mu=q["mu"], cond=q["cond"]) for g in rngs(R, 0)])
    return arrays, np.einsum("rmd,m->rd", arrays["A"], np.ones(q["dx"])), np.zeros((R, q["dy"]))    # a_i^T x0 = 1


def run_borep(arrays, x0, y0, seed, steps=STEPS):
    q = BOREP
    oracles = StochasticOracles(bu.cosh_bilevel(arrays, np.asarray), rngs(x0.shape[0], seed), noise_std=q["noise"])
    return bo_rep(oracles, x0, y0, iterations=steps, record=[steps], measure=lambda x, y, z: {},
                  eta=q["eta"], gamma=q["gamma"], nu=q["nu"], beta=q["beta"], period=q["period"],
                  lower_steps=q["lower_steps"], refine_epochs=0)


def mv(M, v):
    return np.matmul(M, v[..., None])[..., 0]


def borep_floor(a, x, y, z, m, noise):
    """One BO-REP iteration but its lower steps: grad f (cosh), JVP, HVP, the z, momentum and x updates."""
    q, n = BOREP, noise
    fx = mv(a["At"], np.sinh(mv(a["A"], x)))
    h = fx + n[0] + mv(a["B"], z) + n[1]
    z = z - q["nu"] * (mv(a["H"], z) + n[2] - (y - a["b"] + n[3]))
    m = q["beta"] * m + (1.0 - q["beta"]) * h
    return x - q["eta"] * m / np.maximum(np.sqrt(np.sum(m * m, axis=-1)), 1e-30)[..., None], z, m


def lower_floor(a, x, y, n):
    """One lower SGD step y - gamma (H y - B^T x + noise) (grad_y g only)."""
    return y - BOREP["gamma"] * (mv(a["H"], y) - mv(a["Bt"], x) + n[4])


def pen_arrays(R):
    q = PEN
    parts = [bl.quadratic_instance(g, q["dx"], q["dy"], q["m"], mu=q["mu"], cond=q["cond"], coupling=q["coupling"]) for g in rngs(R, 0)]
    return bl.stack_instances(parts), np.ones((R, q["dx"])), np.zeros((R, q["dy"]))


def run_pen(arrays, x0, y0, steps=STEPS):
    q, upper = PEN, bl.SeparableUpper(arrays["A"], arrays["b"], link="softplus")
    oracles = StochasticOracles(QuadraticPenalty(upper, bl.QuadraticLower(arrays["Q"], arrays["B"], arrays["mu"])), rngs(x0.shape[0], 1))
    return penalty_method(oracles, x0, y0, sigma=q["sigma"], iterations=steps, record=[steps],
                          measure=lambda x, y, z: {}, step_x=q["sigma"], step_y=1.0 / (q["cond"] + q["mu"]))


def pen_floor(a, x, y, z):
    """One single-loop penalty iteration: grad f (softplus) at y, grad g at y and at z, the x, y, z updates."""
    s, sy = PEN["sigma"], 1.0 / (PEN["cond"] + PEN["mu"])
    t, Btx = mv(a["A"], x), mv(a["Bt"], x)
    fx = mv(a["At"], np.exp(-(np.maximum(-t, 0.0) + np.log1p(np.exp(-np.abs(t))))))
    gy, gz = mv(a["H"], y) - Btx, mv(a["H"], z) - Btx
    x_next = x - s * (fx + (mv(a["B"], z) - mv(a["B"], y)) / s)
    return x_next, y - sy * (s * (y - a["b"]) + gy), z - sy * gz


def with_extras(arrays):
    return dict(arrays, H=arrays["Q"] + arrays["mu"] * np.eye(arrays["Q"].shape[-1]),
                At=arrays["A"].transpose(0, 2, 1), Bt=arrays["B"].transpose(0, 2, 1))


def one_trial(arrays, r):
    return {k: (v[r:r + 1] if isinstance(v, np.ndarray) else v) for k, v in arrays.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=32)
    R = ap.parse_args(argv).trials
    print(f"## bilevel-unbounded / penalty-bilevel: one iteration at the quick configuration, R = {R} "
          f"trials, 1 BLAS thread (per iteration, microseconds; floor and loop measured in the same run)")
    print(RATIO_HEADER)
    with threadpool_limits(limits=1):        # as the runner runs units
        _rows(R)
    print("floor: the iteration's array arithmetic on the same arrays (noise drawn beforehand; no oracle "
          "objects, counting, host RNG or Recorder); loop: R one-trial calls of the same function.")


def _rows(R):
    gen = np.random.default_rng(7)
    arrays, x0, y0 = borep_arrays(R)
    a, dims = with_extras(arrays), (BOREP["dx"],) * 2 + (BOREP["dy"],) * 3
    noise = [0.1 * gen.standard_normal((R, k)) for k in dims]
    z, m = 0.1 * gen.standard_normal((R, BOREP["dy"])), np.zeros_like(x0)
    singles = [(one_trial(arrays, r), x0[r:r + 1], y0[r:r + 1]) for r in range(R)]
    lock, base, lower, loop = interleaved([
        (lambda: run_borep(arrays, x0, y0, 1), 1), (lambda: borep_floor(a, x0, y0, z, m, noise), 20),
        (lambda: lower_floor(a, x0, y0, noise), 20), (lambda: [run_borep(*s, 2 + r) for r, s in enumerate(singles)], 1)], 5)
    floor = base + BOREP["lower_steps"] / BOREP["period"] * lower
    print(ratio_row(f"BO-REP (dx={BOREP['dx']}, dy={BOREP['dy']}, I=2, N=5, noisy)", lock / STEPS, floor, loop / STEPS))

    arrays, x0, y0 = pen_arrays(R)
    a, z = with_extras(arrays), 0.1 * gen.standard_normal(y0.shape)
    singles = [(one_trial(arrays, r), x0[r:r + 1], y0[r:r + 1]) for r in range(R)]
    lock, floor, loop = interleaved([(lambda: run_pen(arrays, x0, y0), 1), (lambda: pen_floor(a, x0, y0, z), 20),
                                     (lambda: [run_pen(*s) for s in singles], 1)], 5)
    print(ratio_row(f"penalty method, single loop (dx={PEN['dx']}, dy={PEN['dy']})", lock / STEPS, floor, loop / STEPS))


if __name__ == "__main__":
    main()
