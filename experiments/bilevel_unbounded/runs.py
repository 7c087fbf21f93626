"""bilevel-unbounded run units: one instance family per group, R trials in lockstep."""
from __future__ import annotations

import numpy as np

from algorithms.bilevel import aid, bo_rep, soba
from experiments.base import Trace, series_key
from problems import bilevel as bl
from problems import bilevel_unbounded as bu
from problems.bilevel_oracles import StochasticOracles
from problems.hypercleaning import hypercleaning_bilevel

from .config import RECORD_POINTS, eps_grid, schedule


def _instance(p, env, link="cosh"):
    arrays = bl.stack_instances([bu.cosh_instance(rng, p["dx"], p["dy"], mu=p["mu"], cond=p["cond"])
                                 for rng in env.rngs])
    return arrays, bu.cosh_bilevel(arrays, env.asarray, link=link)


def _start(arrays, env, level):
    """x0 with a_i^T x0 = level for every row (A has orthogonal unit rows), y0 = 0."""
    A = arrays["A"]
    x0 = level * np.einsum("rmd,m->rd", A, np.ones(A.shape[1]))
    return env.asarray(x0), env.asarray(np.zeros((A.shape[0], arrays["Q"].shape[-1])))


def _grad_norm(P):
    return lambda x, y, z: {"grad_norm": bl.norm(P.hypergradient(x))}


def _trace(rec, scalars=None, info=None):
    return Trace.from_recording(rec, scalars=scalars, info=info)


def run_complexity(unit, p, env):
    """BO-REP on its eps-schedule for every eps of the grid, on the same instances (a grid inside
    the unit); per trial, the calls at which the running average of ||grad Phi(x_t)|| (over the
    recorded, evenly spaced steps) first drops below eps (inf: not within the budget)."""
    arrays, P = _instance(p, env)
    x0, y0 = _start(arrays, env, p["x0_scale"])
    series, scalars = {}, {}
    for eps in eps_grid(p):
        s = schedule(p, eps, unit["variant"])
        T = s["iterations"]
        record = np.linspace(0, T, RECORD_POINTS + 1).astype(int)
        oracles = StochasticOracles(P, env.rngs, noise_std=p["noise"])
        rec = bo_rep(oracles, x0, y0, iterations=T, record=record, measure=_grad_norm(P), eta=s["eta"],
                     gamma=p["gamma"], nu=p["nu"], beta=s["beta"], period=s["period"],
                     lower_steps=p["lower_steps"], refine_epochs=p["refine_epochs"],
                     refine_steps=p["refine_steps"])
        g = np.asarray(_host(rec.metrics["grad_norm"]), dtype=float)
        calls = np.broadcast_to(np.asarray(_host(rec.calls), dtype=float), g.shape)
        running = np.cumsum(g, axis=1) / np.arange(1, g.shape[1] + 1)
        hit = running <= eps
        first = np.where(hit.any(axis=1), calls[np.arange(g.shape[0]), hit.argmax(axis=1)], np.inf)
        scalars[series_key("calls_to_eps", eps=eps)] = first
        scalars[series_key("running_average", eps=eps)] = running[:, -1]
        series[series_key("grad_norm", eps=eps)] = g
        series[series_key("calls", eps=eps)] = calls
    # every run records RECORD_POINTS + 1 evenly spaced steps: the trace's "iteration" is the
    # index of the recorded point (the runs differ in length); the calls are a series per eps
    return Trace(np.arange(RECORD_POINTS + 1), series, None, scalars, {})


def run_divergence(unit, p, env):
    arrays, P = _instance(p, env, unit["link"])
    x0, y0 = _start(arrays, env, p["x0_far"])
    T = p["iters_diverge"]
    record = range(0, T + 1, max(1, T // 60))
    oracles = StochasticOracles(P, env.rngs, noise_std=p["noise"])
    with np.errstate(all="ignore"):     # SOBA is meant to overflow here: see _finite_prefix
        if unit["variant"] == "soba":
            rec = soba(oracles, x0, y0, iterations=T, record=record, measure=_grad_norm(P),
                       alpha=p["soba_step"], rho=p["soba_rho"])
        else:
            rec = bo_rep(oracles, x0, y0, iterations=T, record=record, measure=_grad_norm(P),
                         eta=p["eta_far"], gamma=p["gamma"], nu=p["nu"], beta=p["beta"],
                         period=p["period"], lower_steps=p["lower_steps"],
                         refine_epochs=p["refine_epochs"], refine_steps=p["refine_steps"])
    return _finite_prefix(rec)


def _finite_prefix(rec):
    """The recorded points before any trial overflowed, and per trial the first recorded iteration
    at which ||grad Phi|| is no longer finite (``blowup_iteration``; inf: never).  A unit whose
    trials all overflow at once would otherwise leave no recorded point in the table."""
    g = np.asarray(_host(rec.metrics["grad_norm"]), dtype=float)
    its = np.asarray(rec.iterations)
    bad = ~np.isfinite(g)
    blowup = np.where(bad.any(axis=1), its[bad.argmax(axis=1)], np.inf)
    keep = int(np.argmax(bad.any(axis=0))) if bad.any() else len(its)
    keep = max(keep, 1)
    calls = rec.calls if isinstance(rec.calls, list) else np.asarray(_host(rec.calls))[:, :keep]
    series = {k: np.asarray(_host(v))[..., :keep] for k, v in rec.metrics.items()}
    return Trace(its[:keep], series, calls[:keep] if isinstance(calls, list) else calls,
                 {"blowup_iteration": blowup}, {})


def run_tracking(unit, p, env):
    """||y_t - y*(x_t)|| right after each periodic update (t = 0: after the refinement), and the
    level of problems.bilevel_unbounded.tracking_level for the refined start."""
    arrays, P = _instance(p, env)
    x0, y0 = _start(arrays, env, p["x0_scale"])
    T, period = p["iters_track"], p["period"]
    updates = T // period
    record = [k * period for k in range(updates + 1)]
    oracles = StochasticOracles(P, env.rngs, noise_std=p["noise"])
    epochs = p["refine_epochs"] if unit["variant"] == "refined" else 0
    rec = bo_rep(oracles, x0, y0, iterations=updates * period, record=record,
                 measure=lambda x, y, z: {"tracking_error": P.tracking_error(x, y)},
                 eta=p["eta_ref"], gamma=p["gamma"], nu=p["nu"], beta=p["beta_ref"], period=period,
                 lower_steps=p["lower_steps"], refine_epochs=epochs, refine_steps=p["refine_steps"])
    start_error = np.linalg.norm(_host(P.y_star(x0) - y0), axis=-1)
    level = bu.tracking_level(arrays["Q"], arrays["B"], p["mu"], start_error=start_error, gamma=p["gamma"],
                              lower_steps=p["lower_steps"], period=period, eta=p["eta_ref"], noise=p["noise"],
                              updates=updates, refine_epochs=p["refine_epochs"], refine_steps=p["refine_steps"])
    trace = _trace(rec)
    trace.series["tracking_level"] = level
    return trace


def _host(a):
    from experiments.backend import to_numpy

    return to_numpy(a)


def run_bias(unit, p, env):
    """x frozen (eta = 0), no noise: ||grad_x f(x, y_t) - d2_xy g z_t - grad Phi(x)||, the bias of the
    estimator (with noise its mean follows exactly this noiseless recursion: everything is affine
    in (y, z) for a quadratic lower level)."""
    arrays, P = _instance(p, env)
    x0, y0 = _start(arrays, env, p["x0_scale"])
    T = p["iters_bias"]
    oracles = StochasticOracles(P, env.rngs, noise_std=0.0)

    def bias(x, y, z):
        h = P.upper.grad_x(x, y) - P.lower.jvp(x, y, z)
        return {"bias": bl.norm(h - P.hypergradient(x))}

    nu = p["nu"] if unit["variant"] == "updated" else 0.0
    rec = bo_rep(oracles, x0, y0, iterations=T, record=range(T + 1), measure=bias, eta=0.0,
                 gamma=p["gamma"], nu=nu, beta=p["beta_ref"], period=p["period"],
                 lower_steps=p["lower_steps"], refine_epochs=p["refine_epochs"], refine_steps=p["refine_steps"])
    return _trace(rec)


def run_cleaning(unit, p, env):
    """Hyper-cleaning at one oracle budget: each method runs the iterations its counted calls per
    iteration allow; final clean-test accuracy of w*(lambda) and AUC of the weights vs flips."""
    data = bl.stack_instances([bu.hypercleaning_split(rng, p["n_train"], p["n_val"], p["n_test"],
                                                      p["d_clean"], p["flip"]) for rng in env.rngs])
    P = hypercleaning_bilevel(data, env.asarray, ridge=p["ridge"])
    lam0 = env.asarray(np.zeros((len(env.rngs), p["n_train"])))
    w0 = env.asarray(np.zeros((len(env.rngs), p["d_clean"])))
    method = unit["variant"]
    per_iter = _calls_per_iteration(method, P, env, lam0, w0, p)
    T = max(1, int((p["budget"] - per_iter[1]) // per_iter[0]))
    record = range(0, T + 1, max(1, T // 50))
    oracles = StochasticOracles(P, env.rngs, noise_std=p["noise_clean"])
    rec = _cleaning_method(method, oracles, lam0, w0, T, record, lambda x, y, z: {"phi": P.phi(x)}, p)
    lam = rec.state["x"]
    w = _host(P.y_star(lam))
    acc = bu.clean_accuracy(w, data["Xt"], data["yt"])
    auc = bu.auc(-_host(lam), data["flipped"])       # a flipped sample should get a low weight
    return _trace(rec, {"test_accuracy": acc, "weight_auc": auc}, {"iterations": int(T)})


# lower-level, z and Neumann step on hyper-cleaning: H = X^T D X / n + ridge has lam_max <= 1/4 max ||x_i||^2
# + ridge ~ 0.3 here, so 4 < 2/lam_max keeps every inner iteration contracting
STEP_CLEAN = 4.0


def _cleaning_method(method, oracles, lam0, w0, T, record, measure, p):
    common = dict(iterations=T, record=record, measure=measure)
    if method in ("bo-rep", "stale-z"):
        return bo_rep(oracles, lam0, w0, eta=p["eta_clean"], gamma=STEP_CLEAN, nu=STEP_CLEAN if method == "bo-rep" else 0.0,
                      beta=p["beta"], period=p["period"], lower_steps=p["lower_steps"],
                      refine_epochs=p["refine_epochs"], refine_steps=p["refine_steps"], **common)
    if method == "soba":
        return soba(oracles, lam0, w0, alpha=p["alpha_clean"], rho=STEP_CLEAN, **common)
    return aid(oracles, lam0, w0, alpha=p["alpha_clean"], gamma=STEP_CLEAN, inner_steps=p["lower_steps"],
               hessian_steps=10, eta=STEP_CLEAN, **common)


def _calls_per_iteration(method, P, env, lam0, w0, p):
    """(calls per iteration, fixed calls) as the oracles count them on runs of 4I and 8I
    iterations (whole periods), so the budget is spent as counted."""
    counts, lengths = [], (4 * p["period"], 8 * p["period"])
    for T in lengths:
        o = StochasticOracles(P, env.rngs, noise_std=0.0)
        _cleaning_method(method, o, lam0, w0, T, [T], lambda x, y, z: {}, p)
        counts.append(o.total()[0])
    per_iter = max((counts[1] - counts[0]) / (lengths[1] - lengths[0]), 1e-9)
    return per_iter, counts[0] - per_iter * lengths[0]


RUNNERS = {"complexity": run_complexity, "divergence": run_divergence, "tracking": run_tracking,
           "bias": run_bias, "cleaning": run_cleaning}


def run_unit(unit, p, env):
    return RUNNERS[unit["group"]](unit, p, env)

