"""matrix-sensing figure: four panels drawn from the stored results table."""
from __future__ import annotations

import numpy as np

from .config import FLOOR
from .evidence import rates

CAPTION = (
    '(a) symmetric factorized GD: linear convergence at k = r (`symmetric-exact-linear`) and th'
    'e T^-2 law at k = r + 1 (`symmetric-over-sublinear`); (b) asymmetric GD at k > r over the '
    'initialization scale α, and k = r (`asymmetric-exact-linear`); (c) the one-step modificati'
    'on against plain GD (`modified-speedup`); (d) fitted linear rates against α: ∝ α² for plai'
    'n GD (`asymmetric-over-alpha2`), flat after the modification (`modified-alpha-free`).'
)


def draw(results, p):
    """(a) symmetric k = r vs k > r (log-log, 1/T^2 reference); (b) asymmetric k > r over alpha
    (semilog); (c) the one-step modification vs plain GD; (d) fitted rate vs alpha."""
    import matplotlib.pyplot as plt

    from experiments.plotting import STYLE

    with plt.rc_context(STYLE):
        return _draw(results, p)


def _draw(results, p):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    from experiments.plotting import band, panels, reference_slope

    k, r = p["k"], p["r"]
    fig, ax = panels(2, 2, height=2.1)
    colors = plt.get_cmap("viridis")
    def sym(kk):
        return results.get(model="symmetric", method="gd", k=kk, step_factor=1.0)

    # (a) symmetric
    for kk, label, color in ((r, f"k = r = {r}", "C0"), (k, f"k = {k} > r", "C3")):
        tr = sym(kk)
        band(ax[0], tr.iterations, _above_floor(tr.series["sq_error"]), label=label, color=color)
    tr = sym(k)
    x1 = float(tr.iterations[-1])
    y1 = float(np.nanmedian(tr.series["sq_error"][:, -1]))
    reference_slope(ax[0], x1 / 20, x1, y1 * 20**2, -2.0, label=r"$\propto T^{-2}$ (Thm 3.1)")
    ax[0].set(xscale="log", yscale="log", xlabel="iteration t", ylabel=r"$\|XX^\top - M^*\|_F^2$",
              title=r"(a) symmetric $XX^\top$")

    # (b) asymmetric, plain GD over alpha
    alphas = sorted(p["alphas"])
    plain = results.get(model="asymmetric", method="gd", k=k)
    for i, a in enumerate(alphas):
        band(ax[1], plain.iterations, _above_floor(plain.series_of("sq_error", alpha=a)),
             label=fr"k = {k}, $\alpha$ = {a:g}", color=colors(i / max(len(alphas) - 1, 1) * 0.85))
    tr = results.get(model="asymmetric", method="gd", k=r)
    band(ax[1], tr.iterations, _above_floor(tr.series_of("sq_error", alpha=alphas[0])),
         label=fr"k = r, $\alpha$ = {alphas[0]:g}", color="C3", ls="--")
    ax[1].set(yscale="log", xlabel="iteration t", ylabel=r"$\|FG^\top - M^*\|_F^2$",
              title=r"(b) asymmetric $FG^\top$, plain GD")

    # (c) one-step modification vs plain GD
    mods = sorted(p["alphas_modified"])
    mod = results.get(model="asymmetric", method="rebalanced", k=k)
    for i, a in enumerate(mods):
        color = colors(i / max(len(mods) - 1, 1) * 0.85)
        band(ax[2], mod.iterations, _above_floor(mod.series_of("sq_error", alpha=a)),
             label=fr"modified, $\alpha$ = {a:g}", color=color)
        ax[2].plot(plain.iterations, np.nanmedian(_above_floor(plain.series_of("sq_error", alpha=a)), axis=0),
                   color=color, ls=":")
    ax[2].axvline(p["rebalance_at"], color="0.5", lw=0.7, ls="--")
    ax[2].plot([], [], color="0.3", ls=":", label="plain GD (same colours)")
    ax[2].set(yscale="log", xlabel="iteration t", ylabel=r"$\|FG^\top - M^*\|_F^2$",
              title="(c) one-step modification vs plain GD")

    # (d) fitted linear rate vs alpha
    every = sorted(set(p["alphas"]) | set(p["alphas_modified"]))
    for method, kk, grid, label, color, marker in (
            ("gd", k, every, f"plain GD, k = {k}", "C0", "o"),
            ("rebalanced", k, mods, f"modified, k = {k}", "C2", "s"),
            ("gd", r, alphas, "plain GD, k = r", "C3", "^")):
        fitted = rates(results, p, method, kk, grid)
        q = np.nanquantile(fitted, [0.1, 0.5, 0.9], axis=0)
        ax[3].errorbar(grid, q[1], yerr=[q[1] - q[0], q[2] - q[1]], color=color, marker=marker, ms=3,
                       lw=0.9, capsize=2, label=label)
    ref = rates(results, p, "gd", k, alphas)
    a0, y0 = alphas[-1], float(np.nanmedian(ref[:, -1]))
    reference_slope(ax[3], min(every), max(every), y0 * (min(every) / a0) ** 2, 2.0,
                    label=r"$\propto \alpha^2$ (Sec. 4)")
    ax[3].set(xscale="log", yscale="log", xlabel=r"initialization scale $\alpha$",
              ylabel="fitted rate (per iteration)", title=r"(d) fitted linear rate vs $\alpha$")
    ax[3].xaxis.set_major_locator(FixedLocator(every))
    ax[3].xaxis.set_minor_locator(NullLocator())
    ax[3].set_xticklabels([f"{a:g}" if a in mods or a == max(every) else "" for a in every])
    ax[3].set_ylim(bottom=2e-5)
    for a, loc in zip(ax, ("lower left", "lower left", "lower left", "lower right")):
        a.legend(loc=loc, ncol=2 if a is ax[1] else 1)
    fig.suptitle("Matrix sensing (Xiong, Ding, Du, ICLR 2024): median over trials, 10-90% band", fontsize=8)
    return fig


def _above_floor(series):
    """An error series with points at the round-off floor blanked (not part of any claim)."""
    y = np.array(series, dtype=float)
    y[y <= FLOOR * 1e-6] = np.nan
    return y
