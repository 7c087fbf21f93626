"""Paper-style figure helpers: column-width panels, log axes, reference lines, trial bands."""
from __future__ import annotations

import contextlib

import matplotlib.pyplot as plt
import numpy as np

COLUMN_WIDTH = 3.4   # inches, one column of a two-column paper
STYLE = {
    "font.size": 7.5,
    "axes.titlesize": 8,
    "axes.labelsize": 7.5,
    "legend.fontsize": 6.5,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "lines.linewidth": 1.1,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "legend.frameon": False,
    "savefig.dpi": 150,
    "pdf.fonttype": 42,      # TrueType fonts in PDFs (editable, accepted by publishers)
    "ps.fonttype": 42,
}


def panels(ncols: int, nrows: int = 1, *, width: float = 2 * COLUMN_WIDTH, height: float = 2.0):
    """A figure of ncols x nrows panels (default: full text width, ~2 in per row).  Call it inside
    :func:`style` (the framework draws every figure there), never changing the caller's rcParams."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height * nrows), squeeze=False,
                             constrained_layout=True)
    return fig, axes.ravel()


@contextlib.contextmanager
def style():
    """The paper style for drawing and saving, as a context: the caller's matplotlib settings
    (backend, rcParams) are left as they were."""
    with plt.rc_context(STYLE):
        yield


def band(ax, x, y, label=None, color=None, **kw):
    """Median over trials with a 10-90% band; y is (R, T); NaNs (diverged) are left out."""
    y = np.asarray(y, dtype=float)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanquantile(y, [0.1, 0.5, 0.9], axis=0)
    ok = np.isfinite(q[1])
    line, = ax.plot(np.asarray(x)[ok], q[1][ok], label=label, color=color, **kw)
    if y.shape[0] > 1:
        ax.fill_between(np.asarray(x)[ok], q[0][ok], q[2][ok], color=line.get_color(), alpha=0.2, lw=0)
    return line


def reference_slope(ax, x0, x1, y0, slope, *, log_x=True, label=None, **kw):
    """A dashed reference line with the theorem's slope through (x0, y0): y = y0 (x/x0)^slope
    on log-log axes, or y = y0 exp(slope (x - x0)) on semilog axes."""
    x = np.geomspace(x0, x1, 50) if log_x else np.linspace(x0, x1, 50)
    y = y0 * (x / x0) ** slope if log_x else y0 * np.exp(slope * (x - x0))
    kw.setdefault("color", "0.3")
    kw.setdefault("ls", "--")
    kw.setdefault("lw", 0.9)
    return ax.plot(x, y, label=label, **kw)[0]


def save(fig, stem, *, formats=("png", "pdf")):
    """Write stem.png / stem.pdf atomically."""
    from .storage import atomic_save_figure

    with style():
        for fmt in formats:
            atomic_save_figure(fig, f"{stem}.{fmt}", dpi=150, bbox_inches="tight")
    plt.close(fig)
