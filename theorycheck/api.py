"""The public Python API behind the command line."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments import registry
from experiments.params import ParamError


def default_cache_dir() -> Path:
    """The user cache folder: $THEORYCHECK_CACHE_DIR, else $XDG_CACHE_HOME/theorycheck, else
    ~/.cache/theorycheck."""
    if os.environ.get("THEORYCHECK_CACHE_DIR"):
        return Path(os.environ["THEORYCHECK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "theorycheck"


@dataclass
class Result:
    """One experiment's run: the tidy table, the verdicts, the provenance, the figure."""

    experiment: Any
    params: dict
    results: Any
    verdicts: list
    provenance: dict

    @property
    def frame(self):
        """The tidy results table as a pandas DataFrame (pandas is imported only here, so the
        core install does not need it)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Result.frame needs pandas: pip install pandas") from None
        import io

        return pd.read_csv(io.StringIO(self.results.to_csv()))

    @property
    def holds(self) -> bool:
        """Every claim holds or fails as a measured, documented expected failure."""
        return all(v.passed for v in self.verdicts)

    def figure(self):
        """The paper-style figure (a matplotlib Figure), drawn from the table only; the caller's
        matplotlib settings are left untouched."""
        return self.experiment.figure(self.results, self.params)

    def summary(self) -> str:
        from experiments.report import console_table

        return console_table([v.to_json() for v in self.verdicts])


def experiments() -> list[dict]:
    """Every registered experiment: name, title, paper, claims and parameters."""
    out = []
    for name in registry.available():
        exp = registry.get(name)
        quick = exp.defaults("quick")
        out.append({
            "name": name, "title": exp.title, "paper": exp.paper,
            "claims": [{"id": c.id, "kind": c.kind, "statement": c.statement,
                        "expected_failure": c.expected_failure} for c in exp.claims(quick)],
            "params": {k: {"quick": p.quick, "full": p.full, "help": p.help, "range": p.range_text()}
                       for k, p in exp.params.items()},
            "trials": dict(exp.trials),
        })
    return out


def run(name: str, mode: str = "quick", *, seed: int = 0, trials: int | None = None, out=None,
        backend: str = "numpy", dtype: str = "float64", threads: int = 1, jobs: int = 1,
        cache_dir=None, progress: bool = False, **params) -> Result:
    """Run one experiment (cached), check its claims, and return a :class:`Result`.

    ``params`` override the mode's defaults with Python values (validated like ``--set``).  With
    ``out`` the table, provenance and verdicts are also written to ``out/<name>/``.
    """
    from experiments.commands import run_and_store
    from experiments.runner import RunOptions, provenance, run_experiment
    from experiments.runner import verify as judge_all

    exp = registry.get(name)
    p = exp.resolve_values(mode, params)
    opts = RunOptions(seed=seed, trials=trials, backend=backend, dtype=dtype, threads=threads, jobs=jobs,
                      cache_dir=Path(cache_dir) if cache_dir else default_cache_dir(), progress=progress)
    opts.validate()
    if out is not None:
        results, prov, _ = run_and_store(exp, p, opts, mode, Path(out))
    else:
        results = run_experiment(exp, p, opts, mode=mode)
        prov = provenance(exp, mode, p, opts, results)
    return Result(exp, p, results, judge_all(exp, results, p), prov)


def verify(names=None, mode: str = "quick", **kwargs) -> dict[str, Result]:
    """Run and check several experiments (default: all); name -> :class:`Result`."""
    names = [names] if isinstance(names, str) else list(names or registry.available())
    unknown = [n for n in names if n not in registry.available()]
    if unknown:
        raise ParamError(f"unknown experiment {unknown[0]!r}: valid experiments are {', '.join(registry.available())}")
    return {n: run(n, mode, **kwargs) for n in names}
