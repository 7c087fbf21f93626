"""Realistic bugs in the halpern-vr algorithms; each must make a claim of the paper fail.

Each patch replaces the name where it is looked up: runs.py's ``halpern`` / ``page_halpern``, or
the helpers page_halpern reads from algorithms.halpern_vr at call time.
"""
from __future__ import annotations

import functools

import algorithms.halpern_vr as halpern_vr
import experiments.halpern_vr.runs as runs
from paper_runs import Mutant

PAPER = "halpern-vr"


def _fixed(problem, *methods):
    return lambda u: u["sweep"] == "fixed" and u["problem"] == problem and u["method"] in methods


MUTANTS = [
    Mutant(PAPER, "page-anchor-dropped", "dropped term",
           lambda mp: mp.setattr(runs, "page_halpern", functools.partial(runs.page_halpern, anchor=lambda k: 0.0)),
           claims=(f"{PAPER}/page-rate",), units=_fixed("lsq", "page", "page-plain")),
    Mutant(PAPER, "halpern-anchor-1/(k+3)", "wrong step schedule",
           lambda mp: mp.setattr(runs, "halpern", functools.partial(runs.halpern, anchor=lambda k: 1.0 / (k + 3))),
           claims=(f"{PAPER}/halpern-tight",), units=_fixed("rotation", "halpern", "halpern-plain")),
    Mutant(PAPER, "halpern-anchor-constant", "wrong step schedule",
           lambda mp: mp.setattr(runs, "halpern", functools.partial(runs.halpern, anchor=lambda k: 0.05)),
           claims=(f"{PAPER}/halpern-rate",), units=_fixed("lsq", "halpern", "halpern-plain")),
    Mutant(PAPER, "page-estimator-never-refreshed", "stale estimator",
           lambda mp: mp.setattr(halpern_vr, "page_probability", lambda k, n, batch: 0.0),
           claims=(f"{PAPER}/page-rate",), units=_fixed("lsq", "page", "page-plain")),
    Mutant(PAPER, "page-minibatch-charged-once", "miscounted calls",
           lambda mp: mp.setattr(halpern_vr, "minibatch_cost", lambda batch: 2),
           claims=(f"{PAPER}/page-cost",), units=_fixed("lsq", "page", "halpern")),
]
