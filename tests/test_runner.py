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
    monkeypatch.setattr(toy_experiment.Hooks, "calls", 0)
    monkeypatch.setattr(toy_experiment.Hooks, "interrupt_after", None)
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
    computed = toy_experiment.Hooks.calls
    second, _ = run(toy, tmp_path)
    assert computed == 4 and toy_experiment.Hooks.calls == computed
    assert first.to_csv() == second.to_csv()


def test_interrupted_sweep_resumes_with_only_the_missing_units(toy, tmp_path):
    toy_experiment.Hooks.interrupt_after = 2
    with pytest.raises(KeyboardInterrupt):
        run(toy, tmp_path)
    cached = list((tmp_path / "cache" / "toy").glob("*.npz"))
    assert len(cached) == 2
    assert not list((tmp_path / "cache" / "toy").glob(".*tmp"))
    toy_experiment.Hooks.interrupt_after = None
    toy_experiment.Hooks.calls = 0
    resumed, _ = run(toy, tmp_path)
    assert toy_experiment.Hooks.calls == 2
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
    (["run", "toy", "--set", "q=abc"], "not a valid finite float"),
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


def test_argparse_errors_exit_2_with_one_line(toy, tmp_path, capsys):
    assert cli.main(["run", "toy", "--backend", "tpu", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "choose from" in err
    assert not (tmp_path / "o").exists()


def test_verify_writes_report_and_json_contract(toy, tmp_path):
    out = tmp_path / "out"
    code = cli.main(["verify", "toy", "--out", str(out), "--json", str(tmp_path / "v.json"), "--no-progress"])
    assert code == 0
    data = json.loads((tmp_path / "v.json").read_text())
    (c,) = data["claims"]
    assert set(c) >= {"id", "experiment", "source", "statement", "kind", "predicted", "measured",
                      "interval", "holds", "control", "expected_failure"}
    assert set(c["control"]) >= {"description", "checks", "rejected"}
    assert set(c["control"]["checks"][0]) >= {"setting", "measured", "rejected"}
    assert c["holds"] and c["control"]["rejected"] and c["expected_failure"] is None
    assert "toy" in data["provenance"]
    assert (out / "REPORT.md").exists()
    for f in ("results.csv", "provenance.json", "figure.png", "figure.pdf", "verdicts.json"):
        assert (out / "toy" / f).exists()


def test_verify_exit_1_when_a_claim_fails(toy, tmp_path, monkeypatch):
    # the claim's own setting replaced by the flat one: the check must fail, and verify say so
    monkeypatch.setattr(toy_experiment.EXPERIMENT, "_sweep",
                        lambda p: [{"setting": "main", "q": 1.0}, {"setting": "flat", "q": 1.0}])
    assert cli.main(["verify", "toy", "--out", str(tmp_path / "o"), "--no-progress"]) == 1


def test_list_names_experiments_and_claims(toy, capsys):
    assert cli.main(["list", "-v"]) == 0
    out = capsys.readouterr().out
    assert "toy/linear" in out and "contraction factor" in out


def test_param_parsing_types():
    from experiments.params import Param

    assert Param((0.1, 0.2), (0.1,), "a").parse("alphas", "0.05, 0.4") == (0.05, 0.4)
    assert Param(3, 3, "k", low=1).parse("k", "5") == 5
    with pytest.raises(ParamError, match="not a valid finite int"):
        Param(3, 3, "k", low=1).parse("k", "2.5")


def test_figures_regenerates_from_cache_and_updates_gallery(toy, tmp_path):
    figdir = tmp_path / "figures"
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- gallery:start -->\nold\n<!-- gallery:end -->\nrest\n")
    args = ["figures", "toy", "--out", str(tmp_path / "res"), "--figures-dir", str(figdir), "--no-progress"]
    assert cli.main(args) == 0
    computed = toy_experiment.Hooks.calls
    assert cli.main(args) == 0
    assert toy_experiment.Hooks.calls == computed          # second time everything came from the cache
    for f in ("toy.png", "toy.csv", "toy.json", "REPORT.md"):
        assert (figdir / f).exists()
    assert not (figdir / "toy.pdf").exists()
    text = readme.read_text()
    assert "\nold\n" not in text and "toy/linear" in text and "figures/toy.png" in text
    assert text.startswith("intro\n") and text.endswith("rest\n")


def test_evidence_bug_crashes_but_missing_unit_fails(toy, tmp_path, monkeypatch):
    """A bug in evidence code is never turned into a verdict; a missing unit is."""
    from experiments.base import ClaimCheck, MissingUnit

    results, p = run(toy, tmp_path)
    (check,) = toy.claim_checks

    def buggy(results, p):
        raise IndexError("a bug")

    monkeypatch.setattr(toy, "claim_checks", (ClaimCheck(check.claim, buggy),))
    with pytest.raises(IndexError):
        verify(toy, results, p)

    def missing(results, p):
        raise MissingUnit("no such unit")

    monkeypatch.setattr(toy, "claim_checks", (ClaimCheck(check.claim, missing),))
    (v,) = verify(toy, results, p)
    assert not v.holds and "no evidence" in v.check.detail


def test_expected_failure_is_strict(toy, tmp_path, monkeypatch):
    """An expected failure that holds is flagged and fails verify (exit 1)."""
    import dataclasses

    from experiments.base import ClaimCheck

    (check,) = toy.claim_checks
    xfail = lambda p: dataclasses.replace(check.claim(p), expected_failure="documented")
    monkeypatch.setattr(toy, "claim_checks", (ClaimCheck(xfail, check.gather),))
    results, p = run(toy, tmp_path)
    (v,) = verify(toy, results, p)
    assert v.status == "unexpectedly holds" and not v.passed
    assert cli.main(["verify", "toy", "--out", str(tmp_path / "o"), "--no-progress"]) == 1


def test_grid_labels_become_typed_columns(toy, tmp_path, monkeypatch):
    """A grid inside one unit is a column of the table, never part of the metric name."""
    import io

    pd = pytest.importorskip("pandas")
    from experiments.base import series_key

    base = toy_experiment.run_unit

    def gridded(unit, p, env):
        tr = base(unit, p, env)
        tr.series = {series_key("error", scale=s): tr.series["error"] * s for s in (1, 2)}
        return tr

    monkeypatch.setattr(toy, "_run_unit", gridded)
    results, p = run(toy, tmp_path)
    frame = pd.read_csv(io.StringIO(results.to_csv()))
    assert set(frame["metric"]) == {"error", "final"}
    assert frame["scale"].dropna().isin([1, 2]).all()
    assert str(frame["trial"].dtype) == "int64"


def test_dtype_reaches_the_run_and_the_cache_key(toy, tmp_path):
    p = toy.resolve("quick")
    a = run_experiment(toy, p, RunOptions(cache_dir=tmp_path / "c", progress=False, dtype="float32"))
    b = run_experiment(toy, p, RunOptions(cache_dir=tmp_path / "c", progress=False, dtype="float64"))
    assert a.to_csv() != b.to_csv()           # float32 iterates round differently
    assert len(list((tmp_path / "c" / "toy").iterdir())) == 2 * len(a.units)


def test_figure_module_is_outside_the_code_version():
    """Editing a paper's figure.py keeps its cache; editing its runs.py invalidates it."""
    from experiments.cache import ROOT, code_files

    for name in registry.available():
        files = {str(f.relative_to(ROOT)) for f in code_files(name)}
        package = registry.MODULES[name].replace(".", "/")
        assert f"{package}/runs.py" in files and f"{package}/claims.py" in files
        assert not any(f.endswith("figure.py") for f in files)


def test_code_version_follows_the_experiments_own_imports():
    """A unit's cache key hashes the files its experiment imports (transitively), so editing
    another paper's problem does not invalidate it."""
    from experiments.cache import ROOT, _import_closure, _module_file

    files = {str(f.relative_to(ROOT)) for f in _import_closure([_module_file("experiments.matrix_sensing")])}
    assert {"problems/sensing.py", "problems/matrix_sensing.py", "algorithms/factorized_gd.py"} <= files
    assert "problems/sea.py" not in files and "algorithms/online.py" not in files
