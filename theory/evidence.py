"""What an experiment hands to a check: arrays with trials along the first axis."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Curves:
    """Evidence for a ``rate`` claim: y[trial, point] against x[point].

    ``scale='loglog'`` fits log y against log x (a power law's exponent); ``'semilog'`` fits log y
    against x (a linear-convergence factor).  The fit uses the points of ``window`` (x range).
    """

    x: np.ndarray
    y: np.ndarray
    scale: str
    window: tuple[float, float] | None = None
    setting: str = ""
    compare_models: bool = True


@dataclass
class Bounded:
    """Evidence for a ``bound`` claim: measured[trial, step] against bound (broadcastable).

    The check looks at the ratio measured / bound over every trial and step.
    """

    measured: np.ndarray
    bound: np.ndarray
    setting: str = ""


@dataclass
class Paired:
    """Evidence for an ``order`` claim: the cost of the method that should win (``winner``) and of
    the one it should beat (``loser``), one value per trial.  Measured: mean(loser)/mean(winner).
    """

    winner: np.ndarray
    loser: np.ndarray
    setting: str = ""


@dataclass
class Values:
    """Evidence for a ``phenomenon`` claim: one value per trial, compared with a threshold."""

    values: np.ndarray
    setting: str = ""
