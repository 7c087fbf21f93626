"""Per-round cost of optimistic OMD with R trials in lockstep vs one trial (sea-omd).

Trials are a leading array axis, so R = 64 should cost little more per round than R = 1 (target:
at most 4x).  Prints the per-round times and their ratio; no assertions.
Run: python benchmarks/bench_sea_omd.py [--backend numpy|cupy] [--rounds N]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from algorithms.online import oomd
from experiments.backend import backend_module, to_backend
from problems import sea


def per_round(R: int, T: int, d: int, xp, repeats: int = 3) -> float:
    rngs = [np.random.default_rng(r) for r in range(R)]
    center = np.zeros(d)
    center[0] = 0.5
    thetas = sea.theta_schedule("fixed", T, d, center=center)
    noise = sea.draw_noise(rngs, sea.noise_levels(T, 1.0), d)
    stream = sea.SEAStream("huber", to_backend(thetas, xp), to_backend(noise, xp), 1.0, 0.5)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = oomd(stream, 2.0, 0.5, [T])
        loss = out.metrics["cum_loss"]      # the recording stays on the device: one sync here
        _ = float(np.asarray(loss[0, 0]) if xp is np else loss[0, 0].item())
        best = min(best, (time.perf_counter() - start) / T)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--rounds", type=int, default=5000)
    ap.add_argument("--d", type=int, default=4)
    args = ap.parse_args()
    xp = backend_module(args.backend)
    base = per_round(1, args.rounds, args.d, xp)
    print(f"backend={args.backend} d={args.d} rounds={args.rounds}")
    print(f"R=  1: {base * 1e6:8.1f} us/round")
    for R in (16, 64, 256):
        t = per_round(R, args.rounds, args.d, xp)
        print(f"R={R:3d}: {t * 1e6:8.1f} us/round  ratio vs R=1: {t / base:5.2f}x"
              + ("  (target <= 4x)" if R == 64 else ""))


if __name__ == "__main__":
    main()
