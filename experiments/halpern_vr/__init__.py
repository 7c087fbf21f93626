"""halpern-vr: variance-reduced Halpern iteration for finite-sum monotone inclusions.

Cai, Alacaoglu & Diakonikolas (ICLR 2024).  Problems: a rotation (the tight case of Halpern's
bound), finite-sum least squares (cocoercive; optionally on a box), an ill-conditioned finite-sum
bilinear-quadratic saddle problem (monotone Lipschitz) and a finite-sum Policeman-and-Burglar
matrix game on simplices.  Methods: classical Halpern, Alg. 1 (PAGE-Halpern), Alg. 2 (inexact
Halpern with a VR-FoRB inner loop), extragradient (EG) and extra-anchored gradient (EAG).
"""
from __future__ import annotations

from experiments.base import Experiment

from . import claims, claims_complexity
from .config import NAME, PAPER, PARAMS, TITLE, TRIALS, check_params, sweep
from .runs import run_unit

METRICS = {
    "residual": "operator residual ||u - J_G(u - F(u)/L)|| L at the recorded step (dimensionless, L = 1)",
    "distance": "||u - u*|| to the solution or cvxpy equilibrium (dimensionless)",
    "gap": "duality gap of the matrix game at the recorded step (payoff units, scaled by 1/L)",
    "calls_to_eps": "oracle calls (component evaluations) at the first step with residual <= eps; "
                    "NaN when never reached within the budget [calls]",
    "angle": "rotation angle a of the rotation instance [rad]",
    "distance0": "||x0 - x*|| (dimensionless)",
    "final_residual": "residual at the last step (dimensionless)",
    "final_distance": "||u - u*|| at the last step (dimensionless)",
    "final_gap": "duality gap at the last step (payoff units)",
    "final_epochs": "oracle calls at the last step divided by n [epochs]",
}

def stream_key(unit: dict) -> dict:
    """Common random numbers across the n sweep: trial r of every n (and of both methods of a
    problem) draws from the same stream, so each trial's instance keeps its mean operator as n
    grows (the generators draw it before the components) and a per-trial slope in n measures n,
    not the spread between instances.  Fixed-n units keep their own streams."""
    return {"problem": unit["problem"], "sweep": "n"} if unit["sweep"] == "n" else unit


EXPERIMENT = Experiment(
    name=NAME, title=TITLE, paper=PAPER, params=PARAMS, sweep=sweep, run_unit=run_unit,
    claims=claims.CLAIMS + claims_complexity.CLAIMS, check_params=check_params, trials=TRIALS,
    figure="experiments.halpern_vr.figure", metrics=METRICS,
    figure_series=lambda u: u["sweep"] == "fixed", module=__name__, stream_key=stream_key)
