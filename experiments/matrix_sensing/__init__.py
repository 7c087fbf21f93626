"""matrix-sensing: how over-parameterization slows gradient descent (Xiong, Ding, Du, ICLR 2024).

Settings (all at small scale, trials as a batch axis):
- symmetric: M* PSD of rank r, GD on X X^T with k = r (exact; also at a 10% larger step as a
  control) and k = r + 1 (over-parameterized, the edge);
- asymmetric: M* of rank r, GD on F G^T (F initialized at scale alpha, G at alpha/3), k = r and
  k > r over a grid of alpha run in lockstep; and the one-step modification (a rebalancing step,
  see algorithms.factorized_gd.rebalance) over a second grid of alpha;
- the cvxpy ground truth on the symmetric instances, and on an instance one measurement below
  identifiability as the control.
"""
from experiments.base import Experiment

from .claims import CLAIMS
from .config import METRICS, PARAMS, TRIALS, check_params, sweep
from .runs import run_unit

EXPERIMENT = Experiment(
    name="matrix-sensing",
    title="Over-parameterization slows down gradient descent in matrix sensing",
    paper=("N. Xiong, L. Ding, S. S. Du. How Over-Parameterization Slows Down Gradient Descent in "
           "Matrix Sensing: The Curses of Symmetry and Initialization. ICLR 2024."),
    params=PARAMS, sweep=sweep, run_unit=run_unit, claims=CLAIMS, check_params=check_params,
    trials=TRIALS, figure="experiments.matrix_sensing.figure", metrics=METRICS,
    module="experiments.matrix_sensing",
    # the sensing operator (R, m, n^2) dominates: twice for the adjoint's temporaries
    memory=lambda p, trials: 16.0 * trials * max(p["m_sym"], p["m_asym"]) * p["n"] ** 2,
)
