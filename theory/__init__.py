"""What should happen: claims as sympy expressions, evidence, and the checkers."""
from .checks import check, judge, relation_holds
from .claims import KINDS, RELATIONS, Check, Claim, Verdict
from .evidence import Bounded, Curves, Paired, Values
from .fits import bootstrap_mean_interval, bootstrap_ratio_interval, fit_rates, tail_window
from .symbolic import loglog_slope, semilog_slope

__all__ = [
    "KINDS", "RELATIONS", "Bounded", "Check", "Claim", "Curves", "Paired", "Values", "Verdict",
    "bootstrap_mean_interval", "bootstrap_ratio_interval", "check", "fit_rates", "judge",
    "loglog_slope", "relation_holds", "semilog_slope", "tail_window",
]
