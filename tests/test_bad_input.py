"""Malformed invocations, across the CLI and every paper: each exits 2 with one line on stderr
naming what is wrong and what is valid, before any work, and writes nothing."""
from __future__ import annotations

import pytest

from experiments import cli, registry

PAPER_CASES = {
    # paper: (an integer parameter, a float parameter)
    "matrix-sensing": ("n", "alpha"),
    "robust-recovery": ("d", "eta0"),
    "halpern-vr": ("n", "step"),
    "sea-omd": ("T", None),
}


def _cases():
    yield ["run", "nonexistent"]
    yield ["verify", "nonexistent"]
    yield ["run"]
    yield ["frobnicate"]
    yield ["run", "matrix-sensing", "--seed", "abc"]
    yield ["run", "matrix-sensing", "--seed", "-1"]
    yield ["run", "matrix-sensing", "--quick", "--full"]
    yield ["run", "matrix-sensing", "--trials", "0"]
    yield ["run", "matrix-sensing", "--trials", "x"]
    yield ["run", "matrix-sensing", "--jobs", "0"]
    yield ["run", "matrix-sensing", "--threads", "0"]
    yield ["run", "matrix-sensing", "--dtype", "float16"]
    yield ["run", "matrix-sensing", "--backend", "tpu"]
    yield ["run", "matrix-sensing", "--parallel", "mpi"]
    yield ["run", "matrix-sensing", "--parallel", "dask"]
    yield ["run", "matrix-sensing", "--scheduler", "tcp://127.0.0.1:8786"]
    yield ["run", "matrix-sensing", "--parallel", "dask", "--scheduler", "tcp://127.0.0.1:1"]
    yield ["run", "matrix-sensing", "--parallel", "dask", "--scheduler", "nonsense"]
    yield ["run", "matrix-sensing", "--parallel", "dask", "--scheduler", "tcp://127.0.0.1:1",
           "--connect-timeout", "0"]
    yield ["verify", "matrix-sensing", "matrix-sensing"]
    yield ["run", "matrix-sensing", "--set", "n"]
    yield ["run", "matrix-sensing", "--set", "=3"]
    yield ["run", "matrix-sensing", "--set", "n=abc", "--set", "n=3"]
    yield ["run", "matrix-sensing", "--set", "n=3", "--set", "n=4"]
    yield ["run", "matrix-sensing", "--unknown-flag"]
    for paper, (int_key, float_key) in PAPER_CASES.items():
        yield ["run", paper, "--set", "no_such_parameter=1"]
        for bad in ("inf", "-inf", "1e400", "nan", "2.5", "abc", ""):
            yield ["run", paper, "--set", f"{int_key}={bad}"]
        if float_key:
            for bad in ("inf", "nan", "-1"):
                yield ["run", paper, "--set", f"{float_key}={bad}"]


CASES = [c for c in _cases() if len(c) < 2 or c[1] not in PAPER_CASES or c[1] in registry.available()]


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(c) for c in CASES])
def test_bad_invocation_exits_2_with_one_line_and_writes_nothing(argv, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(argv + ["--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2, f"exit {code}: {err}"
    assert err.count("\n") == 1 and err.startswith("theorycheck: error:"), err
    assert not out.exists()


def _paths(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    a_dir = tmp_path / "a_dir"
    a_dir.mkdir()
    return [
        ["--out", str(a_file)],
        ["--out", str(a_file / "below")],
        ["--out", ""],
        ["--out", "/proc/theorycheck"],
        ["--json", str(a_dir)],
        ["--json", str(tmp_path / "missing" / "v.json")],
    ]


@pytest.mark.parametrize("which", range(6))
def test_bad_output_paths_exit_2_before_any_work(which, tmp_path, capsys):
    extra = _paths(tmp_path)[which]
    argv = ["verify", "matrix-sensing", "--no-progress"]
    if extra[0] != "--out":
        argv += ["--out", str(tmp_path / "out")]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert cli.main(argv + extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("theorycheck: error:"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("argv", [
    ["run", "sea-omd", "--set", "T=1000000000000"],
    ["run", "matrix-sensing", "--trials", "100000"],
    ["run", "robust-recovery", "--set", "d=20000"],
], ids=["sea-omd T=1e12", "matrix-sensing 1e5 trials", "robust-recovery d=2e4"])
def test_a_size_the_machine_cannot_hold_is_refused_with_the_estimate(argv, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(argv + ["--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "GiB" in err and err.count("\n") == 1
    assert not out.exists()
