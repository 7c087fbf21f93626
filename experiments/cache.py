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
# experiments/ modules that only present results (CLI, reports, drawing, files): editing them
# changes no number, so they do not invalidate cached runs (nor do experiments' *_figure modules).
PRESENTATION = {"__main__", "cli", "commands", "report", "plotting", "storage"}


@lru_cache(maxsize=None)
def code_version(experiment: str | None = None) -> str:
    """Hash of the source an experiment's results depend on: theory/, problems/, algorithms/,
    the shared experiments/ infrastructure and the experiment's own modules.  Editing another
    experiment's module (experiments/<module>*.py) does not invalidate this one's cache."""
    from .registry import MODULES

    root = Path(__file__).resolve().parent.parent
    own = MODULES.get(experiment, "").rsplit(".", 1)[-1]
    others = [m.rsplit(".", 1)[-1] for name, m in MODULES.items() if name != experiment]
    h = hashlib.sha256()
    for pkg in PACKAGES:
        for f in sorted((root / pkg).rglob("*.py")):
            if pkg == "experiments" and (f.stem in PRESENTATION or f.stem.endswith("_figure") or (
                    any(f.stem.startswith(o) for o in others) and not (own and f.stem.startswith(own)))):
                continue
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def cache_key(experiment: str, unit: dict, params: dict, seed: int, trials: int, backend: str) -> str:
    text = json.dumps({"experiment": experiment, "unit": unit, "params": params, "seed": seed,
                       "trials": trials, "backend": backend, "code": code_version(experiment)},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class UnitCache:
    def __init__(self, folder):
        self.folder = Path(folder) if folder is not None else None

    def path(self, experiment: str, key: str) -> Path:
        return self.folder / experiment / f"{key}.npz"

    def load(self, experiment: str, key: str) -> Trace | None:
        if self.folder is None:
            return None
        p = self.path(experiment, key)
        if not p.exists():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                series = {k[7:]: z[k] for k in z.files if k.startswith("series/")}
                scalars = {k[8:]: z[k] for k in z.files if k.startswith("scalars/")}
                calls = z["oracle_calls"] if "oracle_calls" in z.files else None
                info = json.loads(str(z["info"]))
                return Trace(z["iterations"], series, calls, scalars, info, z["diverged_at"])
        except Exception:
            return None  # unreadable entry: recompute it

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
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(self.path(experiment, key), buf.getvalue())
