"""robust-recovery run units: SubGM (and the ℓ2 GD / cvxpy baselines) on one unit's data, R trials
in lockstep (in cache-sized trial blocks, see algorithms.subgradient); an alpha sweep runs its
scales together as a group axis."""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from algorithms.subgradient import l2_gradient_descent, subgradient_method
from experiments.base import Trace, series_key
from problems.robust_recovery import initial_factor, l1_estimator, make_instances

from .config import RECORD_EVERY


def _data(unit, p):
    """(d, m, noise model, noise scale) of a unit."""
    g = unit["group"]
    if g == "samples":
        return unit["d"], unit["m"], "outlier", p["outlier_scale"]
    if g == "gaussian":
        return p["d"], p["m_gauss"], "gaussian" if unit["sigma"] > 0 else "none", unit["sigma"]
    m = p["m_alpha"] if g == "alpha" else p["m_robust"]
    return p["d"], m, "outlier", p["outlier_scale"]


def _step(unit, p):
    """(eta0, rho, alpha) of the unit's SubGM run (alpha=None: the alpha grid)."""
    g = unit["group"]
    if g == "constant":
        return p["eta_const"], 1.0, p["alpha_exact"]
    if g == "decay":
        return p["eta0"], p["rho_wrong"], p["alpha_exact"]
    if g == "outliers":
        return p["eta0"], p["rho"], p["alpha_exact"]
    if g == "samples":
        alpha = p["alpha_control"] if unit["variant"] == "over-control" else p["alpha_samples"]
        return p["eta0"], p["rho_samples"], alpha
    if g == "alpha":
        return p["eta0"], p["rho"], None
    return p["eta0"], p["rho"], p["alpha_small"]


def run_unit(unit, p, env):
    g = unit["group"]
    d, m, model, scale = _data(unit, p)
    A_h, X_h, y_h = make_instances(env.rngs, d, p["r"], m, model, unit["p"], scale)
    B_h = initial_factor(env.rngs, d, unit["k"])
    A, X, y, B = (env.asarray(a) for a in (A_h, X_h, y_h, B_h))
    T = p["iterations_samples"] if g == "samples" else p["iterations"]
    record = range(0, T + 1, RECORD_EVERY)
    eta0, rho, alpha = _step(unit, p)
    series, scalars, info = {}, {}, {}

    def subgm(U0):
        return subgradient_method(A, y, U0, X, eta0=eta0, rho=rho, iterations=T, record=record)

    if alpha is None:
        # the scales as a group axis (R, G, d, k): each step applies A once to all of them
        xp = array_namespace(B)
        rec = subgm(xp.stack([a * B for a in p["alphas"]], axis=1))
        for j, a in enumerate(p["alphas"]):
            error = rec.metrics["error"][:, j, :]
            series[series_key("error", alpha=a)] = error
            scalars[series_key("final_error", alpha=a)] = error[:, -1]
    else:
        rec = subgm(alpha * B)
        series["error"] = rec.metrics["error"]
        scalars["final_error"] = rec.metrics["error"][:, -1]
    if g == "outliers":
        l2 = l2_gradient_descent(A, y, p["alpha_exact"] * B, X, eta=p["eta_l2"], iterations=T, record=record)
        series["error_l2"] = l2.metrics["error"]
        scalars["final_error_l2"] = l2.metrics["error"][:, -1]
    if g in ("outliers", "gaussian"):
        scalars.update(_cvx_errors(A_h, X_h, y_h, d, unit, p, info))
    return Trace(np.asarray(rec.iterations), series, rec.calls, scalars, info)


def _cvx_errors(A_h, X_h, y_h, d, unit, p, info):
    """Errors of the convex ℓ1 estimator (and, under Gaussian noise, of its trace-penalized
    variant) per trial; the solver and statuses go into ``info``."""
    weights = [0.0] + ([p["trace_weight"]] if unit["group"] == "gaussian" and p["trace_weight"] > 0 else [])
    out, statuses = {}, set()
    for w in weights:
        errs = []
        for i in range(A_h.shape[0]):
            Xc, solved = l1_estimator(A_h[i], y_h[i], d, trace_weight=w)
            statuses.add(solved["status"])
            errs.append(np.linalg.norm(Xc - X_h[i]))
        out["error_cvx" if w == 0 else "error_cvx_trace"] = np.array(errs)
    info.update(cvxpy_solver=solved["solver"], cvxpy_status=sorted(statuses))
    return out
