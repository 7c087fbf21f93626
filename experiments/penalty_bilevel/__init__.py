"""penalty-bilevel: the landscape of the penalty function psi_sigma and the first-order penalty
method (Kwon, Kwon, Wright & Nowak, ICLR 2024).

Parts: config.py (parameters, grids, sweep), runs.py (run units), claims.py and claims_method.py
(claims next to their evidence), figure.py (the figure, from the stored table only).
"""
from experiments.base import Experiment

from .claims import CLAIMS
from .config import NAME, PAPER, PARAMS, TITLE, TRIALS, check_params, sweep
from .runs import run_unit

METRICS = {
    "psi": "hyper-objective psi(x) = min over S(x) of f (dimensionless)",
    "psi_sigma": "penalty function psi_sigma(x) = f(x, y_sigma) + (g(x, y_sigma) - g*(x))/sigma (dimensionless)",
    "psi_sigma_wrong_sign": "the broken variant f + (g + g*)/sigma (dimensionless)",
    "value_gap": "|psi(x) - psi_sigma(x)| (dimensionless)",
    "grad_gap": "||grad psi_sigma(x) - grad psi(x)|| (dimensionless)",
    "fd_error": "max over coordinates |explicit grad psi - central difference of psi| (dimensionless)",
    "fd_error_naive": "the same for the naive implicit-function formula at the min-norm solution (dimensionless)",
    "slice_psi": "psi of instance (d) along the slice through x = 0 (dimensionless)",
    "slice_psi_sigma": "psi_sigma of instance (d) along the slice (dimensionless)",
    "stationarity": "||grad psi(x_t)||, exact (dimensionless)",
    "penalty_stationarity": "||grad psi_sigma(x_t)||, exact (dimensionless)",
    "final_stationarity": "||grad psi(x_T)|| at the end of the budget (dimensionless)",
    "final_penalty_stationarity": "||grad psi_sigma(x_T)|| at the end of the budget (dimensionless)",
    "calls": "oracle calls of all kinds at the recorded point (calls)",
    "budget_calls": "oracle calls spent by the run (calls)",
    "calls_per_iteration": "counted oracle calls per (outer) iteration (calls)",
}

EXPERIMENT = Experiment(name=NAME, title=TITLE, paper=PAPER, params=PARAMS, sweep=sweep,
                        run_unit=run_unit, claims=CLAIMS, check_params=check_params, trials=TRIALS,
                        figure="experiments.penalty_bilevel.figure", metrics=METRICS,
                        module="experiments.penalty_bilevel")
