"""Shared evidence helpers of the sea-omd claims: sweep axes from the exact instances, per-trial
slopes, and the tightest envelope of the interpolation claim."""
from __future__ import annotations

import numpy as np

from experiments.base import MissingUnit
from problems import sea
from theory.fits import MIN_POINTS, fit_rates

from . import config


def units_of(p, setting, **match):
    units = [u for u in config.sweep(p) if u["setting"] == setting
             and all(u[k] == v for k, v in match.items())]
    if not units:
        raise MissingUnit(f"sea-omd: no unit {setting} {match} in the sweep")
    return units


def axis_value(u, p, axis: str) -> float:
    """The exact x of a unit: sigma^2_{1:T}, Sigma^2_{1:T}, the path length P_T, or a unit key."""
    if axis in ("d", "T", "switches"):
        return float(u[axis])
    thetas, _, sig, Sig = config.instance(u, p)
    if axis == "sigma2":
        return sea.cumulative(sig)
    if axis == "Sigma2":
        return sea.cumulative(Sig)
    if axis == "path":
        return sea.path_length(thetas)
    raise ValueError(f"unknown axis {axis!r}")


def sweep_axis(p, setting, axis, **match) -> np.ndarray:
    """The sorted x values of a sweep (from the sweep itself: claims derive predictions here)."""
    return np.sort([axis_value(u, p, axis) for u in units_of(p, setting, **match)])


def sweep_curve(results, p, setting, axis, **match):
    """(x sorted, regret_T (R, n)) over the units of one sweep."""
    rows = sorted((axis_value(u, p, axis), t.scalars["regret_T"])
                  for u, t in results.select(setting=setting, **match))
    if len(rows) < MIN_POINTS:
        raise MissingUnit(f"sea-omd: {len(rows)} units of {setting} {match} (a fit needs {MIN_POINTS})")
    return np.array([r[0] for r in rows]), np.stack([r[1] for r in rows], axis=1)


def top_window(x, points: int = config.FIT_POINTS):
    """The upper ``points`` values of a sweep: where the additive constants no longer matter."""
    xs = np.sort(np.asarray(x, dtype=float))
    return float(xs[-points]), float(xs[-1])


def geo_mid(values) -> float:
    v = np.asarray(values, dtype=float)
    return float(np.exp(np.mean(np.log(v))))


def per_trial_slopes(x, y) -> np.ndarray:
    """Least-squares log-log slope of each trial (row of y) against x, on >= MIN_POINTS points;
    a trial with a non-finite or non-positive value gives NaN (the check then fails it)."""
    if len(x) < MIN_POINTS:
        raise ValueError(f"a slope needs >= {MIN_POINTS} points, got {len(x)}")
    fit = fit_rates(x, y, "loglog")
    return np.where(fit["finite"] & (fit["points"] >= MIN_POINTS), fit["slopes"], np.nan)


def at_rounds(trace, rounds) -> np.ndarray:
    """The regret series of a trace at the given recorded rounds, (R, len(rounds))."""
    it = np.asarray(trace.iterations)
    idx = [int(np.flatnonzero(it == r)[0]) for r in rounds]
    return trace.series["regret"][:, idx]


def horizon_curve(results, p, setting, **match):
    """(horizons, regret_T (R, 5)) of the units of ``setting`` run at each horizon."""
    return sweep_curve(results, p, setting, "T", **match)


def tightest_envelope(s, y):
    """The line C s + C' (C, C' >= 0) above every point (s_i, y_i) with the least total gap
    sum_i (C s_i + C' - y_i): a two-variable LP whose optimum passes through two points or has
    C' = 0, so the candidates are enumerated."""
    s, y = np.asarray(s, dtype=float), np.asarray(y, dtype=float)
    candidates = [(float(np.max(y / s)), 0.0)]
    for i in range(len(s)):
        for j in range(len(s)):
            if s[j] > s[i]:
                C = (y[j] - y[i]) / (s[j] - s[i])
                candidates.append((float(C), float(y[i] - C * s[i])))
    slack = 1e-9 * max(1.0, float(np.max(np.abs(y))))
    feasible = [(C, Cp) for C, Cp in candidates
                if C >= 0 and Cp >= 0 and np.all(C * s + Cp >= y - slack)]
    return min(feasible, key=lambda c: c[0] * s.sum() + c[1] * len(s))


def grid_means(results, p, setting, fit: bool) -> np.ndarray:
    """Rows (sigma^2_{1:T}, Sigma^2_{1:T}, trial-mean regret_T) of one half of the grid."""
    rows = []
    for s2, a, in_fit in config.grid_cells(p):
        if in_fit != fit:
            continue
        u = next(x for x in units_of(p, setting) if x["s2"] == s2 and x["amplitude"] == a)
        t = results.get(setting=setting, s2=s2, amplitude=a)
        rows.append((axis_value(u, p, "sigma2"), axis_value(u, p, "Sigma2"),
                     float(np.mean(t.scalars["regret_T"]))))
    return np.array(rows)


def fit_interpolation(results, p):
    """C, C' of the tightest bound over the fitting cells; also their s and trial-mean regret."""
    cells = grid_means(results, p, "grid-huber", fit=True)
    s = np.sqrt(cells[:, 0]) + np.sqrt(cells[:, 1])
    C, Cp = tightest_envelope(s, cells[:, 2])
    return C, Cp, s, cells[:, 2]
