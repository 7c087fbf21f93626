"""Realistic bugs in the sea-omd learners; each must make a sea-omd claim fail (tests/test_mutants.py).

Each patches the function that experiments/sea_omd/runs.py calls (``online.<name>``, looked up on
the module at call time) and reruns only the units its catching claims read.
"""
from __future__ import annotations

from algorithms import online
from paper_runs import Mutant

PAPER = "sea-omd"
_oomd = online.oomd
_oomd_sc = online.oomd_strongly_convex


def oomd_without_hint(stream, D, G, record, *, delta=1.0, optimistic=True):
    """Dropped optimism: M_t = 0 always (plain OMD behind the optimistic name)."""
    return _oomd(stream, D, G, record, delta=delta, optimistic=False)


def oomd_sc_inverse_sqrt(stream, lam, record, *, step=None):
    """Wrong step schedule: the convex eta_t = 1/sqrt(t) in the strongly convex learner."""
    return _oomd_sc(stream, lam, record, step=online.inverse_sqrt_step)


def oomd_hint_from_current_round(stream, D, G, record, *, delta=1.0, optimistic=True):
    """Wrong update order: the hint is the gradient of the current round at xh_t, queried before
    x_t is played (M_t = grad f(xh_t, xi_t) instead of g_{t-1})."""
    from array_api_compat import array_namespace

    xp = array_namespace(stream.noise)
    xh = xp.zeros((stream.R, stream.d), dtype=stream.noise.dtype)
    varsum = xp.zeros((stream.R, 1), dtype=xh.dtype)
    loss = online._Loss(stream, record)
    for t in range(loss.rounds):
        eta = D / xp.sqrt(delta + 4.0 * G * G + varsum)
        hint = stream.gradient(xh, t)
        x = online._project(xp, xh - eta * hint, stream.rho)
        loss.pay(stream, x, t)
        g = stream.gradient(x, t)
        xh = online._project(xp, xh - eta * g, stream.rho)
        diff = g - hint
        varsum = varsum + xp.sum(diff * diff, axis=-1, keepdims=True)
    return loss.result()


def oomd_stale_hint(stream, D, G, record, *, delta=1.0, optimistic=True):
    """Wrong update order: the hint is refreshed after the step is taken one round late, so
    M_t = g_{t-2} (the stale hint is used twice)."""
    from array_api_compat import array_namespace

    xp = array_namespace(stream.noise)
    xh = xp.zeros((stream.R, stream.d), dtype=stream.noise.dtype)
    hint, previous = xp.zeros_like(xh), xp.zeros_like(xh)
    varsum = xp.zeros((stream.R, 1), dtype=xh.dtype)
    loss = online._Loss(stream, record)
    for t in range(loss.rounds):
        eta = D / xp.sqrt(delta + 4.0 * G * G + varsum)
        x = online._project(xp, xh - eta * hint, stream.rho)
        loss.pay(stream, x, t)
        g = stream.gradient(x, t)
        xh = online._project(xp, xh - eta * g, stream.rho)
        diff = g - hint
        varsum = varsum + xp.sum(diff * diff, axis=-1, keepdims=True)
        hint, previous = previous, g
    return loss.result()


MUTANTS = [
    Mutant(paper=PAPER, name="dropped-optimism-hint", kind="dropped term",
           patch=lambda mp: mp.setattr(online, "oomd", oomd_without_hint),
           claims=("sea-omd/optimism-predictable",),
           units=lambda u: u["setting"] == "predictable"),
    Mutant(paper=PAPER, name="sc-inverse-sqrt-step", kind="wrong step",
           patch=lambda mp: mp.setattr(online, "oomd_strongly_convex", oomd_sc_inverse_sqrt),
           claims=("sea-omd/strongly-convex-log-variation",),
           units=lambda u: u["setting"] == "sc-alternating"),
    Mutant(paper=PAPER, name="hint-from-current-round", kind="wrong order",
           patch=lambda mp: mp.setattr(online, "oomd", oomd_hint_from_current_round),
           claims=("sea-omd/convex-stochastic",),
           units=lambda u: u["setting"].startswith("sigma-sweep")),
    Mutant(paper=PAPER, name="stale-hint-used-twice", kind="wrong order",
           patch=lambda mp: mp.setattr(online, "oomd", oomd_stale_hint),
           claims=("sea-omd/convex-adversarial", "sea-omd/switches-sqrt-K"),
           units=lambda u: u["setting"].startswith("Sigma-sweep") or u["setting"].startswith("shocks-K")),
]
