"""bilevel-unbounded: parameters (quick and full values), the step schedules and the sweep.

Setting (Hao, Gong & Liu, ICLR 2024, BO-REP): upper f(x, y) = sum_i cosh(a_i^T x) + 1/2 ||y - b||^2
((L0, L1)-smooth, not Lipschitz-smooth; problems.bilevel_unbounded explains why cosh rather than
the exp link) or its log-cosh twin (Lipschitz-smooth); lower g = 1/2 y^T Q y - y^T B^T x +
mu/2 ||y||^2 (mu-strongly convex, y*(x) and grad Phi exact); Gaussian oracle noise of std
``noise``.  Data hyper-cleaning: problems.hypercleaning with a clean test split.

Run units (``group``):
- ``complexity``: BO-REP for each eps of ``eps_grid`` on the theorem's schedule (variant
  ``theorem``), and with the step one power of eps smaller (variant ``small-step``, the control);
- ``divergence``: SOBA and BO-REP from a point of large gradient, on cosh and on log cosh;
- ``tracking``: BO-REP with and without initialization refinement, the error after each update;
- ``bias``: BO-REP with x frozen, the hypergradient estimator's bias while z converges, and with
  z never updated (control);
- ``cleaning``: BO-REP, SOBA and AID (StocBiO-style) on hyper-cleaning at one oracle budget, and
  BO-REP with z never updated (control).

Schedule (claim 1), from the theorem's orders (1 - beta = O(eps^2), eta = O(eps^3), I = O(eps^-2),
T = O~(eps^-4); the orders are what we could verify, the constants are ours): with r = eps/eps_max,
1 - beta = (1 - beta_ref) r^2, eta = eta_ref r^3, I = max(1, round(period r^-2)),
T = ceil(iters_ref r^-4).
"""
from __future__ import annotations

import math

from experiments.params import Param, require

NAME = "bilevel-unbounded"
SOURCE = "Hao, Gong & Liu (ICLR 2024)"
TITLE = "BO-REP: bilevel optimization under unbounded smoothness"
PAPER = ("J. Hao, X. Gong, M. Liu. Bilevel Optimization under Unbounded Smoothness: A New Algorithm "
         "and Convergence Analysis. ICLR 2024.")
RECORD_POINTS = 200       # recorded points per complexity run (the running average is their mean)

PARAMS = {
    "dx": Param(4, 4, "upper dimension (A has dx orthogonal rows)", low=1),
    "dy": Param(6, 6, "lower dimension (>= dx: Phi has no flat direction)", low=1),
    "mu": Param(0.1, 0.1, "ridge mu of the lower level (strong convexity >= 1 + mu)", low=0, open_low=True),
    "cond": Param(10.0, 10.0, "condition number of Q", low=1),
    "noise": Param(0.1, 0.1, "std of the Gaussian oracle noise per coordinate", low=0),
    "period": Param(2, 2, "period I of the lower-level updates at eps_max", low=1),
    "lower_steps": Param(5, 5, "SGD steps N per periodic update", low=1),
    "gamma": Param(0.09, 0.09, "lower-level SGD step (< 2 / lam_max(H))", low=0, open_low=True),
    "nu": Param(0.05, 0.05, "step of the linear-system variable z", low=0, open_low=True),
    "eta_ref": Param(0.025, 0.025, "BO-REP step eta at eps_max", low=0, open_low=True),
    "beta_ref": Param(0.8, 0.8, "BO-REP momentum beta at eps_max", low=0, high=1, open_high=True),
    "x0_scale": Param(1.0, 1.0, "start: a_i^T x0 = x0_scale for every row", low=0),
    "eps_max": Param(0.5, 0.5, "largest target eps of the complexity sweep", low=0, open_low=True),
    "eps_points": Param(5, 7, "number of targets eps (halving eps over the sweep)", low=5),
    "iters_ref": Param(1600, 1600, "BO-REP iterations at eps_max (T = iters_ref (eps_max/eps)^4)",
                       low=RECORD_POINTS),
    "eta_far": Param(0.05, 0.05, "BO-REP step in the divergence runs", low=0, open_low=True),
    "beta": Param(0.9, 0.9, "BO-REP momentum outside the complexity sweep (the authors' code default)",
                  low=0, high=1, open_high=True),
    "x0_far": Param(4.0, 4.0, "start of the divergence runs: a_i^T x0 = x0_far", low=0),
    "soba_step": Param(0.3, 0.3, "SOBA's x step (alpha) in the divergence runs", low=0, open_low=True),
    "soba_rho": Param(0.1, 0.1, "SOBA's y and z step (rho)", low=0, open_low=True),
    "iters_diverge": Param(300, 300, "iterations of the divergence runs", low=10),
    "converged_level": Param(1.0, 1.0, "a run has converged when its final ||grad Phi|| <= this "
                             "(the start's is ~60 on cosh)", low=0, open_low=True),
    "iters_track": Param(400, 400, "iterations of the tracking runs", low=10),
    "refine_epochs": Param(3, 3, "epochs of the initialization refinement", low=1),
    "refine_steps": Param(8, 8, "steps of its first epoch (doubling)", low=1),
    "iters_bias": Param(300, 300, "iterations of the bias runs (x frozen)", low=20),
    "n_train": Param(100, 200, "hyper-cleaning training samples (= upper dimension)", low=10),
    "n_val": Param(100, 200, "clean validation samples", low=10),
    "n_test": Param(500, 1000, "clean test samples", low=10),
    "d_clean": Param(10, 10, "features of the hyper-cleaning data", low=2),
    "flip": Param(0.3, 0.3, "fraction of flipped training labels", low=0, high=0.5, open_high=True),
    "ridge": Param(0.01, 0.01, "ridge of the weighted logistic lower level", low=0, open_low=True),
    "budget": Param(6000, 6000, "oracle budget of every hyper-cleaning method", low=100),
    "noise_clean": Param(0.0, 0.0, "oracle noise std on hyper-cleaning (its hypergradient entries are O(1/n))",
                         low=0),
    "alpha_clean": Param(10.0, 10.0, "un-normalized x step of SOBA and AID on hyper-cleaning", low=0,
                         open_low=True),
    "eta_clean": Param(1.0, 1.0, "BO-REP step on the hyper-cleaning weights", low=0, open_low=True),
}

TRIALS = {"quick": 8, "full": 16}


def check_params(p):
    require(p["dy"] >= p["dx"], f"dy={p['dy']} is out of range: needs dy >= dx (={p['dx']})")
    lam_max = p["cond"] + p["mu"]
    require(p["gamma"] < 2.0 / lam_max,
            f"gamma={p['gamma']} is out of range: the lower-level SGD needs gamma < 2/(cond + mu) = {2 / lam_max:.4g}")
    require(p["nu"] < 2.0 / lam_max,
            f"nu={p['nu']} is out of range: the z-iteration needs nu < 2/(cond + mu) = {2 / lam_max:.4g}")


def eps_grid(p) -> list[float]:
    """Targets eps_max 2^(-k/(n-1) ...): halving eps over ``eps_points`` values."""
    n = p["eps_points"]
    return [p["eps_max"] * 2.0 ** (-k / (n - 1)) for k in range(n)]


def schedule(p, eps: float, variant: str = "theorem") -> dict:
    """BO-REP's parameters for target eps (module docstring); ``small-step`` scales eta one power
    of eps further (eta ~ eps^4, outside the theorem's schedule) and gets budget ~ eps^-5."""
    r = eps / p["eps_max"]
    eta = p["eta_ref"] * r ** 3
    iters = math.ceil(p["iters_ref"] * r ** -4)
    if variant == "small-step":
        eta, iters = eta * r, math.ceil(p["iters_ref"] * r ** -5)
    return {"eta": eta, "beta": 1.0 - (1.0 - p["beta_ref"]) * r ** 2,
            "period": max(1, round(p["period"] * r ** -2)), "iterations": iters}


def sweep(p):
    units = []
    for variant in ("theorem", "small-step"):
        units.append({"setting": f"complexity {variant}", "group": "complexity", "variant": variant,
                      "link": "cosh"})
    for link in ("cosh", "logcosh"):
        for method in ("soba", "bo-rep"):
            units.append({"setting": f"divergence {method} {link}", "group": "divergence",
                          "variant": method, "link": link})
    for variant in ("refined", "unrefined"):
        units.append({"setting": f"tracking {variant}", "group": "tracking", "variant": variant, "link": "cosh"})
    for variant in ("updated", "stale"):
        units.append({"setting": f"bias z {variant}", "group": "bias", "variant": variant, "link": "cosh"})
    for variant in ("bo-rep", "soba", "aid", "stale-z"):
        # every unit names its upper level: a column of one type in the table
        units.append({"setting": f"cleaning {variant}", "group": "cleaning", "variant": variant,
                      "link": "validation-logistic"})
    return units
