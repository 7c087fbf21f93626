"""sympy helpers that turn a paper's stated rate or complexity into the number a fit measures."""
from __future__ import annotations

import sympy as sp


def _sym(var):
    return sp.Symbol(var) if isinstance(var, str) else var


def loglog_slope(expr, var, *, limit=None, at=None):
    """d log(expr) / d log(var): the exponent a log-log fit measures.

    ``limit`` ({symbol: value}) takes the regime the measurement is in, e.g. for the complexity
    n + sqrt(n) L / eps at small eps, ``loglog_slope(n + sqrt(n)*L/eps, n, limit={eps: 0})`` = 1/2.
    ``at`` ({symbol: value}) evaluates the local slope at a point instead.
    """
    expr = sp.sympify(expr)
    v = _sym(var)
    slope = sp.simplify(sp.diff(expr, v) * v / expr)
    return _regime(slope, limit, at)


def semilog_slope(expr, var, *, limit=None, at=None):
    """d log(expr) / d var: the per-step rate a semilog fit measures (e.g. -c alpha^2 for
    exp(-c alpha^2 T) in T)."""
    expr = sp.sympify(expr)
    v = _sym(var)
    slope = sp.simplify(sp.diff(sp.log(expr), v))
    return _regime(slope, limit, at)


def _regime(slope, limit, at):
    for s, value in (limit or {}).items():
        s = _sym(s)
        direction = "+" if value == 0 else None
        slope = sp.limit(slope, s, value, direction) if direction else sp.limit(slope, s, value)
    if at:
        slope = slope.subs({_sym(k): v for k, v in at.items()})
    return sp.simplify(slope)
