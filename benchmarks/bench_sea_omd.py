"""sea-omd: one round of optimistic OMD at the quick configuration against its arithmetic floor and
against a naive loop over trials, all measured in the same run.

Run: python benchmarks/bench_sea_omd.py [--backend numpy|cupy] [--rounds N] [--trials R]
(prints a table; asserts nothing)

Quick configuration: Huber loss, d = 4, ball radius 1, fixed theta, noise s^2 = 1, R = 32 trials.
- lockstep: algorithms.online.oomd over N rounds (recording only the end), per round;
- floor: the same round's array arithmetic (step, projection, expected loss, Huber gradient plus
  noise, update, variation sum) on the same shapes, vectorized over a block of 256 rounds in one
  pass, per round: what the round costs without one Python-level array call per operation;
- loop: the same N rounds as R separate one-trial runs, per round;
- R = 1 against R trials in lockstep (the old line of this benchmark).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from algorithms.online import oomd  # noqa: E402
from experiments.backend import backend_module, to_backend, to_numpy  # noqa: E402
from problems import sea  # noqa: E402

D_DIM, RHO, DELTA, BLOCK = 4, 1.0, 0.5, 256


def streams(R: int, T: int, xp, seed: int = 0):
    rngs = [np.random.default_rng([seed, r]) for r in range(R)]
    center = np.zeros(D_DIM)
    center[0] = 0.5
    thetas = sea.theta_schedule("fixed", T, D_DIM, center=center)
    noise = sea.draw_noise(rngs, sea.noise_levels(T, 1.0), D_DIM)
    return sea.SEAStream("huber", to_backend(thetas, xp), to_backend(noise, xp), RHO, DELTA), thetas, noise


def best(fn, repeats: int = 3) -> float:
    fn()
    out = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t0)
    return out


def run(stream, T):
    out = oomd(stream, 2.0, 0.5, [T])
    return to_numpy(out.metrics["cum_loss"])       # one host copy, at the end (a sync on a GPU)


def floor_block(xp, theta, noise, state):
    """One block of rounds' arithmetic, vectorized over the block axis: (B, R, d) arrays."""
    xh, hint, varsum, total = state
    eta = 2.0 / xp.sqrt(1.0 + 4.0 * 0.25 + varsum)
    y = xh - eta * hint
    n = xp.sqrt(xp.sum(y * y, axis=-1, keepdims=True))
    x = y * (RHO / xp.where(n > RHO, n, xp.full_like(n, RHO)))
    z = x - theta
    nz = xp.sqrt(xp.sum(z * z, axis=-1))
    total = total + xp.where(nz <= DELTA, 0.5 * nz * nz, DELTA * nz - 0.5 * DELTA**2)
    nk = xp.sqrt(xp.sum(z * z, axis=-1, keepdims=True))
    g = z * (DELTA / xp.where(nk > DELTA, nk, xp.full_like(nk, DELTA))) + noise
    y = xh - eta * g
    n = xp.sqrt(xp.sum(y * y, axis=-1, keepdims=True))
    xh = y * (RHO / xp.where(n > RHO, n, xp.full_like(n, RHO)))
    diff = g - hint
    varsum = varsum + xp.sum(diff * diff, axis=-1, keepdims=True)
    return xh, g, varsum, total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--trials", type=int, default=32)
    args = ap.parse_args(argv)
    xp, T, R = backend_module(args.backend), args.rounds, args.trials

    stream, thetas, noise = streams(R, T, xp)
    lock = best(lambda: run(stream, T)) / T
    theta_b = to_backend(np.broadcast_to(thetas[:BLOCK, None, :], (BLOCK, R, D_DIM)).copy(), xp)
    noise_b = to_backend(noise[:BLOCK], xp)
    zeros = to_backend(np.zeros((BLOCK, R, D_DIM)), xp)
    state = (zeros, zeros, to_backend(np.zeros((BLOCK, R, 1)), xp), to_backend(np.zeros((BLOCK, R)), xp))
    floor = best(lambda: to_numpy(floor_block(xp, theta_b, noise_b, state)[3]), repeats=10) / BLOCK
    singles = [streams(1, T, xp, seed=1 + r)[0] for r in range(R)]
    loop = best(lambda: [run(s, T) for s in singles], repeats=1) / T
    one = best(lambda: run(singles[0], T)) / T

    print(f"## sea-omd: one optimistic-OMD round at the quick configuration (Huber, d={D_DIM}), "
          f"R = {R} trials, backend {args.backend} (per round, microseconds; floor and loop measured "
          f"in the same run)")
    print("| hot path | lockstep us | floor us | /floor | loop us | loop/lockstep | R=1 us | lockstep/R=1 |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {'OOMD round (adaptive step)':<30} | {lock * 1e6:8.1f} | {floor * 1e6:8.2f} | {lock / floor:7.1f}x | "
          f"{loop * 1e6:9.1f} | {loop / lock:6.2f}x | {one * 1e6:7.1f} | {lock / one:5.2f}x |")
    print(f"floor: the round's arithmetic on (R, d) arrays vectorized over {BLOCK} rounds in one pass; "
          "loop: R one-trial runs of the same function.")


if __name__ == "__main__":
    main()
