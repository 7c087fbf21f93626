"""matrix-sensing: parameters (quick and full), constants, the sweep and its constraints."""
from __future__ import annotations

import numpy as np

from experiments.params import Param, require
from problems.matrix_sensing import recovery_dof

SOURCE = "Xiong, Ding, Du (ICLR 2024)"
# Squared Frobenius error below which a run is at the round-off floor (relative 1e-11 in
# Frobenius norm, well above the ~1e-15 at which float64 iterates stall): fits end before it.
FLOOR = 1e-22

PARAMS = {
    "n": Param(20, 24, "matrix size (n x n)", low=2),
    "r": Param(2, 3, "rank of M*", low=1),
    "sv_min": Param(0.7, 0.6, "smallest singular value of M* (they run linearly from 1 down to it)",
                    low=0, high=1, open_low=True),
    "k": Param(3, 4, "over-parameterized width of the factors (k > r; r + 1 sits at the edge)", low=1),
    "m_sym": Param(120, 220, "measurements, symmetric setting", low=1),
    "m_asym": Param(240, 350, "measurements, asymmetric setting", low=1),
    "m_under": Param(38, 68, "measurements of the under-sampled control instance (just below r(2n-r+1)/2)",
                     low=1),
    "step": Param(0.2, 0.2, "GD step size", low=0, high=0.5, open_low=True),
    "step_control": Param(1.1, 1.1, "step multiplier of the near-edge control run (a 10% step error)",
                          low=1, open_low=True),
    "iters": Param(3000, 5000, "GD iterations (over-parameterized runs)", low=10),
    "iters_exact": Param(800, 1000, "GD iterations (exact-parameterized runs, k = r)", low=10),
    "alpha": Param(0.05, 0.05, "initialization scale of the symmetric runs", low=0, open_low=True),
    "alphas": Param((0.14, 0.2, 0.28, 0.4, 0.56), (0.14, 0.2, 0.28, 0.4, 0.56),
                    "initialization scales of the asymmetric alpha^2 sweep", low=0, high=1, open_low=True),
    "alphas_modified": Param((0.05, 0.1, 0.2, 0.4), (0.05, 0.1, 0.2, 0.4),
                             "initialization scales for the one-step modification", low=0, high=1, open_low=True),
    "beta": Param(0.5, 0.5, "scale of F after the rebalancing step", low=0, high=1, open_low=True),
    "rebalance_at": Param(300, 300, "iteration of the one-step modification", low=1),
}
# 16 trials: a near-degenerate pair of Hessian modes leaves an occasional trial ~10% off the
# local rate; with 8 trials one such trial widens the Student-t interval past the tolerance
TRIALS = {"quick": 16, "full": 16}

METRICS = {
    "sq_error": "||Z_t - M*||_F^2, Z = X X^T or F G^T [squared matrix units]",
    "curvature": "smallest nonzero eigenvalue of the loss Hessian at the rank-r solution (k = r: the one GD "
                 "reached; k > r: the balanced rank-r factors of M*) [1 / (step x iteration)]",
    "imbalance_identity_error": "||D_T - D_0 - step^2 W_T||_F / ||D_T - D_0||_F, D = F^T F - G^T G, W the summed "
                                "gradient Gram difference [relative]",
    "cvx_error": "||X_cvx - M*||_F / ||M*||_F [relative]",
    "gd_vs_cvx": "||X_T X_T^T - X_cvx||_F / ||X_cvx||_F [relative]",
}


def singular_values(p) -> np.ndarray:
    return np.linspace(1.0, p["sv_min"], p["r"])


def grid(unit, p) -> list[float]:
    """The initialization scales an asymmetric unit runs in lockstep (a series label, not a key)."""
    if unit["grid"] == "alphas":
        return sorted(p["alphas"])
    if unit["grid"] == "modified":
        return sorted(p["alphas_modified"])
    return sorted(set(p["alphas"]) | set(p["alphas_modified"]))


def sweep(p) -> list[dict]:
    r, k = p["r"], p["k"]

    def sym(setting, kk, factor=1.0):
        return {"setting": setting, "model": "symmetric", "method": "gd", "k": kk, "step_factor": factor,
                "grid": None}

    def asym(setting, method, kk, which):
        return {"setting": setting, "model": "asymmetric", "method": method, "k": kk, "step_factor": 1.0,
                "grid": which}

    return [
        sym("symmetric k=r", r),
        sym(f"symmetric k=r step x{p['step_control']:g}", r, p["step_control"]),
        sym(f"symmetric k={k}", k),
        # every alpha of a grid runs on the same instance and the same (scaled) initial directions:
        # the dependence of the rate on alpha is then not blurred by the instance
        asym("asymmetric k=r", "gd", r, "alphas"),
        asym(f"asymmetric k={k}", "gd", k, "union"),
        asym(f"modified k={k}", "rebalanced", k, "modified"),
        # the identity claim's control: cheap (k = r, short run), so that mutants rerun little
        asym("modified k=r", "rebalanced", r, "alphas"),
        {"setting": f"nuclear norm m={p['m_under']}", "model": "symmetric", "method": "cvxpy", "k": None,
         "step_factor": None, "grid": None},
    ]


def record_points(iters: int) -> np.ndarray:
    """About 400 recorded iterations: evenly spaced (semilog fits) plus log-spaced (log-log)."""
    lin = np.linspace(1, iters, 300)
    log = np.geomspace(1, iters, 100)
    return np.unique(np.round(np.concatenate([lin, log])).astype(np.int64))


def check_params(p) -> None:
    n, r = p["n"], p["r"]
    require(r < n, f"r={r} is out of range: needs r < n (={n})")
    require(p["k"] > r, f"k={p['k']} is out of range: needs k > r (={r}) (the over-parameterized width)")
    require(p["k"] <= n, f"k={p['k']} is out of range: needs k <= n (={n})")
    sym_dim = n * (n + 1) // 2
    require(p["m_sym"] < sym_dim, f"m_sym={p['m_sym']} is out of range: needs m_sym < n(n+1)/2 (={sym_dim}); "
            "with more measurements A(X) = y alone determines X and there is nothing to recover")
    require(p["m_asym"] < n * n, f"m_asym={p['m_asym']} is out of range: needs m_asym < n^2 (={n * n})")
    dof = recovery_dof(n, r)
    require(p["m_sym"] > 2 * dof, f"m_sym={p['m_sym']} is out of range: needs m_sym > 2 r(2n-r+1)/2 (={2 * dof}) "
            "for exact recovery by nuclear-norm minimization")
    require(p["m_under"] < dof, f"m_under={p['m_under']} is out of range: needs m_under < r(2n-r+1)/2 (={dof}), "
            "below the dimension of rank-r PSD matrices (the control must be under-sampled)")
    require(len(p["alphas"]) >= 5, f"alphas={p['alphas']} needs at least 5 values (a slope in alpha)")
    require(max(p["alphas"]) >= 3 * min(p["alphas"]),
            f"alphas={p['alphas']} must span at least a factor 3 (a slope in alpha)")
    require(len(p["alphas_modified"]) >= 2, f"alphas_modified={p['alphas_modified']} needs at least 2 values")
    require(p["rebalance_at"] < p["iters"] // 2,
            f"rebalance_at={p['rebalance_at']} is out of range: needs rebalance_at < iters/2 (={p['iters'] // 2}) "
            "so that the fitted tail comes after the modification")
    # the local-rate prediction 2 log(1 - step * lambda_min) needs the slowest mode to be the
    # smallest curvature: step * lambda_max < 1 at the population Hessian (lambda_max = 2 sigma_1 = 2)
    require(p["step"] * p["step_control"] < 0.5, f"step={p['step']} x step_control={p['step_control']} is out of "
            "range: needs step x step_control < 1/(2 sigma_1) = 0.5 (the smallest curvature sets the rate)")
