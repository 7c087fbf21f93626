"""The halpern-vr figure: Halpern's bound on rotations, residual vs epochs per problem, and
calls-to-eps vs n (drawn from the results table only)."""
from __future__ import annotations

import numpy as np

from experiments.plotting import band, panels, reference_slope

from .config import FIXED_N_METHODS

PROBLEMS = (("lsq", "least squares"), ("bq", "bilinear-quadratic"), ("game", "matrix game"))
COLORS = {"halpern": "C0", "halpern-plain": "0.55", "page": "C3", "page-plain": "C1", "alg2": "C2",
          "alg2-plain": "C8", "eg": "C4", "eag": "C5"}
LABELS = {"halpern": "Halpern", "halpern-plain": "plain T x_k", "page": "Alg. 1 (PAGE-Halpern)",
          "page-plain": "Alg. 1 without anchor", "alg2": "Alg. 2 (VR-FoRB inner)",
          "alg2-plain": "Alg. 2 without anchor", "eg": "EG", "eag": "EAG"}

CAPTION = (
    "(a) Halpern's bound ratio on the rotation (`halpern-bound`, `halpern-tight`); (b) least sq"
    'uares: Halpern, Alg. 1 and their anchorless controls (`halpern-rate`, `page-rate`); (c) bi'
    'linear-quadratic: Alg. 2 (`alg2-rate`); (d) the matrix game (`game-equilibrium`, `game-vs-'
    'eg`, expected failures); (e) oracle calls to reach ε against n: √n for the variance-reduce'
    'd methods, n for the deterministic ones (`sqrt-n-page`, `sqrt-n-alg2`).'
)


def draw(results, p):
    fig, axes = panels(3, 2, height=2.3)
    axes[5].set_axis_off()
    _rotation(axes[0], results)
    for ax, (prob, title) in zip(axes[1:4], PROBLEMS):
        n = p["n_game"] if prob == "game" else p["n"]
        for m in FIXED_N_METHODS[prob]:
            for u, t in results.select(problem=prob, method=m, sweep="fixed"):
                epochs = np.nanmedian(t.calls(), axis=0) / n
                ok = epochs > 0
                label = "projected GDA" if (prob, m) == ("game", "halpern-plain") else LABELS[m]
                band(ax, epochs[ok], t.series["residual"][:, ok], label=label, color=COLORS[m])
        ax.set(xscale="log", yscale="log", xlabel="epochs (oracle calls / n)", title=f"{title}, n={n}")
        ax.set_ylabel("operator residual" if prob != "game" else "natural-map residual")
        ax.legend(loc="lower left", fontsize=5)
    _scaling(axes[4], results, p)
    return fig


def _rotation(ax, results):
    """Each trial's residual divided by its own bound 2||x0 - x*||/(N+1): the bound is the line 1."""
    for u, t in results.select(problem="rotation"):
        k = np.asarray(t.iterations, dtype=float)
        ok = k > 0
        bound = 2 * t.scalars["distance0"][:, None] / (k[ok] + 1)
        band(ax, k[ok], t.series["residual"][:, ok] / bound, label=LABELS[u["method"]],
             color=COLORS[u["method"]])
    ax.axhline(1.0, color="k", ls="--", lw=0.9, label="bound 2||x0-x*||/(N+1)")
    ax.set(xscale="log", yscale="log", xlabel="iteration N", ylabel="||x_N - T x_N|| / bound",
           title="rotation: Halpern's bound (ratio)")
    ax.legend(loc="upper left", fontsize=5)


def _scaling(ax, results, p):
    ns = np.asarray(sorted(p["ns"]), dtype=float)
    for prob, m, marker in (("lsq", "page", "o"), ("lsq", "halpern", "s"), ("bq", "alg2", "^"), ("bq", "eag", "v")):
        eps = min(p["eps"]) if prob == "lsq" else p["eps_bq"]
        y = np.stack([results.get(problem=prob, method=m, n=int(n), sweep="n").scalar_of("calls_to_eps", eps=eps)
                      for n in ns], axis=1)
        med = np.nanmedian(y, axis=0)
        slope = np.polyfit(np.log(ns), np.log(med), 1)[0]
        tag = "LS" if prob == "lsq" else "BQ"
        label = f"{LABELS[m].split(' (')[0]} [{tag}]: slope {slope:.2f}"
        ax.plot(ns, med, marker=marker, ms=3, color=COLORS[m], label=label)
        if m == "page":
            reference_slope(ax, ns[0], ns[-1], med[0] * 0.6, 0.5, label="~ sqrt(n)", color="0.2")
        if m == "halpern":
            reference_slope(ax, ns[0], ns[-1], med[0] * 1.8, 1.0, label="~ n", color="0.6")
    ax.set(xscale="log", yscale="log", xlabel="n (components)", ylabel="oracle calls to reach eps",
           title="calls to reach eps vs n")
    ax.set_xticks(ns, [str(int(n)) for n in ns], minor=False)
    ax.set_xticks([], minor=True)
    ax.legend(loc="upper left", fontsize=5)
