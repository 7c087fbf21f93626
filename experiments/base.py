"""The contract every paper package fulfils: an :class:`Experiment`, the :class:`Trace` one run
unit produces, and :class:`ClaimCheck`, a claim declared next to the function gathering its
evidence.

A paper lives in ``experiments/<paper>/``: ``config.py`` (parameters, quick/full values, the
sweep), ``runs.py`` (run units), ``claims.py`` (claim checks), ``figure.py`` (drawing, imported
only when a figure is drawn), and ``__init__.py`` assembling ``EXPERIMENT``.
"""
from __future__ import annotations

import importlib
import json
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from theory import Claim

from .params import Param, ParamError

MODES = ("quick", "full")
DTYPES = ("float64", "float32")


class MissingUnit(KeyError):
    """Evidence code asked for a unit the results do not hold (e.g. a sweep cut by --set).  The
    only error that becomes a failing verdict; any other exception in evidence code is a bug and
    crashes the run."""


def series_key(metric: str, **labels) -> str:
    """The key of a series recorded over a grid inside one unit (e.g. one curve per init scale).
    The grid values become typed columns of the results table, never part of the metric name."""
    if not labels:
        return metric
    return metric + "|" + json.dumps(labels, sort_keys=True)


def split_key(key: str) -> tuple[str, dict]:
    if "|" not in key:
        return key, {}
    metric, labels = key.split("|", 1)
    return metric, json.loads(labels)


@dataclass
class Trace:
    """What one run unit (one configuration, R trials in lockstep) recorded.

    ``series`` maps a key (:func:`series_key`) to an (R, T) array recorded at ``iterations``
    (T,); ``oracle_calls`` is (T,) or (R, T); ``scalars`` maps a key to one value per trial (R,)
    (final errors, calls to reach eps: NaN/inf allowed there, e.g. "never reached");
    ``info`` holds JSON-able facts such as the cvxpy solver used.
    ``diverged_at`` is filled by the runner: the iteration at which a trial's series first went
    non-finite (-1 when it did not).
    """

    iterations: np.ndarray
    series: dict[str, np.ndarray]
    oracle_calls: np.ndarray | None = None
    scalars: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    diverged_at: np.ndarray | None = None

    @classmethod
    def from_recording(cls, rec, *, prefix: str = "", labels: dict | None = None, scalars=None,
                       info=None) -> "Trace":
        """A trace from an algorithm's :class:`algorithms.recording.Recording` (arrays may still
        live on the device: the runner converts once, at the end of the unit)."""
        series = {series_key(prefix + k, **(labels or {})): v for k, v in rec.metrics.items()}
        return cls(np.asarray(rec.iterations, dtype=np.int64), series, rec.calls,
                   dict(scalars or {}), dict(info or {}))

    def series_of(self, metric: str, **labels) -> np.ndarray:
        return self.series[series_key(metric, **labels)]

    def scalar_of(self, metric: str, **labels) -> np.ndarray:
        return self.scalars[series_key(metric, **labels)]

    @property
    def trials(self) -> int:
        for v in self.series.values():
            return int(np.shape(v)[0])
        for v in self.scalars.values():
            return int(np.shape(v)[0])
        return 0

    def calls(self) -> np.ndarray:
        """Oracle calls as an (R, T) array."""
        c = np.asarray(self.oracle_calls if self.oracle_calls is not None else self.iterations,
                       dtype=float)
        return np.broadcast_to(c, (self.trials, len(self.iterations))).copy()


@dataclass(frozen=True)
class RunEnv:
    """What a run unit gets besides its configuration: the array module, one generator per trial
    (host side), and the dtype of the iterations."""

    xp: Any
    rngs: list
    dtype: str = "float64"

    @property
    def trials(self) -> int:
        return len(self.rngs)

    def asarray(self, host_array):
        """A host (NumPy) array moved to the backend; floating arrays in the run's dtype."""
        from .backend import to_backend

        return to_backend(host_array, self.xp, self.dtype)


@dataclass(frozen=True)
class ClaimCheck:
    """A claim and the function that gathers its evidence, declared side by side.

    ``claim`` is a :class:`theory.Claim` or a function of the parameters returning one;
    ``gather(results, p)`` returns the evidence followed by one or more controls' evidence.  The
    gather function's docstring carries the theorem and why each control must fail.
    """

    claim: Any
    gather: Callable

    def claim_for(self, p: dict) -> Claim:
        return self.claim(p) if callable(self.claim) else self.claim


def claim(spec):
    """Decorator: ``@claim(lambda p: Claim(...))`` over the evidence function."""

    def wrap(gather):
        return ClaimCheck(spec, gather)

    return wrap


class Experiment:
    """One paper's experiment, assembled from its package's parts.

    - ``params``: name -> :class:`Param` (quick and full values, ranges, help);
    - ``check_params(p)``: cross-parameter constraints (raise :class:`ParamError`);
    - ``sweep(p)``: the independent run units, dicts of scalars (each with a ``setting`` label);
      their keys become typed columns of the results table;
    - ``run_unit(unit, p, env)``: one unit for R trials in lockstep (:class:`RunEnv`);
    - ``claims``: :class:`ClaimCheck` records;
    - ``figure``: module path of ``draw(results, p)`` (imported only to draw, so editing how a
      figure looks keeps the cache);
    - ``metrics``: metric name -> meaning and unit (written into the provenance);
    - ``caption``: what each panel of the figure shows, and which claim it illustrates;
    - ``memory(p, trials)``: estimated peak bytes of the largest unit, so that a configuration the
      machine cannot hold is refused before any work;
    - ``stream_key(unit)``: the part of a unit its random streams are derived from (default: the
      whole unit).  Units with equal stream keys share their streams: common random numbers, e.g.
      trial r of every n of a sweep on the same draws, so that a per-trial slope over the sweep
      measures the sweep and not the instance-to-instance spread;
    - ``batch_key(unit)``: a hashable, or None (default: None for every unit).  Units with equal
      non-None keys may be computed together, in one lockstep pass over all their trials, so that
      the per-call overhead of small array operations is paid once for all of them;
    - ``run_units(units, p, envs)``: the units of one batch key together, one :class:`RunEnv` per
      unit (each with that unit's own per-trial generators); returns one :class:`Trace` per unit,
      equal to what ``run_unit`` gives for that unit alone (row-wise arithmetic, own noise), so a
      unit's results never depend on the units it was batched with.
    """

    def __init__(self, *, name: str, title: str, paper: str, params: dict[str, Param],
                 sweep: Callable, run_unit: Callable, claims, figure: str | None = None,
                 check_params: Callable | None = None, trials: dict | None = None,
                 metrics: dict[str, str] | None = None, figure_series: Callable | None = None,
                 module: str | None = None, memory: Callable | None = None, caption: str = "",
                 stream_key: Callable | None = None, batch_key: Callable | None = None,
                 run_units: Callable | None = None):
        self.name, self.title, self.paper = name, title, paper
        self.params = dict(params)
        self._sweep, self._run_unit, self._check = sweep, run_unit, check_params
        self.claim_checks = tuple(claims)
        self.figure_module = figure
        self.trials = dict(trials or {"quick": 8, "full": 16})
        self.metrics = dict(metrics or {})
        self._figure_series = figure_series
        self.module = module
        self._memory = memory
        self.caption = caption
        self._stream_key = stream_key
        self._batch_key, self._run_units = batch_key, run_units

    # ---- parameters -------------------------------------------------------------------------
    def defaults(self, mode: str = "quick") -> dict[str, Any]:
        if mode not in MODES:
            raise ParamError(f"unknown mode {mode!r}: valid modes are {', '.join(MODES)}")
        return {k: getattr(p, mode) for k, p in self.params.items()}

    def resolve(self, mode: str = "quick", overrides: dict[str, str] | None = None, base: dict | None = None) -> dict:
        """Defaults of ``mode`` (or ``base``) with command-line ``key=value`` strings applied and
        validated."""
        p = dict(base) if base is not None else self.defaults(mode)
        for key, text in (overrides or {}).items():
            if key not in self.params:
                valid = ", ".join(sorted(self.params))
                raise ParamError(f"{self.name} has no parameter {key!r}: valid parameters are {valid}")
            p[key] = self.params[key].parse(key, text)
        for key, value in p.items():
            self.params[key].validate(key, value)
        self.check_params(p)
        return p

    def resolve_values(self, mode: str = "quick", values: dict | None = None) -> dict:
        """Defaults of ``mode`` with Python values applied (lists become tuples), validated like
        command-line overrides."""
        p = self.defaults(mode)
        for key, value in (values or {}).items():
            if key not in self.params:
                valid = ", ".join(sorted(self.params))
                raise ParamError(f"{self.name} has no parameter {key!r}: valid parameters are {valid}")
            if isinstance(value, list):
                value = tuple(value)
            if isinstance(self.params[key].quick, tuple) and not isinstance(value, tuple):
                value = (value,)
            p[key] = value
        for key, value in p.items():
            self.params[key].validate(key, value)
        self.check_params(p)
        return p

    def memory_bytes(self, p: dict, trials: int) -> float | None:
        """Estimated peak memory of the largest unit (None: no estimate declared)."""
        return None if self._memory is None else float(self._memory(p, trials))

    def check_params(self, p: dict) -> None:
        if self._check is not None:
            self._check(p)

    # ---- running ----------------------------------------------------------------------------
    def sweep(self, p: dict) -> list[dict]:
        units = self._sweep(p)
        for u in units:
            bad = {k: v for k, v in u.items() if not (v is None or isinstance(v, (int, float, str, bool)))}
            if bad:
                raise TypeError(f"{self.name}: unit {u.get('setting')!r} has non-scalar values {bad}: "
                                "a grid is a metric label (series_key) or separate units")
        return units

    def run_unit(self, unit: dict, p: dict, env: RunEnv) -> Trace:
        return self._run_unit(unit, p, env)

    def stream_key(self, unit: dict) -> dict:
        """What the unit's per-trial random streams are derived from (with the base seed)."""
        return unit if self._stream_key is None else self._stream_key(unit)

    def batch_key(self, unit: dict):
        """The key under which ``unit`` may be run together with others (None: alone)."""
        if self._batch_key is None or self._run_units is None:
            return None
        return self._batch_key(unit)

    def run_units(self, units: list[dict], p: dict, envs: list[RunEnv]) -> list[Trace]:
        return self._run_units(units, p, envs)

    # ---- checking ---------------------------------------------------------------------------
    def claims(self, p: dict) -> list[Claim]:
        return [c.claim_for(p) for c in self.claim_checks]

    def checks(self, p: dict) -> list[tuple[Claim, Callable]]:
        return [(c.claim_for(p), c.gather) for c in self.claim_checks]

    # ---- drawing ----------------------------------------------------------------------------
    def figure(self, results, p: dict):
        if self.figure_module is None:
            raise NotImplementedError(f"{self.name} has no figure")
        from .plotting import style

        with style():
            fig = importlib.import_module(self.figure_module).draw(results, p)
            _letter_panels(fig)
        return fig

    def figure_series(self, unit: dict) -> bool:
        """Whether a unit's curves belong in the committed figure data."""
        return True if self._figure_series is None else self._figure_series(unit)

    def figure_data(self, results, p: dict, points: int = 60) -> list[dict]:
        """The thinned data a figure is drawn from: per unit, each scalar metric's trial median
        and 10%/90% quantiles, and each series metric's at about ``points`` log-spaced recorded
        iterations."""
        rows = []
        for unit, trace in results.items():
            keys = {"setting": unit["setting"], **_keys(unit)}
            for key, values in trace.scalars.items():
                metric, labels = split_key(key)
                q = _quantiles(np.asarray(values, dtype=float)[:, None])
                if np.isfinite(q[1, 0]):
                    rows.append({**keys, **labels, "iteration": "", "metric": metric,
                                 "median": q[1, 0], "q10": q[0, 0], "q90": q[2, 0]})
            if not self.figure_series(unit):
                continue
            idx = thin_indices(trace.iterations, points)
            for key, values in trace.series.items():
                metric, labels = split_key(key)
                q = _quantiles(np.asarray(values, dtype=float)[:, idx])
                for j, i in enumerate(idx):
                    if np.isfinite(q[1, j]):
                        rows.append({**keys, **labels, "iteration": int(trace.iterations[i]),
                                     "metric": metric, "median": q[1, j], "q10": q[0, j], "q90": q[2, j]})
        return rows


def _letter_panels(fig) -> None:
    """Panel letters (a), (b), ... on every drawn panel that has none yet, in reading order, so
    that REPORT.md can map panels to claims."""
    import string

    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison and ax.get_label() != "<colorbar>"]
    for letter, ax in zip(string.ascii_lowercase, panels):
        title = ax.get_title()
        if not title.startswith("("):
            ax.set_title(f"({letter}) {title}".rstrip())


def _quantiles(v: np.ndarray) -> np.ndarray:
    """10/50/90% quantiles over trials (axis 0); all-NaN columns (diverged) give NaN quietly."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if v.shape[0] == 0:
            return np.full((3, v.shape[1]), np.nan)
        return np.nanquantile(v, [0.1, 0.5, 0.9], axis=0)


def thin_indices(iterations, points: int) -> np.ndarray:
    """About ``points`` indices into a recorded run, log-spaced in the iteration number."""
    it = np.asarray(iterations, dtype=float)
    n = it.size
    if n <= points:
        return np.arange(n)
    grid = np.unique(np.round(np.geomspace(1, n, points)).astype(int) - 1)
    return np.unique(np.concatenate([grid, [n - 1]]))


def _keys(unit: dict) -> dict:
    return {k: v for k, v in unit.items() if k != "setting"}
