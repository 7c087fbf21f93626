"""sea-omd: one round of optimistic OMD at the quick configuration against its arithmetic floor and
against a naive loop over trials, all measured in the same run; then the real stacked path.

Run: python benchmarks/bench_sea_omd.py [--backend numpy|cupy] [--rounds N] [--trials R]
(prints two tables; asserts nothing)

Quick configuration: Huber loss, d = 4, ball radius 1, fixed theta, noise s^2 = 1, R = 32 trials.
- lockstep: algorithms.online.oomd over N rounds (recording only the end), per round;
- floor: the same round's array arithmetic (step, projection, expected loss, Huber gradient plus
  noise, update, variation sum) on the same shapes, vectorized over a block of 256 rounds in one
  pass, per round: what the round costs without one Python-level array call per operation;
- loop: the same N rounds as R separate one-trial runs, per round;
- R = 1 against R trials in lockstep (the old line of this benchmark).

Stacked path (experiments.sea_omd.runs.run_units, what the runner calls for units of one batch
key): the sigma sweep of the Huber loss (7 units, N rounds, R trials each) in one pass of 7R rows,
everything included (noise, learner, comparators), per round of the whole sweep; against
- floor: the round's arithmetic over 7R rows, vectorized over a block of rounds;
- per unit: the 7 units one after another (run_unit, R trials in lockstep each: the path before
  batching);
- loop: one unit and one trial at a time (7R one-trial run_unit calls).
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
from experiments.base import RunEnv  # noqa: E402
from experiments.seeds import trial_rngs  # noqa: E402
from experiments.sea_omd import EXPERIMENT, runs  # noqa: E402
from problems import sea  # noqa: E402

D_DIM, RHO, DELTA, BLOCK = 4, 1.0, 0.5, 256


def streams(R: int, T: int, xp, seed: int = 0):
    rngs = [np.random.default_rng([seed, r]) for r in range(R)]
    center = np.zeros(D_DIM)
    center[0] = 0.5
    thetas = sea.theta_schedule("fixed", T, D_DIM, center=center)
    noise = sea.draw_noise(rngs, sea.noise_levels(T, 1.0), D_DIM)
    return sea.SEAStream("huber", to_backend(thetas, xp), to_backend(noise, xp), RHO, DELTA), thetas, noise


def best(fn, repeats: int = 3, warm: bool = True) -> float:
    if warm:
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


def floor_per_round(xp, R: int, T: int) -> float:
    """The floor: one round's arithmetic over R rows, vectorized over BLOCK rounds, per round."""
    _, thetas, noise = streams(R, min(T, BLOCK), np)
    B = noise.shape[0]
    theta_b = to_backend(np.broadcast_to(thetas[:, None, :], (B, R, D_DIM)).copy(), xp)
    noise_b = to_backend(noise, xp)
    zeros = to_backend(np.zeros((B, R, D_DIM)), xp)
    state = (zeros, zeros, to_backend(np.zeros((B, R, 1)), xp), to_backend(np.zeros((B, R)), xp))
    return best(lambda: to_numpy(floor_block(xp, theta_b, noise_b, state)[3]), repeats=10) / B


def stacked(backend: str, T: int, R: int):
    """Per round of the Huber sigma sweep (7 units x R trials): stacked, per unit, one at a time."""
    p = dict(EXPERIMENT.defaults("quick"), T=T)
    units = [u for u in EXPERIMENT.sweep(p) if u["setting"] == "sigma-sweep-huber"]
    xp = backend_module(backend)

    def envs(trials):
        return [RunEnv(xp, trial_rngs(0, EXPERIMENT.name, u, trials)) for u in units]

    together = best(lambda: runs.run_units(units, p, envs(R)), repeats=2) / T
    per_unit = best(lambda: [runs.run_unit(u, p, e) for u, e in zip(units, envs(R))], repeats=1) / T
    one = [RunEnv(xp, [rng]) for e in envs(R) for rng in e.rngs]
    loop = best(lambda: [runs.run_unit(units[i // R], p, e) for i, e in enumerate(one)], repeats=1,
                warm=False) / T
    return len(units), together, per_unit, loop


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--trials", type=int, default=32)
    args = ap.parse_args(argv)
    xp, T, R = backend_module(args.backend), args.rounds, args.trials

    stream = streams(R, T, xp)[0]
    lock = best(lambda: run(stream, T)) / T
    floor = floor_per_round(xp, R, T)
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

    n, together, per_unit, loop = stacked(args.backend, T, R)
    floor = floor_per_round(xp, n * R, T)
    print()
    print(f"## sea-omd: the Huber sigma sweep, {n} units x R = {R} trials = {n * R} rows, {T} rounds, "
          f"backend {args.backend} (per round of the whole sweep, microseconds, everything included: "
          f"noise, learner, comparators)")
    print("| path | us/round | /floor | per unit / stacked | loop / stacked |")
    print("|---|---|---|---|---|")
    print(f"| stacked: one pass of {n * R} rows (run_units) | {together * 1e6:9.1f} | "
          f"{together / floor:6.1f}x | | |")
    print(f"| floor: arithmetic over {n * R} rows | {floor * 1e6:9.1f} | 1.0x | | |")
    print(f"| per unit: {n} x run_unit, R = {R} lockstep | {per_unit * 1e6:9.1f} | {per_unit / floor:6.1f}x | "
          f"{per_unit / together:6.2f}x | |")
    print(f"| loop: {n * R} one-trial run_unit calls | {loop * 1e6:9.1f} | {loop / floor:6.1f}x | | "
          f"{loop / together:6.1f}x |")


if __name__ == "__main__":
    main()
