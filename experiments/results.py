"""The tidy results table of one run: reading, writing and querying.

One row per recorded point: experiment, unit, setting, config keys, grid labels, trial,
iteration, oracle_calls, metric, value.  Config keys (a unit's parameters) and grid labels (a grid
run inside one unit, see :func:`experiments.base.series_key`) are typed columns; a metric name
never carries a parameter.  Scalar (per-trial) metrics have an empty iteration.  The unit
configurations themselves live in the provenance JSON next to the table, so traces can be rebuilt
from stored files alone (figures are drawn from stored tables).
"""
from __future__ import annotations

import csv
import io
import math
from collections import defaultdict

import numpy as np

from .base import MissingUnit, Trace, series_key, split_key
from .storage import atomic_write_text

FIXED_COLUMNS = ("experiment", "unit", "setting", "trial", "iteration", "oracle_calls", "metric", "value")


class Results:
    """Units (config dicts) and their traces, in sweep order."""

    def __init__(self, experiment: str, units: list[dict], traces: list[Trace]):
        self.experiment = experiment
        self.units = list(units)
        self.traces = list(traces)

    def items(self):
        return zip(self.units, self.traces)

    def select(self, **match) -> list[tuple[dict, Trace]]:
        return [(u, t) for u, t in self.items() if all(_eq(u.get(k), v) for k, v in match.items())]

    def get(self, **match) -> Trace:
        found = self.select(**match)
        if len(found) != 1:
            raise MissingUnit(f"{self.experiment}: {len(found)} units match {match}")
        return found[0][1]

    # ---- table ------------------------------------------------------------------------------
    def config_keys(self) -> list[str]:
        keys: list[str] = []
        for u in self.units:
            for k in u:
                if k != "setting" and k not in keys:
                    keys.append(k)
        return keys

    def label_keys(self) -> list[str]:
        keys: list[str] = []
        for tr in self.traces:
            for key in list(tr.series) + list(tr.scalars):
                for k in split_key(key)[1]:
                    if k not in keys:
                        keys.append(k)
        return keys

    def to_csv(self) -> str:
        keys, labels = self.config_keys(), self.label_keys()
        clash = set(keys) & set(labels)
        if clash:
            raise ValueError(f"{self.experiment}: {sorted(clash)} are both unit keys and grid labels")
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(FIXED_COLUMNS[:3] + tuple(keys) + tuple(labels) + FIXED_COLUMNS[3:])
        text_keys = {k for k in keys if all(isinstance(u[k], str) for u in self.units if u.get(k) is not None)}
        for ui, (unit, tr) in enumerate(self.items()):
            # a text column reads "none" where a unit lacks the key (an empty cell would make
            # pandas guess float for some chunks of the file and text for others)
            head = [self.experiment, ui, unit.get("setting", "")] + [
                _cell(unit.get(k, "none" if k in text_keys else None)) for k in keys]
            calls = tr.calls() if tr.series and tr.oracle_calls is not None else None
            its = [int(i) for i in tr.iterations]
            for key, values in tr.series.items():
                metric, lab = split_key(key)
                first = head + [_cell(lab.get(k)) for k in labels]
                v = np.asarray(values, dtype=float)
                for r in range(v.shape[0]):
                    row_v = v[r]
                    row_c = calls[r] if calls is not None else [None] * len(its)
                    w.writerows(first + [r, its[j], _c(row_c[j]), metric, _g(row_v[j])]
                                for j in range(len(its)) if math.isfinite(row_v[j]))
            for key, values in tr.scalars.items():
                metric, lab = split_key(key)
                first = head + [_cell(lab.get(k)) for k in labels]
                for r, x in enumerate(np.asarray(values, dtype=float).ravel()):
                    w.writerow(first + [r, "", "", metric, _g(x)])
            if tr.diverged_at is not None:
                blank = head + [""] * len(labels)
                for r, t in enumerate(tr.diverged_at):
                    if t >= 0:
                        w.writerow(blank + [r, int(t), "", "diverged_at", _g(t)])
        return buf.getvalue()

    def write(self, path) -> None:
        atomic_write_text(path, self.to_csv())

    @classmethod
    def read(cls, path, units: list[dict]) -> "Results":
        """Rebuild traces from a stored table and the unit list from its provenance."""
        series = defaultdict(lambda: defaultdict(dict))   # unit -> metric -> (trial, it) -> value
        calls = defaultdict(dict)                          # unit -> (trial, it) -> calls
        scalars = defaultdict(lambda: defaultdict(dict))
        diverged = defaultdict(dict)
        experiment = ""
        unit_keys = {k for u in units for k in u}
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            label_cols = [c for c in reader.fieldnames or [] if c not in FIXED_COLUMNS and c not in unit_keys]
            for row in reader:
                experiment = row["experiment"]
                u = int(row["unit"])
                r = int(row["trial"])
                metric = series_key(row["metric"], **{c: _parse(row[c]) for c in label_cols if row[c] != ""})
                if metric == "diverged_at":
                    diverged[u][r] = int(float(row["value"]))
                elif row["iteration"] == "":
                    scalars[u][metric][r] = float(row["value"])
                else:
                    it = int(row["iteration"])
                    series[u][metric][(r, it)] = float(row["value"])
                    if row["oracle_calls"] != "":
                        calls[u][(r, it)] = float(row["oracle_calls"])
        traces = []
        for ui in range(len(units)):
            its = sorted({it for m in series[ui].values() for (_, it) in m})
            trials = 1 + max([r for m in series[ui].values() for (r, _) in m]
                             + [r for m in scalars[ui].values() for r in m] + [-1])
            col = {it: j for j, it in enumerate(its)}
            ser = {}
            for metric, vals in series[ui].items():
                a = np.full((trials, len(its)), np.nan)
                for (r, it), x in vals.items():
                    a[r, col[it]] = x
                ser[metric] = a
            c = np.full((trials, len(its)), np.nan)
            for (r, it), x in calls[ui].items():
                c[r, col[it]] = x
            sc = {m: np.array([vals.get(r, np.nan) for r in range(trials)]) for m, vals in scalars[ui].items()}
            div = np.array([diverged[ui].get(r, -1) for r in range(trials)])
            traces.append(Trace(np.array(its, dtype=np.int64), ser, c if calls[ui] else None, sc,
                                {}, div))
        return cls(experiment, units, traces)


def _eq(a, b):
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return a == b


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, (list, tuple, dict)):
        raise TypeError(f"a table cell must be a scalar, not {v!r}")
    return v


def _parse(text: str):
    """A label cell back to its type: int, float, else the string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _c(x):
    """Oracle calls: integers stay integers in the table; blank where nothing is counted."""
    if x is None:
        return ""
    x = float(x)
    return int(x) if x.is_integer() else repr(x)


def _g(x):
    return repr(float(x))
