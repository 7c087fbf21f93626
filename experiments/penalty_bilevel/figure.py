"""penalty-bilevel figure, drawn from the stored table only: (a) value gaps |psi - psi_sigma| and
(b) gradient gaps against sigma (worst over the sampled x; median and 10-90% band over trials)
per instance, with the slope-1 reference and the control (d); (c) psi and psi_sigma of (d) on a
slice through x = 0, where S(0) = [-1, 1]; (d) ||grad psi(x_t)|| of the penalty method against
oracle calls for several eps (sigma = sigma_ratio eps) and with sigma fixed."""
from __future__ import annotations

import numpy as np

from experiments.plotting import band, panels, reference_slope

from .config import CONTROL, INSTANCES, SLICE_SIGMAS, eps_grid, sigma_grid

LABELS = {"a": "(a) quadratic", "b": "(b) box", "c": "(c) rank-def.", "cw": "(c') anisotropic",
          "d": "(d) jump, control"}

CAPTION = (
    '(a) value gap |ψ − ψ_σ| against σ on instances (a)–(c′) and the jump control (d) (`value-g'
    'ap`, `psi-sigma-below-psi`); (b) gradient gap (`gradient-gap`); (c) ψ and ψ_σ on a slice o'
    'f instance (d) through x = 0, where the lower-level solution set is not a singleton; (d) t'
    "he penalty method's stationarity against oracle calls with σ shrinking with ε and fixed (`"
    'complexity`).'
)


def _worst(results, p, instance, metric):
    tr = results.get(group="landscape", instance=instance)
    return np.stack([np.max([tr.scalar_of(metric, point=k, sigma=s) for k in range(p["points"])], axis=0)
                     for s in sigma_grid(p)], axis=1)


def draw(results, p):
    fig, axes = panels(4, width=7.0, height=2.0)
    sig = np.array(sigma_grid(p))
    for ax, metric, ylabel in ((axes[0], "value_gap", r"$|\psi - \psi_\sigma|$"),
                               (axes[1], "grad_gap", r"$\|\nabla\psi_\sigma - \nabla\psi\|$")):
        for i, k in enumerate(INSTANCES + (CONTROL,)):
            band(ax, sig, _worst(results, p, k, metric), label=LABELS[k],
                 color="C3" if k == CONTROL else f"C{i if i < 3 else i + 1}")
        y0 = np.nanmedian(_worst(results, p, "a", metric), axis=0)[0]
        reference_slope(ax, sig[0], sig[-1], y0 / 3, 1.0, label=r"slope 1 ($O(\sigma)$)")
        ax.set(xscale="log", yscale="log", xlabel=r"$\sigma$", ylabel=ylabel)
    axes[0].legend(fontsize=5)
    ax = axes[2]
    tr = results.get(group="landscape", instance=CONTROL)
    ts = sorted({lab["t"] for lab in (_labels(key) for key in tr.scalars) if "t" in lab})
    ax.plot(ts, [np.median(tr.scalar_of("slice_psi", t=t)) for t in ts], "k.", ms=2.5, label=r"$\psi$")
    for j, s in enumerate(SLICE_SIGMAS):
        ax.plot(ts, [np.median(tr.scalar_of("slice_psi_sigma", t=t, sigma=s)) for t in ts],
                color=f"C{j}", label=rf"$\psi_\sigma$, $\sigma$={s:g}")
    ax.set(xlabel="x (instance (d); S(0) = [-1, 1])", ylabel="value")
    ax.legend(fontsize=5, loc="lower left")
    ax = axes[3]
    eps = eps_grid(p)
    for variant, style in (("shrinking", "-"), ("fixed", ":")):
        t = results.get(group="complexity", variant=variant)
        for j, e in enumerate((eps[0], eps[len(eps) // 2], eps[-1])):
            calls = np.nanmedian(t.series_of("calls", eps=e), axis=0)
            band(ax, calls[1:], t.series_of("stationarity", eps=e)[:, 1:], color=f"C{j}", ls=style,
                 label=rf"$\varepsilon$={e:.3g}, $\sigma$ {variant}")
            if variant == "shrinking":
                ax.axhline(e, color=f"C{j}", lw=0.6, ls="--")
    ax.set(xscale="log", yscale="log", xlabel="oracle calls", ylabel=r"$\|\nabla\psi(x_t)\|$ (dashed: $\varepsilon$)")
    ax.legend(fontsize=4.5)
    for letter, a in zip("abcd", axes):
        a.set_title(f"({letter}) {a.get_title()}".rstrip())
    return fig


def _labels(key):
    from experiments.base import split_key

    return split_key(key)[1]
