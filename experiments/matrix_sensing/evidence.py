"""Shared evidence helpers of the matrix-sensing claims: fit windows, local-rate units, rates."""
from __future__ import annotations

import numpy as np
import sympy as sp

from theory import Curves
from theory.fits import fit_rates, tail_window
from theory.symbolic import semilog_slope

from .config import FLOOR

T, eta, lam = sp.symbols("T eta lambda", positive=True)
# Linearization of GD at a solution: the error along the Hessian eigenvector of the smallest
# nonzero curvature lambda contracts by (1 - eta lambda) per step, so the squared Frobenius error
# by (1 - eta lambda)^2 (the slowest mode when eta lambda_max < 1, see config.check_params).
LOCAL_SLOPE = semilog_slope((1 - eta * lam) ** (2 * T), T)
_local_slope = sp.lambdify((eta, lam), LOCAL_SLOPE, "numpy")


def local_slope(step: float, curvature) -> np.ndarray:
    """The predicted semilog slope 2 log(1 - step * lambda) of each trial."""
    return np.asarray(_local_slope(step, np.asarray(curvature, dtype=float)), dtype=float)


def linear_window(x, y, start=0.5):
    return tail_window(x, y, start=start, floor=FLOOR)


def in_rate_units(x, y, predicted, setting, start=0.85) -> Curves:
    """Curves whose semilog slope is each trial's measured slope divided by |predicted| (one
    value per trial): log y is shifted to 0 at the window start and scaled by 1 / |predicted|.
    Points outside the tail window are blanked (their scaled values could overflow).

    The window is the last 15% before the round-off floor: the next Hessian mode's share decays
    as ((1 - step lambda_2) / (1 - step lambda_1))^{2t}, slowly when lambda_2 ~ lambda_1, so the
    latest window is the closest to the asymptotic rate (worst trial of seed 1: ratio 1.175 on
    the last 50%, 1.103 on the last 15%)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lo, hi = linear_window(x, y, start)
    first = int(np.searchsorted(x, lo))
    inside = (x >= lo) & (x <= hi)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logs = (np.log(y) - np.log(y[:, first:first + 1])) / np.abs(predicted)[:, None]
        scaled = np.where(inside[None, :], np.exp(logs), np.nan)
    return Curves(x, scaled, "semilog", (lo, hi), setting)


def differenced_root(x, y, setting, start=0.85) -> Curves:
    """err^{-1/2}(t) - err^{-1/2}(t_a) against t - t_a, t_a the start of the log tail window:
    for err = C (t + t0)^{-2} this is (t - t_a) / sqrt(C) whatever the burn-in offset t0."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lo, hi = tail_window(x, y, start=start, floor=FLOOR, log=True)
    first = int(np.searchsorted(x, lo))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = y ** -0.5 - y[:, first:first + 1] ** -0.5
    # only points after t_a: theory.fits.weighted_line lets a NaN abscissa (log of t - t_a <= 0)
    # outside the window poison the sums
    after = slice(first + 1, None)
    return Curves(x[after] - x[first], z[:, after], "loglog", (1.0, hi - x[first]), setting)


def rates(results, p, method, k, alphas) -> np.ndarray:
    """(R, len(alphas)) fitted linear rates (minus the semilog slope) of each alpha's run; for the
    modified method the window starts after its step."""
    tr = results.get(model="asymmetric", method=method, k=k)
    cols = []
    for a in alphas:
        y = tr.series_of("sq_error", alpha=a)
        lo, hi = linear_window(tr.iterations, y)
        if method == "rebalanced":
            lo = max(lo, p["rebalance_at"] + 1)
        cols.append(-fit_rates(tr.iterations, y, "semilog", (lo, hi))["slopes"])
    return np.stack(cols, axis=1)
