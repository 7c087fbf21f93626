"""matrix-sensing run units: symmetric GD (X X^T), asymmetric GD (F G^T) over a grid of
initialization scales in lockstep, the one-step modification, and the cvxpy ground truth.

Every trial has its own instance; R trials run as the leading array axis.  The measured error is
||Z_t - M*||_F^2, the quantity of the paper's theorems.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from algorithms.factorized_gd import asymmetric_gd, symmetric_gd
from experiments.backend import to_numpy
from experiments.base import Trace, series_key
from problems.matrix_sensing import (asymmetric_curvature, asymmetric_instance, balanced_factors,
                                     nuclear_norm_recovery, random_factor, relative_error,
                                     symmetric_curvature, symmetric_instance)

from .config import grid, record_points, singular_values


def run_unit(unit, p, env):
    if unit["method"] == "cvxpy":
        return _under_sampled(p, env)
    if unit["model"] == "symmetric":
        return _symmetric(unit, p, env)
    return _asymmetric(unit, p, env)


def _under_sampled(p, env):
    """cvxpy on an instance with fewer measurements than the dimension of rank-r PSD matrices."""
    A, M, y = symmetric_instance(env.rngs, p["n"], p["m_under"], singular_values(p))
    X, info = _solve_all(A, y, p["n"])
    # one nominal recorded iteration: a trace without any trips the runner's divergence scan
    return Trace(np.zeros(1, dtype=np.int64), {}, None, {"cvx_error": _rel(X, M)}, info)


def _symmetric(unit, p, env):
    n, r, k = p["n"], p["r"], unit["k"]
    iters = p["iters"] if k > r else p["iters_exact"]
    A, M, y = symmetric_instance(env.rngs, n, p["m_sym"], singular_values(p))
    X0 = random_factor(env.rngs, n, k, p["alpha"])
    rec = symmetric_gd(env.asarray(A), env.asarray(y), env.asarray(X0), step=p["step"] * unit["step_factor"],
                       iterations=iters, record=record_points(iters), target=env.asarray(M))
    # the Hessian spectrum is the same at every rotation X* Q of the solution GD reaches
    Xstar, _ = balanced_factors(M, r)
    curvature = symmetric_curvature(env.asarray(A), env.asarray(Xstar))[..., r * (r - 1) // 2]
    scalars, info = {"curvature": curvature}, {}
    if unit["step_factor"] == 1.0:        # the ground truth is read at the configured step only
        X = to_numpy(rec.state["X"])
        Xc, info = _solve_all(A, y, n)
        scalars.update(cvx_error=_rel(Xc, M), gd_vs_cvx=_rel(X @ np.swapaxes(X, -1, -2), Xc))
    return Trace.from_recording(rec, scalars=scalars, info=info)


def _asymmetric(unit, p, env):
    n, r, k = p["n"], p["r"], unit["k"]
    iters = p["iters"] if k > r else p["iters_exact"]
    alphas = grid(unit, p)
    A, M, y = asymmetric_instance(env.rngs, n, n, p["m_asym"], singular_values(p))
    scales = np.asarray(alphas, dtype=float)[None, :, None, None]                  # (1, G, 1, 1)
    F0 = random_factor(env.rngs, n, k, 1.0)[:, None] * scales                      # (R, G, n, k)
    G0 = random_factor(env.rngs, n, k, 1.0)[:, None] * (scales / 3)
    rebalance_at = p["rebalance_at"] if unit["method"] == "rebalanced" else None
    step = p["step"] * unit["step_factor"]
    F0d, G0d = env.asarray(F0), env.asarray(G0)
    rec = asymmetric_gd(env.asarray(A), env.asarray(y), F0d, G0d, step=step, iterations=iters,
                        record=record_points(iters), target=env.asarray(M[:, None]),
                        rebalance_at=rebalance_at, beta=p["beta"])
    F, G = rec.state["F"], rec.state["G"]
    identity = _imbalance_identity_error(F0d, G0d, F, G, rec.state["gradient_gram"], p["step"])
    err = rec.metrics["sq_error"]                                                  # (R, G, T)
    series = {series_key("sq_error", alpha=a): err[:, g] for g, a in enumerate(alphas)}
    scalars = {series_key("imbalance_identity_error", alpha=a): identity[:, g] for g, a in enumerate(alphas)}
    if k == r:      # the Hessian at the solution GD reached (its balance depends on the start)
        lam = asymmetric_curvature(env.asarray(A), F, G)[..., k * k]
        scalars.update({series_key("curvature", alpha=a): lam[:, g] for g, a in enumerate(alphas)})
    else:           # reference for over-parameterized runs: the balanced rank-r solution of M*
        Fs, Gs = balanced_factors(M, r)
        scalars["curvature"] = asymmetric_curvature(env.asarray(A), env.asarray(Fs), env.asarray(Gs))[..., r * r]
    return Trace(np.asarray(rec.iterations, dtype=np.int64), series, rec.calls, scalars, {})


def _imbalance_identity_error(F0, G0, F, G, gram, step):
    """||D_T - D_0 - step^2 W||_F / ||D_T - D_0||_F with D = F^T F - G^T G, per run (R, G).

    ``step`` is the configured step (not whatever the algorithm used): the identity holds exactly
    for simultaneous GD steps of that size."""
    xp = array_namespace(F0, F)

    def imbalance(F, G):
        return xp.matmul(F.mT, F) - xp.matmul(G.mT, G)

    change = imbalance(F, G) - imbalance(F0, G0)

    def norm(Z):
        return xp.sqrt(xp.sum(Z * Z, axis=(-2, -1)))

    return norm(change - step**2 * gram) / norm(change)


def _solve_all(A, y, n):
    sols, statuses, solver = [], set(), None
    for Ai, yi in zip(A, y):
        X, info = nuclear_norm_recovery(Ai, yi, n, n, psd=True)
        sols.append(X)
        statuses.add(info["status"])
        solver = info["solver"]
    return np.stack(sols), {"cvxpy_solver": solver, "cvxpy_status": sorted(statuses)}


def _rel(Z, M):
    return np.asarray(relative_error(Z, M))
