"""The one place a cvxpy ground truth is solved: installed-solver preference, tolerances, status.

Clarabel (interior point, accurate) is preferred; SCS (first order) is the fallback that every
cvxpy install has.  "Inaccurate" solutions are reported through the returned status, not as a
warning, so a caller can record them in its provenance.
"""
from __future__ import annotations

import warnings

PREFERENCE = ("CLARABEL", "SCS")


def installed_solver(preference=PREFERENCE) -> str:
    """The first solver of ``preference`` that cvxpy has installed."""
    import cvxpy as cp

    installed = set(cp.installed_solvers())
    for name in preference:
        if name in installed:
            return name
    raise RuntimeError(f"none of the cvxpy solvers {preference} is installed (installed: {sorted(installed)})")


def _tolerance_options(solver: str, tol: float | None) -> dict:
    if tol is None:
        return {}
    if solver == "CLARABEL":
        return {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol}
    if solver == "SCS":
        return {"eps": tol}
    return {}


def solve(problem, *, tol: float | None = None, preference=PREFERENCE) -> tuple[float | None, dict]:
    """Solve a cvxpy ``problem`` with the preferred installed solver.

    ``tol`` (optional) sets the solver's gap/feasibility tolerance (Clarabel: tol_gap_abs,
    tol_gap_rel, tol_feas; SCS: eps).  Returns ``(optimal value or None, {"solver", "status"})``;
    the variables hold the solution (``None`` values when the solver failed).
    """
    solver = installed_solver(preference)
    with warnings.catch_warnings():   # "inaccurate" is reported through the status instead
        warnings.simplefilter("ignore", UserWarning)
        problem.solve(solver=solver, **_tolerance_options(solver, tol))
    return problem.value, {"solver": solver, "status": problem.status}
