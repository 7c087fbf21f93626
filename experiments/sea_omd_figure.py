"""The sea-omd figure, drawn from stored results only (split from sea_omd.py for length)."""
from __future__ import annotations

import numpy as np

from .plotting import apply_style, band, panels, reference_slope

LABELS = {"oomd": "OOMD (Chen et al.)", "ogd": "OGD, 1/sqrt(t)", "oftrl": "opt. FTRL (Sachs et al.)"}


def draw(exp, results, p):
    apply_style()   # the labels and legends are drawn after panels() returns
    fig, ax = panels(4, 2, height=2.1)
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
          title="(f) strongly convex, 2/(λt) step")
    a.legend(loc="upper left", fontsize=5.5)


def _switches(a, exp, results, p):
    pairs = sorted(((u["T"], t.scalars["regret_T"]) for u, t in results.select(setting="switches")),
                   key=lambda x: x[0])
    hs = np.array([h for h, _ in pairs], float)
    band(a, hs, np.stack([r for _, r in pairs], axis=1), label=f"K={p['switches']} switches",
         marker="o", ms=3)
    alt = results.get(setting="alternating")
    it, y = _positive(alt.iterations, alt.series["regret"])
    band(a, it, y, label="alternating (control)")
    _ref(a, p["T"], 0.5, "slope 1/2")
    a.set(xscale="log", yscale="log", xlabel="horizon T", ylabel="regret at T",
          title="(g) near-stationary adversary")
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
    a.legend(loc="center right", fontsize=5.5)


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
