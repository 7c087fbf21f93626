"""Least-squares rate fits over a window, per trial, and confidence intervals across trials.

Means of per-trial quantities get Student-t intervals (exact for normal data; a percentile
bootstrap of the mean covers only ~88% at 8 trials).  Ratios of means get Fieller's interval
(exact for paired normal data), not a bootstrap.  tests/test_theory.py measures the coverage of
each at 8 trials.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
MIN_POINTS = 5      # a rate is never fitted on fewer points
MIN_TRIALS = 3      # fewer finite trials give no interval at all


def _transform(x, y, scale):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ly = np.log(y)
        lx = np.log(x) if scale == "loglog" else x
    return lx, ly


def weighted_line(u, v, mask):
    """Slope, intercept and R^2 of v ~ a + b u per row, using only points where mask is true.

    u: (T,) abscissa; v, mask: (R, T).  Rows with fewer than 3 points get NaN.
    """
    w = mask.astype(float)
    n = w.sum(axis=1)
    u = np.where(mask, u, 0.0)      # a non-finite abscissa outside the mask must not poison sums
    v0 = np.where(mask, v, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ubar = (w * u).sum(axis=1) / n
        vbar = (w * v0).sum(axis=1) / n
        du = np.where(mask, u - ubar[:, None], 0.0)
        dv = np.where(mask, v0 - vbar[:, None], 0.0)
        suu = (du * du).sum(axis=1)
        slope = (du * dv).sum(axis=1) / suu
        intercept = vbar - slope * ubar
        resid = np.where(mask, dv - slope[:, None] * du, 0.0)
        ss_res = (resid**2).sum(axis=1)
        ss_tot = (dv**2).sum(axis=1)
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, 1.0)
    bad = n < 3
    slope[bad] = np.nan
    intercept[bad] = np.nan
    r2[bad] = np.nan
    return slope, intercept, r2


def window_mask(x, window):
    x = np.asarray(x, dtype=float)
    if window is None:
        return np.ones_like(x, dtype=bool)
    lo, hi = window
    return (x >= lo) & (x <= hi)


def fit_rates(x, y, scale, window=None):
    """Per-trial slope of log y against log x ('loglog') or x ('semilog') on the window.

    Returns a dict of per-trial arrays: ``slopes``, ``r2`` of the chosen model, ``r2_other`` of
    the other model on the same points (a model comparison: a power law is not an exponential),
    ``points`` (points used), and ``finite`` (the trial has no non-finite value inside the
    window: a trial that diverged there is not silently dropped, the check sees it).
    """
    if scale not in ("loglog", "semilog"):
        raise ValueError(f"scale must be 'loglog' or 'semilog', not {scale!r}")
    y = np.atleast_2d(np.asarray(y, dtype=float))
    lx, ly = _transform(x, y, scale)
    inside = window_mask(x, window)[None, :] & np.isfinite(lx)[None, :]
    with np.errstate(invalid="ignore"):
        finite = ~(inside & ~np.isfinite(y)).any(axis=1) & ~(inside & (y <= 0)).any(axis=1)
    mask = inside & np.isfinite(ly)
    slopes, _, r2 = weighted_line(lx, ly, mask)
    other = "semilog" if scale == "loglog" else "loglog"
    lx2, _ = _transform(x, y, other)
    ok2 = mask & np.isfinite(lx2)[None, :]
    _, _, r2_other = weighted_line(np.where(np.isfinite(lx2), lx2, 0.0), ly, ok2)
    return {"slopes": slopes, "r2": r2, "r2_other": r2_other,
            "points": mask.sum(axis=1), "finite": finite}


def t_mean_interval(values, *, confidence=CONFIDENCE):
    """Mean of per-trial values and its Student-t interval (non-finite trials are the caller's
    business: pass finite values).  Fewer than MIN_TRIALS values give a NaN interval."""
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        return float("nan"), (float("nan"), float("nan"))
    mean = float(v.mean())
    if v.size < MIN_TRIALS:
        return mean, (float("nan"), float("nan"))
    half = stats.t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return mean, (float(mean - half), float(mean + half))


def fieller_ratio_interval(a, b, *, confidence=CONFIDENCE):
    """mean(b) / mean(a) and Fieller's interval for it.

    The interval is {r : |mean(b - r a)| <= t * se(b - r a)}: paired trials when the sizes agree
    (then it is exact for normal data), independent samples otherwise.  When mean(a) is not
    significantly away from 0 the set is unbounded and the interval is NaN.
    """
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    ratio = float(b.mean() / a.mean()) if a.size and b.size and a.mean() != 0 else float("nan")
    if min(a.size, b.size) < MIN_TRIALS:
        return ratio, (float("nan"), float("nan"))
    t = stats.t.ppf(0.5 + confidence / 2, min(a.size, b.size) - 1)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    cab = np.cov(a, b)[0, 1] / a.size if a.size == b.size else 0.0
    ma, mb = a.mean(), b.mean()
    # (mb - r ma)^2 <= t^2 (vb - 2 r cab + r^2 va): a quadratic q2 r^2 - 2 q1 r + q0 <= 0
    q2 = ma * ma - t * t * va
    q1 = ma * mb - t * t * cab
    q0 = mb * mb - t * t * vb
    disc = q1 * q1 - q2 * q0
    if q2 <= 0 or disc < 0:
        return ratio, (float("nan"), float("nan"))
    root = np.sqrt(disc)
    return ratio, (float((q1 - root) / q2), float((q1 + root) / q2))


def tail_window(x, y, *, start=0.5, floor=None, log=False):
    """The tail of a run, up to where every trial is still above ``floor``.

    The window ends at the last x at which all trials are finite and above the floor, and starts
    a fraction ``start`` of the way into [x_first, x_end] (in log x when ``log``).  This is the
    regime a rate theorem is about, without the flat part once round-off is reached.
    """
    x = np.asarray(x, dtype=float)
    y = np.atleast_2d(np.asarray(y, dtype=float))
    ok = np.isfinite(y).all(axis=0) & (y > 0).all(axis=0)
    if floor is not None:
        ok &= (y > floor).all(axis=0)
    # end at the first failure (a curve that touched the floor is not trusted afterwards)
    bad = np.flatnonzero(~ok)
    end_idx = (bad[0] - 1) if bad.size else x.size - 1
    end_idx = max(end_idx, 0)
    x0, x1 = x[0], x[end_idx]
    if log:
        x0 = max(x0, x[x > 0][0] if np.any(x > 0) else 1.0)
        lo = float(np.exp(np.log(x0) + start * (np.log(x1) - np.log(x0))))
    else:
        lo = float(x0 + start * (x1 - x0))
    return lo, float(x1)
