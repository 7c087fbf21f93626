"""One recording contract for every algorithm in algorithms/.

An algorithm takes the iteration indices to record (``record``) and returns a :class:`Recording`:
the recorded iterations, the oracle calls per trial at each of them, and the metrics, each an
array whose leading axis is the trial axis and whose last axis is the recorded point.  Values stay
on the array's device until the unit ends: :meth:`Recorder.record` only appends device arrays to
lists (no host copy, no synchronization), and :meth:`Recorder.result` stacks them once.

Deciding *whether* to record at step t uses host integers only (:meth:`Recorder.due`), so the
loop never asks the device a question.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from array_api_compat import array_namespace


@dataclass
class Recording:
    """What an algorithm recorded.

    ``iterations``: the recorded iteration indices (host ints, increasing);
    ``calls``: oracle calls per trial at each recorded iteration, shape (R, T), on the device
    (or a host list of T ints when every trial spends the same);
    ``metrics``: name -> array (R, ..., T) on the device;
    ``state``: whatever final iterates the caller may need (e.g. the last X).
    """

    iterations: list[int]
    calls: Any
    metrics: dict[str, Any]
    state: dict[str, Any] = field(default_factory=dict)


class Recorder:
    """Collects metrics at the iterations of ``record`` that fall in [0, iterations]."""

    def __init__(self, record, iterations: int):
        marks = sorted({int(t) for t in record if 0 <= int(t) <= iterations})
        if not marks:
            raise ValueError(f"no recorded iteration in 0..{iterations}")
        self.marks = marks
        self._mark_set = frozenset(marks)
        self.last = marks[-1]
        self.iterations: list[int] = []
        self._calls: list = []
        self._metrics: dict[str, list] = {}

    def due(self, t: int) -> bool:
        """Whether step t is recorded (host integers only: no device synchronization)."""
        return t in self._mark_set

    def record(self, t: int, calls, **metrics) -> None:
        """Append the metrics of step t (device arrays with the trial axis first).

        ``calls`` is an int (every trial spent the same) or an (R,) device array.
        """
        if self.iterations and t <= self.iterations[-1]:
            raise ValueError(f"recorded step {t} after step {self.iterations[-1]}")
        if self._metrics and set(metrics) != set(self._metrics):
            raise ValueError(f"step {t} records {sorted(metrics)}, earlier steps {sorted(self._metrics)}")
        self.iterations.append(int(t))
        self._calls.append(calls)
        for name, value in metrics.items():
            self._metrics.setdefault(name, []).append(value)

    def result(self, **state) -> Recording:
        """Stack everything recorded (one operation per metric) into a :class:`Recording`."""
        if not self.iterations:
            raise ValueError("nothing was recorded")
        metrics = {}
        xp = None
        for name, values in self._metrics.items():
            xp = array_namespace(values[0])
            metrics[name] = xp.stack(values, axis=-1)
        if all(isinstance(c, int) for c in self._calls):
            calls = list(self._calls)
        else:
            first = next(c for c in self._calls if not isinstance(c, int))
            xp = array_namespace(first)
            shape = first.shape
            cols = [c if not isinstance(c, int) else xp.full(shape, c, dtype=first.dtype)
                    for c in self._calls]
            calls = xp.stack(cols, axis=-1)
        return Recording(list(self.iterations), calls, metrics, state)
