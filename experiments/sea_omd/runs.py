"""sea-omd run units: SEA instances and one learner, R trials per instance in lockstep.

Units sharing a learner, a loss, T and d (:func:`batch_key`) run together in one pass over all
their trials (:func:`run_units`): rows are unit-major (unit 0's R trials, then unit 1's, ...),
each row has its own theta schedule, noise and constants (G, eta, lam), and every operation is
row-wise, so a unit's trace is the one it gets alone (:func:`run_unit`).

Regret is sum_t F_t(x_t) - min_u sum_t F_t(u) (expected losses; the realized comparator is biased
by -Theta(sqrt(sigma^2 T)), the order the bounds are about), or against the per-round minimizers
u_t = P_X(theta_t) for the drifting schedules (dynamic regret).
"""
from __future__ import annotations

import numpy as np

from algorithms import online
from experiments.base import Trace
from problems import sea
from problems.sea_comparator import dynamic_comparator_losses, prefix_comparator_losses

from . import config

# algorithms that are one learner with different constants (the constant step eta per unit)
LEARNER = {"oomd-frozen": "fixed-step", "oomd-dynamic": "fixed-step", "oomd-static-step": "fixed-step"}


def batch_key(u):
    """Units with equal keys may run together: same learner, loss, T and d (they may differ in
    noise, schedule, amplitude, lam, step).  ONS runs alone (its units differ in d anyway)."""
    if u["algorithm"] == "oons":
        return None
    return LEARNER.get(u["algorithm"], u["algorithm"]), u["loss"], u["T"], u["d"]


def learn(units, stream, instances, p, per_row, record):
    """The learner named by the units' ``algorithm`` on ``stream`` (a Recording of cum_loss);
    ``per_row(values)`` turns one constant per unit into an (R, 1) array over the rows."""
    rho, delta = p["radius"], p["huber_delta"]
    alg, D = units[0]["algorithm"], 2 * rho
    Gs = [sea.gradient_bound(u["loss"], th, rho, delta) for u, (th, *_) in zip(units, instances)]
    if alg == "oons":   # G also covers the noise (E|xi| <= s); alpha = 1/G^2 for the quadratic
        (_, _, sig, _), = instances
        G_all = Gs[0] + 2.0 * float(np.sqrt(np.max(sig)))
        return online.optimistic_ons(stream, 1.0 / G_all**2, D, G_all, record)
    if alg in ("oomd", "omd-plain"):
        return online.oomd(stream, D, per_row(Gs), record, optimistic=alg == "oomd")
    if alg == "oomd-sc":
        return online.oomd_strongly_convex(stream, per_row([u["lam"] for u in units]), record)
    if alg == "oomd-sc-inverse-sqrt":
        return online.oomd_strongly_convex(stream, per_row([u["lam"] for u in units]), record,
                                           step=online.inverse_sqrt_step)
    if alg == "ogd":
        return online.ogd(stream, D, per_row(Gs), record)
    if alg == "oftrl":
        return online.optimistic_ftrl(stream, D, per_row(Gs), record)
    if LEARNER.get(alg) == "fixed-step":
        etas = [fixed_step(u, D, G, inst) for u, G, inst in zip(units, Gs, instances)]
        return online.oomd_fixed_step(stream, per_row(etas), record)
    raise ValueError(f"unknown algorithm {alg!r}")


def fixed_step(u, D, G, instance) -> float:
    """The constant step of the fixed-step learners: the frozen adaptive step (its value for
    gradients of norm G), or the dynamic-regret tuning with or without the path length."""
    thetas, _, sig, Sig = instance
    if u["algorithm"] == "oomd-frozen":
        return float(D / np.sqrt(config.STEP_DELTA + 4.0 * G * G))
    path = sea.path_length(thetas) if u["algorithm"] == "oomd-dynamic" else 0.0
    return online.dynamic_step(D, path, config.variation(sig, Sig))


def run_units(units, p, envs):
    """Units of one :func:`batch_key` in one lockstep pass; one Trace per unit, each from its
    own env's per-trial generators."""
    rho, delta = p["radius"], p["huber_delta"]
    T, d, loss = units[0]["T"], units[0]["d"], units[0]["loss"]
    env, trials = envs[0], [e.trials for e in envs]
    rows = [int(r) for r in np.cumsum([0] + trials)]
    instances = [config.instance(u, p) for u in units]
    thetas, noise = row_thetas([th for th, *_ in instances], rows), np.empty((T, rows[-1], d))
    for e, (_, s2, _, _), a, b in zip(envs, instances, rows, rows[1:]):
        noise[:, a:b] = sea.draw_noise(e.rngs, s2, d)
    stream = sea.SEAStream(loss, env.asarray(thetas), env.asarray(noise), rho, delta)
    del noise   # the host copy (the stream holds the backend's)

    def per_row(values):
        return env.asarray(np.repeat(np.asarray(values, dtype=float), trials)[:, None])

    rec = learn(units, stream, instances, p, per_row, config.record_rounds(T, p))
    return [trace(u, inst, rec, rec.metrics["cum_loss"][a:b, :], p, env)
            for u, inst, a, b in zip(units, instances, rows, rows[1:])]


def row_thetas(schedules, rows):
    """The stream's thetas: the common (T, d) schedule when every unit has the same one (no
    copy per row), else (T, rows, d), unit i's schedule over rows rows[i]:rows[i + 1]."""
    if all(np.array_equal(s, schedules[0]) for s in schedules[1:]):
        return schedules[0]
    out = np.empty((schedules[0].shape[0], rows[-1], schedules[0].shape[1]))
    for s, a, b in zip(schedules, rows, rows[1:]):
        out[:, a:b] = s[:, None, :]
    return out


def trace(u, instance, rec, cum_loss, p, env):
    """One unit's Trace from its rows' cumulative losses and its comparator."""
    rho, delta = p["radius"], p["huber_delta"]
    thetas = instance[0]
    if u["schedule"] == "drift":   # dynamic regret: the per-round minimizers
        comparator, _ = dynamic_comparator_losses(u["loss"], thetas, rec.iterations, rho, delta)
        how = ["per-round projection of theta_t"]
    else:
        labels = sea.schedule_labels(u["schedule"], u["T"], u["switches"])
        comparator, how = prefix_comparator_losses(u["loss"], thetas, rec.iterations, rho, delta,
                                                   labels=labels)
    regret = cum_loss - env.asarray(comparator)[None, :]
    # one stochastic gradient per trial and round: the oracle calls at round tau are tau
    return Trace(np.asarray(rec.iterations, dtype=np.int64), {"regret": regret},
                 np.asarray(rec.iterations, dtype=np.int64), {"regret_T": regret[:, -1]},
                 {"comparator": ", ".join(how)})


def run_unit(u, p, env):
    return run_units([u], p, [env])[0]
