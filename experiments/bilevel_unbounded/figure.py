"""bilevel-unbounded figure, drawn from the stored table only: (a) ||grad Phi|| against oracle
calls on the unbounded-smooth instance (BO-REP per eps, SOBA and BO-REP from the far start,
SOBA's diverged trials marked), (b) calls to reach eps with the eps^-4 reference, (c) tracking
error after each periodic update against the level, (d) hypergradient bias, (e) hyper-cleaning
test accuracy and learned-weight AUC per method."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from experiments.plotting import band, panels, reference_slope

from .config import eps_grid

CAPTION = (
    '(a) ‖∇Φ‖ against oracle calls for BO-REP, and SOBA diverging from the far start (`unbounde'
    'd-smoothness`); (b) calls to reach ε against ε with the ε^-4 reference (`complexity`); (c)'
    " tracking error after each periodic update against the analysis' level (`tracking`); (d) t"
    "he hypergradient estimator's bias with z updated and stale (`hypergradient-bias`); (e) hyp"
    'er-cleaning test accuracy and weight AUC (measured, not a claim).'
)


def draw(results, p):
    fig, axes = panels(3, nrows=2, width=6.8, height=2.1)
    axes[5].set_visible(False)
    ax = axes[0]
    eps = eps_grid(p)
    tr = results.get(group="complexity", variant="theorem")
    for e in (eps[0], eps[-1]):
        calls = np.nanmedian(tr.series_of("calls", eps=e), axis=0)
        band(ax, calls, tr.series_of("grad_norm", eps=e), label=f"BO-REP, eps={e:.2g}")
    for method, color in (("soba", "C3"), ("bo-rep", "C2")):
        d = results.get(group="divergence", variant=method, link="cosh")
        calls = np.nanmedian(np.asarray(d.calls(), dtype=float), axis=0)
        band(ax, calls, d.series["grad_norm"], label=f"{method} far start", color=color)
        n_div = int(np.isfinite(d.scalars["blowup_iteration"]).sum())
        if n_div:
            ax.scatter([calls[-1]], [np.nanmax(d.series["grad_norm"][:, -1])], marker="x", color=color,
                       label=f"{method}: {n_div} trials diverged")
    ax.set(xscale="log", yscale="log", xlabel="oracle calls", ylabel=r"$\|\nabla\Phi(x_t)\|$")
    ax.legend(fontsize=5)
    ax = axes[1]
    for variant, color in (("theorem", "C0"), ("small-step", "C1")):
        t = results.get(group="complexity", variant=variant)
        c = np.stack([t.scalar_of("calls_to_eps", eps=e) for e in eps], axis=1)
        c = np.where(np.isfinite(c), c, np.nan)
        ax.plot(eps, np.nanmedian(c, axis=0), "o-", color=color, label=f"{variant} schedule")
    c0 = np.nanmedian(np.stack([tr.scalar_of("calls_to_eps", eps=e) for e in eps], axis=1), axis=0)[0]
    reference_slope(ax, eps[0], eps[-1], c0, -4.0, label=r"$\varepsilon^{-4}$")
    ax.set(xscale="log", yscale="log", xlabel=r"target $\varepsilon$", ylabel=r"calls to reach avg $\leq\varepsilon$")
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xticks(eps, [f"{e:.2g}" for e in eps])
    ax.legend()
    ax = axes[2]
    for variant, color in (("refined", "C0"), ("unrefined", "C3")):
        t = results.get(group="tracking", variant=variant)
        band(ax, t.iterations, t.series["tracking_error"], label=variant, color=color)
    t = results.get(group="tracking", variant="refined")
    ax.plot(t.iterations, np.nanmax(t.series["tracking_level"], axis=0), "k--", lw=0.8, label="level")
    ax.set(yscale="log", xlabel="iteration (after each update)", ylabel=r"$\|y_t - y^*(x_t)\|$")
    ax.set_ylim(top=3.0)
    ax.legend()
    ax = axes[3]
    for variant, color in (("updated", "C0"), ("stale", "C3")):
        t = results.get(group="bias", variant=variant)
        band(ax, t.iterations, t.series["bias"], label=f"z {variant}", color=color)
    ax.set(yscale="log", xlabel="iteration (x frozen)", ylabel="hypergradient bias")
    ax.legend()
    ax = axes[4]
    names = ("bo-rep", "soba", "aid", "stale-z")
    acc = [results.get(group="cleaning", variant=n).scalars["test_accuracy"] for n in names]
    auc = [results.get(group="cleaning", variant=n).scalars["weight_auc"] for n in names]
    pos = np.arange(len(names))
    ax.boxplot(acc, positions=pos - 0.18, widths=0.3)
    ax.boxplot(auc, positions=pos + 0.18, widths=0.3, boxprops={"color": "C1"})
    ax.set_xticks(pos, names, rotation=30)
    ax.set(ylabel="accuracy (black) / AUC (orange)")
    for letter, a in zip("abcde", axes):
        a.set_title(f"({letter}) {a.get_title()}".rstrip())
    return fig
