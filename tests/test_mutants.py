"""The suite proves its own power: each realistic bug below must make at least one claim of its
paper (not an expected failure) fail on the quick configuration.

Each paper lists its mutants in tests/mutants_<paper>.py (``MUTANTS``); a mutant reruns, without
cache, only the units that its catching claims read.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from paper_runs import Mutant, mutant_verdicts

HERE = Path(__file__).parent


def _mutants() -> list[Mutant]:
    out = []
    for f in sorted(HERE.glob("mutants_*.py")):
        out += importlib.import_module(f.stem).MUTANTS
    return out


MUTANTS = _mutants()


@pytest.mark.parametrize("mutant", MUTANTS, ids=[f"{m.paper}:{m.name}" for m in MUTANTS])
def test_mutant_is_caught(mutant, monkeypatch):
    mutant.patch(monkeypatch)
    verdicts = mutant_verdicts(mutant)
    caught = [cid for cid, v in verdicts.items() if v.claim.expected_failure is None and not v.holds]
    assert caught, f"no claim caught {mutant.name}: " + "; ".join(
        f"{cid} measured {v.check.measured:.4g}" for cid, v in verdicts.items())


def test_every_paper_has_two_kinds_of_mutant():
    from experiments import registry

    for name in registry.available():
        kinds = {m.kind for m in MUTANTS if m.paper == name}
        assert len(kinds) >= 2, f"{name} has mutants of kinds {kinds}: needs >= 2 kinds"
