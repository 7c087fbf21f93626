"""Realistic bugs in the matrix-sensing code that `verify` must catch (see tests/test_mutants.py).

Each patch replaces the name where experiments/matrix_sensing/runs.py (or the algorithm module)
looks it up; ``units`` keeps only the units the catching claims read.
"""
from __future__ import annotations

from array_api_compat import array_namespace

import algorithms.factorized_gd as fg
import experiments.matrix_sensing.runs as runs
from algorithms.recording import Recorder
from experiments.matrix_sensing.config import PARAMS
from paper_runs import Mutant
from problems.matrix_sensing import squared_error

PAPER = "matrix-sensing"


def _doubled_step(original):
    def run(*args, step, **kwargs):
        return original(*args, step=2 * step, **kwargs)
    return run


def _without_rebalancing(*args, rebalance_at=None, **kwargs):
    return fg.asymmetric_gd(*args, rebalance_at=None, **kwargs)


def _gauss_seidel_gd(A, y, F0, G0, *, step, iterations, record, target, rebalance_at=None, beta=0.5):
    """asymmetric_gd with G stepped from the already updated F (a sequential update)."""
    xp = array_namespace(A, y, F0, G0)
    rec = Recorder(record, iterations)
    F, G = F0, G0
    gram = xp.zeros_like(xp.matmul(F0.mT, F0))
    for t in range(iterations + 1):
        if t == rebalance_at:
            F, G = fg.rebalance(F, G, beta)
        if rec.due(t):
            rec.record(t, t, sq_error=squared_error(xp.matmul(F, G.mT), target))
        if t < iterations:
            gF, _ = fg.asymmetric_gradient(A, y, F, G)
            F = F - step * gF
            _, gG = fg.asymmetric_gradient(A, y, F, G)
            G = G - step * gG
            gram = gram + xp.matmul(gF.mT, gF) - xp.matmul(gG.mT, gG)
    return rec.result(F=F, G=G, gradient_gram=gram)


def _unsymmetrized_gradient(A, y, X):
    """The symmetric gradient with A*(r) X instead of sym(A*(r)) X (a wrong adjoint)."""
    xp = array_namespace(A, y, X)
    return xp.matmul(fg._residual_matrix(A, y, xp.matmul(X, X.mT)), X)


def symmetric_gd_units(u):
    return u["model"] == "symmetric" and u["method"] == "gd"


def asymmetric_exact_units(u):
    """The short k = r runs, plain and modified: all that the imbalance identity reads."""
    return u["model"] == "asymmetric" and u["k"] == PARAMS["r"].quick


MUTANTS = [
    Mutant(paper=PAPER, name="doubled-step-symmetric", kind="wrong step",
           patch=lambda mp: mp.setattr(runs, "symmetric_gd", _doubled_step(fg.symmetric_gd)),
           claims=(f"{PAPER}/symmetric-exact-linear",), units=symmetric_gd_units),
    Mutant(paper=PAPER, name="doubled-step-asymmetric", kind="wrong step",
           patch=lambda mp: mp.setattr(runs, "asymmetric_gd", _doubled_step(fg.asymmetric_gd)),
           claims=(f"{PAPER}/asymmetric-imbalance-identity",), units=asymmetric_exact_units),
    Mutant(paper=PAPER, name="gauss-seidel-asymmetric", kind="wrong order",
           patch=lambda mp: mp.setattr(runs, "asymmetric_gd", _gauss_seidel_gd),
           claims=(f"{PAPER}/asymmetric-imbalance-identity",), units=asymmetric_exact_units),
    Mutant(paper=PAPER, name="dropped-rebalancing", kind="dropped term",
           patch=lambda mp: mp.setattr(runs, "asymmetric_gd", _without_rebalancing),
           # modified-alpha-free and modified-speedup catch it too, from the long k > r runs
           claims=(f"{PAPER}/asymmetric-imbalance-identity",),
           units=asymmetric_exact_units),
    Mutant(paper=PAPER, name="unsymmetrized-gradient", kind="wrong adjoint",
           patch=lambda mp: mp.setattr(fg, "symmetric_gradient", _unsymmetrized_gradient),
           claims=(f"{PAPER}/symmetric-exact-linear",), units=symmetric_gd_units),
]
