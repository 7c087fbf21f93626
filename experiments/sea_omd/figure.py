"""The sea-omd figure, drawn from stored results only."""
from __future__ import annotations

import numpy as np

from experiments.plotting import band, panels, reference_slope

from .evidence import axis_value, fit_interpolation, grid_means

LABELS = {"oomd": "OOMD (Chen et al.)", "ogd": "OGD, 1/sqrt(t)", "oftrl": "opt. FTRL (Sachs et al.)"}
# OOMD and optimistic FTRL nearly coincide in the regime panels: distinct line styles and markers
# keep the one drawn first visible under the other
STYLES = {"oomd": {"ls": "-", "lw": 2.2}, "ogd": {"ls": "-"},
          "oftrl": {"ls": "--", "marker": "x", "ms": 3, "markevery": 0.1}}

CAPTION = (
    '(a)–(c) regret of OOMD, OGD and optimistic FTRL in the three regimes (`convex-stochastic`,'
    ' `convex-adversarial`); (d), (e) regret against σ²₁:T and Σ²₁:T with the ℓ1 control; (f) s'
    'trongly convex losses (`strongly-convex-loglog`, `strongly-convex-log-variation`); (g) K s'
    'hocks against the horizon (`switches-flat-in-T`); (h) exp-concave losses against d (`exp-c'
    'oncave-d`); (i) the fitted interpolation bound on held-out cells (`convex-interpolation`);'
    ' (j) regret against the number of shocks (`switches-sqrt-K`); (k) dynamic regret against t'
    'he path length (`dynamic-path-length`); (l) predictable gradients: optimism against plain '
    'OMD (`optimism-predictable`).'
)


def draw(results, p):
    fig, ax = panels(4, 3, height=2.1)
    for k, regime in enumerate(("stochastic", "adversarial", "intermediate")):
        a = ax[k]
        for alg in ("oomd", "ogd", "oftrl"):
            tr = results.get(setting=f"regime-{regime}", algorithm=alg)
            it, y = _positive(tr.iterations, tr.series["regret"])
            band(a, it, y, label=LABELS[alg], **STYLES[alg])
        a.set(xscale="log", yscale="log", xlabel="round t", ylabel="regret",
              title=f"({'abc'[k]}) {regime} regime")
        _ref(a, p["T"], 0.5, "slope 1/2")
    ax[0].legend(loc="upper left")
    for a, axis, setting, title in ((ax[3], "sigma2", "sigma-sweep", r"(d) $\Sigma=0$, vary $\sigma$"),
                                    (ax[4], "Sigma2", "Sigma-sweep", r"(e) $\sigma=0$, vary $\Sigma$")):
        for loss, name in (("huber", "Huber (smooth)"), ("l1", r"$\ell_1$ control")):
            x, y = _sweep(results, p, f"{setting}-{loss}", axis)
            band(a, x, y, label=name, marker="o", ms=3)
        x, y = _sweep(results, p, f"{setting}-huber", axis)
        reference_slope(a, x[0], x[-1], float(np.median(y[:, -1])) * (x[0] / x[-1]) ** 0.5, 0.5,
                        label=r"$\propto\sqrt{\cdot}$")
        sym = r"\sigma" if axis == "sigma2" else r"\Sigma"
        a.set(xscale="log", yscale="log", xlabel=rf"${sym}^2_{{1:T}}$", ylabel="regret at T", title=title)
        a.legend(loc="lower right", fontsize=5.5)
    _strongly_convex(ax[5], results)
    _horizons(ax[6], results, p)
    _sweep_panel(ax[7], results, p, "d", (("exp-concave", "optimistic ONS"),
                                          ("exp-concave-sc", "OOMD 2/(λt) (control)")),
                 "dimension d", "(h) exp-concave: regret vs d", 1.0)
    _interpolation(ax[8], results, p)
    _sweep_panel(ax[9], results, p, "switches", (("shocks-K", "OOMD (adaptive step)"),
                                                 ("shocks-K-frozen", r"frozen step $\eta_1$ (control)")),
                 "number of shocks K (T fixed)", "(j) regret vs shocks K", 0.5)
    _sweep_panel(ax[10], results, p, "path", (("dynamic", r"OOMD, $\eta$ tuned for $P_T$"),
                                              ("dynamic-static", "static tuning (control)")),
                 r"path length $P_T$", "(k) dynamic regret, drift", 0.5)
    _predictable(ax[11], results, p)
    return fig


def _strongly_convex(a, results):
    for match, label in (({"setting": "sc-constant"}, r"$\sigma_t^2=s^2$"),
                         ({"setting": "sc-decaying"}, r"$\sigma_t^2=s^2/t$"),
                         ({"setting": "sc-alternating", "algorithm": "oomd-sc", "lam": 1.0},
                          r"$s^2/t$ + alternating $\theta$"),
                         ({"setting": "sc-alternating", "algorithm": "oomd-sc-inverse-sqrt"},
                          r"same, $\eta_t=1/\sqrt{t}$ (control)")):
        tr = results.get(**match)
        it, y = _positive(tr.iterations, tr.series["regret"])
        band(a, it, y, label=label)
    a.set(xscale="log", yscale="log", xlabel="round t", ylabel="regret", title="(f) strongly convex, 2/(λt)")
    a.legend(loc="upper left", fontsize=5.5)


def _horizons(a, results, p):
    x, y = _sweep(results, p, "switches", "T")
    band(a, x, y, label=f"K={p['switches']} shocks", marker="o", ms=3)
    alt = results.get(setting="alternating")
    it, y = _positive(alt.iterations, alt.series["regret"])
    band(a, it, y, label="alternating (control)")
    _ref(a, p["T"], 0.5, "slope 1/2")
    a.set(xscale="log", yscale="log", xlabel="horizon T", ylabel="regret at T", title="(g) K shocks vs horizon")
    a.legend(loc="upper left")


def _predictable(a, results, p):
    for alg, name in (("oomd", "OOMD"), ("omd-plain", r"plain OMD, $M_t=0$ (control)")):
        x, y = _sweep(results, p, "predictable", "T", algorithm=alg)
        band(a, x, y, label=name, marker="o", ms=3)
    a.set(xscale="log", yscale="log", xlabel="horizon T", ylabel="dynamic regret at T",
          title="(l) predictable gradients, σ = 0")
    a.minorticks_off()      # a one-decade axis would otherwise label every minor tick
    a.legend(loc="upper left", fontsize=5.5)


def _sweep_panel(a, results, p, axis, series, xlabel, title, slope):
    for setting, name in series:
        x, y = _sweep(results, p, setting, axis)
        band(a, x, y, label=name, marker="o", ms=3)
        if setting == series[0][0]:
            reference_slope(a, x[0], x[-1], float(np.median(y[:, 0])) * 0.6, slope, label=f"slope {slope:g}")
    a.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="regret at T", title=title)
    a.minorticks_off()
    a.legend(loc="upper left", fontsize=5.5)


def _interpolation(a, results, p):
    """Trial-mean regret against the bound C(sqrt(sigma^2) + sqrt(Sigma^2)) + C' fitted on the
    fitting half of the grid: fitting cells, held-out cells, and the l1 control."""
    C, Cp, s, y = fit_interpolation(results, p)
    keep = y > 0      # the sigma = Sigma = 0 cell has zero regret: off a log axis
    a.plot(C * s[keep] + Cp, y[keep], "o", ms=3, mfc="none", color="0.4", label="fitting half")
    shown = [y[keep]]
    for setting, name, mark in (("grid-huber", "held out (Huber)", "o"), ("grid-l1", r"held out, $\ell_1$", "s")):
        cells = grid_means(results, p, setting, fit=False)
        a.plot(C * (np.sqrt(cells[:, 0]) + np.sqrt(cells[:, 1])) + Cp, cells[:, 2], mark, ms=3, label=name)
        shown.append(cells[:, 2])
    shown = np.concatenate(shown)
    lim = np.array([float(np.min(shown)) / 2, float(np.max(shown)) * 2])
    a.plot(lim, lim, "-", color="0.2", lw=0.8, label="regret = bound")
    a.set(xscale="log", yscale="log", xlim=lim, ylim=lim, xlabel=r"fitted $C(\sqrt{\sigma^2}+\sqrt{\Sigma^2})+C'$",
          ylabel="regret at T", title="(i) fitted bound, held-out cells")
    a.legend(loc="upper left", fontsize=5.5)


def _sweep(results, p, setting, axis, **match):
    rows = sorted((axis_value(u, p, axis), t.scalars["regret_T"]) for u, t in results.select(setting=setting, **match))
    return np.array([x for x, _ in rows]), np.stack([r for _, r in rows], axis=1)


def _positive(it, y):
    """Recorded rounds >= 2 (regret at round 1 can be 0 or negative on a log axis)."""
    it = np.asarray(it, float)
    keep = it >= 2
    y = np.where(np.asarray(y)[:, keep] > 0, np.asarray(y)[:, keep], np.nan)
    return it[keep], y


def _ref(a, T, slope, label):
    lines = a.get_lines()
    y_end = np.nanmax([np.nanmax(line.get_ydata()) for line in lines]) if lines else 1.0
    reference_slope(a, T / 100, T, y_end / 100**slope, slope, label=label)

