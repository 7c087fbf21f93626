"""Runner, cache, seeds, results table and CLI behaviour, on a tiny toy experiment."""
from __future__ import annotations

import json

import numpy as np
import pytest

from experiments import cli, registry
from experiments.cache import UnitCache
from experiments.params import ParamError
from experiments.results import Results
from experiments.runner import RunOptions, run_experiment, verify
from experiments.storage import atomic_write_text

import toy_experiment


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(registry.MODULES, "toy", "toy_experiment")
    exp = toy_experiment.EXPERIMENT
    monkeypatch.setattr(type(exp), "calls", 0)
    monkeypatch.setattr(type(exp), "interrupt_after", None)
    return exp


def run(exp, tmp_path, seed=0, **over):
    p = exp.resolve("quick", over)
    opts = RunOptions(seed=seed, cache_dir=tmp_path / "cache", progress=False)
    return run_experiment(exp, p, opts), p


def test_same_seed_same_table_other_seed_other_table(toy, tmp_path):
    a, _ = run(toy, tmp_path / "a")
    b, _ = run(toy, tmp_path / "b")
    c, _ = run(toy, tmp_path / "c", seed=1)
    assert a.to_csv() == b.to_csv()
    assert a.to_csv() != c.to_csv()


def test_adding_a_configuration_keeps_the_others_streams(toy, tmp_path):
    a, _ = run(toy, tmp_path / "a", qs="0.5,0.9")
    b, _ = run(toy, tmp_path / "b", qs="0.5,0.7,0.9")
    np.testing.assert_array_equal(a.get(setting="extra", q=0.9).series["error"],
                                  b.get(setting="extra", q=0.9).series["error"])


def test_second_run_comes_from_cache(toy, tmp_path):
    first, _ = run(toy, tmp_path)
    computed = type(toy).calls
    second, _ = run(toy, tmp_path)
    assert computed == 4 and type(toy).calls == computed
    assert first.to_csv() == second.to_csv()


def test_interrupted_sweep_resumes_with_only_the_missing_units(toy, tmp_path):
    type(toy).interrupt_after = 2
    with pytest.raises(KeyboardInterrupt):
        run(toy, tmp_path)
    cached = list((tmp_path / "cache" / "toy").glob("*.npz"))
    assert len(cached) == 2
    assert not list((tmp_path / "cache" / "toy").glob(".*tmp"))
    type(toy).interrupt_after = None
    type(toy).calls = 0
    resumed, _ = run(toy, tmp_path)
    assert type(toy).calls == 2
    fresh, _ = run(toy, tmp_path / "fresh")
    assert resumed.to_csv() == fresh.to_csv()


@pytest.mark.filterwarnings("ignore:overflow")
def test_diverged_unit_is_recorded_not_cached_not_tabled(toy, tmp_path):
    results, _ = run(toy, tmp_path, blowup="true")
    tr = results.get(setting="blowup")
    assert (tr.diverged_at > 0).all()
    first = int(tr.diverged_at[0])
    assert np.isnan(tr.series["error"][:, tr.iterations >= first]).all()
    assert np.isfinite(tr.series["error"][:, tr.iterations < first]).all()
    assert len(list((tmp_path / "cache" / "toy").glob("*.npz"))) == 4   # blowup not cached
    rows = [r for r in results.to_csv().splitlines() if ",blowup," in r]
    assert any(",diverged_at," in r for r in rows)
    assert not any(",error,inf" in r or ",error,nan" in r for r in rows)


def test_table_round_trip(toy, tmp_path):
    results, _ = run(toy, tmp_path)
    results.write(tmp_path / "r.csv")
    back = Results.read(tmp_path / "r.csv", results.units)
    for (u, t), (_, t2) in zip(results.items(), back.items()):
        np.testing.assert_array_equal(t.iterations, t2.iterations)
        np.testing.assert_allclose(t.series["error"], t2.series["error"], rtol=1e-15)
        np.testing.assert_allclose(t.scalars["final"], t2.scalars["final"], rtol=1e-15)
        np.testing.assert_array_equal(t.calls(), t2.calls())


def test_cache_ignores_unreadable_entries(tmp_path):
    cache = UnitCache(tmp_path)
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "k.npz").write_bytes(b"not a zip")
    assert cache.load("toy", "k") is None


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    import os

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(tmp_path / "x.txt", "data")
    assert list(tmp_path.iterdir()) == []


def test_verify_checks_claim_and_control(toy, tmp_path):
    results, p = run(toy, tmp_path)
    (v,) = verify(toy, results, p)
    assert v.holds and v.control_rejected
    assert v.check.measured == pytest.approx(np.log(0.9))


# ---- CLI ------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["run", "nonexistent"], "valid experiments are"),
    (["run", "toy", "--set", "qq=1"], "valid parameters are"),
    (["run", "toy", "--set", "q=1.5"], "out of range"),
    (["run", "toy", "--set", "q=abc"], "not a valid float"),
    (["run", "toy", "--set", "steps=-3"], "out of range"),
    (["run", "toy", "--set", "steps=2"], "steps >= 2*len(qs)"),
    (["run", "toy", "--set", "q"], "KEY=VALUE"),
    (["run", "toy", "--trials", "0"], "at least 1 trial"),
    (["run", "toy", "--parallel", "dask"], "--scheduler"),
    (["verify", "toy", "nonexistent"], "valid experiments are"),
])
def test_bad_input_exits_2_and_writes_nothing(toy, tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert cli.main(argv + ["--out", str(out), "--no-progress"]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_argparse_errors_exit_2(toy, tmp_path):
    with pytest.raises(SystemExit) as e:
        cli.main(["run", "toy", "--backend", "tpu", "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert not (tmp_path / "o").exists()


def test_verify_writes_report_and_json_contract(toy, tmp_path):
    out = tmp_path / "out"
    code = cli.main(["verify", "toy", "--out", str(out), "--json", str(tmp_path / "v.json"), "--no-progress"])
    assert code == 0
    data = json.loads((tmp_path / "v.json").read_text())
    (c,) = data["claims"]
    assert set(c) >= {"id", "experiment", "source", "statement", "kind", "predicted", "measured",
                      "interval", "holds", "control", "expected_failure"}
    assert set(c["control"]) >= {"setting", "measured", "rejected"}
    assert c["holds"] and c["control"]["rejected"] and c["expected_failure"] is None
    assert "toy" in data["provenance"]
    assert (out / "REPORT.md").exists()
    for f in ("results.csv", "provenance.json", "figure.png", "figure.pdf", "verdicts.json"):
        assert (out / "toy" / f).exists()


def test_verify_exit_1_when_a_claim_fails(toy, tmp_path, monkeypatch):
    # the claim's own setting replaced by the flat one: the check must fail, and verify say so
    monkeypatch.setattr(toy_experiment.Toy, "sweep",
                        lambda self, p: [{"setting": "main", "q": 1.0}, {"setting": "flat", "q": 1.0}])
    assert cli.main(["verify", "toy", "--out", str(tmp_path / "o"), "--no-progress"]) == 1


def test_list_names_experiments_and_claims(toy, capsys):
    assert cli.main(["list", "-v"]) == 0
    out = capsys.readouterr().out
    assert "toy/linear" in out and "contraction factor" in out


def test_param_parsing_types():
    from experiments.params import Param

    assert Param((0.1, 0.2), (0.1,), "a").parse("alphas", "0.05, 0.4") == (0.05, 0.4)
    assert Param(3, 3, "k", low=1).parse("k", "5") == 5
    with pytest.raises(ParamError, match="not a valid int"):
        Param(3, 3, "k", low=1).parse("k", "2.5")


def test_figures_regenerates_from_cache_and_updates_gallery(toy, tmp_path):
    figdir = tmp_path / "figures"
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- gallery:start -->\nold\n<!-- gallery:end -->\nrest\n")
    args = ["figures", "toy", "--out", str(tmp_path / "res"), "--figures-dir", str(figdir), "--no-progress"]
    assert cli.main(args) == 0
    computed = type(toy).calls
    assert cli.main(args) == 0
    assert type(toy).calls == computed          # second time everything came from the cache
    for f in ("toy.png", "toy.csv", "toy.json", "REPORT.md"):
        assert (figdir / f).exists()
    assert not (figdir / "toy.pdf").exists()
    text = readme.read_text()
    assert "\nold\n" not in text and "toy/linear" in text and "figures/toy.png" in text
    assert text.startswith("intro\n") and text.endswith("rest\n")


def test_code_version_follows_the_experiments_own_imports():
    """A unit's cache key hashes the files its experiment imports (transitively), so editing
    another paper's problem does not invalidate it."""
    from experiments.cache import ROOT, _import_closure, _module_file

    files = {str(f.relative_to(ROOT)) for f in _import_closure([_module_file("experiments.matrix_sensing")])}
    assert {"problems/sensing.py", "problems/matrix_sensing.py", "algorithms/factorized_gd.py"} <= files
    assert "problems/sea.py" not in files and "algorithms/online.py" not in files
