"""Run-unit cache keyed by (experiment, unit, parameters, seed, trials, backend, code version).

Only successful units are stored, each in one .npz written atomically, so an interrupted sweep
resumes where it stopped and a diverged or failed unit is recomputed next time.
"""
from __future__ import annotations

import hashlib
import io
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from .base import Trace
from .storage import atomic_write_bytes

PACKAGES = ("theory", "problems", "algorithms", "experiments")
# experiments/ modules that only present results (CLI, reports, drawing, files), and every paper's
# figure.py: editing them changes no number, so they do not invalidate cached runs.  One rule
# for all papers: a paper's code version covers everything its package imports except figure.py.
PRESENTATION = {"__main__", "cli", "commands", "report", "plotting", "storage"}
# what computes a unit besides the experiment's own import closure
RUNNER = ("experiments/runner.py", "experiments/seeds.py", "experiments/backend.py", "experiments/base.py")
ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=None)
def code_version(experiment: str | None = None) -> str:
    """Hash of the source an experiment's results depend on: the files its module imports,
    followed transitively inside this repository (problems/, algorithms/, theory/, experiments/),
    plus the runner.  Editing another experiment, or only how results are drawn or reported,
    leaves this experiment's cache valid.  Without an experiment: every package file."""
    from .registry import MODULES

    if experiment in MODULES:
        files = code_files(experiment)
    else:
        files = {f for pkg in PACKAGES for f in (ROOT / pkg).rglob("*.py")}
    h = hashlib.sha256()
    for f in sorted(files):
        if is_presentation(f):
            continue
        h.update((str(f.relative_to(ROOT)) if f.is_relative_to(ROOT) else f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def is_presentation(f: Path) -> bool:
    """Files that only draw or present: the framework's presentation modules and every paper's
    figure.py (experiments/<paper>/figure.py, or figure.py of an out-of-tree paper package)."""
    if not f.is_relative_to(ROOT):
        return f.name == "figure.py"
    rel = f.relative_to(ROOT).parts
    if rel[0] != "experiments":
        return False
    if len(rel) == 2:
        return f.stem in PRESENTATION
    return len(rel) == 3 and f.name == "figure.py"


def code_files(experiment: str) -> set[Path]:
    """The source files an experiment's cached results depend on (presentation excluded)."""
    from .registry import MODULES

    seeds = [_module_file(MODULES[experiment])] + [ROOT / f for f in RUNNER]
    external = _external_files(MODULES[experiment])
    return {f for f in _import_closure([f for f in seeds if f is not None] + external) if not is_presentation(f)}


def _external_files(module: str) -> list[Path]:
    """Every source file of an out-of-tree experiment's package (registered by entry point)."""
    import importlib.util

    if _module_file(module) is not None:
        return []
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return []
    origin = Path(spec.origin)
    return sorted(origin.parent.rglob("*.py")) if spec.submodule_search_locations else [origin]


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _import_closure(start: list[Path]) -> set[Path]:
    """Repository source files reachable from ``start`` through import statements."""
    import ast

    seen: set[Path] = set()
    todo = list(start)
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        # out-of-tree files are hashed whole; only their imports of this repository are followed
        package = list(f.relative_to(ROOT).parent.parts) if f.is_relative_to(ROOT) else ["<external>"]
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                parent = package[: len(package) - node.level + 1] if node.level else []
                head = parent + (node.module.split(".") if node.module else [])
                names = [".".join(head)] + [".".join(head + [a.name]) for a in node.names]
            else:
                continue
            for name in names:
                if name and name.split(".")[0] in PACKAGES:
                    target = _module_file(name)
                    if target is not None:
                        todo.append(target)
    return seen


def cache_key(experiment: str, unit: dict, params: dict, seed: int, trials: int, backend: str,
              dtype: str = "float64", threads: int = 1) -> str:
    text = json.dumps({"experiment": experiment, "unit": unit, "params": params, "seed": seed,
                       "trials": trials, "backend": backend, "dtype": dtype, "threads": threads,
                       "code": code_version(experiment)},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class ForeignEntry(Exception):
    """A readable cache entry that is not the one asked for (another unit's, or altered)."""


class UnitCache:
    def __init__(self, folder):
        self.folder = Path(folder) if folder is not None else None

    def path(self, experiment: str, key: str) -> Path:
        return self.folder / experiment / f"{key}.npz"

    def load(self, experiment: str, key: str) -> Trace | None:
        """The cached trace, or None.  An entry carries its own key and a checksum of its
        arrays: a corrupt entry, or one copied over from another unit, is reported (one line on
        stderr) and recomputed."""
        if self.folder is None:
            return None
        p = self.path(experiment, key)
        if not p.exists():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            stored_key, stored_sum = str(arrays.pop("key")), str(arrays.pop("checksum"))
            if stored_key != key or stored_sum != _checksum(arrays):
                raise ForeignEntry("belongs to another unit" if stored_key != key else "fails its checksum")
            series = {k[7:]: v for k, v in arrays.items() if k.startswith("series/")}
            scalars = {k[8:]: v for k, v in arrays.items() if k.startswith("scalars/")}
            return Trace(arrays["iterations"], series, arrays.get("oracle_calls"), scalars,
                         json.loads(str(arrays["info"])), arrays["diverged_at"])
        except Exception as exc:  # unreadable, foreign or corrupt entry: recompute it
            import sys

            print(f"theorycheck: cache entry {p} {exc if isinstance(exc, ForeignEntry) else 'is unreadable'}; "
                  "recomputing it", file=sys.stderr)
            return None

    def store(self, experiment: str, key: str, trace: Trace) -> None:
        if self.folder is None:
            return
        arrays = {"iterations": np.asarray(trace.iterations),
                  "info": np.array(json.dumps(trace.info, default=str)),
                  "diverged_at": np.asarray(trace.diverged_at)}
        if trace.oracle_calls is not None:
            arrays["oracle_calls"] = np.asarray(trace.oracle_calls)
        arrays.update({f"series/{k}": np.asarray(v) for k, v in trace.series.items()})
        arrays.update({f"scalars/{k}": np.asarray(v) for k, v in trace.scalars.items()})
        arrays["checksum"] = np.array(_checksum(arrays))
        arrays["key"] = np.array(key)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(self.path(experiment, key), buf.getvalue())


def _checksum(arrays: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:32]
