"""One checker per kind of claim; :func:`judge` applies it to a claim and to its control.

Tolerances live on the claim (set once, where the claim is stated); the checkers only compare.
"""
from __future__ import annotations

import math

import numpy as np

from .claims import Check, Claim, Verdict
from .evidence import Bounded, Curves, Paired, Values
from .fits import MIN_POINTS, fieller_ratio_interval, fit_rates, t_mean_interval

NAN = float("nan")


def relation_holds(relation: str, interval, value: float, tolerance: float) -> bool:
    """Whether an interval sits as ``relation`` says against value ± tolerance.

    ``eq`` is an equivalence test: the whole interval must lie inside the band, so a vaguer
    measurement (a wider interval) never passes more easily.
    """
    lo, hi = interval
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return False
    if relation == "eq":
        return lo >= value - tolerance and hi <= value + tolerance
    if relation == "ge":
        return lo >= value - tolerance
    if relation == "le":
        return hi <= value + tolerance
    raise ValueError(f"unknown relation {relation!r}")


def _too_few(claim: Claim, n: int, setting: str, why: str = "") -> Check | None:
    if n >= max(claim.min_trials, 3):
        return None
    return Check(False, NAN, (NAN, NAN), setting, None,
                 f"not enough trials: {n} finite (needs {max(claim.min_trials, 3)}){why}", n)


def check_rate(claim: Claim, ev: Curves) -> Check:
    """Per-trial fits; every trial must be finite in the window, have >= MIN_POINTS points and
    R^2 >= r2_min (the worst trial is reported); the slopes' Student-t interval is compared."""
    fit = fit_rates(ev.x, ev.y, ev.scale, ev.window)
    slopes, r2, pts = fit["slopes"], fit["r2"], fit["points"]
    other = "semilog" if ev.scale == "loglog" else "loglog"
    n_bad = int((~fit["finite"]).sum())
    usable = fit["finite"] & np.isfinite(slopes) & (pts >= MIN_POINTS)
    few = _too_few(claim, int(usable.sum()), ev.setting)
    if few is not None:
        return few
    measured, interval = t_mean_interval(slopes[usable])
    worst_r2 = float(np.min(r2[usable]))
    good = n_bad == 0 and bool(usable.all()) and worst_r2 >= claim.r2_min
    mean_r2, mean_other = float(np.mean(r2[usable])), float(np.nanmean(fit["r2_other"][usable]))
    if ev.compare_models and np.isfinite(mean_other):
        good = good and mean_r2 >= mean_other
    within = relation_holds(claim.relation, interval, claim.checked_value(), claim.tolerance)
    detail = (f"{ev.scale} slope over x in {_fmt_window(ev.window)} ({int(pts.min())}-{int(pts.max())} "
              f"points per trial): worst R2={worst_r2:.4f} (min {claim.r2_min}), mean R2={mean_r2:.4f}, "
              f"{other} mean R2={mean_other:.4f}; Student-t interval over {int(usable.sum())} trials")
    if n_bad:
        detail += f"; {n_bad} trial(s) non-finite in the window"
    elif not usable.all():
        detail += f"; {int((~usable).sum())} trial(s) with < {MIN_POINTS} points"
    if not good:
        detail += "; not a good fit of this model"
    return Check(bool(good and within), measured, interval, ev.setting, worst_r2, detail, int(usable.sum()))


def check_bound(claim: Claim, ev: Bounded) -> Check:
    """The worst ratio measured/bound over every trial and step; the 'interval' is the range of
    the per-trial worst ratios (not a confidence interval)."""
    measured = np.atleast_2d(np.asarray(ev.measured, dtype=float))
    bound = np.broadcast_to(np.asarray(ev.bound, dtype=float), measured.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = measured / bound
    if not np.isfinite(ratio).all():
        return Check(False, NAN, (NAN, NAN), ev.setting, None, "non-finite measured/bound ratio",
                     measured.shape[0])
    above = claim.relation == "ge"          # the measurement must stay above the bound
    worst_per_trial = ratio.min(axis=1) if above else ratio.max(axis=1)
    interval = (float(worst_per_trial.min()), float(worst_per_trial.max()))
    worst = interval[0] if above else interval[1]
    holds = relation_holds(claim.relation, (worst, worst), 1.0, claim.tolerance)
    detail = f"worst ratio measured/bound {worst:.4g} over {ratio.size} points ({measured.shape[0]} trials)"
    return Check(bool(holds), worst, interval, ev.setting, None, detail, measured.shape[0])


def check_order(claim: Claim, ev: Paired) -> Check:
    """mean(loser)/mean(winner) with Fieller's interval; non-finite trials fail the check."""
    w, lo = np.asarray(ev.winner, dtype=float), np.asarray(ev.loser, dtype=float)
    n = min(int(np.isfinite(w).sum()), int(np.isfinite(lo).sum()))
    if not (np.isfinite(w).all() and np.isfinite(lo).all()):
        return Check(False, NAN, (NAN, NAN), ev.setting, None,
                     f"non-finite cost in {int((~np.isfinite(w)).sum())} winner / "
                     f"{int((~np.isfinite(lo)).sum())} loser trials (censored: never reached)", n)
    few = _too_few(claim, n, ev.setting)
    if few is not None:
        return few
    ratio, interval = fieller_ratio_interval(w, lo)
    holds = relation_holds(claim.relation, interval, claim.checked_value(), claim.tolerance)
    detail = f"mean(loser)/mean(winner) = {ratio:.4g}, Fieller interval over {n} trials"
    return Check(bool(holds), ratio, interval, ev.setting, None, detail, n)


def check_phenomenon(claim: Claim, ev: Values) -> Check:
    """The mean over trials with its Student-t interval; non-finite trials fail the check."""
    v = np.asarray(ev.values, dtype=float).ravel()
    finite = np.isfinite(v)
    few = _too_few(claim, int(finite.sum()), ev.setting)
    if few is not None:
        return few
    measured, interval = t_mean_interval(v[finite])
    holds = relation_holds(claim.relation, interval, claim.checked_value(), claim.tolerance)
    detail = f"mean over {int(finite.sum())} trials, Student-t interval"
    if not finite.all():
        holds = False
        detail += f"; {int((~finite).sum())} trial(s) non-finite (censored)"
    return Check(bool(holds), measured, interval, ev.setting, None, detail, int(finite.sum()))


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


def judge(claim: Claim, evidence, *controls) -> Verdict:
    """Check the claim on its evidence and on each negative control (every one must fail)."""
    controls = tuple(c for c in controls if c is not None)
    if not controls:
        raise ValueError(f"claim {claim.id} has no negative-control evidence")
    return Verdict(claim, check(claim, evidence), tuple(check(claim, c) for c in controls))


def _fmt_window(window):
    if window is None:
        return "all"
    return f"[{window[0]:.4g}, {window[1]:.4g}]"
