"""The experiment contract, checked for every registered paper: bad parameters exit 2 with
nothing written, the results table is tidy and round-trips, and the figure is drawn from the
stored table alone."""
from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

from experiments import cli, registry
from experiments.results import Results
from paper_runs import quick_run

PAPERS = registry.available()


def _bad_values(exp):
    """(key, value) pairs outside each numeric parameter's declared range, plus an unknown key."""
    yield "no_such_parameter", "1"
    for key, prm in exp.params.items():
        if prm.element_kind in (int, float) and prm.low is not None:
            yield key, repr(prm.low - 1) if not prm.open_low else repr(prm.low)
        elif prm.element_kind in (int, float):
            yield key, "nan"


@pytest.mark.parametrize("paper", PAPERS)
def test_bad_parameters_exit_2_and_write_nothing(paper, tmp_path, capsys):
    exp = registry.get(paper)
    for key, value in _bad_values(exp):
        out = tmp_path / key
        code = cli.main(["run", paper, "--set", f"{key}={value}", "--out", str(out), "--no-progress"])
        err = capsys.readouterr().err.strip()
        assert code == 2, f"{key}={value} was accepted"
        assert err.count("\n") == 0 and err.startswith("theorycheck: error:"), err
        assert not out.exists()


@pytest.mark.parametrize("paper", PAPERS)
def test_table_is_tidy_and_round_trips(paper, tmp_path):
    pd = pytest.importorskip("pandas")
    exp, p, results, _ = quick_run(paper)
    path = tmp_path / "results.csv"
    results.write(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = pd.read_csv(path)
    assert not frame["metric"].str.contains(r"[=|@]").any(), "a parameter inside a metric name"
    for key in results.config_keys():
        assert key in frame.columns
    for column in frame.columns:
        kinds = {type(v) for v in frame[column].dropna()}
        assert len(kinds) <= 1, f"column {column} mixes {kinds}"
    back = Results.read(path, results.units)
    for (u, a), b in zip(results.items(), back.traces):
        assert set(a.series) == set(b.series) and set(a.scalars) == set(b.scalars), u
        for k in a.series:
            np.testing.assert_array_equal(np.isfinite(a.series[k]), np.isfinite(b.series[k]))


@pytest.mark.parametrize("paper", PAPERS)
def test_figure_from_the_stored_table(paper, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    exp, p, results, _ = quick_run(paper)
    results.write(tmp_path / "results.csv")
    stored = Results.read(tmp_path / "results.csv", results.units)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fig = exp.figure(stored, p)
    assert fig.axes and all(ax.get_xlabel() or ax.get_ylabel() or not ax.has_data() for ax in fig.axes)
    rows = exp.figure_data(stored, p)
    assert rows and len(rows) < 20000


@pytest.mark.parametrize("paper", PAPERS)
def test_cli_round_trip_and_metric_dictionary(paper, tmp_path):
    """run writes table, provenance (with the metric dictionary and dtype) and verdicts, from the
    session's cached quick run (nothing is recomputed), and its table is the same as the run's."""
    import json

    from paper_runs import CACHE_DIR

    exp, p, results, _ = quick_run(paper)
    assert exp.metrics, f"{paper} declares no metric dictionary"
    recorded = {k.split("|")[0] for t in results.traces for k in list(t.series) + list(t.scalars)}
    assert recorded <= set(exp.metrics), f"metrics without a meaning: {recorded - set(exp.metrics)}"
    out = tmp_path / "out"
    buf = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(buf):
        code = cli.main(["run", paper, "--out", str(out), "--cache-dir", str(CACHE_DIR), "--no-progress"])
    assert code == 0
    assert (out / paper / "results.csv").read_text() == results.to_csv()
    prov = json.loads((out / paper / "provenance.json").read_text())
    assert prov["dtype"] == "float64" and prov["metrics"] == exp.metrics
    assert (out / paper / "verdicts.json").exists() and (out / paper / "figure.png").exists()
