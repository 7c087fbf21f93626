"""Required measurements of the sample sweep, per trial, with censoring kept visible.

A trial's required m is the smallest m of the grid from which on every larger m of the grid
recovers X* (final error <= eps_recover).  A trial that does not recover at the largest m, or that
already recovers at the smallest one, has no measured requirement inside the grid: it is censored
and reported as NaN (never replaced by a cap), so any check that reads it fails as "censored".
"""
from __future__ import annotations

import numpy as np

from theory import fit_rates

from .config import m_grid


def required_m(results, p, variant: str, d: int) -> np.ndarray:
    """Per trial: the required m (float), NaN where censored (see the module docstring)."""
    grid = m_grid(p, d)
    ok = np.stack([results.get(group="samples", variant=variant, d=d, m=m).scalars["final_error"]
                   <= p["eps_recover"] for m in grid], axis=1)
    need = np.full(ok.shape[0], np.nan)
    for j in range(len(grid) - 1, -1, -1):
        need = np.where(ok[:, j:].all(axis=1), float(grid[j]), need)
    below_grid = ok.all(axis=1)
    return np.where(below_grid, np.nan, need)


def required_by_d(results, p, variant: str) -> np.ndarray:
    """(trials, len(d_samples)) required m at every d of the sweep."""
    return np.stack([required_m(results, p, variant, d) for d in p["d_samples"]], axis=1)


def trend_text(results, p) -> str:
    """The ratio r'=d over r'=r at each d, and each arm's log-log slope of required m against d
    (fitted per trial over every d of the sweep; censored trials counted, not fitted)."""
    ds = np.asarray(p["d_samples"], dtype=float)
    exact, over = required_by_d(results, p, "exact"), required_by_d(results, p, "over")
    with np.errstate(all="ignore"):
        ratios = np.nanmean(over, axis=0) / np.nanmean(exact, axis=0)
    parts = [", ".join(f"d={int(d)}: {q:.2f}" for d, q in zip(ds, ratios))]
    for name, need in (("r'=r", exact), ("r'=d", over)):
        fit = fit_rates(ds, need, "loglog")
        good = fit["finite"] & np.isfinite(fit["slopes"])
        censored = int((~np.isfinite(need)).any(axis=1).sum())
        slope = f"{np.mean(fit['slopes'][good]):.2f}" if good.any() else "n/a"
        parts.append(f"{name} slope of m in d {slope} over {len(ds)} d ({censored} trials censored)")
    return "ratio by d: " + parts[0] + "; " + "; ".join(parts[1:])
