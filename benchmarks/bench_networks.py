"""xor-grokking, softmax-collapse, hessian-spectrum: one step of each small-network hot loop at the
quick configuration against its numeric floor and against a naive loop over trials, all measured
in the same run.

Run: python benchmarks/bench_networks.py [--trials R]   (prints a table; asserts only that floors are right)

R = 32 trials (the quick runs have 8, 4 and 8), each with its own data as the run units build it;
one BLAS thread, as the runner runs units:
- xor-grokking: algorithms.xor_grokking.train_span_gd (GD in span coordinates, n = 100, m = 50,
  ||mu|| = 25, step 0.05; p only enters the one-off Gram matrices: built by the unit's own code
  at p = 1000 with 100 test points);
- softmax-collapse: algorithms.training.adam on algorithms.softmax_collapse.gradient (q = 23,
  46 -> 64 -> 64 -> 23 bias-free ReLU MLP, n = 264, float32, softmax CE), plain and with ⊥Grad;
- hessian-spectrum (d = 10, h = 32, k = 3, n = 240, MSE): gradient_descent and sgd (batch 4) on
  NetworkObjective.gradient; one block of 8 columns of dense_curvature (its R-operator on the
  tiled arrays); one iteration of lanczos_top_k on the Gauss-Newton operator (47 iterations).
Lockstep: the real function over N steps recording only the end, per step.  Floor: the step's
arithmetic on plain arrays (the matmuls, the loss derivative, the update; HVP: the R-operator's
products, forward pass done; Lanczos: one middle iteration), minibatch indices and restart
vectors drawn beforehand, no Recorder or namespace look-ups.  Loop: the same N steps as R
one-trial calls, per step.  Floors take the algorithm's arrangement:
- softmax-collapse: the same 8 Adam steps from the same start (m = v = 0; the end point checked
  against adam's, the gradient against softmax_collapse.gradient's), per step, all trials in one
  block as softmax_collapse.gradient runs them, the weights as views of each step's flat theta,
  layer by layer in networks._forward/_backward's order with their temporaries (s'(Z) a 0/1
  array multiplied in place); less the step's extra work: the target sum multiplying the softmax
  (1, one-hot) and the bias sums of a bias-free net.  Whole runs, not one step called again and
  again: then the temporaries were freed and page-faulted in anew in another order than adam's
  (~2.5x the faults, 0.8x of the lockstep).
- hessian-spectrum GD, HVP and Lanczos: the rows (trials, or tiled trial-columns) in the blocks
  algorithms.networks uses on NumPy (CHUNK_ELEMENTS per (rows, n, h) array: 2 rows here, 16 and
  128 blocks), the gradient without the loss value, temporaries updated in place; HVP and Lanczos:
  A_1, s'(Z_1) and the output delta fixed at theta and cut per block beforehand, as
  curvature_operator does once per theta, so a product is only what depends on V.  Lanczos
  (iteration j = 23 of algorithms.hessian.lanczos): the Gauss-Newton product, alpha, the product
  and the restart vector orthogonalized together against the j + 1 rows of a preallocated
  (R, 47, P) basis by two matmuls, twice, in place; the breakdown test; q_{j+1} into the basis.
With glibc's default malloc, freed temporaries over ~2 MB go back to the OS and are page-faulted
in again on the next step; which side pays more depends on the order of allocations.  Run with
MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=4000000000 to take that out of all three.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from algorithms import softmax_collapse as sc  # noqa: E402
from algorithms.hessian import lanczos_top_k  # noqa: E402
from algorithms.hessian_spectrum import _tile  # noqa: E402
from algorithms.network_objective import NetworkObjective  # noqa: E402
from algorithms.networks import CHUNK_ELEMENTS, Architecture, curvature_operator, init_params  # noqa: E402
from algorithms.training import adam, gradient_descent, sgd  # noqa: E402
from algorithms.xor_grokking import train_span_gd  # noqa: E402
from experiments.base import RunEnv  # noqa: E402
from experiments.xor_grokking.runs import _stack, noise_statistics, span_data  # noqa: E402
from problems.classification import gaussian_mixture, one_hot  # noqa: E402
from problems.modular_arithmetic import modular_addition_split  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402
from timing import RATIO_HEADER, interleaved, ratio_row  # noqa: E402



def rngs(R, seed=0):
    return [np.random.default_rng([seed, r]) for r in range(R)]


def one(A, r):
    return A if r is None else A[r:r + 1]


def mT(A):
    return A.transpose(0, 2, 1)


def xor_floor(d, C, a, step):
    """One span-GD step: pre = X W_0 + K C, f = relu(pre) a, the logistic l', the masked update."""
    pre = d.pre0 + d.gram @ C
    z = d.labels * (np.maximum(pre, 0.0) @ a)
    e = np.exp(-np.abs(z))
    dl = -d.labels * np.where(z >= 0, e, 1.0) / (1.0 + e)
    return C - step * (dl[..., None] * (pre > 0) * (a / pre.shape[1]))


def sc_gradient(X, Y, W):
    """Per-layer gradients [gW_1, gW_2, gW_3] of the bias-free 2-hidden-layer MLP under softmax
    cross-entropy, in the order and with the temporaries of networks._forward and _backward: each
    layer's gradient before its delta goes back, s'(Z) as a 0/1 array multiplied in place."""
    Z1 = X @ W[0]
    A1 = np.maximum(Z1, 0.0)
    Z2 = A1 @ W[1]
    A2 = np.maximum(Z2, 0.0)
    F = A2 @ W[2]
    E = np.exp(F - F.max(-1, keepdims=True))
    D = E / E.sum(-1, keepdims=True)       # softmax; with one-hot Y, l' = p - Y
    D -= Y
    D /= F.shape[-2]
    g3 = mT(A2) @ D
    D = D @ mT(W[2])
    D *= (Z2 > 0).astype(D.dtype)
    g2 = mT(A1) @ D
    D = D @ mT(W[1])
    D *= (Z1 > 0).astype(D.dtype)
    return [mT(X) @ D, g2, g3]


def sc_floor(X, Y, theta, layers, perp, steps, lr=1e-2, b1=0.9, b2=0.99, eps=1e-25):
    """``steps`` Adam steps from theta as algorithms.training.adam takes them (m = v = 0, a new
    theta, m and v per step, the weights as views of the flat theta), with ⊥Grad when ``perp``.
    ``layers``: [(flat slice, fan_in, fan_out)] per layer."""
    R = theta.shape[0]
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for k in range(1, steps + 1):
        W = [theta[:, s].reshape(R, a, b) for s, a, b in layers]
        gs = [g.reshape(R, -1) for g in sc_gradient(X, Y, W)]
        if perp:
            gs = [sc.project_out(g, theta[:, s]) for g, (s, _, _) in zip(gs, layers)]
        g = np.concatenate(gs, axis=-1)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g * g)
        theta = theta - lr * ((m / (1 - b1 ** k)) / (np.sqrt(v / (1 - b2 ** k)) + eps))
    return theta


def mlp_floor(X, Y, W1, b1, W2, b2):
    """Gradient of a d -> h -> k ReLU MLP with biases under MSE, flattened."""
    Z1 = X @ W1 + b1[:, None]
    A1, R = np.maximum(Z1, 0), X.shape[0]
    D = (A1 @ W2 + b2[:, None] - Y) / X.shape[1]
    D1 = (D @ mT(W2)) * (Z1 > 0)
    return np.concatenate([(mT(X) @ D1).reshape(R, -1), D1.sum(1), (mT(A1) @ D).reshape(R, -1), D.sum(1)], -1)


def directions(V, W1, W2):
    """The direction V (R, P) as that MLP's (V_W1, V_b1, V_W2, V_b2)."""
    R, (d, h), k = V.shape[0], W1.shape[1:], W2.shape[2]
    return V[:, :d * h].reshape(R, d, h), V[:, d * h:d * h + h], V[:, d * h + h:-k].reshape(R, h, k), V[:, -k:]


# The arrangement of algorithms.networks on NumPy: rows in blocks (row_blocks), temporaries updated in place.
def grad_block(X, Y, W1, b1, W2, b2):
    """mlp_floor on one block of rows, in place."""
    Z1 = X @ W1
    Z1 += b1[:, None]
    A1 = np.maximum(Z1, 0)
    D = A1 @ W2
    D += b2[:, None]
    D -= Y
    D /= X.shape[1]
    D1 = D @ mT(W2)
    D1 *= Z1 > 0
    R = X.shape[0]
    return np.concatenate([(mT(X) @ D1).reshape(R, -1), D1.sum(1), (mT(A1) @ D).reshape(R, -1), D.sum(1)], -1)


def rop_block(X, W1, W2, A1, d1, D, V, full):
    """The R-operator product (H if ``full``, else Gauss-Newton) of that MLP under MSE on one block
    of rows, in place, the forward pass done (A1, s'(Z_1) = d1 and the output delta D given)."""
    R, n = V.shape[0], X.shape[1]
    VW1, Vb1, VW2, Vb2 = directions(V, W1, W2)
    RA1 = X @ VW1
    RA1 += Vb1[:, None]
    RA1 *= d1
    rD = RA1 @ W2
    rD += A1 @ VW2
    rD += Vb2[:, None]
    rD /= n
    gW2, back = mT(A1) @ rD, rD @ mT(W2)
    if full:
        gW2 += mT(RA1) @ D
        back += D @ mT(VW2)
    back *= d1
    return np.concatenate([(mT(X) @ back).reshape(R, -1), back.sum(1), gW2.reshape(R, -1), rD.sum(1)], -1)


def lanczos_floor(blocks, basis, j, fresh, tol):
    """Iteration j of algorithms.hessian.lanczos: the Gauss-Newton product of q_j = basis[:, j]
    (``blocks``: [(rows, arrays fixed at theta)]), alpha, the product and the restart vector
    ``fresh`` orthogonalized together against basis[:, :j + 1] by two matmuls, twice, the
    breakdown test, q_{j+1} written into the preallocated basis."""
    q = basis[:, j]
    Hq = np.concatenate([rop_block(*arrays, q[rows], False) for rows, arrays in blocks])
    alpha = np.sum(q * Hq, -1)
    C, Q = np.stack([Hq, fresh], axis=1), basis[:, :j + 1]
    for _ in range(2):
        C -= (C @ mT(Q)) @ Q
    beta = np.sqrt(np.sum(C[:, 0] * C[:, 0], -1))
    broken = beta <= tol * np.sqrt(np.sum(Hq * Hq, -1))
    w = np.where(broken[:, None], C[:, 1], C[:, 0])
    basis[:, j + 1] = w / np.sqrt(np.sum(w * w, -1))[:, None]
    return alpha, np.where(broken, 0.0, beta)


def row_blocks(rows, n, width):
    """The trial blocks algorithms.networks runs on NumPy: each (rows, n, width) array within CHUNK_ELEMENTS."""
    size = max(1, CHUNK_ELEMENTS // (n * width))
    return [slice(s, min(s + size, rows)) for s in range(0, rows, size)]


def bench(label, run, R, floor, per, rounds=5, floor_number=3, floor_per=1):
    """run(r): the real function over ``per`` steps on all trials (r=None) or on trial r alone;
    floor(): ``floor_per`` steps on all trials."""
    lock, fl, loop = interleaved([(lambda: run(None), 1), (floor, floor_number), (lambda: [run(r) for r in range(R)], 1)], rounds)
    lock, fl, loop = lock / per, fl / floor_per, loop / per
    print(ratio_row(label, lock, fl, loop), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=32)
    R = ap.parse_args(argv).trials
    malloc = "tuned" if os.environ.get("MALLOC_MMAP_THRESHOLD_") else "default"
    print(f"## small networks: one step at the quick configuration, R = {R} trials, 1 BLAS thread, glibc "
          f"malloc {malloc} (per step, microseconds; floor and loop measured in the same run)")
    print(RATIO_HEADER)
    with threadpool_limits(limits=1):        # as the runner runs units
        _rows(R)
    print("floor: the step's arithmetic on the same arrays in the algorithm's arrangement (no Recorder, no "
          "namespace look-ups); loop: R one-trial calls of the same function.")


def _rows(R):
    p = {"n": 100, "n_test": 100, "p": 1000, "width": 50}
    datas = [span_data(noise_statistics(g, p, {"flip_prob": 0.1, "init_scale": 1e-6}, RunEnv(np, [g])), 25.0) for g in rngs(R)]
    full, C, a = _stack(datas), np.zeros((R, 100, 50)), np.where(np.arange(50) < 25, 1.0, -1.0) / np.sqrt(50)
    span = {r: full if r is None else _stack(datas[r:r + 1]) for r in [None, *range(R)]}
    bench("xor-grokking span GD step (n=100, m=50)", lambda r: train_span_gd(span[r], step=0.05, steps=20, record=[20]), R,
          lambda: xor_floor(full, C, a, 0.05), 20)

    X, Y = (a.astype(np.float32) for a in modular_addition_split(rngs(R), 23, 0.5)[:2])
    arch = Architecture(46, (64, 64), 23, "relu", bias=False)
    th = init_params(arch, rngs(R), scheme="lecun", init_scale=3 ** -0.5).astype(np.float32)
    layers = [(lay.weight, lay.fan_in, lay.fan_out) for lay in arch.layers]
    g = np.concatenate([g.reshape(R, -1) for g in sc_gradient(X, Y, [th[:, s].reshape(R, a, b) for s, a, b in layers])], -1)
    assert np.allclose(g, sc.gradient(arch, th, X, Y, sc.CrossEntropy), rtol=1e-5, atol=1e-7 * abs(g).max()), "floor's gradient"
    for perp in (False, True):
        def run(r, perp=perp):
            return adam(lambda t: sc.gradient(arch, t, one(X, r), one(Y, r), sc.CrossEntropy), one(th, r), lr=1e-2, steps=8,
                        record=[8], betas=(0.9, 0.99), eps=1e-25, transform=sc.perpendicular_gradient(arch) if perp else None)
        end = run(None).state["params"]
        assert np.allclose(sc_floor(X, Y, th, layers, perp, 8), end, rtol=1e-5, atol=1e-7), "floor != adam"
        bench(f"softmax-collapse {'⊥Grad ' if perp else ''}Adam step (q=23, f32)", run, R,
              lambda perp=perp: sc_floor(X, Y, th, layers, perp, 8), 8, floor_number=1, floor_per=8)

    Xh, labels = gaussian_mixture(rngs(R), 240, 10, 3, 4.0, 0.4)
    Yh, arch = one_hot(labels, 3, Xh.dtype), Architecture(10, (32,), 3, "relu")
    th = init_params(arch, rngs(R, 1), scheme="lecun")
    objs = {r: NetworkObjective(arch, one(Xh, r), one(Yh, r), "mse") for r in [None, *range(R)]}
    (W1, b1), (W2, b2) = ((np.ascontiguousarray(W), b) for W, b in arch.views(th))
    Z1 = Xh @ W1 + b1[:, None]
    A1, d1 = np.maximum(Z1, 0), (Z1 > 0).astype(Xh.dtype)
    D = (A1 @ W2 + b2[:, None] - Yh) / Xh.shape[1]
    blocks = row_blocks(R, Xh.shape[1], max(arch.widths))
    bench("hessian-spectrum GD step (d=10, h=32, k=3, n=240)", lambda r: gradient_descent(
        objs[r].gradient, one(th, r), lr=0.1, steps=20, record=[20]), R, lambda: th - 0.1 * np.concatenate(
            [grad_block(Xh[b], Yh[b], W1[b], b1[b], W2[b], b2[b]) for b in blocks]), 20)
    idx = np.random.default_rng(3).integers(0, 240, (R, 4, 1))
    bench("hessian-spectrum SGD step (batch 4)", lambda r: sgd(
        objs[r].gradient, one(th, r), n=240, batch=4, lr=0.05, steps=200, record=[200], rngs=rngs(R if r is None else 1, 2)), R,
        lambda: th - 0.05 * mlp_floor(np.take_along_axis(Xh, idx, 1), np.take_along_axis(Yh, idx, 1), W1, b1, W2, b2), 200)

    V = np.repeat(np.eye(arch.n_params)[None, :8], R, axis=0).reshape(R * 8, -1)
    applies = {r: curvature_operator(arch, _tile(one(th, r), 8), _tile(one(Xh, r), 8), _tile(one(Yh, r), 8), "mse", "full")
               for r in [None, *range(R)]}        # what dense_curvature applies to each block
    tiled = [_tile(a, 8) for a in (Xh, W1, W2, A1, d1, D)]     # fixed at theta: per block, once
    per_block = [(b, [a[b] for a in tiled]) for b in row_blocks(R * 8, Xh.shape[1], max(arch.widths))]
    bench(f"hessian-spectrum HVP block of 8 columns (P={arch.n_params})", lambda r: applies[r](V if r is None else V[:8]), R,
          lambda: np.concatenate([rop_block(*t, V[b], True) for b, t in per_block]), 1, 6)
    P, j = arch.n_params, 23                # the middle of 47 iterations
    basis = np.zeros((R, 47, P))
    basis[:, :j + 1] = mT(np.linalg.qr(np.random.default_rng(4).standard_normal((R, P, j + 1)))[0])
    gn_blocks = [(b, [a[b] for a in (Xh, W1, W2, A1, d1, D)]) for b in blocks]
    fresh = np.random.default_rng(5).standard_normal((R, 16, P))[:, j % 16]     # drawn beforehand
    tol = 10 * np.sqrt(P) * np.finfo(th.dtype).eps
    gn = np.concatenate([rop_block(*arrays, basis[b, j], False) for b, arrays in gn_blocks])
    assert np.allclose(gn, curvature_operator(arch, th, Xh, Yh, "mse", "gauss_newton")(basis[:, j])), "floor's GN product"
    bench("hessian-spectrum Lanczos iteration (GN, 47 its)", lambda r: lanczos_top_k(
        curvature_operator(arch, one(th, r), one(Xh, r), one(Yh, r), "mse", "gauss_newton"), one(th, r), 9,
        rngs(R if r is None else 1, 5), iterations=47), R, lambda: lanczos_floor(gn_blocks, basis, j, fresh, tol), 47, 4, 10)


if __name__ == "__main__":
    main()
