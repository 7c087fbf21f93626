"""One cached quick run per paper per test session, and the mutant machinery.

Every test that needs a paper's quick verdicts (test_claims, test_contract) asks
:func:`quick_verdicts`, so each paper's quick configuration runs once per pytest run.  A mutant
(:class:`Mutant`) is a realistic bug injected with monkeypatch; :func:`mutant_verdicts` reruns only
the units that the claims meant to catch it read, without cache, and judges those claims.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from experiments import registry
from experiments.runner import RunOptions, run_experiment, verify

_TMP = tempfile.mkdtemp(prefix="theorycheck-tests-")
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
CACHE_DIR = Path(_TMP) / "cache"
_VERDICTS: dict = {}


def quick_run(name: str, seed: int = 0):
    """(experiment, parameters, results, verdicts) of a paper's quick configuration (memoized)."""
    key = (name, seed)
    if key not in _VERDICTS:
        exp = registry.get(name)
        p = exp.resolve("quick")
        opts = RunOptions(seed=seed, cache_dir=CACHE_DIR, progress=False)
        results = run_experiment(exp, p, opts, mode="quick")
        _VERDICTS[key] = (exp, p, results, verify(exp, results, p))
    return _VERDICTS[key]


def quick_verdicts(name: str, seed: int = 0) -> dict:
    return {v.claim.id: v for v in quick_run(name, seed)[3]}


def all_claim_ids() -> list[tuple[str, str, bool]]:
    """(paper, claim id, expected failure?) of every registered claim, from the quick defaults."""
    out = []
    for name in registry.available():
        exp = registry.get(name)
        for c in exp.claims(exp.defaults("quick")):
            out.append((name, c.id, c.expected_failure is not None))
    return out


@dataclass(frozen=True)
class Mutant:
    """A realistic bug: ``patch(monkeypatch)`` injects it; ``claims`` are the claim ids expected
    to catch it (at least one must fail); ``units(unit) -> bool`` selects the units to recompute
    (default: all units of the quick sweep)."""

    paper: str
    name: str
    kind: str          # wrong step | dropped term | wrong order | miscounted calls | wrong formula ...
    patch: Callable
    claims: tuple[str, ...]
    units: Callable | None = None


def mutant_verdicts(m: Mutant) -> dict:
    """Verdicts of the claims ``m.claims`` with the bug injected (the caller patched already)."""
    exp = registry.get(m.paper)
    p = exp.resolve("quick")
    sweep = exp._sweep
    chosen = (lambda p: [u for u in sweep(p) if m.units(u)]) if m.units else sweep
    exp._sweep = chosen
    try:
        results = run_experiment(exp, p, RunOptions(cache_dir=None, progress=False), mode="quick")
    finally:
        exp._sweep = sweep
    wanted = [(c, g) for c, g in exp.checks(p) if c.id in m.claims]
    missing = set(m.claims) - {c.id for c, _ in wanted}
    assert not missing, f"mutant {m.name}: unknown claims {missing}"
    from experiments.runner import _judge_one

    return {c.id: _judge_one(c, g, results, p) for c, g in wanted}
