"""What should happen: claims as sympy expressions, evidence, and the checkers."""
from .checks import check, judge, relation_holds
from .claims import KINDS, RELATIONS, Check, Claim, Verdict
from .evidence import Bounded, Curves, Paired, Values
from .fits import fieller_ratio_interval, fit_rates, t_mean_interval, tail_window
from .symbolic import loglog_slope, semilog_slope

__all__ = [
    "KINDS", "RELATIONS", "Bounded", "Check", "Claim", "Curves", "Paired", "Values", "Verdict",
    "check", "fieller_ratio_interval", "fit_rates", "judge", "loglog_slope", "relation_holds",
    "semilog_slope", "t_mean_interval", "tail_window",
]
