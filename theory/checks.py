"""One checker per kind of claim; :func:`judge` applies it to a claim and to its control.

Tolerances live on the claim (set once, where the claim is stated); the checkers only compare.
"""
from __future__ import annotations

import math

import numpy as np

from .claims import Check, Claim, Verdict
from .evidence import Bounded, Curves, Paired, Values
from .fits import bootstrap_mean_interval, bootstrap_ratio_interval, fit_rates


def relation_holds(relation: str, interval, value: float, tolerance: float) -> bool:
    """Whether an interval sits as ``relation`` says against value ± tolerance."""
    lo, hi = interval
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return False
    if relation == "eq":
        return lo <= value + tolerance and hi >= value - tolerance
    if relation == "ge":
        return lo >= value - tolerance
    if relation == "le":
        return hi <= value + tolerance
    raise ValueError(f"unknown relation {relation!r}")


def check_rate(claim: Claim, ev: Curves) -> Check:
    fit = fit_rates(ev.x, ev.y, ev.scale, ev.window)
    measured, interval = bootstrap_mean_interval(fit["slopes"])
    good = np.isfinite(fit["r2"]) and fit["r2"] >= claim.r2_min
    if ev.compare_models and np.isfinite(fit["r2_other"]):
        good = good and fit["r2"] >= fit["r2_other"]
    within = relation_holds(claim.relation, interval, claim.checked_value(), claim.tolerance)
    other = "semilog" if ev.scale == "loglog" else "loglog"
    detail = (
        f"{ev.scale} slope over x in {_fmt_window(ev.window)} ({fit['points']} points): "
        f"R2={fit['r2']:.4f} (min {claim.r2_min}), {other} R2={fit['r2_other']:.4f}"
    )
    if not good:
        detail += "; not a good fit of this model"
    return Check(bool(good and within), measured, interval, ev.setting, fit["r2"], detail)


def check_bound(claim: Claim, ev: Bounded) -> Check:
    measured = np.atleast_2d(np.asarray(ev.measured, dtype=float))
    bound = np.broadcast_to(np.asarray(ev.bound, dtype=float), measured.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = measured / bound
    if not np.isfinite(ratio).all():
        return Check(False, float("nan"), (float("nan"), float("nan")), ev.setting, None,
                     "non-finite measured/bound ratio")
    worst_per_trial = ratio.max(axis=1)
    interval = (float(worst_per_trial.min()), float(worst_per_trial.max()))
    worst = interval[1]
    holds = relation_holds(claim.relation, interval, 1.0, claim.tolerance)
    detail = f"worst ratio measured/bound {worst:.4g} over {ratio.size} points"
    return Check(bool(holds), worst, interval, ev.setting, None, detail)


def check_order(claim: Claim, ev: Paired) -> Check:
    ratio, interval = bootstrap_ratio_interval(ev.winner, ev.loser)
    holds = relation_holds(claim.relation, interval, claim.checked_value(), claim.tolerance)
    detail = f"mean(loser)/mean(winner) = {ratio:.4g}"
    return Check(bool(holds), ratio, interval, ev.setting, None, detail)


def check_phenomenon(claim: Claim, ev: Values) -> Check:
    measured, interval = bootstrap_mean_interval(ev.values)
    holds = relation_holds(claim.relation, interval, claim.checked_value(), claim.tolerance)
    n = int(np.isfinite(np.asarray(ev.values, dtype=float)).sum())
    detail = f"mean over {n} trials"
    return Check(bool(holds), measured, interval, ev.setting, None, detail)


CHECKERS = {
    "rate": (Curves, check_rate),
    "bound": (Bounded, check_bound),
    "order": (Paired, check_order),
    "phenomenon": (Values, check_phenomenon),
}


def check(claim: Claim, evidence) -> Check:
    kind, fn = CHECKERS[claim.kind]
    if not isinstance(evidence, kind):
        raise TypeError(f"claim {claim.id} ({claim.kind}) needs {kind.__name__} evidence, "
                        f"got {type(evidence).__name__}")
    return fn(claim, evidence)


def judge(claim: Claim, evidence, control_evidence) -> Verdict:
    """Check the claim on its evidence and on its negative control (which must fail)."""
    if control_evidence is None:
        raise ValueError(f"claim {claim.id} has no negative-control evidence")
    return Verdict(claim, check(claim, evidence), check(claim, control_evidence))


def _fmt_window(window):
    if window is None:
        return "all"
    return f"[{window[0]:.4g}, {window[1]:.4g}]"
