"""Robust low-rank PSD recovery from Gaussian measurements with outlier or Gaussian noise.

Model (Ma & Fattahi, JMLR 2023): y = A(X*) + s with X* (d x d, PSD, rank r), A(X)_i = <A_i, X>
for i.i.d. N(0, 1) matrices A_i, and noise s that is either

- ``outlier``: s_i ~ N(0, scale^2) with probability p, else 0 (sparse, grossly large), or
- ``gaussian``: s_i ~ N(0, scale^2) with probability p, else 0, with a small scale and p close
  to 1 (dense noise, the paper's Gaussian noise model).

Both models draw the same way; they differ in the size of p and scale.  The data are made on the
host with one NumPy Generator per trial; the ℓ1 loss and the relative error are array-API
generic; the convex ℓ1 estimators (cvxpy) run per trial on NumPy arrays.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from .cvx import solve
from .sensing import gaussian_sensing, low_rank_psd, measure

NOISE_MODELS = ("none", "outlier", "gaussian")


def ground_truth(rng, d: int, r: int, condition: float = 2.0) -> np.ndarray:
    """A d x d PSD rank-r X* with eigenvalues spread over [1/condition, 1], scaled to ||X*||_F = 1
    (so absolute and relative Frobenius errors coincide)."""
    eig = np.geomspace(1.0, 1.0 / condition, r)
    x = low_rank_psd(rng, d, eig)
    return x / np.linalg.norm(x)


def noise(rng, m: int, model: str, p: float, scale: float) -> np.ndarray:
    """The corruption vector s (m,): each entry N(0, scale^2) with probability p, else 0."""
    if model not in NOISE_MODELS:
        raise ValueError(f"noise model {model!r} is not one of {NOISE_MODELS}")
    if model == "none" or p == 0:
        return np.zeros(m)
    hit = rng.random(m) < p
    return np.where(hit, scale * rng.standard_normal(m), 0.0)


def make_instances(rngs, d: int, r: int, m: int, model: str, p: float, scale: float):
    """Per-trial (A, X*, y) stacked along a leading trial axis, host side (NumPy).

    A: (R, m, d*d) Gaussian sensing matrices; X*: (R, d, d); y: (R, m).  The draws are made in a
    fixed order per trial so that a unit's data depend only on its own stream.
    """
    A = gaussian_sensing(rngs, m, d)
    xs = np.stack([ground_truth(rng, d, r) for rng in rngs])
    s = np.stack([noise(rng, m, model, p, scale) for rng in rngs])
    y = measure(A, xs) + s
    return A, xs, y


def initial_factor(rngs, d: int, rank: int) -> np.ndarray:
    """The direction B of the small initialization U0 = alpha * B: a Gaussian d x rank matrix
    scaled to ||B||_F = 1 (so ||U0 U0^T||_F <= alpha^2), one per trial."""
    bs = []
    for rng in rngs:
        b = rng.standard_normal((d, rank))
        bs.append(b / np.linalg.norm(b))
    return np.stack(bs)


def l1_loss(A, y, X):
    """(1/m) ||y - A(X)||_1 per trial: (R,)."""
    xp = array_namespace(A, y, X)
    return xp.mean(xp.abs(y - measure(A, X)), axis=-1)


def relative_error(X, X_star):
    """||X - X*||_F / ||X*||_F per trial: (R,)."""
    xp = array_namespace(X, X_star)
    diff = xp.sqrt(xp.sum((X - X_star) ** 2, axis=(-2, -1)))
    return diff / xp.sqrt(xp.sum(X_star**2, axis=(-2, -1)))


# ---- cvxpy ground truth (NumPy side, one trial at a time) -----------------------------------
def l1_estimator(A: np.ndarray, y: np.ndarray, d: int, trace_weight: float = 0.0):
    """The convex ℓ1 estimator: argmin over PSD X of (1/m)||A(X) - y||_1 + trace_weight tr(X).

    A: (m, d*d) for one trial, y: (m,).  With trace_weight = 0 this is the global minimizer of the
    fully over-parameterized loss f(U) with U in R^{d x d} (every PSD X is some U U^T).
    Returns (X, info) with the solver used and its status.
    """
    import cvxpy as cp

    m = A.shape[0]
    X = cp.Variable((d, d), PSD=True)
    residual = A @ cp.vec(X, order="C") - y
    objective = cp.norm1(residual) / m
    if trace_weight:
        objective = objective + trace_weight * cp.trace(X)
    _, info = solve(cp.Problem(cp.Minimize(objective)))
    value = X.value if X.value is not None else np.full((d, d), np.nan)
    return (value + value.T) / 2, info
