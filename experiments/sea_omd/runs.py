"""sea-omd run units: one SEA instance, one learner, R trials in lockstep.

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


def learn(u, stream, D, G, sig, Sig, thetas, record):
    """The learner named by ``u['algorithm']`` on ``stream`` (a Recording of cum_loss)."""
    alg = u["algorithm"]
    if alg in ("oomd", "omd-plain"):
        return online.oomd(stream, D, G, record, optimistic=alg == "oomd")
    if alg == "oomd-sc":
        return online.oomd_strongly_convex(stream, u["lam"], record)
    if alg == "oomd-sc-inverse-sqrt":
        return online.oomd_strongly_convex(stream, u["lam"], record, step=online.inverse_sqrt_step)
    if alg == "ogd":
        return online.ogd(stream, D, G, record)
    if alg == "oftrl":
        return online.optimistic_ftrl(stream, D, G, record)
    if alg == "oons":   # G also covers the noise (E|xi| <= s); alpha = 1/G^2 for the quadratic
        G_all = G + 2.0 * float(np.sqrt(np.max(sig)))
        return online.optimistic_ons(stream, 1.0 / G_all**2, D, G_all, record)
    if alg == "oomd-frozen":
        return online.oomd_fixed_step(stream, D / np.sqrt(config.STEP_DELTA + 4.0 * G * G), record)
    if alg in ("oomd-dynamic", "oomd-static-step"):
        path = sea.path_length(thetas) if alg == "oomd-dynamic" else 0.0
        return online.oomd_fixed_step(stream, online.dynamic_step(D, path, config.variation(sig, Sig)), record)
    raise ValueError(f"unknown algorithm {alg!r}")


def run_unit(u, p, env):
    rho, delta = p["radius"], p["huber_delta"]
    thetas, s2, sig, Sig = config.instance(u, p)
    T, d = u["T"], u["d"]
    record = config.record_rounds(T, p)
    noise = sea.draw_noise(env.rngs, s2, d)
    stream = sea.SEAStream(u["loss"], env.asarray(thetas), env.asarray(noise), rho, delta)
    D, G = 2 * rho, sea.gradient_bound(u["loss"], thetas, rho, delta)
    rec = learn(u, stream, D, G, sig, Sig, thetas, record)
    if u["schedule"] == "drift":   # dynamic regret: the per-round minimizers
        comparator, _ = dynamic_comparator_losses(u["loss"], thetas, rec.iterations, rho, delta)
        how = ["per-round projection of theta_t"]
    else:
        comparator, how = prefix_comparator_losses(u["loss"], thetas, rec.iterations, rho, delta)
    regret = rec.metrics["cum_loss"] - env.asarray(comparator)[None, :]
    # one stochastic gradient per trial and round: the oracle calls at round tau are tau
    return Trace(np.asarray(rec.iterations, dtype=np.int64), {"regret": regret},
                 np.asarray(rec.iterations, dtype=np.int64), {"regret_T": regret[:, -1]},
                 {"comparator": ", ".join(how)})
