"""theorycheck as a library and a reproducible tool: the Python API, replay from a provenance
file, out-of-tree experiments, no global side effects, outputs that do not clobber."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import theorycheck
import toy_experiment
from experiments import cli, registry


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(registry.MODULES, "toy", "toy_experiment")
    return toy_experiment.EXPERIMENT


def test_api_run_gives_frame_verdicts_and_figure(toy, tmp_path):
    import matplotlib
    import matplotlib.pyplot as plt

    pytest.importorskip("pandas")
    assert "toy" in [e["name"] for e in theorycheck.experiments()]
    before_backend, before_size = matplotlib.get_backend(), plt.rcParams["font.size"]
    r = theorycheck.run("toy", seed=0, steps=60, cache_dir=tmp_path / "c")
    assert set(r.frame.columns) >= {"experiment", "unit", "setting", "q", "trial", "iteration", "metric", "value"}
    assert r.holds and [v.claim.id for v in r.verdicts] == ["toy/linear"]
    assert r.provenance["params"]["steps"] == 60
    fig = r.figure()
    assert fig.axes and plt.rcParams["font.size"] == before_size
    assert matplotlib.get_backend() == before_backend
    with pytest.raises(ValueError, match="out of range"):
        theorycheck.run("toy", q=2.0, cache_dir=tmp_path / "c")


def test_replaying_a_provenance_file_gives_a_byte_identical_table(toy, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli.main(["run", "toy", "--seed", "3", "--set", "steps=40", "--trials", "5", "--out", str(a),
                     "--no-progress"]) == 0
    prov = a / "toy" / "provenance.json"
    assert json.loads(prov.read_text())["command"]
    assert cli.main(["run", "toy", "--config", str(prov), "--out", str(b), "--no-cache", "--no-progress"]) == 0
    assert (a / "toy" / "results.csv").read_bytes() == (b / "toy" / "results.csv").read_bytes()


def test_config_file_in_toml_and_command_line_wins(toy, tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('seed = 2\ntrials = 3\n[params]\nsteps = 30\n')
    out = tmp_path / "o"
    assert cli.main(["run", "toy", "--config", str(cfg), "--seed", "5", "--out", str(out), "--no-progress"]) == 0
    prov = json.loads((out / "toy" / "provenance.json").read_text())
    assert (prov["seed"], prov["trials"], prov["params"]["steps"]) == (5, 3, 30)
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = [")
    assert cli.main(["run", "toy", "--config", str(bad), "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()


def test_verify_one_paper_keeps_the_others_in_the_report(toy, tmp_path, monkeypatch):
    monkeypatch.setitem(registry.MODULES, "toy-b", "toy_b")
    out = tmp_path / "o"
    assert cli.main(["verify", "toy", "--out", str(out), "--no-progress"]) == 0
    assert cli.main(["verify", "toy-b", "--out", str(out), "--no-progress"]) == 0
    report = (out / "REPORT.md").read_text()
    assert "## toy —" in report and "## toy-b —" in report


def test_cache_lives_outside_out_and_can_be_listed_and_cleared(toy, tmp_path, capsys):
    cache = tmp_path / "cache"
    assert cli.main(["run", "toy", "--out", str(tmp_path / "o"), "--cache-dir", str(cache), "--no-progress"]) == 0
    assert not (tmp_path / "o" / "cache").exists() and list((cache / "toy").glob("*.npz"))
    capsys.readouterr()
    assert cli.main(["cache", "list", "toy", "--cache-dir", str(cache)]) == 0
    assert "toy: 4 entries" in capsys.readouterr().out
    assert cli.main(["cache", "clear", "toy", "--cache-dir", str(cache)]) == 0
    assert not list((cache / "toy").glob("*.npz"))


def test_out_of_tree_experiment_by_entry_point(tmp_path, monkeypatch):
    """A separate package adds a paper without editing the core; its code is in the cache key."""
    pkg = tmp_path / "site" / "tc_extra_paper"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        from toy_experiment import EXPERIMENT as _toy
        from experiments.base import Experiment
        EXPERIMENT = Experiment(name="extra", title="an out-of-tree toy", paper="none", params=_toy.params,
                                sweep=_toy._sweep, run_unit=_toy._run_unit, claims=_toy.claim_checks,
                                check_params=_toy._check, trials={"quick": 4, "full": 4}, metrics=_toy.metrics,
                                figure="toy_figure")
        '''))
    dist = tmp_path / "site" / "tc_extra_paper-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tc-extra-paper\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[theorycheck.experiments]\nextra = tc_extra_paper\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(registry, "MODULES", dict(registry.MODULES))
    registry._load_entry_points()
    assert "extra" in registry.available()
    from experiments.cache import code_files

    assert pkg / "__init__.py" in code_files("extra")
    assert cli.main(["verify", "extra", "--out", str(tmp_path / "o"), "--no-progress"]) == 0


def test_module_entry_version_and_broken_pipe():
    out = subprocess.run([sys.executable, "-m", "theorycheck", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("theorycheck ")
    piped = subprocess.run(f"{sys.executable} -m theorycheck list | head -n 1", shell=True,
                           capture_output=True, text=True)
    assert "BrokenPipeError" not in piped.stderr and "Traceback" not in piped.stderr


def test_notebook_example_runs(tmp_path, monkeypatch):
    """The README's notebook-style example: a paper through the API, a DataFrame, verdicts, a
    figure (from the cached quick run of this session)."""
    import runpy
    from pathlib import Path

    from paper_runs import CACHE_DIR, quick_run

    pytest.importorskip("pandas")
    quick_run("penalty-bilevel")
    monkeypatch.setenv("THEORYCHECK_CACHE_DIR", str(CACHE_DIR))
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(Path(__file__).resolve().parent.parent / "examples" / "notebook.py"))
    assert (tmp_path / "penalty-bilevel.png").exists()
