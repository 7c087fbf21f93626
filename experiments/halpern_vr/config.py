"""halpern-vr: parameters (quick and full), the sweep, and the run budgets.

Every instance is scaled to average Lipschitz constant L = 1.  A run's length is fixed before it
starts (host arithmetic only: the loop never asks the device whether a target was reached), from
Halpern's bound where it applies; a trial that misses a target within its budget is reported as
censored (NaN calls), which fails every claim reading it.
"""
from __future__ import annotations

import math

from experiments.params import Param, require

NAME = "halpern-vr"
TITLE = "Variance-reduced Halpern iteration for finite-sum monotone inclusions"
PAPER = ("X. Cai, A. Alacaoglu, J. Diakonikolas. Variance Reduced Halpern Iteration for "
         "Finite-Sum Monotone Inclusions. ICLR 2024.")
SRC = "Cai, Alacaoglu & Diakonikolas (ICLR 2024)"
L = 1.0
RECORD_POINTS = 160      # log-spaced points kept per series (rotation and box runs keep every step)

PARAMS = {
    "d": Param(8, 8, "dimension of the least-squares problem", low=2),
    "m": Param(4, 5, "x and y dimension of the bilinear-quadratic problem", low=2),
    "m_game": Param(5, 6, "houses in the Policeman-and-Burglar game", low=2),
    "box": Param(0.3, 0.3, "half-width of the box of the constrained least squares", low=0, open_low=True),
    "n": Param(128, 256, "components n at fixed-n runs", low=1),
    "n_game": Param(16, 16, "components of the matrix game", low=1),
    "ns": Param((16, 32, 64, 128, 256), (16, 32, 64, 128, 256, 512, 1024),
                "component counts n of the scaling sweep", low=1),
    "eps": Param((1e-2, 5e-3, 2.5e-3, 1.25e-3, 6.25e-4), (1e-2, 5e-3, 2.5e-3, 1.25e-3, 6.25e-4, 3.125e-4),
                 "residual targets eps (least squares)", low=0, open_low=True),
    "eps_bq": Param(5e-3, 5e-3, "residual target eps of the bilinear-quadratic sweep", low=0, open_low=True),
    "game_epochs": Param(6000.0, 12000.0, "epoch budget of every method on the matrix game", low=1),
    "eps_game": Param(1e-3, 1e-3, "residual level whose first hit the game runs report", low=0,
                      open_low=True),
    "step": Param(1.0, 1.0, "Halpern / Alg. 1 step in units of 1/L", low=0, open_low=True, high=2),
    "batch_scale": Param(1.0, 1.0, "Alg. 1 mini-batch = ceil(batch_scale sqrt(n))", low=0, open_low=True),
    "inner_epochs": Param(3.0, 3.0, "Alg. 2 VR-FoRB steps per resolvent, in units of n", low=0, open_low=True),
    "bound_iters": Param(200, 400, "iterations of the Halpern-bound runs", low=10),
}
TRIALS = {"quick": 8, "full": 16}

FIXED_N_METHODS = {"lsq": ("halpern", "halpern-plain", "page", "page-plain", "eg", "eag"),
                   "bq": ("alg2", "alg2-plain", "eg", "eag"),
                   "game": ("alg2", "eg", "eag", "halpern-plain")}
SCALING_METHODS = {"lsq": ("page", "halpern"), "bq": ("alg2", "eag")}

# Budgets without a stated constant, in units of D/eps (D = max_trials ||x0 - x*||).  Measured
# needs on these instances: PAGE ~2.2 D/eps, EAG ~12 D/eps; the factors leave a margin of ~2.
PAGE_BUDGET = 4.0
EAG_BUDGET = 30.0
ALG2_SLACK = 2           # outer steps beyond Halpern's count, for the inexact resolvents
BQ_FIXED_EPS = 2e-3      # fixed-n bilinear-quadratic runs: ~90 outer steps of Alg. 2 at n = 128


def batch_size(n: int, batch_scale: float) -> int:
    return max(1, int(math.ceil(batch_scale * math.sqrt(n))))


def inner_steps(n: int, p: dict) -> int:
    return int(math.ceil(p["inner_epochs"] * n))


def check_params(p):
    for n in tuple(p["ns"]) + (p["n"], p["n_game"]):
        b = batch_size(n, p["batch_scale"])
        require(b <= n, f"batch_scale={p['batch_scale']} gives batch size {b} > n={n}: "
                        f"needs ceil(batch_scale sqrt(n)) <= n for every n in ns, n, n_game")
    require(len(p["ns"]) >= 5 and max(p["ns"]) >= 16 * min(p["ns"]),
            f"ns={p['ns']} needs >= 5 values spanning >= 16x for the scaling claim")
    require(len(set(p["eps"])) >= 5, f"eps={p['eps']} needs >= 5 distinct targets for the 1/eps fit")
    require(p["n"] >= p["d"], f"n={p['n']} must be >= d={p['d']} (a well-posed least squares)")
    require(min(p["ns"]) >= p["d"], f"ns={p['ns']} must all be >= d={p['d']}")


def sweep(p):
    def unit(problem, method, n, sweep="fixed", prefix=""):
        tag = f" n={n}" if sweep == "n" else ""
        return {"setting": f"{prefix}{problem} {method}{tag}", "problem": problem, "method": method,
                "n": int(n), "sweep": sweep}

    units = [unit("rotation", m, 1) for m in ("halpern", "halpern-plain")]
    units.append(unit("lsq-box", "halpern", p["n"]))
    units += [unit(prob, m, p["n_game"] if prob == "game" else p["n"])
              for prob, methods in FIXED_N_METHODS.items() for m in methods]
    for n in p["ns"]:
        units += [unit(prob, m, n, "n", "scaling ") for prob, methods in SCALING_METHODS.items()
                  for m in methods]
    return units


def targets(unit, p) -> list[float]:
    """Residual targets whose first hit (in oracle calls) a unit reports, largest first."""
    if unit["sweep"] == "n":
        return [min(p["eps"])] if unit["problem"] == "lsq" else [p["eps_bq"]]
    return {"lsq": sorted(p["eps"], reverse=True), "game": [p["eps_game"]]}.get(unit["problem"], [])


def budget(unit, p, dist: float) -> tuple[int, float | None]:
    """(iteration cap, call cap or None) of a unit; ``dist`` = max over trials of ||x0 - x*||.

    Halpern's bound ||x_N - T x_N|| <= 2 D/(N+1) makes N = 2D/eps enough for the residual
    ||F x|| <= eps (T = I - F/L, step 1/L); Alg. 2 is Halpern on J_{sqrt(n) F/L}, whose residual
    ||u - J u|| / (sqrt(n)/L) gives N = 2D/(sqrt(n) eps).  Deterministic baselines on least
    squares get Halpern's budget in calls; the game gets ``game_epochs`` for every method.
    """
    problem, method, n = unit["problem"], unit["method"].removesuffix("-plain"), unit["n"]
    if problem in ("rotation", "lsq-box"):
        return p["bound_iters"], None
    if problem == "game":
        epochs = p["game_epochs"]
        per_iter = {"eg": 2.0, "eag": 2.0, "halpern": 1.0, "alg2": 2 * inner_steps(n, p) / n}[method]
        return int(math.ceil(epochs / per_iter)) + 1, epochs * n
    eps = min(targets(unit, p)) if unit["sweep"] == "n" or problem == "lsq" else BQ_FIXED_EPS
    halpern_iters = int(math.ceil(2 * dist / eps))
    if method == "halpern":
        return halpern_iters, None
    if method == "page":
        return int(math.ceil(PAGE_BUDGET * dist / eps)), None
    if method == "alg2":
        return int(math.ceil(2 * dist / (math.sqrt(n) * eps))) + ALG2_SLACK, None
    if problem == "bq" and unit["sweep"] == "fixed":     # eg / eag (figure): 20/BQ_FIXED_EPS epochs
        return int(math.ceil(10 / BQ_FIXED_EPS)), None
    if problem == "bq":                                    # eag in the scaling sweep
        return int(math.ceil(EAG_BUDGET * dist / eps)), None
    return int(math.ceil(halpern_iters / 2)), None      # eg / eag on least squares: 2n calls a step
