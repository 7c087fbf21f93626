"""Shared fixtures: the array backends generic code must run on, and a quiet run helper."""
from __future__ import annotations

import importlib

import numpy as np
import pytest


def _cupy_available() -> bool:
    try:
        cp = importlib.import_module("cupy")
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


BACKEND_PARAMS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("array_api_strict", id="array_api_strict"),
    pytest.param("cupy", id="cupy", marks=[pytest.mark.gpu,
                 pytest.mark.skipif(not _cupy_available(), reason="no CuPy / CUDA device")]),
]


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request) -> str:
    """Backend name: numpy, array_api_strict, and cupy when a GPU is present."""
    return request.param


@pytest.fixture
def xp(backend):
    """The array module of each backend (generic code is run on every one of them)."""
    from experiments.backend import backend_module

    return backend_module(backend)


def dtype_tol(dtype=np.float64, factor: float = 4.0) -> float:
    """Tolerance derived from the dtype, as scipy does: factor * sqrt(eps)."""
    return factor * float(np.sqrt(np.finfo(dtype).eps))


@pytest.fixture
def run_quick(tmp_path):
    """Run an experiment's quick configuration (cached in a temp folder) and check its claims:
    returns (results, verdicts)."""
    from experiments import registry
    from experiments.runner import RunOptions, run_experiment, verify

    def _run(name, seed=0, trials=None, backend="numpy", **overrides):
        exp = registry.get(name)
        p = exp.resolve("quick", {k: str(v) if not isinstance(v, tuple) else ",".join(map(str, v))
                                  for k, v in overrides.items()})
        opts = RunOptions(seed=seed, trials=trials, backend=backend, cache_dir=tmp_path / "cache", progress=False)
        results = run_experiment(exp, p, opts, mode="quick")
        return results, verify(exp, results, p)

    return _run


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Tests never read or write the user's run cache (each test has its own)."""
    monkeypatch.setenv("THEORYCHECK_CACHE_DIR", str(tmp_path / "user-cache"))
