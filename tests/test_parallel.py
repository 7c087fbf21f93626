"""Parallel sweeps give the same table as the sequential run: joblib/loky and a real local
dask.distributed cluster (worker processes import the experiment themselves)."""
from __future__ import annotations

import pytest

from experiments import registry
from experiments.runner import RunOptions, run_experiment

import toy_experiment


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(registry.MODULES, "toy", "toy_experiment")
    return toy_experiment.EXPERIMENT


def table(exp, tmp_path, **opts):
    p = exp.resolve("quick", {"qs": "0.3,0.5,0.7,0.9"})
    return run_experiment(exp, p, RunOptions(seed=7, cache_dir=tmp_path, progress=False, **opts)).to_csv()


def test_loky_matches_sequential(toy, tmp_path):
    assert table(toy, tmp_path / "loky", jobs=2) == table(toy, tmp_path / "seq")


def test_dask_cluster_matches_sequential(toy, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        via_dask = table(toy, tmp_path / "dask", parallel="dask", scheduler=cluster.scheduler_address)
    assert via_dask == table(toy, tmp_path / "seq")
