"""Run units of xor-grokking: XOR cluster data, the fixed-second-layer ReLU net, full-batch GD.

A unit trains the network for every ||mu|| of its ``mu_values`` (one value in the sweep) on the
same noise, clusters, flips and initialization.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from algorithms.xor_grokking import SpanData, train_span_gd
from experiments.base import Trace, series_key
from problems.xor_clusters import bayes_accuracy, clean_labels, gram, noisy_labels, plane_signs, sample_xor

from .config import record_steps


def noise_statistics(rng, p: dict, unit: dict, env):
    """One trial's data reduced to what GD needs: noise Gram matrices, first two noise
    coordinates, plane signs, labels and the initial pre-activations (the p-dimensional arrays
    live only inside this function)."""
    n, n_test, m = p["n"], p["n_test"], p["width"]
    train = sample_xor([rng], n, p["p"], unit["flip_prob"])
    test = sample_xor([rng], n_test, p["p"], 0.0)
    w0 = env.asarray(unit["init_scale"] * rng.standard_normal((p["p"], m)))
    xp = env.xp
    xi_train, xi_test = env.asarray(train.noise[0]), env.asarray(test.noise[0])
    stats = {
        "gram_train": xp.matmul(xi_train, xp.matrix_transpose(xi_train)),
        "gram_test": xp.matmul(xi_test, xp.matrix_transpose(xi_train)),
        "pre_train": xp.matmul(xi_train, w0), "pre_test": xp.matmul(xi_test, w0),
        "xi_train": xi_train[:, :2], "xi_test": xi_test[:, :2],
        "plane0": w0[:2, :], "sq_norm0": xp.sum(w0 * w0, axis=0),
        "s_train": plane_signs(env.asarray(train.cluster[0]), xi_train.dtype),
        "s_test": plane_signs(env.asarray(test.cluster[0]), xi_train.dtype),
        "y_train": noisy_labels(env.asarray(train.cluster[0]), env.asarray(train.flipped[0])),
        "y_test": clean_labels(env.asarray(test.cluster[0])),
    }
    return stats


def span_data(stats: dict, mu: float) -> SpanData:
    """Gram matrices and pre-activations at signal norm ``mu`` from the noise statistics
    (problems.xor_clusters.gram; x W_0 = xi W_0 + mu s W_0[:2])."""
    xp = array_namespace(stats["gram_train"])
    s_tr, s_te, xi_tr, xi_te = stats["s_train"], stats["s_test"], stats["xi_train"], stats["xi_test"]
    return SpanData(
        gram=gram(stats["gram_train"], s_tr, xi_tr, s_tr, xi_tr, mu),
        pre0=stats["pre_train"] + mu * xp.matmul(s_tr, stats["plane0"]),
        labels=xp.astype(stats["y_train"], stats["gram_train"].dtype),
        test_gram=gram(stats["gram_test"], s_te, xi_te, s_tr, xi_tr, mu),
        test_pre0=stats["pre_test"] + mu * xp.matmul(s_te, stats["plane0"]),
        test_labels=xp.astype(stats["y_test"], stats["gram_train"].dtype),
        plane=xi_tr + mu * s_tr,
        plane0=stats["plane0"],
        sq_norm0=stats["sq_norm0"],
    )


def _stack(datas: list[SpanData]) -> SpanData:
    xp = array_namespace(datas[0].gram)
    return SpanData(*[xp.stack([getattr(d, f) for d in datas]) for f in SpanData.__dataclass_fields__])


def run_unit(unit: dict, p: dict, env) -> Trace:
    mus = [float(v) for v in unit["mu_values"].split(",")]
    stats = [noise_statistics(rng, p, unit, env) for rng in env.rngs]
    record = record_steps(unit["steps"])
    series, scalars, iterations, calls = {}, {}, None, None
    for mu in mus:
        rec = train_span_gd(_stack([span_data(s, mu) for s in stats]), step=unit["step"],
                            steps=unit["steps"], record=record)
        iterations, calls = rec.iterations, rec.calls
        series.update({series_key(k, mu=mu): v for k, v in rec.metrics.items()})
        scalars[series_key("bayes_accuracy", mu=mu)] = env.xp.full((env.trials,), bayes_accuracy(mu))
    return Trace(np.asarray(iterations, dtype=np.int64), series, calls, scalars, {"mu_values": mus})
