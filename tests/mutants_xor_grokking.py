"""Realistic bugs that xor-grokking's claims must catch (tests/test_mutants.py runs them)."""
from __future__ import annotations

from array_api_compat import array_namespace

from algorithms import xor_grokking as algo
from algorithms.training import gradient_descent
from paper_runs import Mutant

RUNS = "experiments.xor_grokking.runs"
PAPER = "xor-grokking"
LATE = "xor-grokking/late-benign-overfitting"
FIRST = "xor-grokking/first-step-chance-test"


def _late_units(u):
    """The late_mu grid unit (25 in the quick configuration) and the saturated control."""
    return u["setting"] == "saturated" or (u["setting"] == "grid" and u["mu_values"] == "25")


def _first_units(u):
    """The step-1 unit and its controls."""
    return u["setting"] in ("first-step", "large-init", "clean-strong")


def _lr_scaled(mp):
    """The step multiplied by n (a per-sample step taken for a mean-loss step)."""
    original = algo.train_span_gd
    mp.setattr(f"{RUNS}.train_span_gd", lambda data, *, step, steps, record:
               original(data, step=step * data.gram.shape[-1], steps=steps, record=record))


def _relu_derivative_dropped(mp):
    """Backpropagation without the ReLU gate 1[<w_j, x_i> > 0]: every neuron gets every
    sample's gradient (the update of a linear network)."""
    def train(data, *, step, steps, record):
        xp = array_namespace(data.gram)
        R, n, m = data.pre0.shape
        a = algo.second_layer(m, xp, data.gram.dtype)

        def grad(coef):
            pre = data.pre0 + xp.matmul(data.gram, xp.reshape(coef, (R, n, m)))
            f = algo.outputs(pre, a)
            dl_df = algo.Logistic.grad(xp.expand_dims(f, axis=-1), data.labels)
            return xp.reshape(dl_df * xp.ones_like(pre) * a / n, (R, n * m))

        return gradient_descent(grad, xp.zeros((R, n * m), dtype=data.gram.dtype), lr=step,
                                steps=steps, record=record, measure=algo.measures(data, a))

    mp.setattr(f"{RUNS}.train_span_gd", train)


def _test_labels_flipped(mp):
    """The label flips applied to the test set as well (every 10th test label negated)."""
    from experiments.xor_grokking import runs

    original = runs.noise_statistics

    def stats(rng, p, unit, env):
        out = original(rng, p, unit, env)
        xp = env.xp
        y = out["y_test"]
        flip = xp.astype(xp.arange(y.shape[0]) % 10 == 0, y.dtype)
        out["y_test"] = y * (1.0 - 2.0 * flip)
        return out

    mp.setattr(f"{RUNS}.noise_statistics", stats)


def _recorded_after_update(mp):
    """Off by one: each recorded step t holds the network after t + 1 updates."""
    original = algo.train_span_gd

    def train(data, *, step, steps, record):
        rec = original(data, step=step, steps=steps + 1, record=[t + 1 for t in record])
        rec.iterations = [t - 1 for t in rec.iterations]
        return rec

    mp.setattr(f"{RUNS}.train_span_gd", train)


MUTANTS = [
    Mutant(PAPER, "step scaled by n", "wrong step", _lr_scaled, (LATE,), _late_units),
    Mutant(PAPER, "relu derivative dropped", "dropped term", _relu_derivative_dropped,
           (LATE, "xor-grokking/late-features-align"), _late_units),
    Mutant(PAPER, "test labels flipped too", "wrong formula", _test_labels_flipped, (LATE,), _late_units),
    Mutant(PAPER, "recorded after the update", "wrong order", _recorded_after_update, (FIRST,), _first_units),
]
