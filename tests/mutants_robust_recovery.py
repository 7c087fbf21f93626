"""Realistic bugs in robust-recovery's SubGM that a claim of the quick run must catch.

Each patches the name where it is looked up: runs.py calls ``runs.subgradient_method``;
``subgradient_method`` looks ``l1_subgradient`` up in algorithms.subgradient at call time.
(No claim of this paper reads oracle calls, so there is no miscounted-calls mutant.)
"""
from __future__ import annotations

import algorithms.subgradient as sg
import experiments.robust_recovery.runs as runs
from paper_runs import Mutant

PAPER = "robust-recovery"
P_CLAIM, P_BREAK, P_SMALL = 0.3, 0.65, 0.1      # the quick p_claim, p_break and smallest positive p


def _with(**changed):
    """subgradient_method with some keyword arguments forced (a wrong step schedule)."""
    original = sg.subgradient_method

    def wrong(A, y, U0, X_star, **kw):
        kw.update({k: f(kw) for k, f in changed.items()})
        return original(A, y, U0, X_star, **kw)

    return wrong


def _unit_scale_start(A, y, U0, X_star, **kw):
    """The small initialization dropped: U0 rescaled to unit norm whatever alpha was."""
    xp = sg.array_namespace(U0)
    norm = xp.sqrt(xp.sum(U0**2, axis=(-2, -1), keepdims=True))
    return sg.subgradient_method(A, y, U0 / norm, X_star, **kw)


def _no_symmetrization(A, y, U):
    """The adjoint's transpose dropped: G U instead of (G + G^T) U."""
    xp = sg.array_namespace(A, y, U)
    d = U.shape[-2]
    residual = sg.measure(A, xp.matmul(U, U.mT)) - y
    G = sg.adjoint(A, xp.sign(residual), d, d) / y.shape[-1]
    return xp.matmul(G, U)


def _rate_units(u):
    return u["group"] in ("constant", "decay") or (u["group"] == "outliers" and u["p"] == P_CLAIM)


def _robust_units(u):
    return u["group"] == "outliers" and u["p"] in (P_CLAIM, P_BREAK, P_SMALL)


LINEAR = f"{PAPER}/linear-convergence"
ROBUST = f"{PAPER}/outlier-robustness"
ALPHA = f"{PAPER}/small-init-vs-overparam"

MUTANTS = [
    Mutant(paper=PAPER, name="constant step (no geometric decay)", kind="wrong step",
           patch=lambda mp: mp.setattr(runs, "subgradient_method", _with(rho=lambda kw: 1.0)),
           claims=(LINEAR,), units=_rate_units),
    Mutant(paper=PAPER, name="decay factor rho + 0.005", kind="wrong step",
           patch=lambda mp: mp.setattr(runs, "subgradient_method",
                                       _with(rho=lambda kw: kw["rho"] + 0.005 if kw["rho"] < 1 else 1.0)),
           claims=(LINEAR,), units=_rate_units),
    Mutant(paper=PAPER, name="sign(residual) replaced by the residual (ℓ2 gradient)", kind="wrong formula",
           patch=lambda mp: mp.setattr(sg, "l1_subgradient", sg.l2_gradient),
           claims=(ROBUST,), units=_robust_units),
    Mutant(paper=PAPER, name="adjoint not symmetrized (G U for (G + G^T) U)", kind="wrong adjoint",
           patch=lambda mp: mp.setattr(sg, "l1_subgradient", _no_symmetrization),
           claims=(ROBUST, LINEAR), units=lambda u: _robust_units(u) or _rate_units(u)),
    Mutant(paper=PAPER, name="small initialization dropped (U0 of unit norm)", kind="dropped term",
           patch=lambda mp: mp.setattr(runs, "subgradient_method", _unit_scale_start),
           claims=(ALPHA,), units=lambda u: u["group"] == "alpha"),
]
