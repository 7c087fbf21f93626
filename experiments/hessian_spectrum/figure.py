"""hessian-spectrum figure, drawn from the stored table only: (a) exact eigenvalue densities for
several widths (fixed data) with the SLQ estimate, (b) the same for several k, (c) the top
eigenvalues by rank (the bulk edge after k^2), (d) Hessian vs Gauss-Newton outliers, (e) the loss
along the small-batch / large-batch segment and the control segment."""
from __future__ import annotations

import numpy as np

from experiments.plotting import band, panels

from .config import DENSITY_GRID, SEGMENT_POINTS

CAPTION = (
    '(a) eigenvalue densities at a trained point for several widths, with the SLQ estimate over'
    ' the exact one (`bulk-and-outliers`, `width-scales-bulk`); (b) densities for several numbe'
    'rs of classes k, and at initialization (the control); (c) the top eigenvalues by rank: the'
    ' bulk edge after k² outliers under MSE (`outlier-count`, `width-keeps-outliers`); (d) top-'
    'k² eigenvalues of the Hessian against the Gauss-Newton matrix, trained and at initializati'
    'on (`gauss-newton-outliers`); (e) training loss along the segment between small- and large'
    '-batch solutions, and to a solution from another initialization (`connected-basins`).'
)


def _median(values):
    return np.nanmedian(np.asarray(values, dtype=float), axis=0)


def _ranked(trace, metric, point, width):
    ranks = sorted(int(r) for r in (_labels(trace, metric, point, width)))
    return np.array(ranks), np.stack([trace.scalar_of(metric, point=point, width=width, rank=r) for r in ranks], axis=1)


def _labels(trace, metric, point, width):
    import json

    out = []
    for key in trace.scalars:
        name, _, labels = key.partition("|")
        if name == metric and labels:
            lab = json.loads(labels)
            if lab.get("point") == point and lab.get("width") == width and "rank" in lab:
                out.append(lab["rank"])
    return out


def draw(results, p):
    fig, axes = panels(3, 2, height=2.2)
    axes[5].set_axis_off()
    grid = np.linspace(*DENSITY_GRID)
    k_mid = p["classes"][len(p["classes"]) // 2]
    colors = ["C0", "C1", "C2", "C3", "C4", "C5"]

    ax = axes[0]
    widths_trace = results.get(setting="widths", classes=k_mid)
    for c, h in zip(colors, p["widths"]):
        band(ax, grid, widths_trace.series_of("density", point="trained", width=h), label=f"h={h}", color=c)
    probe = results.get(setting="probe", classes=k_mid)
    band(ax, grid, probe.series_of("slq_density", point="trained", width=p["probe_width"]),
         label=f"SLQ h={p['probe_width']}", color="k", ls=":")
    ax.set(yscale="log", ylim=(1e-4, 10), xlim=(-1.5, 22), xlabel="eigenvalue", ylabel="density",
           title=f"(a) widths, k={k_mid}")
    ax.legend()

    ax = axes[1]
    h = p["probe_width"]
    for c, k in zip(colors, p["classes"]):
        band(ax, grid, results.get(setting="probe", classes=k).series_of("density", point="trained", width=h),
             label=f"k={k}", color=c)
    band(ax, grid, probe.series_of("density", point="initialization", width=h), label=f"init k={k_mid}",
         color="0.5", ls="--")
    ax.set(yscale="log", ylim=(1e-4, 10), xlim=(-1.5, 22), xlabel="eigenvalue", ylabel="density",
           title=f"(b) classes, h={h}")
    ax.legend()

    ax = axes[2]
    for c, k in zip(colors, p["classes"]):
        tr = results.get(setting="widths", classes=k)
        for width, ls in zip(p["widths"], ["-", "--", ":", "-."]):
            ranks, values = _ranked(tr, "eigenvalue", "trained", width)
            band(ax, ranks, values, color=c, ls=ls, marker=".", ms=2,
                 label=f"k={k}" if width == p["widths"][0] else None)
        ax.axvline(k * k + 0.5, color=c, lw=0.6, alpha=0.6)
    ax.set(yscale="log", xlabel="rank (vertical lines: $k^2 + 1/2$)", ylabel="eigenvalue",
           title="(c) bulk edge after $k^2$ outliers")
    ax.legend()

    ax = axes[3]
    for c, k in zip(colors, p["classes"]):
        tr = results.get(setting="probe", classes=k)
        for point, marker in [("trained", "o"), ("initialization", "x")]:
            _, H = _ranked(tr, "eigenvalue", point, h)
            ranks, G = _ranked(tr, "gauss_newton_eigenvalue", point, h)
            ax.scatter(_median(G), _median(H[:, :len(ranks)]), s=8, marker=marker, color=c,
                       label=f"k={k} {'trained' if point == 'trained' else 'init'}")
    lim = ax.get_xlim()
    ax.plot(lim, lim, color="0.3", ls="--", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel="Gauss-Newton eigenvalue", ylabel="Hessian eigenvalue",
           title="(d) top $k^2$: H vs Gauss-Newton")
    ax.legend(ncol=2, fontsize=5)

    ax = axes[4]
    seg = results.get(setting="segment", classes=p["probe_classes"])
    ts = np.linspace(0, 1, SEGMENT_POINTS)
    band(ax, ts, seg.series_of("segment_loss", pair="small_large"), label="SB to LB (one init)")
    band(ax, ts, seg.series_of("segment_loss", pair="small_other_init"), label="SB to LB (other init)")
    ax.set(yscale="log", xlabel="t", ylabel="training loss", title="(e) segment loss")
    ax.legend()
    return fig
