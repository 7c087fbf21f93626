"""Run units of the halpern-vr experiment: build one problem for R trials, run one method, record.

Kept apart from experiments/halpern_vr.py (claims, evidence, figure) so each file stays short.
"""
from __future__ import annotations

import math

import numpy as np

from algorithms.halpern import extra_anchored_gradient, extragradient, forward_backward_map, halpern
from algorithms.halpern_vr import inexact_halpern, page_halpern
from problems import monotone_instances as inst
from problems.monotone import FiniteSumOperator, duality_gap, norm

from .backend import to_backend, to_numpy
from .base import Trace, thin_indices

L = 1.0           # every instance is scaled to average Lipschitz (cocoercivity) constant 1
RECORD_POINTS = 160


def batch_size(n: int, batch_scale: float) -> int:
    return max(1, int(math.ceil(batch_scale * math.sqrt(n))))


def build(problem: str, n: int, p: dict, rngs, xp):
    """The operator for R trials, the start point, the solution (host) and facts for info."""
    info = {}
    if problem == "rotation":
        rots = np.stack([inst.rotation(rng) for rng in rngs])
        M = (np.eye(2) - rots)[:, None]                 # F = I - Rot, so T = I - F = Rot
        c = np.zeros((len(rngs), 1, 2))
        sol = np.zeros((len(rngs), 2))
        x0 = np.stack([rng.standard_normal(2) for rng in rngs])
        return FiniteSumOperator(to_backend(M, xp), to_backend(c, xp)), x0, sol, info
    if problem in ("lsq", "lsq-box"):
        data = [inst.least_squares(rng, n, p["d"]) for rng in rngs]
        kw, sol = {}, []
        if problem == "lsq-box":
            kw = {"constraint": "box", "lo": -p["box"], "hi": p["box"]}
            for dd in data:
                x, solver, status = inst.solve_box_least_squares(dd["A"], dd["b"], -p["box"], p["box"])
                sol.append(x)
            info = {"cvxpy_solver": solver, "cvxpy_status": status}
        else:
            sol = [inst.solve_affine(dd["M"], dd["c"]) for dd in data]
        x0 = np.zeros((len(rngs), p["d"]))
    elif problem == "bq":
        data = [inst.bilinear_quadratic(rng, n, p["m"]) for rng in rngs]
        sol = [dd["solution"] for dd in data]
        kw = {}
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
    M = np.stack([dd["M"] for dd in data])
    c = np.stack([dd["c"] for dd in data])
    op = FiniteSumOperator(to_backend(M, xp), to_backend(c, xp), **kw)
    if problem == "game":
        op.game_matrix = to_backend(np.stack([dd["A"] for dd in data]), xp)
    return op, x0, np.stack(sol), info


def run_method(unit: dict, p: dict, rngs, xp) -> Trace:
    problem, method, n = unit["problem"], unit["method"], int(unit["n"])
    op, x0_host, sol_host, info = build(problem, n, p, rngs, xp)
    x0, sol = to_backend(x0_host, xp), to_backend(sol_host, xp)
    R = len(rngs)
    eps = sorted(unit.get("eps", ()), reverse=True)
    epochs_cap = float(unit.get("epochs", p["max_epochs"]))
    first = {e: [math.nan] * R for e in eps}
    hist = {"residual": [], "distance": [], "calls": [], "gap": []}

    def monitor(k, x):
        res = to_numpy(op.residual(x, 1.0 / L)).astype(float)
        hist["residual"].append(res)
        hist["distance"].append(to_numpy(norm(x - sol)).astype(float))
        if problem == "game":
            hist["gap"].append(to_numpy(duality_gap(op.game_matrix, x, p["m_game"])).astype(float))
        hist["calls"].append(np.array(op.calls, dtype=float))
        for e in eps:
            hit = (res <= e) & np.isnan(first[e])
            first[e] = np.where(hit, hist["calls"][-1], first[e])
        done = bool(eps) and not np.isnan(first[eps[-1]]).any()
        return done or min(op.calls) >= epochs_cap * n

    iters = int(unit.get("iters", 10**7))
    batch = batch_size(n, p["batch_scale"])
    anchored = not method.endswith("-plain")
    base = method.removesuffix("-plain")
    if base == "halpern":
        halpern(forward_backward_map(op, p["step"] / L), x0, iters, monitor, anchored=anchored)
    elif base == "page":
        page_halpern(op, x0, p["step"] / L, iters, batch, rngs, monitor, anchored=anchored)
    elif base == "alg2":
        scale = math.sqrt(n) / L
        inner_step = 1.0 / (math.sqrt(n) * (1.0 + scale * L))     # VR-FoRB: sqrt(p)/L_B, p = 1/n
        inner_steps = int(math.ceil(p["inner_epochs"] * n))
        inexact_halpern(op, x0, scale, iters, rngs, monitor, inner_steps=inner_steps,
                        inner_step=inner_step, anchored=anchored)
    elif base == "eg":
        extragradient(op, x0, 0.5 / L, iters, monitor)
    elif base == "eag":
        extra_anchored_gradient(op, x0, 1.0 / (8 * L), iters, monitor)
    else:
        raise ValueError(f"unknown method {method!r}")

    its = np.arange(len(hist["residual"]))
    keep = thin_indices(its + 1, RECORD_POINTS)
    series = {k: np.stack(v, axis=1)[:, keep] for k, v in hist.items() if v and k != "calls"}
    calls = np.stack(hist["calls"], axis=1)
    scalars = {f"calls_to_eps_{i}": np.asarray(first[e]) for i, e in enumerate(eps)}
    scalars["distance0"] = to_numpy(norm(x0 - sol)).astype(float)
    scalars["final_residual"] = series["residual"][:, -1]
    scalars["final_distance"] = series["distance"][:, -1]
    scalars["final_epochs"] = calls[:, -1] / n
    if "gap" in series:
        scalars["final_gap"] = series["gap"][:, -1]
    info.update({"n": n, "batch": batch, "iterations_run": int(its[-1])})
    return Trace(its[keep], series, calls[:, keep], scalars, info)
