"""Run units of halpern-vr: build one problem for R trials, run one method, record.

The method records on the device (algorithms.recording); the unit copies the recording to the
host once, computes the oracle calls at which each trial first reached each target from the
densely recorded residuals, and keeps about RECORD_POINTS log-spaced points of each series.
"""
from __future__ import annotations

import math

import numpy as np

from algorithms.halpern import extra_anchored_gradient, extragradient, halpern
from algorithms.halpern_vr import inexact_halpern, page_halpern
from problems import monotone_instances as inst
from problems.monotone import FiniteSumOperator, duality_gap, norm

from ..backend import to_numpy
from ..base import Trace, series_key, thin_indices
from .config import L, RECORD_POINTS, batch_size, budget, inner_steps, targets


def build(problem: str, n: int, p: dict, env):
    """The operator for R trials, the start point and solution (host), and facts for info."""
    rngs, info, extra = env.rngs, {}, {}
    if problem == "rotation":
        rots = np.stack([inst.rotation(rng) for rng in rngs])
        M = (np.eye(2) - rots)[:, None]                 # F = I - Rot, so T = I - F = Rot
        x0 = np.stack([rng.standard_normal(2) for rng in rngs])
        extra["angle"] = np.arctan2(rots[:, 1, 0], rots[:, 0, 0])
        op = FiniteSumOperator(env.asarray(M), env.asarray(np.zeros((len(rngs), 1, 2))))
        return op, x0, np.zeros_like(x0), info, extra
    kw = {}
    if problem in ("lsq", "lsq-box"):
        data = [inst.least_squares(rng, n, p["d"]) for rng in rngs]
        if problem == "lsq-box":
            kw = {"constraint": "box", "lo": -p["box"], "hi": p["box"]}
            solved = [inst.solve_box_least_squares(dd["A"], dd["b"], -p["box"], p["box"]) for dd in data]
            sol = [s[0] for s in solved]
            info = {"cvxpy_solver": solved[0][1], "cvxpy_status": solved[0][2]}
        else:
            sol = [inst.solve_affine(dd["M"], dd["c"]) for dd in data]
        x0 = np.zeros((len(rngs), p["d"]))
    elif problem == "bq":
        data = [inst.bilinear_quadratic(rng, n, p["m"]) for rng in rngs]
        sol = [dd["solution"] for dd in data]
        x0 = np.zeros((len(rngs), 2 * p["m"]))
    elif problem == "game":
        data = [inst.policeman_burglar(rng, n, p["m_game"]) for rng in rngs]
        eqs = [inst.solve_matrix_game(dd["A"]) for dd in data]
        sol = [np.concatenate([e["x"], e["y"]]) for e in eqs]
        kw = {"constraint": "simplices", "split": p["m_game"]}
        x0 = np.full((len(rngs), 2 * p["m_game"]), 1.0 / p["m_game"])
        info = {"cvxpy_solver": eqs[0]["solver"], "cvxpy_status": eqs[0]["status"],
                "game_value_gap_primal_dual": max(abs(e["value"] - e["value_dual"]) for e in eqs)}
    else:
        raise ValueError(f"unknown problem {problem!r}")
    M = env.asarray(np.stack([dd["M"] for dd in data]))
    c = env.asarray(np.stack([dd["c"] for dd in data]))
    return FiniteSumOperator(M, c, **kw), x0, np.stack(sol), info, extra


def measurements(op, sol, problem: str):
    """What is recorded at a step (device arrays; nothing is charged to the oracle)."""

    def measure(x):
        out = {"residual": op.residual(x, 1.0 / L), "distance": norm(x - sol)}
        if problem == "game":
            out["gap"] = duality_gap(op.game_matrix, x, op.split)
        return out

    return measure


def solve(method: str, op, x0, p: dict, env, iters: int, **rec):
    """Run one method; ``rec`` carries record, measure and max_calls."""
    n, anchored, base = op.n, not method.endswith("-plain"), method.removesuffix("-plain")
    if base == "halpern":
        return halpern(op, x0, p["step"] / L, iters, anchored=anchored, **rec)
    if base == "page":
        return page_halpern(op, x0, p["step"] / L, iters, batch_size(n, p["batch_scale"]), env.rngs,
                            anchored=anchored, **rec)
    if base == "alg2":
        scale = math.sqrt(n) / L
        inner_step = 1.0 / (math.sqrt(n) * (1.0 + scale * L))     # VR-FoRB: sqrt(p)/L_B, p = 1/n
        return inexact_halpern(op, x0, scale, iters, env.rngs, inner_steps=inner_steps(n, p),
                               inner_step=inner_step, anchored=anchored, **rec)
    if base == "eg":
        return extragradient(op, x0, 0.5 / L, iters, **rec)
    if base == "eag":
        return extra_anchored_gradient(op, x0, 1.0 / (8 * L), iters, **rec)
    raise ValueError(f"unknown method {method!r}")


def first_hits(residual, calls, eps: float) -> np.ndarray:
    """Oracle calls at the first recorded step with residual <= eps, per trial (NaN: never)."""
    hit = residual <= eps
    first = calls[np.arange(calls.shape[0]), hit.argmax(axis=1)].astype(float)
    return np.where(hit.any(axis=1), first, np.nan)


def run_unit(unit: dict, p: dict, env) -> Trace:
    problem, method, n = unit["problem"], unit["method"], int(unit["n"])
    op, x0_host, sol_host, info, extra = build(problem, n, p, env)
    dist0 = np.linalg.norm(x0_host - sol_host, axis=1)
    iters, max_calls = budget(unit, p, float(dist0.max()))
    eps = targets(unit, p)
    dense = bool(eps) or problem in ("rotation", "lsq-box")
    record = range(iters + 1) if dense else thin_indices(np.arange(1, iters + 2), RECORD_POINTS)
    out = solve(method, op, env.asarray(x0_host), p, env, iters, record=record, max_calls=max_calls,
                measure=measurements(op, env.asarray(sol_host), problem))

    its = np.asarray(out.iterations, dtype=np.int64)
    calls = np.asarray(to_numpy(out.calls), dtype=np.int64)          # the one host copy
    series = {k: np.asarray(to_numpy(v), dtype=float) for k, v in out.metrics.items()}
    scalars = {series_key("calls_to_eps", eps=e): first_hits(series["residual"], calls, e) for e in eps}
    scalars.update(extra)
    scalars["distance0"] = dist0
    for k in series:
        scalars[f"final_{k}"] = series[k][:, -1]
    scalars["final_epochs"] = calls[:, -1] / n
    keep = np.arange(its.size) if problem in ("rotation", "lsq-box") else thin_indices(its + 1, RECORD_POINTS)
    info.update({"n": n, "batch": batch_size(n, p["batch_scale"]), "iterations_run": int(its[-1]),
                 "iteration_cap": iters})
    return Trace(its[keep], {k: v[:, keep] for k, v in series.items()}, calls[:, keep], scalars, info)
