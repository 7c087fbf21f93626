"""Typed, range-checked experiment parameters and the errors bad input produces."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence


class ParamError(ValueError):
    """Bad user input: the message names what was wrong and what is valid (CLI exit 2)."""


@dataclass(frozen=True)
class Param:
    """One parameter of an experiment, with its quick and full values.

    ``low``/``high`` bound numbers (``open_low``/``open_high`` make a bound strict); a tuple
    parameter is checked element-wise; ``choices`` restricts strings.
    """

    quick: Any
    full: Any
    help: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    choices: Sequence[str] | None = None

    @property
    def kind(self) -> type:
        v = self.quick
        if isinstance(v, tuple):
            return tuple
        return type(v)

    @property
    def element_kind(self) -> type:
        v = self.quick
        if isinstance(v, tuple):
            return float if any(isinstance(e, float) for e in v) else type(v[0])
        return type(v)

    def range_text(self) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.open_low else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.open_high else '<='} {self.high:g}")
        if self.choices:
            parts.append("one of " + ", ".join(self.choices))
        return " and ".join(parts) if parts else "any value"

    def parse(self, name: str, text: str):
        """Turn a command-line string into a value of this parameter's type."""
        kind = self.kind
        try:
            if kind is tuple:
                items = [t for t in text.replace(" ", "").split(",") if t]
                if not items:
                    raise ValueError
                value = tuple(_scalar(self.element_kind, t) for t in items)
            else:
                value = _scalar(kind, text)
        except (ValueError, OverflowError):
            example = "comma-separated list of " if kind is tuple else ""
            finite = "finite " if self.element_kind in (int, float) else ""
            raise ParamError(
                f"{name}={text!r} is not a valid {example}{finite}{self.element_kind.__name__} "
                f"({self.help}; {self.range_text()})") from None
        self.validate(name, value)
        return value

    def validate(self, name: str, value) -> None:
        values = value if isinstance(value, tuple) else (value,)
        if isinstance(value, tuple) and not values:
            raise ParamError(f"{name} must not be empty")
        for v in values:
            bad = False
            if self.choices is not None and v not in self.choices:
                bad = True
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if not math.isfinite(v):
                    bad = True
                if self.low is not None and (v < self.low or (self.open_low and v == self.low)):
                    bad = True
                if self.high is not None and (v > self.high or (self.open_high and v == self.high)):
                    bad = True
            if bad:
                raise ParamError(f"{name}={v!r} is out of range: {name} must be "
                                 f"{self.range_text()} ({self.help})")


def _scalar(kind, text: str):
    if kind is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(text)
    if kind is int:
        f = float(text)
        if not math.isfinite(f) or f != int(f):
            raise ValueError(text)
        return int(f)
    if kind is float:
        f = float(text)
        if not math.isfinite(f):
            raise ValueError(text)
        return f
    return str(text)


def require(condition: bool, message: str) -> None:
    """Cross-parameter check for :meth:`Experiment.check_params` (e.g. k >= r)."""
    if not condition:
        raise ParamError(message)
