"""xor-grokking: XOR cluster data, the Bayes accuracy, and span-coordinate GD against the suite's
network module run on the first-layer weights themselves."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from algorithms import networks
from algorithms.training import gradient_descent
from algorithms.xor_grokking import SpanData, second_layer, train_span_gd
from conftest import dtype_tol
from experiments import cli
from problems.xor_clusters import (bayes_accuracy, clean_labels, gram, noisy_labels, plane_signs,
                                   points, sample_xor)


def _rngs(k, seed=0):
    return [np.random.default_rng([seed, r]) for r in range(k)]


@pytest.mark.parametrize("r", [0.0, 0.5, 1.0, 2.0, 4.0])
def test_bayes_accuracy_matches_numerical_integration(r):
    # P(|u| > |v|), u ~ N(r, 1), v ~ N(0, 1): integrate (2 Phi(|u|) - 1) against the density of u
    value, _ = integrate.quad(lambda u: (2 * stats.norm.cdf(abs(u)) - 1) * stats.norm.pdf(u - r),
                              -np.inf, np.inf)
    assert bayes_accuracy(r) == pytest.approx(value, abs=1e-8)


def test_bayes_rule_accuracy_by_monte_carlo():
    rng = np.random.default_rng(1)
    s = sample_xor([rng], 200000, 2, 0.0)
    x = points(s.cluster, s.noise, 1.3)[0]
    predicted = np.where(np.abs(x[:, 0]) > np.abs(x[:, 1]), 1.0, -1.0)
    acc = np.mean(predicted == clean_labels(s.cluster)[0])
    assert acc == pytest.approx(bayes_accuracy(1.3), abs=4 * 0.5 / math.sqrt(200000))


def test_labels_flips_and_clusters():
    s = sample_xor(_rngs(4), 5000, 3, 0.2)
    y, yn = clean_labels(s.cluster), noisy_labels(s.cluster, s.flipped)
    assert np.all((y == 1) == (s.cluster < 2))
    assert np.mean(y != yn) == pytest.approx(0.2, abs=4 * math.sqrt(0.16 / 20000))
    assert not sample_xor(_rngs(2), 100, 3, 0.0).flipped.any()
    x = points(s.cluster, s.noise, 7.0)
    means = [x[s.cluster == c].mean(axis=0)[:2] for c in range(4)]
    np.testing.assert_allclose(means, [[7, 0], [-7, 0], [0, 7], [0, -7]], atol=0.2)
    for bad in (-0.1, 0.5):
        with pytest.raises(ValueError):
            sample_xor(_rngs(1), 4, 3, bad)


def test_gram_identity(xp):
    s = sample_xor(_rngs(2), 6, 9, 0.0)
    t = sample_xor(_rngs(2, 5), 4, 9, 0.0)
    X, Xt = points(s.cluster, s.noise, 2.5), points(t.cluster, t.noise, 2.5)
    asx = lambda a: xp.asarray(np.asarray(a, dtype=np.float64))
    got = gram(asx(t.noise @ np.swapaxes(s.noise, 1, 2)), asx(plane_signs(t.cluster)),
               asx(t.noise[..., :2]), asx(plane_signs(s.cluster)), asx(s.noise[..., :2]), 2.5)
    np.testing.assert_allclose(np.asarray(got), Xt @ np.swapaxes(X, 1, 2), atol=dtype_tol())


def _instance(xp, R=2, n=12, p=30, m=6, mu=3.0, init=0.3, seed=0):
    rngs = _rngs(R, seed)
    s, t = sample_xor(rngs, n, p, 0.2), sample_xor(rngs, 20, p, 0.0)
    W0 = np.stack([init * g.standard_normal((p, m)) for g in rngs])
    X, Xt = points(s.cluster, s.noise, mu), points(t.cluster, t.noise, mu)
    tr = lambda a: np.swapaxes(a, 1, 2)
    host = dict(gram=X @ tr(X), pre0=X @ W0, labels=noisy_labels(s.cluster, s.flipped),
                test_gram=Xt @ tr(X), test_pre0=Xt @ W0, test_labels=clean_labels(t.cluster),
                plane=X[..., :2], plane0=W0[:, :2, :], sq_norm0=np.sum(W0 * W0, axis=1))
    data = SpanData(**{k: xp.asarray(np.asarray(v, dtype=np.float64)) for k, v in host.items()})
    return data, X, Xt, W0, host


def test_span_gd_equals_gd_on_the_weights():
    """W_t = W_0 + X^T C_t: the span iteration reproduces GD of algorithms.networks (logistic
    loss, fixed second layer, no bias) run by algorithms.training on the flat weights."""
    data, X, Xt, W0, host = _instance(np)
    R, p, m = W0.shape
    steps, step = 7, 0.4
    rec = train_span_gd(data, step=step, steps=steps, record=[0, 3, steps])
    arch = networks.Architecture(d_in=p, widths=(m,), bias=False, fixed_output=True)
    y = host["labels"]
    ref = gradient_descent(lambda th: networks.gradient(arch, th, X, y, "logistic"), W0.reshape(R, -1),
                           lr=step, steps=steps, record=[0, 3, steps],
                           measure=lambda th: {"train": networks.accuracy(networks.logits(arch, th, X), y),
                                               "test": networks.accuracy(networks.logits(arch, th, Xt),
                                                                         host["test_labels"])})
    W = ref.state["params"].reshape(R, p, m)
    C = rec.state["params"].reshape(R, -1, m)
    np.testing.assert_allclose(W0 + np.swapaxes(X, 1, 2) @ C, W, atol=1e-10)
    np.testing.assert_allclose(rec.metrics["train_accuracy"], ref.metrics["train"])
    np.testing.assert_allclose(rec.metrics["test_accuracy"], ref.metrics["test"])
    mu1 = np.zeros(p)
    mu1[0] = 1.0
    cos = np.abs(W[:, :, : (m + 1) // 2].transpose(0, 2, 1) @ mu1) / np.linalg.norm(W[:, :, : (m + 1) // 2], axis=1)
    mu2 = np.roll(mu1, 1)
    cos2 = np.abs(W[:, :, (m + 1) // 2:].transpose(0, 2, 1) @ mu2) / np.linalg.norm(W[:, :, (m + 1) // 2:], axis=1)
    np.testing.assert_allclose(rec.metrics["feature_cosine"][:, -1], np.concatenate([cos, cos2], 1).mean(1),
                               atol=1e-10)
    plane = W[:, :2, :]
    a = second_layer(m, np, np.float64)
    along = np.where(a > 0, np.abs(plane[:, 0, :]), np.abs(plane[:, 1, :]))
    np.testing.assert_allclose(rec.metrics["plane_alignment"][:, -1],
                               along.sum(1) / np.linalg.norm(plane, axis=1).sum(1), atol=1e-10)


def test_second_layer_and_linear_agreement():
    a = second_layer(5, np, np.float64)
    np.testing.assert_allclose(a, np.array([1, 1, 1, -1, -1]) / math.sqrt(5))
    data, X, Xt, W0, host = _instance(np)
    rec = train_span_gd(data, step=0.1, steps=1, record=[1])
    f = np.maximum(Xt @ (W0 + np.swapaxes(X, 1, 2) @ rec.state["params"].reshape(2, 12, 6)), 0) @ second_layer(6, np, np.float64)
    linear = (Xt @ np.swapaxes(X, 1, 2) @ host["labels"][..., None])[..., 0]
    np.testing.assert_allclose(rec.metrics["linear_agreement"][:, 0], np.mean(np.sign(f) == np.sign(linear), axis=1))


def test_backends_agree_and_oracle_calls_are_pinned(xp):
    data, *_ = _instance(xp)
    ref_data, *_ = _instance(np)
    rec = train_span_gd(data, step=0.3, steps=5, record=[0, 2, 5])
    ref = train_span_gd(ref_data, step=0.3, steps=5, record=[0, 2, 5])
    assert rec.calls == [0, 2, 5]                 # one full-batch gradient per step
    for k in ref.metrics:
        np.testing.assert_allclose(np.asarray(rec.metrics[k]), ref.metrics[k], atol=dtype_tol())


@pytest.mark.parametrize("setting", ["flip_prob=0.5", "flip_prob=-0.1", "p=1", "width=0", "step=0",
                                     "step=-1", "mus=18,21,25", "late_mu=40"])
def test_bad_parameters_exit_2(setting, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["run", "xor-grokking", "--set", setting, "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("theorycheck: error:"), err
    assert not out.exists()
