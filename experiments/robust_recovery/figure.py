"""robust-recovery figure: error vs t over alpha, SubGM vs ℓ2 GD vs constant step, final error vs
outlier fraction, and required m vs d."""
from __future__ import annotations

import numpy as np

from experiments.plotting import STYLE, band, panels, reference_slope

from .config import p_values
from .samples import required_by_d

CAPTION = (
    "(a) SubGM from small initialization at r' = d over α (`small-init-vs-overparam`); (b) r' ="
    " r with 30% outliers: SubGM's linear rate against ρ^t (`linear-convergence`, `outlier-robu"
    'stness`) and its controls; (c) final error against the outlier fraction, with the breakdow'
    'n control (`outlier-robustness`, `beyond-global-optimum`); (d) measurements needed against'
    " d for r' = r and r' = d (`overparam-costs-no-samples`, an expected failure)."
)


def draw(results, p):
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        fig, ax = panels(2, nrows=2, height=2.4)
        _alpha_panel(ax[0], results, p)
        _steps_panel(ax[1], results, p)
        _outlier_panel(ax[2], results, p)
        _samples_panel(ax[3], results, p)
    return fig


def _alpha_panel(ax, results, p):
    tr = results.get(group="alpha", k=p["r_over"])
    shown = list(p["alphas"])[:: max(1, len(p["alphas"]) // 4)]
    for c, a in zip(["C0", "C1", "C2", "C3", "C4"], shown):
        band(ax, tr.iterations, tr.series_of("error", alpha=a), label=f"α={a:g}", color=c)
    ex = results.get(group="alpha", k=p["r"])
    band(ax, ex.iterations, ex.series_of("error", alpha=shown[0]), color="0.4", ls=":",
         label=f"r'=r, α={shown[0]:g}")
    ax.set(yscale="log", xlabel="iteration t", ylabel="relative error ‖UUᵀ−X*‖_F",
           title=f"r'={p['r_over']}, d={p['d']}, outliers p={p['p_alpha']:g}")
    ax.legend(loc="lower left")


def _steps_panel(ax, results, p):
    o = results.get(group="outliers", p=p["p_claim"])
    band(ax, o.iterations, o.series["error"], label="SubGM (ℓ1)", color="C0")
    band(ax, o.iterations, o.series["error_l2"], label="GD (ℓ2)", color="C3")
    c = results.get(group="constant")
    band(ax, c.iterations, c.series["error"], label=f"SubGM, const. step {p['eta_const']:g}", color="C7", ls="--")
    w = results.get(group="decay")
    band(ax, w.iterations, w.series["error"], label=f"SubGM, ρ={p['rho_wrong']:g}", color="C2", ls="-.")
    it = o.iterations.astype(float)
    med = np.nanmedian(o.series["error"], axis=0)
    j = np.searchsorted(it, 0.3 * it[-1])
    if np.isfinite(med[j]):
        ax.plot(it[j:], med[j] * p["rho"] ** (it[j:] - it[j]) * 5, color="0.3", ls="--", lw=0.9,
                label=f"ρ^t (ρ={p['rho']:g})")
    ax.set(yscale="log", xlabel="iteration t", ylabel="relative error", title=f"r'=r, outliers p={p['p_claim']:g}")
    ax.legend(loc="lower left")


def _outlier_panel(ax, results, p):
    ps = np.asarray(p_values(p))
    rows = [results.get(group="outliers", p=q).scalars for q in ps]
    for key, lab, col, mk in (("final_error", "SubGM", "C0", "o"), ("error_cvx", "cvxpy ℓ1 (PSD)", "C2", "s"),
                              ("final_error_l2", "GD (ℓ2)", "C3", "^")):
        v = np.maximum(np.stack([s[key] for s in rows], axis=1), 1e-14)
        q = np.quantile(v, [0.1, 0.5, 0.9], axis=0)
        ax.plot(ps, q[1], marker=mk, color=col, label=lab, ms=3)
        ax.fill_between(ps, q[0], q[2], color=col, alpha=0.2, lw=0)
    ax.axhline(1e-4, color="0.5", lw=0.7, ls=":", label="claimed 1e-4")
    ax.axvline(p["p_break"], color="0.6", lw=0.7, ls="--", label="control (beyond breakdown)")
    ax.set(yscale="log", xlabel="outlier fraction p", ylabel="final relative error",
           title=f"r'=r, m={p['m_robust']}: final error vs p")
    ax.set_ylim(1e-14, 1e2)
    ax.legend(loc="center left", frameon=True, framealpha=0.9, edgecolor="none")


def _samples_panel(ax, results, p):
    """Required m against d for r'=r and r'=d: trial means with their 10-90% spread; censored
    trials (never recovered inside the grid) are left out and counted in the legend."""
    ds = np.asarray(p["d_samples"], dtype=float)
    for variant, lab, col, mk in (("exact", "r'=r", "C0", "o"),
                                  ("over", f"r'=d, α={p['alpha_samples']:g}", "C1", "s")):
        need = required_by_d(results, p, variant)
        censored = int((~np.isfinite(need)).sum())
        with np.errstate(all="ignore"):
            q = np.nanquantile(need, [0.1, 0.9], axis=0)
            mean = np.nanmean(need, axis=0)
        ax.plot(ds, mean, marker=mk, color=col, label=lab + (f" ({censored} censored)" if censored else ""), ms=3)
        ax.fill_between(ds, q[0], q[1], color=col, alpha=0.15, lw=0)
    first = np.nanmean(required_by_d(results, p, "exact")[:, 0])
    if np.isfinite(first):
        reference_slope(ax, ds[0], ds[-1], first * 0.8, 1.0, label="m ∝ d (slope 1)")
    ax.set(xscale="log", yscale="log", xlabel="dimension d (= r' of the r'=d runs)",
           ylabel=f"required m (error ≤ {p['eps_recover']:g})",
           title=f"samples needed, r={p['r']}, outliers p={p['p_alpha']:g}")
    ax.set_xticks(ds, [f"{d:g}" for d in ds])
    ax.minorticks_off()
    lo, hi = ax.get_ylim()
    ticks = [t for t in (20, 30, 50, 100, 200, 300, 500, 1000) if lo <= t <= hi]
    ax.set_yticks(ticks, [str(t) for t in ticks])
    ax.legend(loc="upper left")
