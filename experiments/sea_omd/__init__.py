"""sea-omd: optimistic OMD in the stochastically extended adversarial (SEA) model.

Chen, Zhang, Tu, Zhao, Zhang (ICML 2023; JMLR 2024) bound the expected regret of optimistic OMD
by the cumulative stochastic variance sigma^2_{1:T} and adversarial variation Sigma^2_{1:T} of
Sachs et al.'s (2022) SEA model.  Neither paper has experiments: this is a first empirical check,
on instances whose sigma_t^2 and Sigma_t^2 are known exactly (problems/sea.py):
f(x, xi_t) = h(x - theta_t) + <xi_t, x> on a ball, xi_t ~ N(0, s_t^2 I/d).  Each claim's
theorem and controls are in the docstring of its evidence function (claims.py, claims_curved.py).
"""
from experiments.base import Experiment

from . import config, runs
from .claims import CLAIMS

EXPERIMENT = Experiment(
    name="sea-omd",
    title="Optimistic OMD between stochastic and adversarial online convex optimization",
    paper=("S. Chen, Y.-J. Zhang, W.-W. Tu, P. Zhao, L. Zhang. Optimistic Online Mirror Descent for "
           "Bridging Stochastic and Adversarial Online Convex Optimization. ICML 2023; JMLR 25 (2024). "
           "SEA model: S. Sachs, H. Hadiji, T. van Erven, C. Guzman, NeurIPS 2022"),
    params=config.PARAMS,
    sweep=config.sweep,
    run_unit=runs.run_unit,
    batch_key=runs.batch_key,
    run_units=runs.run_units,
    claims=CLAIMS,
    check_params=config.check_params,
    trials=config.TRIALS,
    figure="experiments.sea_omd.figure",
    metrics={
        "regret": "sum_{s<=t} F_s(x_s) - min_u sum_{s<=t} F_s(u) after t rounds (expected losses; "
                  "against the per-round minimizers P_X(theta_s) for the drift schedule: dynamic "
                  "regret) [loss units]; every learner makes one stochastic-gradient call per trial "
                  "and round, so oracle_calls = t",
        "regret_T": "regret after the unit's last round T [loss units]",
    },
    module="experiments.sea_omd",
    memory=config.memory,
)
