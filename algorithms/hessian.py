"""Spectral tools for Hessians known only through products, batched over trials.

Every tool takes ``hvp``: V (R, P) -> H V (R, P), one symmetric P x P matrix per trial (e.g.
NetworkObjective.hvp(theta)), an array ``like`` (R, P) fixing namespace, dtype and device, and
one numpy Generator per trial (``rngs``) for its random vectors, drawn on the host.  The tools
are checked against the dense spectrum (tests/test_hessian_tools.py).
- lanczos_top_k: largest Ritz values by Lanczos with full reorthogonalization;
- hutchinson_trace: tr H ~ mean of z^T H z over Rademacher probes z, with its standard error;
- slq / slq_density: stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017; Ghorbani et al.
  2019) for the spectral density (1/P) sum_i delta(t - lambda_i);
- dense_hessian: H from P products with the unit vectors (small P only).
Array-API generic.
"""
from __future__ import annotations

import math

from array_api_compat import array_namespace, device as array_device


def _host_vectors(rngs, like, kind: str):
    """One random vector per trial, (R, P): standard normal or Rademacher (+-1)."""
    xp = array_namespace(like)
    P = like.shape[-1]
    rows = []
    for rng in rngs:
        v = rng.standard_normal(P) if kind == "normal" else 2.0 * rng.integers(0, 2, P) - 1.0
        rows.append(xp.asarray(v, dtype=like.dtype, device=array_device(like)))
    return xp.stack(rows, axis=0)


def _norm(v):
    xp = array_namespace(v)
    return xp.sqrt(xp.sum(v * v, axis=-1))


def _host_normal_rows(rngs, like, count: int):
    """``count`` standard normal vectors per trial, (R, count, P), one host call per trial: the
    same numbers, in the same order, as ``count`` calls of _host_vectors(rngs, like, "normal")."""
    xp = array_namespace(like)
    rows = [xp.asarray(rng.standard_normal((count, like.shape[-1])), dtype=like.dtype,
                       device=array_device(like)) for rng in rngs]
    return xp.stack(rows, axis=0)


def _orthogonalize(Q, W):
    """The rows of W (R, c, P) minus their projections on the rows of Q (R, j, P), twice ("twice
    is enough"); Q^T (Q w) by two matmuls, never an (R, j, P) temporary."""
    for _ in range(2):
        W = W - (W @ Q.mT) @ Q
    return W


# Lanczos draws its restart vectors this many iterations at a time (one host call per trial)
RESTART_BLOCK = 16


def lanczos(hvp, start, iterations: int, rngs):
    """Lanczos tridiagonalization with full reorthogonalization from ``start`` (R, P).

    q_1 = start/|start|;  w = H q_j - beta_{j-1} q_{j-1} - alpha_j q_j (alpha_j = q_j^T H q_j),
    reorthogonalized against all q's;  beta_j = |w|,  q_{j+1} = w / beta_j.  When beta_j falls to
    rounding level (the Krylov space is invariant, e.g. a low-rank Hessian), the trial restarts
    from a fresh random vector orthogonal to the q's and beta_j = 0 decouples the new block, so
    the Ritz values stay exact and the quadrature weights of the new block vanish.  A fresh
    vector is drawn for every trial and iteration (whether used or not: the random stream does
    not depend on breakdowns), RESTART_BLOCK iterations at a time, and orthogonalized together
    with w.  The q's fill a preallocated (R, m, P) array.
    Returns (alpha (R, m), beta (R, m - 1)) with m = min(iterations, P).
    """
    xp = array_namespace(start)
    R, P = start.shape
    m = min(int(iterations), P)
    tol = 10.0 * math.sqrt(P) * xp.finfo(start.dtype).eps
    q = start / _norm(start)[:, None]
    Q = xp.zeros((R, m, P), dtype=start.dtype, device=array_device(start))
    Q[:, 0, :] = q
    alphas, betas = [], []
    for j in range(m):
        Hq = hvp(q)
        alpha = xp.sum(q * Hq, axis=-1)
        alphas.append(alpha)
        if j == m - 1:
            break
        if j % RESTART_BLOCK == 0:
            restarts = _host_normal_rows(rngs, start, min(RESTART_BLOCK, m - 1 - j))
        candidates = xp.stack([Hq, restarts[:, j % RESTART_BLOCK, :]], axis=1)
        candidates = _orthogonalize(Q[:, :j + 1, :], candidates)   # one pass over Q for both
        w, fresh = candidates[:, 0, :], candidates[:, 1, :]
        beta = _norm(w)
        broken = beta <= tol * _norm(Hq)
        w = xp.where(broken[:, None], fresh, w)
        q = w / _norm(w)[:, None]
        betas.append(xp.where(broken, 0.0, beta))
        Q[:, j + 1, :] = q
    alpha = xp.stack(alphas, axis=-1)
    beta = xp.stack(betas, axis=-1) if betas else alpha[:, :0]
    return alpha, beta


def tridiagonal_eigh(alpha, beta):
    """Eigen-decomposition of the symmetric tridiagonal T (diag alpha, off-diagonal beta):
    (eigenvalues (R, m) ascending, eigenvectors (R, m, m) as columns)."""
    xp = array_namespace(alpha, beta)
    m = alpha.shape[-1]
    dev = array_device(alpha)
    T = alpha[:, None, :] * xp.eye(m, dtype=alpha.dtype, device=dev)
    if m > 1:
        padded = xp.concat([beta, xp.zeros_like(alpha[:, :1])], axis=-1)
        upper = padded[:, :, None] * xp.eye(m, k=1, dtype=alpha.dtype, device=dev)
        T = T + upper + upper.mT
    return xp.linalg.eigh(T)


def lanczos_top_k(hvp, like, k: int, rngs, *, iterations: int | None = None):
    """The k algebraically largest Ritz values per trial, descending: (R, k).

    Top eigenvalues converge first; ``iterations`` defaults to min(P, max(3k, 30)).  With
    iterations = P the Ritz values are the whole spectrum.
    """
    xp = array_namespace(like)
    P = like.shape[-1]
    iterations = min(P, max(3 * k, 30)) if iterations is None else iterations
    alpha, beta = lanczos(hvp, _host_vectors(rngs, like, "normal"), iterations, rngs)
    values = tridiagonal_eigh(alpha, beta)[0]
    return xp.flip(values, axis=-1)[:, :k]


def hutchinson_trace(hvp, like, rngs, probes: int):
    """Hutchinson's estimator of tr H: mean over Rademacher probes z of z^T H z.

    Unbiased; its variance is 2 sum_{i != j} H_ij^2 per probe (zero for a diagonal H).
    Returns (estimate (R,), standard error (R,)) with the sample standard deviation / sqrt(probes).
    """
    xp = array_namespace(like)
    samples = []
    for _ in range(probes):
        z = _host_vectors(rngs, like, "rademacher")
        samples.append(xp.sum(z * hvp(z), axis=-1))
    s = xp.stack(samples, axis=-1)
    if probes < 2:
        return s[:, 0], xp.full_like(s[:, 0], float("inf"))
    return xp.mean(s, axis=-1), xp.std(s, axis=-1, correction=1) / math.sqrt(probes)


def slq(hvp, like, rngs, probes: int, iterations: int):
    """Stochastic Lanczos quadrature: per probe v (Rademacher, so |v|^2 = P), the Gauss rule
    (nodes theta_j, weights tau_j) of the measure sum_i (u_i^T v)^2/|v|^2 delta(t - lambda_i):
    theta_j = Ritz values of m Lanczos steps from v, tau_j = (first component of the j-th
    eigenvector of T)^2.  sum_j tau_j = 1 and sum_j tau_j theta_j^p = v^T H^p v / P for p < 2m;
    averaged over probes this estimates the moments of the spectral density (1/P) sum_i delta.
    Returns (nodes (R, probes, m), weights (R, probes, m)).
    """
    xp = array_namespace(like)
    nodes, weights = [], []
    for _ in range(probes):
        alpha, beta = lanczos(hvp, _host_vectors(rngs, like, "rademacher"), iterations, rngs)
        theta, U = tridiagonal_eigh(alpha, beta)
        nodes.append(theta)
        weights.append(U[:, 0, :] ** 2)
    return xp.stack(nodes, axis=1), xp.stack(weights, axis=1)


def slq_density(nodes, weights, grid, sigma: float):
    """Gaussian-smoothed SLQ density on ``grid`` (G,): (R, G),
    phi(t) = mean over probes of sum_j tau_j N(t; theta_j, sigma^2)."""
    xp = array_namespace(nodes, weights, grid)
    diff = grid[None, None, None, :] - nodes[..., None]            # (R, probes, m, G)
    kernel = xp.exp(-0.5 * (diff / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi))
    return xp.mean(xp.sum(weights[..., None] * kernel, axis=-2), axis=1)


def dense_hessian(hvp, like):
    """H (R, P, P) from the P products H e_i (column i); for small P (tests, quick configs)."""
    xp = array_namespace(like)
    R, P = like.shape
    eye = xp.eye(P, dtype=like.dtype, device=array_device(like))
    cols = [hvp(xp.broadcast_to(eye[i:i + 1, :], (R, P))) for i in range(P)]
    return xp.stack(cols, axis=-1)
