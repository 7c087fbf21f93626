"""penalty-bilevel run units: the landscape at sampled points (closed forms, cvxpy for the box)
and the penalty method's runs, R trials in lockstep.

The penalty value and gradient are assembled here from their pieces (f, g, g* and the partial
gradients at y_sigma and at a lower-level solution), as an implementation would, so the tests'
mutants can break exactly one formula.
"""
from __future__ import annotations

import numpy as np

from algorithms.penalty import penalty_method
from experiments.backend import to_numpy
from experiments.base import Trace, series_key
from problems import bilevel as bl
from problems.bilevel_oracles import StochasticOracles
from problems.penalty_bilevel import (ConstrainedQuadraticPenalty, JumpControl, QuadraticPenalty,
                                      rank_deficient_instance)
from problems.penalty_sweeps import (WeightedQuadraticPenalty, box_hypergradient,
                                     weighted_rank_deficient_instance)

from .config import RECORD_POINTS, SLICE_SIGMAS, eps_grid, schedule, sigma_grid

LINK = "softplus"


# ---- the formulas under test ------------------------------------------------------------------
def penalty_value(f_val, g_val, g_star, sigma):
    """psi_sigma(x) = f(x, y_sigma) + (g(x, y_sigma) - g*(x)) / sigma."""
    return f_val + (g_val - g_star) / sigma


def wrong_sign_penalty_value(f_val, g_val, g_star, sigma):
    """The broken variant of the bound's control: the g* term with the wrong sign."""
    return f_val + (g_val + g_star) / sigma


def penalty_gradient(fx_sigma, gx_sigma, gx_star, sigma):
    """grad psi_sigma(x) = grad_x f(x, y_sigma) + (grad_x g(x, y_sigma) - grad_x g(x, y*)) / sigma."""
    return fx_sigma + (gx_sigma - gx_star) / sigma


def explicit_gradient(P, x):
    """grad psi under multiple lower solutions: at the f-optimal solution, with H^+."""
    return P.grad_psi(x)


def x_step(p, sigma):
    """step_x = step_scale sigma: psi_sigma's gradient carries 1/sigma."""
    return p["step_scale"] * sigma


# ---- instances ----------------------------------------------------------------------------------
def _instance(kind, p, env):
    dims = (p["dx"], p["dy"], p["m"])
    if kind in ("a", "b"):
        parts = [bl.quadratic_instance(r, *dims, mu=p["mu"], cond=p["cond"], coupling=p["coupling"])
                 for r in env.rngs]
    elif kind == "c":
        parts = [rank_deficient_instance(r, *dims, p["rank"], p["cond"]) for r in env.rngs]
    else:
        parts = [weighted_rank_deficient_instance(r, *dims, p["rank"], p["cond"], p["w_cond"])
                 for r in env.rngs]
    for part in parts:
        part["B"] = part["B"] * (p["coupling"] if kind in ("c", "cw") else 1.0)
    arrays = bl.stack_instances(parts)
    if kind == "b":
        return arrays, ConstrainedQuadraticPenalty(arrays, np.asarray, kind="box", lo=p["box_lo"],
                                                   hi=p["box_hi"], link=LINK)
    upper = bl.SeparableUpper(env.asarray(arrays["A"]), env.asarray(arrays["b"]), link=LINK)
    lower = bl.QuadraticLower(env.asarray(arrays["Q"]), env.asarray(arrays["B"]), arrays["mu"])
    if kind == "cw":
        return arrays, WeightedQuadraticPenalty(upper, env.asarray(arrays["W"]), lower)
    return arrays, QuadraticPenalty(upper, lower)


def _points(kind, p, env):
    """x per trial: (points, R, dx) on the host."""
    if kind == "d":
        mag = np.stack([r.uniform(0.1, 1.0, size=(p["points"], 1)) for r in env.rngs], axis=1)
        signs = np.where(np.arange(p["points"]) % 2 == 0, -1.0, 1.0)[:, None, None]
        return p["jump_radius"] * signs * mag
    return p["x_scale"] * np.stack([r.standard_normal((p["points"], p["dx"])) for r in env.rngs], axis=1)


# ---- landscape ----------------------------------------------------------------------------------
def _pieces(kind, P, x, arrays, p, env):
    """(psi, grad psi, g*, lower solution, per-sigma (y_sigma)) at x, host arrays for (b)."""
    if kind == "b":
        y_low, _ = P.lower_solution(x)
        psi = P.np_upper.value(x, y_low)
        grad = box_hypergradient(arrays["Q"], arrays["B"], arrays["mu"], P.np_upper.grad_x(x, y_low),
                                 y_low, arrays["b"], p["box_lo"], p["box_hi"])
        return psi, grad, y_low
    xb = env.asarray(x)
    if kind == "d":
        return P.psi(xb), xb, P.y_lower(xb)       # psi = x^2/2 - c sign(x): gradient x off 0
    return P.psi(xb), explicit_gradient(P, xb), P.y_lower(xb)


def _levels(kind, P):
    return (P.np_upper, P.np_lower) if kind == "b" else (P.upper, P.lower)


def run_landscape(unit, p, env):
    kind = unit["instance"]
    arrays, P = _instance(kind, p, env) if kind != "d" else ({}, JumpControl(p["jump_c"]))
    upper, lower = _levels(kind, P)
    offset = p["g_offset"]
    scalars = {}
    for k, x_host in enumerate(_points(kind, p, env)):
        x = x_host if kind == "b" else env.asarray(x_host)
        psi, grad, y_low = _pieces(kind, P, x_host, arrays, p, env)
        g_star = lower.value(x, y_low) + offset
        gx_star = lower.grad_x(x, y_low)
        for s in sigma_grid(p):
            y_s = P.y_sigma(x, s)
            f_s, g_s = upper.value(x, y_s), lower.value(x, y_s) + offset
            psi_s = penalty_value(f_s, g_s, g_star, s)
            grad_s = penalty_gradient(upper.grad_x(x, y_s), lower.grad_x(x, y_s), gx_star, s)
            row = {"psi": psi, "psi_sigma": psi_s,
                   "psi_sigma_wrong_sign": wrong_sign_penalty_value(f_s, g_s, g_star, s),
                   "value_gap": abs(_host(psi) - _host(psi_s)),
                   "grad_gap": np.linalg.norm(_host(grad) - _host(grad_s), axis=-1)}
            for name, v in row.items():
                scalars[series_key(name, point=k, sigma=s)] = _host(v)
        if kind == "cw":
            fd = _central_difference(lambda u: _host(P.psi(env.asarray(u))), x_host, p["fd_step"])
            scalars[series_key("fd_error", point=k)] = np.abs(_host(grad) - fd).max(axis=-1)
            scalars[series_key("fd_error_naive", point=k)] = np.abs(_host(P.naive_grad(x)) - fd).max(axis=-1)
    if kind == "d":
        scalars.update(_jump_slice(P, env))
    return Trace(np.arange(1), {}, None, scalars, {})


def _jump_slice(P, env, n=41, half_width=0.5):
    """psi and psi_sigma of instance (d) along x in [-half_width, half_width] (through x = 0,
    where S(0) = [-1, 1])."""
    out = {}
    R = env.trials
    for t in np.linspace(-half_width, half_width, n):
        x = env.asarray(np.full((R, 1), t))
        out[series_key("slice_psi", t=float(t))] = _host(P.psi(x))
        for s in SLICE_SIGMAS:
            out[series_key("slice_psi_sigma", t=float(t), sigma=s)] = _host(P.psi_sigma(x, s))
    return out


def _central_difference(fun, x, h):
    return np.stack([(fun(x + h * e) - fun(x - h * e)) / (2 * h) for e in np.eye(x.shape[-1])], axis=-1)


def _host(a):
    return np.asarray(to_numpy(a), dtype=float)


# ---- the penalty method -------------------------------------------------------------------------
def _method_setup(p, env):
    arrays, P = _instance("a", p, env)
    R = env.trials
    x0 = env.asarray(np.full((R, p["dx"]), p["x0"]))
    y0 = env.asarray(np.zeros((R, p["dy"])))
    step_y = 1.0 / (p["cond"] + p["mu"])        # 1/L_g: lam_max(H) = cond + mu
    return P, x0, y0, step_y


def run_complexity(unit, p, env):
    """The single loop at each eps of the grid; per eps: ||grad psi(x_t)|| and ||grad psi_sigma(x_t)||
    at RECORD_POINTS + 1 evenly spaced steps (the trace's "iteration" is the index of the recorded
    point: the runs differ in length), the counted calls there, and the final values."""
    P, x0, y0, step_y = _method_setup(p, env)
    series, scalars = {}, {}
    for eps in eps_grid(p):
        s = schedule(p, eps, unit["variant"])
        sigma, T = s["sigma"], s["iterations"]
        record = np.linspace(0, T, RECORD_POINTS + 1).astype(int)
        oracles = StochasticOracles(P, env.rngs)

        def measure(x, y, z, sigma=sigma):
            return {"stationarity": bl.norm(P.grad_psi(x)),
                    "penalty_stationarity": bl.norm(P.grad_psi_sigma(x, sigma))}

        with np.errstate(all="ignore"):         # a diverging run is recorded as such
            rec = penalty_method(oracles, x0, y0, sigma=sigma, iterations=T, record=record,
                                 measure=measure, step_x=x_step(p, sigma), step_y=step_y)
        calls = np.broadcast_to(_host(rec.calls), (env.trials, len(record)))
        for name in ("stationarity", "penalty_stationarity"):
            values = _host(rec.metrics[name])
            series[series_key(name, eps=eps)] = values
            scalars[series_key(f"final_{name}", eps=eps)] = values[:, -1]
        series[series_key("calls", eps=eps)] = calls
        scalars[series_key("budget_calls", eps=eps)] = calls[:, -1].copy()
    return Trace(np.arange(RECORD_POINTS + 1), series, None, scalars, {})


def run_cost(unit, p, env):
    """Counted oracle calls per iteration of the single loop and of the double loop."""
    P, x0, y0, step_y = _method_setup(p, env)
    sigma, T = p["sigma_ratio"] * p["eps_max"], p["cost_iters"]
    inner = 0 if unit["variant"] == "single" else p["inner_steps"]
    oracles = StochasticOracles(P, env.rngs)
    rec = penalty_method(oracles, x0, y0, sigma=sigma, iterations=T, record=[0, T],
                         measure=lambda x, y, z: {}, step_x=x_step(p, sigma), step_y=step_y,
                         inner_steps=inner)
    calls = np.broadcast_to(_host(rec.calls), (env.trials, 2))
    per_iteration = (calls[:, -1] - calls[:, 0]) / T
    return Trace(np.array([0, T]), {"calls": calls.copy()}, calls,
                 {"calls_per_iteration": per_iteration}, {})


RUNNERS = {"landscape": run_landscape, "complexity": run_complexity, "cost": run_cost}


def run_unit(unit, p, env):
    return RUNNERS[unit["group"]](unit, p, env)
