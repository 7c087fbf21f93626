"""Claims (what a paper states) and verdicts (what was measured), as plain data.

A claim never refers to an experiment's code: it is mathematics (a sympy expression of the
problem's parameters) plus the statistics of how it is checked. The experiment supplies the
evidence; :func:`theory.checks.judge` turns claim + evidence into a :class:`Verdict`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import sympy as sp

KINDS = ("rate", "bound", "order", "phenomenon")
RELATIONS = ("eq", "ge", "le")


@dataclass(frozen=True, kw_only=True)
class Claim:
    """One checkable statement of a paper.

    ``predicted`` is a sympy expression; ``symbols`` gives the values of its free symbols, so the
    number that is checked is derived, never typed by hand.  ``relation`` says how the measured
    interval must sit against the predicted value p (with ``tolerance`` tol):

    - ``eq``: the whole interval lies inside [p - tol, p + tol] (an equivalence test: a vaguer
      measurement must not pass more easily);
    - ``ge``: the whole interval is >= p - tol;
    - ``le``: the whole interval is <= p + tol.

    ``control`` describes the negative control(s): settings or broken variants for which the same
    check must fail.  ``expected_failure`` (a reason) marks a claim that does not reproduce: it is
    strict, the claim must be measured and must fail, and "unexpectedly holds" fails the run.
    ``min_trials``: fewer finite trials than this and the claim reports "not enough trials".
    """

    id: str
    source: str
    statement: str
    quantity: str
    kind: str
    predicted: Any
    relation: str
    control: str
    tolerance: float = 0.0
    symbols: Mapping[str, float] = field(default_factory=dict)
    r2_min: float = 0.9
    expected_failure: str | None = None
    min_trials: int = 3

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind {self.kind!r} is not one of {KINDS}")
        if self.relation not in RELATIONS:
            raise ValueError(f"claim {self.id}: relation {self.relation!r} is not one of {RELATIONS}")
        if "/" not in self.id:
            raise ValueError(f"claim id {self.id!r} must look like '<experiment>/<slug>'")
        object.__setattr__(self, "predicted", sp.sympify(self.predicted))

    @property
    def experiment(self) -> str:
        return self.id.split("/", 1)[0]

    def predicted_value(self) -> float:
        value = self.predicted.subs(self._by_name(self.symbols))
        free = value.free_symbols
        if free:
            raise ValueError(f"claim {self.id}: predicted {self.predicted} has unset symbols {free}")
        return float(value)

    def checked_value(self) -> float:
        """The number the measured interval is compared with.

        For a ``bound`` the measurement is the ratio measured / bound, so the number is 1; for
        every other kind it is the predicted expression evaluated at ``symbols``.
        """
        return 1.0 if self.kind == "bound" else self.predicted_value()

    def evaluate(self, **values):
        """The predicted expression as numbers (arrays broadcast), e.g. a bound along a run."""
        expr = self.predicted.subs(self._by_name({k: v for k, v in self.symbols.items() if k not in values}))
        by_name = {s.name: s for s in expr.free_symbols}
        names = sorted(values)
        fn = sp.lambdify([by_name.get(n, sp.Symbol(n)) for n in names], expr, "numpy")
        return fn(*(values[n] for n in names))

    def _by_name(self, values) -> dict:
        """Substitutions matched by symbol name, whatever assumptions the symbols carry."""
        return {s: values[s.name] for s in self.predicted.free_symbols if s.name in values}


@dataclass(frozen=True)
class Check:
    """The outcome of one check of one piece of evidence against a claim."""

    holds: bool
    measured: float
    interval: tuple[float, float]
    setting: str = ""
    r2: float | None = None
    detail: str = ""
    trials: int | None = None


@dataclass(frozen=True)
class Verdict:
    """A claim checked on its evidence and on every negative control.

    The claim holds only if its own check holds *and* every control's check fails (is rejected);
    a control that also "holds" means the check does not discriminate.
    """

    claim: Claim
    check: Check
    controls: tuple[Check, ...]

    @property
    def control(self) -> Check:
        return self.controls[0]

    @staticmethod
    def rejected(control: Check) -> bool:
        """The control was measured and failed the check.  A control that could not be measured
        (NaN) rejects nothing: it would make any check look discriminating."""
        m = control.measured
        return (not control.holds) and m is not None and m == m

    @property
    def control_rejected(self) -> bool:
        return bool(self.controls) and all(self.rejected(c) for c in self.controls)

    @property
    def holds(self) -> bool:
        return self.check.holds and self.control_rejected

    @property
    def status(self) -> str:
        """holds | fails | expected failure | unexpectedly holds | expected failure not measured"""
        if self.claim.expected_failure is None:
            return "holds" if self.holds else "fails"
        if self.holds:
            return "unexpectedly holds"
        m = self.check.measured
        if m is None or m != m or abs(m) == float("inf"):
            return "expected failure not measured"
        return "expected failure"

    @property
    def passed(self) -> bool:
        """The claim holds, or fails as a measured, documented expected failure."""
        return self.status in ("holds", "expected failure")

    def to_json(self) -> dict:
        c = self.claim
        return {
            "id": c.id,
            "experiment": c.experiment,
            "source": c.source,
            "statement": c.statement,
            "kind": c.kind,
            "quantity": c.quantity,
            "relation": c.relation,
            "predicted": c.checked_value(),
            "predicted_expr": str(c.predicted),
            "tolerance": c.tolerance,
            "measured": _num(self.check.measured),
            "interval": [_num(self.check.interval[0]), _num(self.check.interval[1])],
            "r2": _num(self.check.r2),
            "trials": self.check.trials,
            "setting": self.check.setting,
            "detail": self.check.detail,
            "holds": bool(self.holds),
            "passed": bool(self.passed),
            "status": self.status,
            "check_holds": bool(self.check.holds),
            "control": {
                "description": c.control,
                "rejected": bool(self.control_rejected),
                "checks": [{"setting": k.setting, "measured": _num(k.measured),
                            "interval": [_num(k.interval[0]), _num(k.interval[1])],
                            "detail": k.detail, "rejected": bool(self.rejected(k))}
                           for k in self.controls],
            },
            "expected_failure": c.expected_failure,
        }


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if x == x and abs(x) != float("inf") else None
