"""softmax-collapse run units: one training run (loss, dtype, optimizer) for R trials in lockstep.

Each unit builds its arrays in its OWN dtype (the unit key ``dtype``), not the run's --dtype,
because the paper's claims compare float32 with float64 inside one verify.
"""
from __future__ import annotations

import numpy as np

from algorithms.networks import Architecture, accuracy, init_params, logits
from algorithms.softmax_collapse import (dead_gradient_fraction, get_loss, gradient, loss_and_gradient,
                                         nlm_cosine, perpendicular_gradient,
                                         softmax_collapse_fraction, top2_gap)
from algorithms.training import adam
from experiments.backend import to_numpy
from experiments.base import Trace
from problems.modular_arithmetic import modular_addition_split

INIT_SCALE = 3.0 ** -0.5   # PyTorch's nn.Linear default has variance 1/(3 fan_in)


def random_directions(arch, rngs) -> np.ndarray:
    """Fixed Gaussian directions (R, P), one per trial: the ⊥Grad control removes these."""
    return np.stack([rng.standard_normal(arch.n_params) for rng in rngs])


def make_transform(optimizer: str, arch, rngs, to_device):
    """The gradient hook of an optimizer name: None (Adam), ⊥Grad, or ⊥Grad along a random
    direction instead of the weights (the control)."""
    if optimizer == "adam":
        return None
    if optimizer == "perp":
        return perpendicular_gradient(arch)
    if optimizer == "perp_random":
        return perpendicular_gradient(arch, directions=to_device(random_directions(arch, rngs)))
    raise ValueError(f"unknown optimizer {optimizer!r}")


def run_unit(unit, p, env):
    xp, rngs, dtype = env.xp, env.rngs, unit["dtype"]

    def to_device(host):
        return xp.asarray(np.asarray(host).astype(dtype))

    X_tr, Y_tr, X_te, Y_te = (to_device(a) for a in modular_addition_split(rngs, p["q"], p["train_fraction"]))
    arch = Architecture(2 * p["q"], (p["width"], p["width"]), p["q"], "relu", bias=False)
    theta0 = to_device(init_params(arch, rngs, scheme="lecun", init_scale=INIT_SCALE))
    loss = get_loss(unit["loss"])

    def grad(theta):
        return gradient(arch, theta, X_tr, Y_tr, loss)

    def measure(theta):
        F, F_te = logits(arch, theta, X_tr), logits(arch, theta, X_te)
        value, g = loss_and_gradient(arch, theta, X_tr, Y_tr, loss)
        gap = top2_gap(F)
        dead = xp.sum(loss.grad(F, Y_tr) * Y_tr, axis=-1) == 0.0
        # smallest gap among collapsed samples; +inf (kept off the table) where none collapsed
        collapsed_gap = xp.min(xp.where(dead, gap, xp.full_like(gap, xp.inf)), axis=-1)
        return {"train_accuracy": accuracy(F, Y_tr), "test_accuracy": accuracy(F_te, Y_te),
                "train_loss": value, "sc_fraction": softmax_collapse_fraction(F),
                "dead_fraction": dead_gradient_fraction(F, Y_tr, loss),
                "logit_gap": xp.mean(gap, axis=-1), "nlm_cosine": nlm_cosine(theta, g),
                "collapsed_gap": collapsed_gap}

    steps = unit["steps"]
    record = list(range(0, steps + 1, p["record_every"]))
    rec = adam(grad, theta0, lr=p["lr"], steps=steps, record=record, betas=(0.9, p["beta2"]),
               eps=p["adam_eps"], measure=measure,
               transform=make_transform(unit["optimizer"], arch, rngs, to_device))
    collapsed = to_numpy(rec.metrics.pop("collapsed_gap")).astype(float)
    with np.errstate(all="ignore"):
        first = np.min(collapsed, axis=-1)
    first[~np.isfinite(first)] = np.nan          # never collapsed: censored, reported as NaN
    return Trace.from_recording(rec, scalars={"first_collapse_gap": first},
                                info={"dtype": dtype, "n_params": arch.n_params})
