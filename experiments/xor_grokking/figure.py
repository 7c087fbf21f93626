"""xor-grokking figure, from the stored table only: (a) train and test accuracy vs step for
each ||mu|| (log step axis, Bayes accuracy dashed), (b) the controls, (c) in-plane alignment and
full cosine of the first-layer weights with their class's mean vs step."""
from __future__ import annotations

import numpy as np

from experiments.plotting import band, panels

from .config import mu_text

CAPTION = (
    '(a) train (noisy labels) and test accuracy against the GD step for several ‖μ‖, with the B'
    'ayes accuracy (`late-benign-overfitting`); (b) the step-1 unit and its controls: large ini'
    'tialization, a saturating step, a clean strong signal (`first-step-interpolates`, `first-s'
    'tep-chance-test`); (c) alignment of the first-layer weights with the cluster means, in-pla'
    'ne and in R^p (`late-features-align`).'
)


def _x(trace):
    return np.maximum(np.asarray(trace.iterations, dtype=float), 0.5)   # step 0 drawn at 0.5


def draw(results, p):
    fig, (acc, ctrl, feat) = panels(3, height=2.3)
    colors = dict(zip(sorted(p["mus"]), ["C0", "C1", "C2", "C3", "C4", "C5", "C6"]))
    for mu in sorted(p["mus"]):
        c, grid = colors[mu], results.get(setting="grid", mu_values=mu_text([mu]))
        band(acc, _x(grid), grid.series_of("test_accuracy", mu=float(mu)), label=f"test, ||mu||={mu:g}", color=c)
        band(acc, _x(grid), grid.series_of("train_accuracy", mu=float(mu)), color=c, ls=":")
        bayes = float(np.median(grid.scalar_of("bayes_accuracy", mu=float(mu))))
        acc.axhline(bayes, color=c, lw=0.6, ls="--")
    acc.plot([], [], "k:", label="train (noisy labels)")
    acc.plot([], [], "k--", lw=0.6, label="Bayes accuracy")
    for setting, mu, c in (("first-step", p["first_step_mu"], "k"), ("saturated", p["late_mu"], "C3"),
                           ("large-init", p["first_step_mu"], "C1"),
                           ("clean-strong", p["strong_mu"], "C5")):
        tr = results.get(setting=setting)
        band(ctrl, _x(tr), tr.series_of("test_accuracy", mu=float(mu)), label=f"{setting} test", color=c)
        band(ctrl, _x(tr), tr.series_of("train_accuracy", mu=float(mu)), color=c, ls=":")
    for mu in sorted(p["mus"]):
        grid = results.get(setting="grid", mu_values=mu_text([mu]))
        band(feat, _x(grid), grid.series_of("plane_alignment", mu=float(mu)), color=colors[mu],
             label=f"in-plane, ||mu||={mu:g}")
        band(feat, _x(grid), grid.series_of("feature_cosine", mu=float(mu)), color=colors[mu], ls=":")
    feat.plot([], [], "k:", label="full cosine in R^p")
    feat.axhline(2 / np.pi, color="0.4", lw=0.6, ls="--", label="random in-plane (2/pi)")
    for ax, letter, title, where in ((acc, "a", "grid, eta = %g" % p["flip_prob"], "lower right"),
                                     (ctrl, "b", "step-1 unit and controls", "lower right"),
                                     (feat, "c", "first-layer alignment", "center right")):
        ax.set_xscale("log")
        ax.set_xlabel("GD step")
        ax.set_title(f"({letter}) {title}")
        ax.legend(loc=where, fontsize=5.5)
    acc.set_ylabel("accuracy")
    ctrl.set_ylabel("accuracy")
    feat.set_ylabel("|cos(w_j, mu_k(j))|")
    return fig
