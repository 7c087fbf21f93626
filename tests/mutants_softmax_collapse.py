"""Realistic bugs in softmax-collapse that verify --quick must catch."""
from __future__ import annotations

from paper_runs import Mutant

import algorithms.softmax_collapse as sc

PAPER = "softmax-collapse"
RUNS = "experiments.softmax_collapse.runs"


def _perp_along_gradient(arch, *, directions=None, rescale=True):
    """⊥Grad projecting out the wrong direction: a fixed coordinate axis (as a slicing bug that
    projects onto the wrong tensor would) instead of the weights."""
    def transform(params, grad):
        import numpy as np
        axis = np.zeros(params.shape, dtype=params.dtype)
        axis[:, 0] = 1.0
        return sc.perpendicular_gradient(arch, directions=axis)(params, grad)
    return transform


def _stablemax_wrong_branch(x):
    """s(x) = 1/(1 + x) on x < 0 (sign slip): not monotone, negative below -1."""
    import numpy as np
    return np.where(x >= 0, x + 1.0, 1.0 / (1.0 + np.minimum(x, 0.0)))


def _perp_without_projection(arch, *, directions=None, rescale=True):
    """⊥Grad with the projection term dropped: only the (now trivial) rescaling is left.
    (An Adam eps = 1e-8 mutant and a ⊥Grad-without-rescaling mutant were tried and are NOT caught:
    Adam is invariant to slowly varying gradient scales, and eps barely moves the SC time.)"""
    def transform(params, grad):
        return grad
    return transform


def _perp_units(u):
    """What perp-grad-faster reads: Adam, ⊥Grad and its random-direction control, all float32
    (a missing unit would make the claim fail for want of evidence, not because of the bug)."""
    return u["setting"] in ("softmax", "perp", "perp_random") and u["dtype"] == "float32"


def _stablemax_units(u):
    """What stablemax-no-collapse reads: the StableMax run and its softmax float32 control."""
    return u["setting"] in ("stablemax", "softmax") and u["dtype"] == "float32"


MUTANTS = [
    Mutant(PAPER, "perp-grad-wrong-direction", "wrong formula",
           lambda mp: mp.setattr(f"{RUNS}.perpendicular_gradient", _perp_along_gradient),
           claims=("softmax-collapse/perp-grad-faster",), units=_perp_units),
    Mutant(PAPER, "stablemax-wrong-branch", "wrong formula",
           lambda mp: mp.setattr("algorithms.softmax_collapse.stablemax_s", _stablemax_wrong_branch),
           claims=("softmax-collapse/stablemax-no-collapse",),
           units=_stablemax_units),
    Mutant(PAPER, "perp-grad-dropped-projection", "dropped term",
           lambda mp: mp.setattr(f"{RUNS}.perpendicular_gradient", _perp_without_projection),
           claims=("softmax-collapse/perp-grad-faster",), units=_perp_units),
]
