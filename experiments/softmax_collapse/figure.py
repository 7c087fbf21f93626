"""softmax-collapse figure: test accuracy and SC fraction vs step, the NLM cosine, and the gap
at first collapse against the dtype's threshold bracket (drawn from the stored table only)."""
from __future__ import annotations

import numpy as np

from experiments.plotting import band, panels

from .claims import COLLAPSE_FORCED, COLLAPSE_NEEDS, threshold
from .config import dtype_pair

CURVES = [("softmax", 0, "softmax float32"), ("softmax", 1, "softmax float64"),
          ("stablemax", 0, "StableMax float32"), ("perp", 0, "⊥Grad float32"),
          ("perp_random", 0, "random-direction control")]


def draw(results, p):
    fig, axes = panels(4, width=7.0, height=2.1)
    dts = dtype_pair(p)
    for setting, i, label in CURVES:
        sel = results.select(setting=setting, dtype=dts[i])
        if not sel:
            continue
        tr = sel[0][1]
        band(axes[0], tr.iterations, tr.series_of("test_accuracy"), label=label)
        band(axes[1], tr.iterations, tr.series_of("sc_fraction"), label=label)
        if setting != "perp_random":
            band(axes[2], tr.iterations, tr.series_of("nlm_cosine"), label=label)
    axes[0].set(xlabel="step", ylabel="test accuracy", title="(a) generalization")
    axes[1].set(xlabel="step", ylabel="SC fraction (train)", title="(b) Softmax Collapse")
    axes[2].set(xlabel="step", ylabel="cos(-grad, weights)", title="(c) NLM alignment")
    axes[2].axhline(0.9, color="0.3", ls="--", lw=0.8)
    axes[0].legend(loc="upper left")
    ax = axes[3]
    for x, d in enumerate(dts):
        sel = results.select(setting="softmax", dtype=d)
        if not sel:
            continue
        gaps = np.asarray(sel[0][1].scalar_of("first_collapse_gap"), dtype=float)
        lo, hi = threshold(COLLAPSE_NEEDS, d, p["q"]), threshold(COLLAPSE_FORCED, d, p["q"])
        ax.fill_between([x - 0.3, x + 0.3], lo, hi, color="0.85", label="predicted bracket" if x == 0 else None)
        ax.plot(np.full(gaps.size, x) + np.linspace(-0.1, 0.1, gaps.size), gaps, "o", ms=3,
                color="C3", label="measured" if x == 0 else None)
    ax.set_xticks(range(len(dts)), dts)
    ax.set(ylabel="top-2 logit gap at first SC", title="(d) collapse threshold")
    ax.legend(loc="upper left")
    return fig
