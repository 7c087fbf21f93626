"""Least-squares rate fits over a window, per trial, with bootstrap intervals across trials."""
from __future__ import annotations

import numpy as np

BOOTSTRAP_SAMPLES = 4000
CONFIDENCE = 0.95


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

    Returns dict with per-trial ``slopes``, ``r2`` of the chosen model on the trial-mean log
    curve, and ``r2_other`` of the other model on the same points (a model comparison: a power law
    is not an exponential).
    """
    if scale not in ("loglog", "semilog"):
        raise ValueError(f"scale must be 'loglog' or 'semilog', not {scale!r}")
    y = np.atleast_2d(np.asarray(y, dtype=float))
    lx, ly = _transform(x, y, scale)
    mask = window_mask(x, window)[None, :] & np.isfinite(ly) & np.isfinite(lx)[None, :]
    slopes, _, _ = weighted_line(lx, ly, mask)
    # goodness of fit on the mean log curve over points present in every trial
    common = mask.all(axis=0)
    mean_curve = np.where(common, np.where(mask, ly, 0).mean(axis=0), 0.0)[None, :]
    _, _, r2 = weighted_line(lx, mean_curve, common[None, :])
    other = "semilog" if scale == "loglog" else "loglog"
    lx2, _ = _transform(x, y, other)
    ok2 = common & np.isfinite(lx2)
    _, _, r2_other = weighted_line(np.where(ok2, lx2, 0.0), mean_curve, ok2[None, :])
    return {
        "slopes": slopes,
        "r2": float(r2[0]),
        "r2_other": float(r2_other[0]),
        "points": int(common.sum()),
    }


def bootstrap_mean_interval(values, *, confidence=CONFIDENCE, samples=BOOTSTRAP_SAMPLES, seed=0):
    """Percentile-bootstrap interval of the mean of per-trial values (NaNs dropped).

    With one value the interval is degenerate (the value itself).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), (float("nan"), float("nan"))
    if v.size == 1:
        return float(v[0]), (float(v[0]), float(v[0]))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, size=(samples, v.size))
    means = v[idx].mean(axis=1)
    a = (1 - confidence) / 2
    lo, hi = np.quantile(means, [a, 1 - a])
    return float(v.mean()), (float(lo), float(hi))


def bootstrap_ratio_interval(a, b, *, confidence=CONFIDENCE, samples=BOOTSTRAP_SAMPLES, seed=0):
    """Interval of mean(b) / mean(a), resampling trials (paired when the sizes agree)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    ratio = float(b.mean() / a.mean())
    if a.size < 2 or b.size < 2:
        return ratio, (ratio, ratio)
    ia = rng.integers(0, a.size, size=(samples, a.size))
    ib = ia if a.size == b.size else rng.integers(0, b.size, size=(samples, b.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = b[ib].mean(axis=1) / a[ia].mean(axis=1)
    q = (1 - confidence) / 2
    lo, hi = np.nanquantile(r, [q, 1 - q])
    return ratio, (float(lo), float(hi))


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
