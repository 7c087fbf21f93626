"""The contract every experiment module fulfils, and the trace one run unit produces."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .params import Param, ParamError

MODES = ("quick", "full")


@dataclass
class Trace:
    """What one run unit (one configuration, R trials in lockstep) recorded.

    ``series`` maps a metric to an (R, T) array recorded at ``iterations`` (T,);
    ``oracle_calls`` is (T,) or (R, T); ``scalars`` maps a metric to one value per trial (R,)
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


class Experiment:
    """One paper's experiment.  Subclasses set the class attributes and implement the methods.

    - ``params``: name -> :class:`Param` (quick and full values, ranges, help);
    - ``check_params``: cross-parameter constraints (raise :class:`ParamError`);
    - ``sweep``: the independent run units, JSON-able dicts each with a ``setting`` label;
    - ``run_unit``: runs one unit for R trials in lockstep on backend ``xp``;
    - ``claims``: the paper's claims, each with its negative control;
    - ``evidence``: from the results, the evidence for a claim and for its control;
    - ``figure``: the paper-style figure, drawn from the results only.
    """

    name: str = ""
    title: str = ""
    paper: str = ""
    params: dict[str, Param] = {}
    trials: dict[str, int] = {"quick": 8, "full": 16}

    # ---- parameters -------------------------------------------------------------------------
    def defaults(self, mode: str = "quick") -> dict[str, Any]:
        if mode not in MODES:
            raise ParamError(f"unknown mode {mode!r}: valid modes are {', '.join(MODES)}")
        return {k: getattr(p, mode) for k, p in self.params.items()}

    def resolve(self, mode: str = "quick", overrides: dict[str, str] | None = None) -> dict:
        """Defaults of ``mode`` with command-line ``key=value`` strings applied and validated."""
        p = self.defaults(mode)
        for key, text in (overrides or {}).items():
            if key not in self.params:
                valid = ", ".join(sorted(self.params))
                raise ParamError(f"{self.name} has no parameter {key!r}: valid parameters are {valid}")
            p[key] = self.params[key].parse(key, text)
        for key, value in p.items():
            self.params[key].validate(key, value)
        self.check_params(p)
        return p

    def check_params(self, p: dict) -> None:
        """Cross-parameter constraints; override and use :func:`experiments.params.require`."""

    # ---- running ----------------------------------------------------------------------------
    def sweep(self, p: dict) -> list[dict]:
        raise NotImplementedError

    def run_unit(self, unit: dict, p: dict, rngs: list[np.random.Generator], xp) -> Trace:
        raise NotImplementedError

    # ---- checking ---------------------------------------------------------------------------
    def claims(self, p: dict) -> list:
        raise NotImplementedError

    def evidence(self, claim, results, p: dict):
        """(evidence, control_evidence) for ``claim`` from ``results``."""
        raise NotImplementedError

    # ---- drawing ----------------------------------------------------------------------------
    def figure(self, results, p: dict):
        raise NotImplementedError

    def figure_series(self, unit: dict) -> bool:
        """Whether a unit's curves belong in the committed figure data (override to drop units
        whose figure panel uses only their per-trial scalars)."""
        return True

    def figure_data(self, results, p: dict, points: int = 60) -> list[dict]:
        """The thinned data a figure is drawn from: per unit, each scalar metric's trial median
        and 10%/90% quantiles, and each series metric's at about ``points`` log-spaced recorded
        iterations."""
        rows = []
        for unit, trace in results.items():
            keys = {"setting": unit["setting"], **_keys(unit)}
            for metric, values in trace.scalars.items():
                q = _quantiles(np.asarray(values, dtype=float)[:, None])
                if np.isfinite(q[1, 0]):
                    rows.append({**keys, "iteration": "", "metric": metric,
                                 "median": q[1, 0], "q10": q[0, 0], "q90": q[2, 0]})
            if not self.figure_series(unit):
                continue
            idx = thin_indices(trace.iterations, points)
            for metric, values in trace.series.items():
                q = _quantiles(np.asarray(values, dtype=float)[:, idx])
                for j, i in enumerate(idx):
                    if np.isfinite(q[1, j]):
                        rows.append({**keys, "iteration": int(trace.iterations[i]), "metric": metric,
                                     "median": q[1, j], "q10": q[0, j], "q90": q[2, j]})
        return rows


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
