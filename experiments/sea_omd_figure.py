"""The sea-omd figure, drawn from stored results only (split from sea_omd.py for length)."""
from __future__ import annotations

import numpy as np

from . import sea_omd_checks as more
from .plotting import apply_style, band, panels, reference_slope

LABELS = {"oomd": "OOMD (Chen et al.)", "ogd": "OGD, 1/sqrt(t)", "oftrl": "opt. FTRL (Sachs et al.)"}


def draw(exp, results, p):
    apply_style()   # the labels and legends are drawn after panels() returns
    fig, ax = panels(4, 3, height=2.1)
    for k, regime in enumerate(("stochastic", "adversarial", "intermediate")):
        a = ax[k]
        for alg in ("oomd", "ogd", "oftrl"):
            tr = results.get(setting=f"regime-{regime}", algorithm=alg)
            it, y = _positive(tr.iterations, tr.series["regret"])
            band(a, it, y, label=LABELS[alg])
        a.set(xscale="log", yscale="log", xlabel="round t", ylabel="regret",
              title=f"({'abc'[k]}) {regime} regime")
        _ref(a, p["T"], 0.5, "slope 1/2")
    ax[0].legend(loc="upper left")
    for a, key, setting, title in ((ax[3], "sigma2_total", "sigma-sweep", r"(d) $\Sigma=0$, vary $\sigma$"),
                                   (ax[4], "Sigma2_total", "Sigma-sweep", r"(e) $\sigma=0$, vary $\Sigma$")):
        for loss, name in (("huber", "Huber (smooth)"), ("l1", r"$\ell_1$ control")):
            x, y = _sweep(results, f"{setting}-{loss}", key)
            band(a, x, y, label=name, marker="o", ms=3)
        x, y = _sweep(results, f"{setting}-huber", key)
        reference_slope(a, x[0], x[-1], float(np.median(y[:, -1])) * (x[0] / x[-1]) ** 0.5, 0.5,
                        label=r"$\propto\sqrt{\cdot}$")
        sym = r"\sigma" if key.startswith("sigma") else r"\Sigma"
        a.set(xscale="log", yscale="log", xlabel=rf"${sym}^2_{{1:T}}$", ylabel="regret at T",
              title=title)
        a.legend(loc="center right", fontsize=5.5)
    _strongly_convex(ax[5], results, p)
    _switches(ax[6], exp, results, p)
    _dims(ax[7], results)
    _interpolation(ax[8], results, p)
    _shock_counts(ax[9], results)
    _dynamic(ax[10], results)
    ax[11].axis("off")   # the spare slot holds panel (i)'s legend
    ax[11].legend(*ax[8].get_legend_handles_labels(), loc="upper left", title="panel (i)",
                  fontsize=6, title_fontsize=6.5, frameon=False)
    return fig


def _strongly_convex(a, results, p):
    """Regret vs T with sigma_t^2 = s^2/t, and least-squares fits of a + b log T and
    a + b log log T on the tail (the two papers' growth models)."""
    for setting, label in (("sc-constant", r"$\sigma_t^2=s^2$"), ("sc-decaying", r"$\sigma_t^2=s^2/t$"),
                           ("sc-alternating", r"$s^2/t$ + alternating $\theta$")):
        tr = results.get(setting=setting)
        it, y = _positive(tr.iterations, tr.series["regret"])
        band(a, it, y, label=label)
        if setting == "sc-decaying":
            m = np.nanmean(y, axis=0)
            keep = it >= max(10, p["T"] // 100)
            for feature, style, name in ((np.log(it), ":", "fit a+b log T"),
                                         (np.log(np.log(it)), "--", "fit a+b log log T")):
                A = np.stack([np.ones(keep.sum()), feature[keep]], axis=1)
                coef, *_ = np.linalg.lstsq(A, m[keep], rcond=None)
                r2 = 1 - np.sum((A @ coef - m[keep]) ** 2) / np.sum((m[keep] - m[keep].mean()) ** 2)
                a.plot(it[keep], A @ coef, style, color="0.2", lw=0.9, label=f"{name} (R2={r2:.2f})")
    a.set(xscale="log", yscale="log", xlabel="round t", ylabel="regret",
          title="(f) strongly convex, 2/(λt)")
    a.legend(loc="upper left", fontsize=5.5)


def _switches(a, exp, results, p):
    pairs = sorted(((u["T"], t.scalars["regret_T"]) for u, t in results.select(setting="switches")),
                   key=lambda x: x[0])
    hs = np.array([h for h, _ in pairs], float)
    band(a, hs, np.stack([r for _, r in pairs], axis=1), label=f"K={p['switches']} shocks",
         marker="o", ms=3)
    alt = results.get(setting="alternating")
    it, y = _positive(alt.iterations, alt.series["regret"])
    band(a, it, y, label="alternating (control)")
    _ref(a, p["T"], 0.5, "slope 1/2")
    a.set(xscale="log", yscale="log", xlabel="horizon T", ylabel="regret at T",
          title="(g) K shocks vs horizon")
    a.legend(loc="upper left")


def _dims(a, results):
    for setting, name in (("exp-concave", "optimistic ONS"), ("exp-concave-sc", "OOMD 2/(λt) (control)")):
        pairs = sorted(((u["d"], t.scalars["regret_T"]) for u, t in results.select(setting=setting)),
                       key=lambda x: x[0])
        d = np.array([k for k, _ in pairs], float)
        y = np.stack([r for _, r in pairs], axis=1)
        band(a, d, y, label=name, marker="o", ms=3)
        if setting == "exp-concave":
            reference_slope(a, d[0], d[-1], float(np.median(y[:, 0])), 1.0, label="slope 1")
    a.set(xscale="log", yscale="log", xlabel="dimension d", ylabel="regret at T",
          title="(h) exp-concave: regret vs d")
    a.set_xticks(d, [str(int(k)) for k in d])
    a.minorticks_off()
    a.legend(loc="lower right", bbox_to_anchor=(1.0, 0.12), fontsize=5.5)


def _interpolation(a, results, p):
    """Trial-mean regret against the bound C(sqrt(sigma^2) + sqrt(Sigma^2)) + C' fitted on the
    fitting half of the grid: fitting cells, held-out cells, and the l1 control."""
    C, Cp, s, y = more.fit_interpolation(results, p)
    keep = y > 0      # the sigma = Sigma = 0 cell has zero regret: off a log axis
    a.plot(C * s[keep] + Cp, y[keep], "o", ms=3, mfc="none", color="0.4", label="fitting half")
    shown = [y[keep]]
    for setting, name, mark in (("grid-huber", "held out (Huber)", "o"),
                                ("grid-l1", r"held out, $\ell_1$ control", "s")):
        cells = more._grid_means(results, p, setting, fit=False)
        b = C * (np.sqrt(cells[:, 0]) + np.sqrt(cells[:, 1])) + Cp
        a.plot(b, cells[:, 2], mark, ms=3, label=name)
        shown.append(cells[:, 2])
    shown = np.concatenate(shown)
    lim = np.array([float(np.min(shown)) / 2, float(np.max(shown)) * 2])
    a.plot(lim, lim, "-", color="0.2", lw=0.8, label="regret = bound")
    a.set(xscale="log", yscale="log", xlim=lim, ylim=lim,
          xlabel=r"fitted $C(\sqrt{\sigma^2}+\sqrt{\Sigma^2})+C'$", ylabel="regret at T",
          title="(i) fitted bound, held-out cells")


def _shock_counts(a, results):
    for setting, name in (("shocks-K", "OOMD (adaptive step)"),
                          ("shocks-K-frozen", r"frozen step $\eta_1$ (control)")):
        pairs = sorted(((u["switches"], t.scalars["regret_T"]) for u, t in results.select(setting=setting)),
                       key=lambda x: x[0])
        k = np.array([x for x, _ in pairs], float)
        y = np.stack([r for _, r in pairs], axis=1)
        band(a, k, y, label=name, marker="o", ms=3)
        if setting == "shocks-K":
            reference_slope(a, k[0], k[-1], float(np.median(y[:, 0])) * 0.6, 0.5, label="slope 1/2")
    a.set(xscale="log", yscale="log", xlabel="number of shocks K (T fixed)", ylabel="regret at T",
          title="(j) regret vs number of shocks")
    _plain_log_ticks(a)
    a.set_xticks(k, [str(int(v)) for v in k])
    a.minorticks_off()
    a.legend(loc="upper left", fontsize=5.5)


def _dynamic(a, results):
    for setting, name in (("dynamic", r"OOMD, $\eta$ tuned for $P_T$"),
                          ("dynamic-static", r"static tuning (control)")):
        pairs = sorted(((t.scalars["path_length"][0], t.scalars["regret_T"])
                        for _, t in results.select(setting=setting)), key=lambda x: x[0])
        P = np.array([x for x, _ in pairs])
        y = np.stack([r for _, r in pairs], axis=1)
        band(a, P, y, label=name, marker="o", ms=3)
        if setting == "dynamic":
            reference_slope(a, P[0], P[-1], float(np.median(y[:, 0])) * 0.6, 0.5, label="slope 1/2")
    a.set(xscale="log", yscale="log", xlabel=r"path length $P_T$", ylabel="dynamic regret at T",
          title="(k) dynamic regret, drifting θ")
    _plain_log_ticks(a)
    a.set_xticks(P, [f"{v:.0f}" for v in P])
    a.minorticks_off()
    a.legend(loc="upper left", fontsize=5.5)


def _plain_log_ticks(a):
    """Labels at 1, 2, 5 x 10^k on a short log y axis (one decade would show one label)."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    a.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    a.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    a.yaxis.set_minor_formatter(NullFormatter())


def _sweep(results, setting, key):
    pairs = sorted(((t.scalars[key][0], t.scalars["regret_T"]) for _, t in results.select(setting=setting)),
                   key=lambda x: x[0])
    return np.array([x for x, _ in pairs]), np.stack([r for _, r in pairs], axis=1)


def _positive(it, y):
    """Recorded rounds >= 2 (regret at round 1 can be 0 or negative on a log axis)."""
    it = np.asarray(it, float)
    keep = it >= 2
    y = np.where(np.asarray(y)[:, keep] > 0, np.asarray(y)[:, keep], np.nan)
    return it[keep], y


def _ref(a, T, slope, label):
    lines = a.get_lines()
    y_end = np.nanmax([np.nanmax(l.get_ydata()) for l in lines]) if lines else 1.0
    reference_slope(a, T / 100, T, y_end / 100**slope, slope, label=label)
