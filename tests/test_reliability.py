"""Results independent of threads and concurrency, and a self-checking cache."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from experiments import cli, registry
from experiments.cache import UnitCache

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(registry.MODULES, "toy", "toy_experiment")


def _table(paper, out, *extra):
    assert cli.main(["run", paper, "--out", str(out), "--no-cache", "--no-progress", *extra]) == 0
    return (out / paper / "results.csv").read_bytes()


def test_jobs_1_and_jobs_2_give_byte_identical_tables_toy(toy, tmp_path):
    assert _table("toy", tmp_path / "a", "--jobs", "1") == _table("toy", tmp_path / "b", "--jobs", "2")


@pytest.mark.parametrize("paper", ["bilevel-unbounded"])
def test_jobs_1_and_jobs_2_give_byte_identical_tables_one_paper(paper, tmp_path):
    assert _table(paper, tmp_path / "a", "--jobs", "1") == _table(paper, tmp_path / "b", "--jobs", "2")


@pytest.mark.slow
@pytest.mark.parametrize("paper", registry.available())
def test_jobs_1_and_jobs_2_give_byte_identical_tables_every_paper(paper, tmp_path):
    assert _table(paper, tmp_path / "a", "--jobs", "1") == _table(paper, tmp_path / "b", "--jobs", "2")


def test_two_runs_into_one_folder_never_mix(tmp_path):
    """Two runs (seeds 0 and 1) into one --out at the same time: the folder ends up holding one
    run's table, provenance and verdicts, all of the same seed."""
    out = tmp_path / "out"
    code = ("import sys; sys.path[:0] = [%r, %r]; from experiments import registry; "
            "registry.MODULES['toy'] = 'toy_experiment'; from experiments.cli import main; "
            "sys.exit(main(sys.argv[1:]))") % (str(ROOT), str(ROOT / "tests"))
    procs = [subprocess.Popen([sys.executable, "-c", code, "run", "toy", "--seed", str(s), "--set", "steps=3000",
                               "--out", str(out), "--no-cache", "--no-progress"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for s in (0, 1)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    prov = json.loads((out / "toy" / "provenance.json").read_text())
    verdicts = json.loads((out / "toy" / "verdicts.json").read_text())
    assert verdicts["provenance"]["seed"] == prov["seed"]
    assert verdicts["provenance"]["created"] == prov["created"]


def test_a_cache_entry_of_another_unit_is_reported_and_recomputed(toy, tmp_path, capsys):
    cache = tmp_path / "cache"
    args = ["run", "toy", "--out", str(tmp_path / "o"), "--cache-dir", str(cache), "--no-progress"]
    assert cli.main(args) == 0
    first = (tmp_path / "o" / "toy" / "results.csv").read_bytes()
    entries = sorted((cache / "toy").glob("*.npz"))
    shutil.copy(entries[0], entries[1])                 # a valid entry copied over another
    capsys.readouterr()
    assert cli.main(args) == 0
    assert "belongs to another unit" in capsys.readouterr().err
    assert (tmp_path / "o" / "toy" / "results.csv").read_bytes() == first


def test_a_corrupt_cache_entry_is_reported_and_recomputed(tmp_path, capsys):
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "k.npz").write_bytes(b"not a zip")
    assert UnitCache(tmp_path).load("toy", "k") is None
    assert "unreadable" in capsys.readouterr().err
