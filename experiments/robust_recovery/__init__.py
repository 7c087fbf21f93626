"""Robust low-rank matrix recovery with the sub-gradient method (Ma & Fattahi, JMLR 2023).

Parts: config.py (parameters, sweep), runs.py (run units), samples.py (required m per trial, with
censoring), claims.py (claims and their evidence), figure.py (drawing only).
"""
from experiments.base import Experiment

from . import config
from .claims import CLAIMS
from .runs import run_unit

EXPERIMENT = Experiment(
    name=config.NAME, title=config.TITLE, paper=config.PAPER, params=config.PARAMS, sweep=config.sweep,
    run_unit=run_unit, claims=CLAIMS, check_params=config.check_params, trials=config.TRIALS,
    figure="experiments.robust_recovery.figure", figure_series=config.figure_series,
    # the sensing operator (R, m, d^2) of the largest unit dominates
    memory=lambda p, trials: 16.0 * trials * max(p["m_robust"], p["m_alpha"], p["m_gauss"], p["d"] ** 2) * p["d"] ** 2,
    metrics={
        "error": "relative error ||U U^T - X*||_F / ||X*||_F of SubGM (dimensionless; ||X*||_F = 1)",
        "final_error": "SubGM's relative error at the last iteration (dimensionless)",
        "error_l2": "relative error of ℓ2 gradient descent from the same start (dimensionless)",
        "final_error_l2": "ℓ2 gradient descent's relative error at the last iteration (dimensionless)",
        "error_cvx": "||X_cvx - X*||_F of the convex ℓ1 estimator over PSD X (cvxpy) (dimensionless)",
        "error_cvx_trace": "||X_cvx - X*||_F of the trace-penalized ℓ1 estimator (cvxpy) (dimensionless)",
    })
