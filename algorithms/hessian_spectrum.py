"""Exact Hessian spectra of small networks (hessian-spectrum: Sagun et al. 2017/2018), batched.

The experiment needs the whole spectrum of H (and of its Gauss-Newton part) at P up to ~2000,
so the dense matrix is built from exact R-operator products (algorithms.networks), ``block``
unit vectors at a time: the network and its data are repeated ``block`` times along the trial
axis, so one batched product gives ``block`` columns per trial (instead of P separate calls as
algorithms.hessian.dense_hessian does).  Array-API generic.
"""
from __future__ import annotations

from array_api_compat import array_namespace, device as array_device

from algorithms.networks import curvature_operator


def _tile(A, block: int):
    """(R, ...) -> (R * block, ...): each trial's slice repeated ``block`` times, trial-major."""
    xp = array_namespace(A)
    R, rest = A.shape[0], A.shape[1:]
    return xp.reshape(xp.broadcast_to(A[:, None, ...], (R, block, *rest)), (R * block, *rest))


def dense_curvature(objective, theta, *, part: str = "full", block: int = 8,
                    operator=curvature_operator):
    """The P x P curvature matrix per trial, (R, P, P), symmetrized: H (``part="full"``), its
    Gauss-Newton part or its residual part, column j = (operator) e_j, exact up to rounding.

    ``objective``: an algorithms.network_objective.NetworkObjective; data per trial
    (X (R, n, d)) or shared, tiled with theta.  ``operator(arch, theta, X, Y, loss, part)`` makes
    the product (algorithms.networks.curvature_operator by default).
    """
    xp = array_namespace(theta)
    R, P = theta.shape
    block = max(1, min(int(block), P))
    per_trial_x = objective.X.ndim == 3
    y_rank = 1 if objective.loss == "logistic" else 2
    X = _tile(objective.X, block) if per_trial_x else objective.X
    Y = _tile(objective.Y, block) if objective.Y.ndim == y_rank + 1 else objective.Y
    apply = operator(objective.arch, _tile(theta, block), X, Y, objective.loss, part)
    eye = xp.eye(P, dtype=theta.dtype, device=array_device(theta))
    columns = []
    for start in range(0, P, block):
        stop = min(start + block, P)
        basis = eye[start:stop, :]
        if stop - start < block:        # pad the last block with zero directions
            pad = xp.zeros((block - (stop - start), P), dtype=theta.dtype, device=array_device(theta))
            basis = xp.concat([basis, pad], axis=0)
        directions = xp.reshape(xp.broadcast_to(basis[None, ...], (R, block, P)), (R * block, P))
        out = xp.reshape(apply(directions), (R, block, P))
        columns.append(out[:, :stop - start, :])
    H = xp.concat(columns, axis=1)               # rows are (H e_j)^T = columns of H
    return 0.5 * (H + H.mT)


def spectrum(objective, theta, *, part: str = "full", block: int = 8, operator=curvature_operator):
    """All eigenvalues per trial, descending: (R, P); NaN for a trial whose matrix is not finite
    (a diverged run), so one bad trial neither crashes the solver nor hides among the others."""
    xp = array_namespace(theta)
    H = dense_curvature(objective, theta, part=part, block=block, operator=operator)
    finite = xp.all(xp.isfinite(xp.reshape(H, (H.shape[0], -1))), axis=-1)
    values = xp.linalg.eigvalsh(xp.where(finite[:, None, None], H, 0.0))
    return xp.where(finite[:, None], xp.flip(values, axis=-1), float("nan"))


def near_zero_fraction(eigenvalues, band: float):
    """Fraction of eigenvalues with |lambda| <= band * lambda_max, per trial: (R,)."""
    xp = array_namespace(eigenvalues)
    top = xp.max(eigenvalues, axis=-1, keepdims=True)
    inside = xp.abs(eigenvalues) <= band * top
    return xp.mean(xp.astype(inside, eigenvalues.dtype), axis=-1)
