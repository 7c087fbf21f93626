"""The small-network hot paths on NumPy and CuPy: gradient and Hessian-vector product of an MLP,
R trials in lockstep.

Run: python benchmarks/bench_gpu.py   (prints a table; asserts nothing; CuPy rows only with a GPU)

Per backend and trial count R, per call:
- the floor: the matrix products one call is made of (forward X W1, H W2; backward dF W2^T,
  X^T dZ1, H^T dF), timed alone in the same run on the same arrays;
- the gradient (backpropagation) and the exact HVP (R-operator), as ratios to that floor;
- lockstep: R trials in one call against R separate calls of one trial (the plain loop).
GPU timings synchronize the device before reading the clock.
"""
from __future__ import annotations

import importlib
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from algorithms.networks import Architecture, curvature_operator, gradient, init_params  # noqa: E402

D, WIDTH, K, N = 64, 256, 10, 2048


def _sync(xp):
    if xp.__name__.startswith("cupy"):
        xp.cuda.Device().synchronize()


def best_time(xp, fn, repeat=7, number=3) -> float:
    fn()
    _sync(xp)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        _sync(xp)
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def setup(xp, R, seed=0):
    rng = np.random.default_rng(seed)
    arch = Architecture(D, (WIDTH,), d_out=K, activation="relu", bias=True)
    theta = xp.asarray(init_params(arch, [np.random.default_rng([seed, r]) for r in range(R)]))
    X = xp.asarray(rng.standard_normal((N, D)))
    Y = xp.asarray(np.eye(K)[rng.integers(0, K, N)])
    V = xp.asarray(rng.standard_normal(theta.shape))
    return arch, theta, X, Y, V


def floor(xp, R):
    rng = np.random.default_rng(1)
    X = xp.asarray(rng.standard_normal((N, D)))
    W1 = xp.asarray(rng.standard_normal((R, D, WIDTH)))
    W2 = xp.asarray(rng.standard_normal((R, WIDTH, K)))
    H = xp.asarray(rng.standard_normal((R, N, WIDTH)))
    dF = xp.asarray(rng.standard_normal((R, N, K)))

    def products():
        xp.matmul(X, W1)
        xp.matmul(H, W2)
        xp.matmul(dF, xp.matrix_transpose(W2))
        xp.matmul(xp.matrix_transpose(X), H)
        xp.matmul(xp.matrix_transpose(H), dF)

    return best_time(xp, products)


def rows(xp, R):
    arch, theta, X, Y, V = setup(xp, R)
    f = floor(xp, R)
    g = best_time(xp, lambda: gradient(arch, theta, X, Y, "cross_entropy"))
    hvp = curvature_operator(arch, theta, X, Y, "cross_entropy")
    h = best_time(xp, lambda: hvp(V))
    return f, g, h


def loop_time(xp, R):
    """R separate one-trial gradient calls (the naive loop over trials)."""
    arch, theta, X, Y, _ = setup(xp, R)
    singles = [theta[r:r + 1, :] for r in range(R)]
    return best_time(xp, lambda: [gradient(arch, t, X, Y, "cross_entropy") for t in singles], repeat=3, number=1)


def main():
    backends = [np]
    try:
        cp = importlib.import_module("cupy")
        cp.cuda.runtime.getDeviceCount()
        backends.append(cp)
        print(f"GPU: {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
    except Exception:
        print("no CuPy / CUDA device: NumPy rows only")
    print(f"MLP {D}-{WIDTH}-{K}, n={N}, float64, cross-entropy; times per call")
    print(f"{'backend':8} {'R':>4} {'floor ms':>9} {'grad ms':>9} {'grad/floor':>10} {'hvp ms':>9} "
          f"{'hvp/floor':>9} {'loop/lockstep':>13}")
    for xp in backends:
        for R in ((1, 8) if xp is np else (1, 16, 64, 256)):
            f, g, h = rows(xp, R)
            lock = f"{loop_time(xp, R) / g:13.1f}" if R > 1 else f"{'-':>13}"
            print(f"{xp.__name__:8} {R:4d} {f * 1e3:9.3f} {g * 1e3:9.3f} {g / f:10.2f} {h * 1e3:9.3f} "
                  f"{h / f:9.2f} {lock}")


if __name__ == "__main__":
    main()
