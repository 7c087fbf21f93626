"""bilevel-unbounded: BO-REP under unbounded smoothness (Hao, Gong & Liu, ICLR 2024).

Parts: config.py (parameters, schedules, sweep), runs.py (run units), claims.py (claims next to
their evidence), figure.py (the figure, from the stored table only).
"""
from experiments.base import Experiment

from .claims import CLAIMS
from .config import NAME, PAPER, PARAMS, TITLE, TRIALS, check_params, sweep
from .runs import run_unit

METRICS = {
    "grad_norm": "||grad Phi(x_t)||, exact hypergradient norm (dimensionless)",
    "calls": "oracle calls of all kinds at the recorded point, per eps (calls)",
    "calls_to_eps": "oracle calls at which the running average of ||grad Phi|| first drops below eps (calls; inf: never)",
    "running_average": "running average of ||grad Phi|| over the whole run (dimensionless)",
    "blowup_iteration": "first recorded iteration at which ||grad Phi|| overflowed (iterations; inf: never)",
    "tracking_error": "||y_t - y*(x_t)|| right after a periodic update (dimensionless)",
    "tracking_level": "the analysis' level for the tracking error (dimensionless)",
    "bias": "||grad_x f - d2_xy g z_t - grad Phi(x)|| with x frozen (dimensionless)",
    "phi": "hyper-objective Phi(lambda): clean validation loss at w*(lambda) (nats)",
    "test_accuracy": "clean-test accuracy of w*(lambda) (fraction)",
    "weight_auc": "AUC of the learned weights against the flipped-label mask (fraction)",
    "calls_upper_grad": "upper-level gradient calls (calls)",
    "calls_lower_grad": "lower-level gradient calls (calls)",
    "calls_hvp": "Hessian-vector products (calls)",
    "calls_jvp": "Jacobian-vector products (calls)",
}

EXPERIMENT = Experiment(name=NAME, title=TITLE, paper=PAPER, params=PARAMS, sweep=sweep,
                        run_unit=run_unit, claims=CLAIMS, check_params=check_params, trials=TRIALS,
                        figure="experiments.bilevel_unbounded.figure", metrics=METRICS,
                        module="experiments.bilevel_unbounded")
