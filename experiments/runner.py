"""Runs an experiment's sweep (cached, in parallel if asked) and checks its claims."""
from __future__ import annotations

import datetime as _dt
import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from theory import judge
from theory.claims import Check, Verdict

from . import registry
from .backend import backend_module, to_numpy
from .base import DTYPES, MissingUnit, RunEnv, Trace
from .cache import UnitCache, cache_key, code_version
from .params import ParamError
from .results import Results
from .seeds import trial_rngs

PARALLEL = ("loky", "dask")
MAX_BATCH_UNITS = 16    # units of one batch key run together, at most (Experiment.batch_key)
MAX_BATCH_ROWS = 512    # and at most this many trial rows (units x trials) in one pass


@dataclass
class RunOptions:
    seed: int = 0
    trials: int | None = None
    backend: str = "numpy"
    dtype: str = "float64"
    threads: int = 1
    jobs: int = 1
    parallel: str = "loky"
    scheduler: str | None = None
    cache_dir: Path | None = Path("results") / "cache"
    progress: bool = True

    def validate(self) -> None:
        if self.trials is not None and self.trials < 1:
            raise ParamError(f"--trials {self.trials} is out of range: needs at least 1 trial")
        if self.jobs < 1 and self.jobs != -1:
            raise ParamError(f"--jobs {self.jobs} is out of range: a positive number of jobs, or -1 for all cores")
        if self.parallel not in PARALLEL:
            raise ParamError(f"unknown --parallel {self.parallel!r}: valid choices are {', '.join(PARALLEL)}")
        if self.parallel == "dask" and not self.scheduler:
            raise ParamError("--parallel dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
        if self.threads < 1:
            raise ParamError(f"--threads {self.threads} is out of range: at least 1 BLAS thread per unit")
        if self.dtype not in DTYPES:
            raise ParamError(f"unknown --dtype {self.dtype!r}: valid dtypes are {', '.join(DTYPES)}")
        if self.seed < 0:
            raise ParamError(f"--seed {self.seed} is out of range: seeds are non-negative integers")
        backend_module(self.backend)


def compute_unit(module: str, unit: dict, p: dict, seed: int, trials: int, backend: str,
                 dtype: str = "float64", threads: int = 1) -> Trace:
    """Run one unit for ``trials`` trials in lockstep; the trace comes back as NumPy arrays with
    divergence marked.  A top-level function taking the experiment's module path, so joblib and
    dask workers can import it themselves.

    BLAS/OpenMP run with ``threads`` threads (1 by default, whatever --jobs is): a table then
    depends only on (experiment, parameters, seed, trials, dtype, backend, threads, code), and
    on a shared 2-core machine one thread per unit is also the fastest (parallelism is --jobs)."""
    import importlib

    from threadpoolctl import threadpool_limits

    exp = importlib.import_module(module).EXPERIMENT
    env = RunEnv(backend_module(backend), trial_rngs(seed, exp.name, exp.stream_key(unit), trials), dtype)
    with threadpool_limits(limits=threads):
        try:
            trace = exp.run_unit(unit, p, env)
        except Exception as exc:
            raise RuntimeError(f"{exp.name}: unit {unit} failed: {exc}") from exc
        return mark_divergence(_as_numpy(trace))


def compute_units(module: str, units: list[dict], p: dict, seed: int, trials: int, backend: str,
                  dtype: str = "float64", threads: int = 1) -> list[Trace]:
    """Run units of one batch key together (``Experiment.run_units``), each on its own streams
    exactly as :func:`compute_unit` builds them; one trace per unit, like :func:`compute_unit`'s."""
    import importlib

    from threadpoolctl import threadpool_limits

    exp = importlib.import_module(module).EXPERIMENT
    xp = backend_module(backend)
    envs = [RunEnv(xp, trial_rngs(seed, exp.name, exp.stream_key(u), trials), dtype) for u in units]
    with threadpool_limits(limits=threads):
        try:
            traces = exp.run_units(units, p, envs)
        except Exception as exc:
            raise RuntimeError(f"{exp.name}: units {units} (run together) failed: {exc}") from exc
        if len(traces) != len(units):
            raise RuntimeError(f"{exp.name}: run_units returned {len(traces)} traces for {len(units)} units")
        return [mark_divergence(_as_numpy(t)) for t in traces]


def _as_numpy(trace: Trace) -> Trace:
    conv = lambda a: None if a is None else np.asarray(to_numpy(a))
    return Trace(conv(trace.iterations), {k: conv(v).astype(float) for k, v in trace.series.items()},
                 conv(trace.oracle_calls), {k: conv(v).astype(float) for k, v in trace.scalars.items()},
                 dict(trace.info), trace.diverged_at)


def mark_divergence(trace: Trace) -> Trace:
    """Record, per trial, the first recorded iteration at which any series is NaN/Inf, and blank
    that trial's series from there on (diverged values are never plotted or fitted)."""
    R, T = trace.trials, len(trace.iterations)
    if T == 0:
        trace.diverged_at = np.full(R, -1, dtype=np.int64)
        return trace
    first_bad = np.full(R, T)
    for v in trace.series.values():
        bad = ~np.isfinite(v)
        has = bad.any(axis=1)
        first_bad = np.where(has, np.minimum(first_bad, bad.argmax(axis=1)), first_bad)
    diverged = first_bad < T
    at = np.where(diverged, np.asarray(trace.iterations)[np.minimum(first_bad, T - 1)], -1)
    cut = np.arange(T)[None, :] >= first_bad[:, None]
    for k, v in trace.series.items():
        trace.series[k] = np.where(cut, np.nan, v)
    trace.diverged_at = at.astype(np.int64)
    return trace


def run_experiment(exp, p: dict, opts: RunOptions, *, mode: str = "quick") -> Results:
    """Every unit of the sweep: from the cache when present, otherwise computed (and cached
    unless it diverged)."""
    trials = opts.trials or exp.trials[mode]
    units = exp.sweep(p)
    cache = UnitCache(opts.cache_dir)
    keys = [cache_key(exp.name, u, p, opts.seed, trials, opts.backend, opts.dtype, opts.threads) for u in units]
    traces: list[Trace | None] = [cache.load(exp.name, k) for k in keys]
    todo = [i for i, t in enumerate(traces) if t is None]
    if todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(units), initial=len(units) - len(todo), desc=exp.name, unit="unit",
                   disable=not opts.progress, leave=False)
        try:
            for j, trace in _execute(exp, [units[i] for i in todo], p, opts, trials):
                i = todo[j]
                traces[i] = trace
                if (trace.diverged_at < 0).all():
                    cache.store(exp.name, keys[i], trace)
                bar.update(1)
        finally:
            bar.close()
    return Results(exp.name, units, traces)


def batches(exp, units: list[dict], trials: int) -> list[list[int]]:
    """Positions of ``units`` grouped into tasks: units with equal non-None batch keys together
    (groups in order of first appearance, split into near-equal parts of at most
    MAX_BATCH_UNITS units and MAX_BATCH_ROWS trial rows), every other unit alone.  Depends only
    on the units and the trial count, so --jobs never changes what is computed together."""
    groups: dict = {}
    tasks: list[list[int]] = []
    for i, u in enumerate(units):
        key = exp.batch_key(u)
        if key is None:
            tasks.append([i])
        elif key in groups:
            groups[key].append(i)
        else:
            groups[key] = [i]
            tasks.append(groups[key])
    cap = max(1, min(MAX_BATCH_UNITS, MAX_BATCH_ROWS // max(trials, 1)))
    out = []
    for task in tasks:
        parts = -(-len(task) // cap)
        cuts = [len(task) * k // parts for k in range(parts + 1)]
        out += [task[a:b] for a, b in zip(cuts, cuts[1:])]
    return out


def _execute(exp, units, p, opts: RunOptions, trials):
    """Yields (position in ``units``, trace), a task's traces in order, tasks in order."""
    module = registry.MODULES[exp.name]
    common = (p, opts.seed, trials, opts.backend, opts.dtype, opts.threads)
    tasks = batches(exp, units, trials)
    calls = [(compute_units, (module, [units[i] for i in task], *common)) if len(task) > 1
             else (_compute_one, (module, units[task[0]], *common)) for task in tasks]
    if opts.parallel == "loky" and opts.jobs == 1:
        results = (fn(*a) for fn, a in calls)
    else:
        from joblib import Parallel, delayed, parallel_config

        if opts.parallel == "dask":
            from dask.distributed import Client

            with Client(opts.scheduler), parallel_config(backend="dask"):
                results = Parallel(n_jobs=-1, return_as="generator")(delayed(fn)(*a) for fn, a in calls)
                yield from _positions(tasks, results)
            return
        results = Parallel(n_jobs=opts.jobs, backend="loky", return_as="generator")(
            delayed(fn)(*a) for fn, a in calls)
    yield from _positions(tasks, results)


def _compute_one(*args) -> list[Trace]:
    return [compute_unit(*args)]


def _positions(tasks, results):
    for task, traces in zip(tasks, results):
        yield from zip(task, traces)


def verify(exp, results: Results, p: dict) -> list[Verdict]:
    """Judge every claim of ``exp`` on ``results``.  Evidence that names a unit the results do
    not hold (:class:`MissingUnit`) makes that claim fail with the reason; any other exception
    in evidence code is a bug and propagates (the run crashes with its traceback)."""
    import warnings

    verdicts = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)  # unreached targets
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        for claim, gather in exp.checks(p):
            verdicts.append(_judge_one(claim, gather, results, p))
    return verdicts


def _judge_one(claim, gather, results, p) -> Verdict:
    try:
        evidence = gather(results, p)
    except MissingUnit as exc:
        nan = float("nan")
        failed = Check(False, nan, (nan, nan), "", None, f"no evidence: {exc}")
        return Verdict(claim, failed, (Check(True, nan, (nan, nan), "", None, "not run"),))
    return judge(claim, *evidence)


def provenance(exp, mode: str, p: dict, opts: RunOptions, results: Results) -> dict:
    trials = opts.trials or exp.trials[mode]
    info = [{"unit": i, "setting": u.get("setting"), **t.info}
            for i, (u, t) in enumerate(results.items()) if t.info]
    return {
        "experiment": exp.name,
        "paper": exp.paper,
        "mode": mode,
        "params": p,
        "seed": opts.seed,
        "trials": trials,
        "backend": opts.backend,
        "dtype": opts.dtype,
        "threads": opts.threads,
        "blas": _blas_info(),
        "metrics": exp.metrics,
        "parallel": opts.parallel if opts.jobs != 1 or opts.parallel == "dask" else "none",
        "code_version": code_version(exp.name),
        "git_commit": _git_commit(),
        "theorycheck": _own_version(),
        "command": sys.argv[:],
        "cpu": _cpu_model(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": _versions(),
        "info": info,
        "units": results.units,
        "diverged": [{"unit": i, "setting": u.get("setting"), "trials": int((t.diverged_at >= 0).sum()),
                      "first_at": int(t.diverged_at[t.diverged_at >= 0].min())}
                     for i, (u, t) in enumerate(results.items()) if (t.diverged_at >= 0).any()],
    }


def _own_version() -> str:
    try:
        return metadata.version("theorycheck")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas_info() -> list[dict]:
    """The BLAS/OpenMP libraries loaded and their default thread counts."""
    from threadpoolctl import threadpool_info

    return [{k: i.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
            for i in threadpool_info()]


def _versions() -> dict:
    out = {}
    for pkg in ("numpy", "scipy", "cvxpy", "sympy", "matplotlib", "array-api-compat", "joblib",
                "clarabel", "scs", "cupy-cuda12x", "dask"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if out.returncode != 0:
            return None
        # "-dirty" means the code differs from the commit (regenerated figures do not count)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                "theory", "problems", "algorithms", "experiments", "pyproject.toml"],
                               cwd=root, capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None
