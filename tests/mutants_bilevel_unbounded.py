"""Realistic bugs in the bilevel-unbounded experiment; each must make a claim fail."""
from __future__ import annotations

from algorithms.bilevel import bo_rep
from paper_runs import Mutant
from problems.bilevel_oracles import StochasticOracles

PAPER = "bilevel-unbounded"
RUNS = "experiments.bilevel_unbounded.runs"


def _without_refinement(*args, **kwargs):
    kwargs["refine_epochs"] = 0
    return bo_rep(*args, **kwargs)


def _z_step_is_gamma(*args, **kwargs):
    """The linear-system step taken from the lower-level step (a parameter mix-up)."""
    kwargs["nu"] = kwargs["gamma"] if kwargs.get("nu", 0) > 0 else 0.0
    return bo_rep(*args, **kwargs)


class _JvpSignFlipped(StochasticOracles):
    """h = grad_x f + d2_xy g z: the implicit-function term with the wrong sign."""

    def jvp(self, x, y, v, batch: int = 1):
        return -super().jvp(x, y, v, batch)


MUTANTS = [
    Mutant(paper=PAPER, name="z-step-uses-lower-level-step", kind="wrong step",
           patch=lambda mp: mp.setattr(f"{RUNS}.bo_rep", _z_step_is_gamma),
           claims=(f"{PAPER}/hypergradient-bias",), units=lambda u: u["group"] == "bias"),
    Mutant(paper=PAPER, name="dropped-initialization-refinement", kind="dropped term",
           patch=lambda mp: mp.setattr(f"{RUNS}.bo_rep", _without_refinement),
           claims=(f"{PAPER}/tracking",), units=lambda u: u["group"] == "tracking"),
    Mutant(paper=PAPER, name="jvp-term-sign-flipped", kind="wrong formula",
           patch=lambda mp: mp.setattr(f"{RUNS}.StochasticOracles", _JvpSignFlipped),
           claims=(f"{PAPER}/unbounded-smoothness",), units=lambda u: u["group"] == "divergence"),
]
