"""Realistic bugs in the penalty-bilevel experiment; each must make a claim fail."""
from __future__ import annotations

from paper_runs import Mutant
from problems.bilevel_oracles import StochasticOracles

PAPER = "penalty-bilevel"
RUNS = "experiments.penalty_bilevel.runs"


def _g_star_sign_flipped(f_val, g_val, g_star, sigma):
    return f_val + (g_val + g_star) / sigma


def _step_x_without_sigma(p, sigma):
    """step_x = step_scale: the sigma factor forgotten (psi_sigma's gradient carries 1/sigma)."""
    return p["step_scale"]


def _naive_gradient(P, x):
    """The implicit-function formula at the min-norm lower solution, as if it were unique."""
    return P.naive_grad(x) if hasattr(P, "naive_grad") else P.grad_psi(x)


class _LowerCallsNotCharged(StochasticOracles):
    def charge(self, kind, amount=1, active=None):
        if kind != "lower_grad":
            super().charge(kind, amount, active)


def _landscape(*instances):
    return lambda u: u["group"] == "landscape" and u["instance"] in instances


MUTANTS = [
    Mutant(paper=PAPER, name="g-star-term-wrong-sign", kind="wrong formula",
           patch=lambda mp: mp.setattr(f"{RUNS}.penalty_value", _g_star_sign_flipped),
           claims=(f"{PAPER}/psi-sigma-below-psi", f"{PAPER}/value-gap"),
           units=_landscape("a", "b", "c", "cw", "d")),
    Mutant(paper=PAPER, name="step-x-not-scaled-with-sigma", kind="wrong step",
           patch=lambda mp: mp.setattr(f"{RUNS}.x_step", _step_x_without_sigma),
           claims=(f"{PAPER}/complexity",), units=lambda u: u["group"] == "complexity"),
    Mutant(paper=PAPER, name="lower-gradient-calls-not-charged", kind="miscounted calls",
           patch=lambda mp: mp.setattr(f"{RUNS}.StochasticOracles", _LowerCallsNotCharged),
           claims=(f"{PAPER}/oracle-cost",), units=lambda u: u["group"] == "cost"),
    Mutant(paper=PAPER, name="naive-implicit-gradient", kind="wrong formula",
           patch=lambda mp: mp.setattr(f"{RUNS}.explicit_gradient", _naive_gradient),
           claims=(f"{PAPER}/explicit-gradient",), units=_landscape("cw")),
]
