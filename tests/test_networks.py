"""Small networks (algorithms.networks, losses, network_objective), training loops
(algorithms.training) and the Gaussian-mixture data (problems.classification)."""
from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import array_namespace
from scipy.special import expit

from algorithms import networks as nw
from algorithms.hessian import dense_hessian
from algorithms.losses import CrossEntropy, Logistic, softmax_with_sum
from algorithms.network_objective import NetworkObjective, take_samples
from algorithms.training import adam, gradient_descent, sgd
from experiments.backend import to_backend, to_numpy
from problems.classification import flip_labels, gaussian_mixture, mixture_means, one_hot, sample_mixture

FD_RTOL = 1e-6        # central differences in float64, relative to the norm of the exact value
EXACT_RTOL = 1e-10    # identities that hold up to rounding


def _rngs(seed, R=2):
    return [np.random.default_rng([seed, i]) for i in range(R)]


def _problem(loss, act="tanh", widths=(5,), bias=True, fixed=False, R=2, n=7, d=4, seed=0,
             shared_x=False):
    k = 1 if loss == "logistic" else 3
    arch = nw.Architecture(d, widths, k, act, bias=bias, fixed_output=fixed)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d) if shared_x else (R, n, d))
    if loss == "mse":
        Y = rng.standard_normal((R, n, k))
    elif loss == "cross_entropy":
        Y = np.eye(k)[rng.integers(0, k, (R, n))]
    else:
        Y = np.sign(rng.standard_normal((R, n)))
    theta = nw.init_params(arch, _rngs(seed + 1, R), scheme="lecun", init_scale=1.5)
    return arch, theta, X, Y


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


CASES = [(loss, act, widths, bias, fixed)
         for loss in ("mse", "cross_entropy", "logistic")
         for act in ("tanh", "relu")
         for widths, bias, fixed in [((5,), True, False), ((4, 3), False, False), ((6,), False, True)]
         if not fixed or loss == "logistic"]


def _away_from_kinks(arch, theta, X, margin=1e-3):
    """ReLU derivatives by differences are valid only when no pre-activation is near 0."""
    if arch.activation == "relu":
        _, _, _, pre = nw._forward(arch, theta, X)
        assert min(np.min(np.abs(Z)) for Z in pre) > margin


# ---- architecture --------------------------------------------------------------------------------
def test_architecture_layout_and_fixed_output():
    arch = nw.Architecture(3, (4, 2), 5, "relu", bias=True)
    assert arch.n_params == 3 * 4 + 4 + 4 * 2 + 2 + 2 * 5 + 5
    theta = np.arange(2 * arch.n_params, dtype=float).reshape(2, -1)
    views = arch.views(theta)
    assert [W.shape for W, _ in views] == [(2, 3, 4), (2, 4, 2), (2, 2, 5)]
    np.testing.assert_array_equal(arch.flatten(views), theta)
    fixed = nw.Architecture(3, (5,), 1, fixed_output=True)
    assert fixed.n_params == 3 * 5 + 5
    a = to_numpy(fixed.views(np.zeros((1, fixed.n_params)))[1][0])[:, 0]
    np.testing.assert_allclose(a * np.sqrt(5), [1, 1, 1, -1, -1])
    with pytest.raises(ValueError):
        nw.Architecture(3, (2, 2, 2), 1)
    with pytest.raises(ValueError):
        nw.Architecture(3, (4,), 2, fixed_output=True)


def test_init_scales_and_is_reproducible():
    arch = nw.Architecture(50, (400,), 1, "relu", bias=True)
    theta = nw.init_params(arch, _rngs(0, 1), scheme="he", init_scale=2.0)
    W1 = arch.views(theta)[0][0]
    assert abs(np.std(W1) / (2.0 * np.sqrt(2.0 / 50)) - 1) < 0.05
    assert np.all(arch.views(theta)[0][1] == 0)
    np.testing.assert_array_equal(theta, nw.init_params(arch, _rngs(0, 1), scheme="he", init_scale=2.0))
    tiny = nw.init_params(arch, _rngs(0, 1), scheme="normal", init_scale=1e-6)
    assert abs(np.std(arch.views(tiny)[0][0]) / 1e-6 - 1) < 0.05


# ---- derivatives against differences --------------------------------------------------------------
@pytest.mark.parametrize("loss,act,widths,bias,fixed", CASES)
def test_gradient_and_hvp_match_central_differences(loss, act, widths, bias, fixed):
    arch, theta, X, Y = _problem(loss, act, widths, bias, fixed)
    _away_from_kinks(arch, theta, X)
    value, g = nw.loss_and_gradient(arch, theta, X, Y, loss)
    np.testing.assert_allclose(value, nw.loss(arch, theta, X, Y, loss), rtol=EXACT_RTOL)
    h, P = 1e-6, arch.n_params
    fd = np.empty_like(g)
    for i in range(P):
        e = np.zeros(P)
        e[i] = h
        fd[:, i] = (nw.loss(arch, theta + e, X, Y, loss) - nw.loss(arch, theta - e, X, Y, loss)) / (2 * h)
    assert _rel(g, fd) < FD_RTOL
    V = np.random.default_rng(7).standard_normal(theta.shape)
    h = 1e-5
    fd_hv = (nw.gradient(arch, theta + h * V, X, Y, loss) - nw.gradient(arch, theta - h * V, X, Y, loss)) / (2 * h)
    assert _rel(nw.hvp(arch, theta, X, Y, V, loss), fd_hv) < FD_RTOL


@pytest.mark.parametrize("loss,act,widths,bias,fixed", CASES)
def test_dense_hessian_symmetric_and_gauss_newton_split(loss, act, widths, bias, fixed):
    arch, theta, X, Y = _problem(loss, act, widths, bias, fixed)
    obj = NetworkObjective(arch, X, Y, loss)
    H = dense_hessian(obj.hvp(theta), theta)
    GN = dense_hessian(obj.hvp(theta, "gauss_newton"), theta)
    res = dense_hessian(obj.hvp(theta, "residual"), theta)
    scale = np.max(np.abs(H))
    np.testing.assert_allclose(H, np.swapaxes(H, 1, 2), atol=EXACT_RTOL * scale)
    np.testing.assert_allclose(GN + res, H, atol=EXACT_RTOL * scale)
    V = np.random.default_rng(3).standard_normal(theta.shape)
    np.testing.assert_allclose(obj.hvp(theta)(V), np.einsum("rij,rj->ri", H, V), atol=EXACT_RTOL * scale * 10)
    eig = np.linalg.eigvalsh((GN + np.swapaxes(GN, 1, 2)) / 2)
    assert eig.min() > -EXACT_RTOL * scale                               # GN is PSD for these losses
    n, k = X.shape[-2], arch.d_out
    assert np.all(np.sum(eig > 1e-9 * scale, axis=-1) <= n * k)          # rank(GN) <= n * outputs


def test_shared_data_equals_per_trial_copies():
    arch, theta, X, Y = _problem("cross_entropy", shared_x=True)
    Xr = np.broadcast_to(X, (2, *X.shape)).copy()
    V = np.random.default_rng(1).standard_normal(theta.shape)
    for fn in (lambda x: nw.gradient(arch, theta, x, Y, "cross_entropy"),
               lambda x: nw.hvp(arch, theta, x, Y, V, "cross_entropy")):
        np.testing.assert_allclose(fn(X), fn(Xr), rtol=1e-12, atol=1e-14)


# ---- backends and dtypes -------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["mse", "cross_entropy", "logistic"])
def test_backends_agree_with_numpy(xp, loss):
    arch, theta, X, Y = _problem(loss, "relu", (4, 3), fixed=False)
    V = np.random.default_rng(2).standard_normal(theta.shape)
    t, x, y, v = (to_backend(a, xp) for a in (theta, X, Y, V))
    value, g = nw.loss_and_gradient(arch, t, x, y, loss)
    Hv = nw.hvp(arch, t, x, y, v, loss)
    assert array_namespace(Hv) is array_namespace(t)
    ref_value, ref_g = nw.loss_and_gradient(arch, theta, X, Y, loss)
    np.testing.assert_allclose(to_numpy(value), ref_value, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(g), ref_g, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(to_numpy(Hv), nw.hvp(arch, theta, X, Y, V, loss), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy", "logistic"])
def test_float32_path_stays_float32(xp, loss):
    arch, theta, X, Y = _problem(loss, "tanh", (5,), fixed=loss == "logistic")
    t, x, y = (to_backend(a, xp, dtype=np.float32) for a in (theta, X, Y))
    value, g = nw.loss_and_gradient(arch, t, x, y, loss)
    Hv = nw.hvp(arch, t, x, y, g, loss)
    assert value.dtype == g.dtype == Hv.dtype == xp.float32
    assert nw.logits(arch, t, x).dtype == xp.float32
    np.testing.assert_allclose(to_numpy(g), nw.gradient(arch, theta, X, Y, loss), rtol=1e-3, atol=1e-5)


# ---- losses, accuracy ------------------------------------------------------------------------------
def test_softmax_sum_absorbs_in_float32_not_float64():
    F = np.array([[[0.0, -20.0]]])
    p32, S32 = softmax_with_sum(F.astype(np.float32))
    p64, S64 = softmax_with_sum(F)
    assert S32[0, 0] == 1.0 and p32[0, 0, 0] == 1.0 and S64[0, 0] > 1.0
    Y = np.array([[[1.0, 0.0]]])
    g32 = CrossEntropy.grad(F.astype(np.float32), Y.astype(np.float32))
    assert g32[0, 0, 0] == 0 and CrossEntropy.value(F.astype(np.float32), Y)[0, 0] == 0   # collapse
    assert CrossEntropy.grad(F, Y)[0, 0, 0] < 0


def test_logistic_is_stable_for_large_margins():
    z = np.array([[-800.0, -30.0, 0.0, 30.0, 800.0]])
    F = z[..., None]
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # underflow is benign
        val = Logistic.value(F, np.ones_like(z))
        grad = Logistic.grad(F, np.ones_like(z))
    expected = [800.0, 30.0 + np.log1p(np.exp(-30.0)), np.log(2.0), np.log1p(np.exp(-30.0))]
    np.testing.assert_allclose(val[0, :4], expected, rtol=1e-12)
    assert val[0, 4] == 0.0 or val[0, 4] < 1e-300
    np.testing.assert_allclose(grad[0, :, 0], -expit(-z[0]), rtol=1e-12)


def test_accuracy_helper():
    F = np.array([[[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]])
    labels = np.array([[0, 1, 1]])
    np.testing.assert_allclose(nw.accuracy(F, labels), [2 / 3])
    np.testing.assert_allclose(nw.accuracy(F, one_hot(labels, 2)), [2 / 3])
    np.testing.assert_allclose(nw.accuracy(np.array([[[0.5], [-1.0]]]), np.array([[1.0, 1.0]])), [0.5])


# ---- data ----------------------------------------------------------------------------------------
def test_gaussian_mixture_geometry_and_labels():
    means = mixture_means(_rngs(0), 4, 6, 3.0)
    dist = np.linalg.norm(means[:, :, None] - means[:, None], axis=-1)
    np.testing.assert_allclose(dist[:, ~np.eye(4, dtype=bool)], 3.0, rtol=1e-12)
    X, labels = sample_mixture(_rngs(1), means, 400, noise=0.5)
    assert X.shape == (2, 400, 6) and labels.dtype == np.int64
    assert np.all(np.bincount(labels[0], minlength=4) == 100)
    centred = X[0] - means[0, labels[0]]
    assert abs(np.std(centred) / 0.5 - 1) < 0.05
    X2, l2 = gaussian_mixture(_rngs(2), 30, 3, 5, 2.0)         # k > d still works
    assert X2.shape == (2, 30, 3) and l2.max() == 4
    flipped = flip_labels(_rngs(3), labels, 4, 0.25)
    assert 0.2 < np.mean(flipped != labels) < 0.3


def test_take_samples_per_trial_and_shared(xp):
    A = to_backend(np.arange(2 * 5 * 3, dtype=float).reshape(2, 5, 3), xp)
    idx = xp.asarray(np.array([[0, 4], [1, 1]]))
    got = to_numpy(take_samples(A, idx, per_trial=True))
    np.testing.assert_array_equal(got, to_numpy(A)[[[0], [1]], [[0, 4], [1, 1]]])
    got = to_numpy(take_samples(A[0, ...], idx, per_trial=False))
    np.testing.assert_array_equal(got, to_numpy(A)[0][[[0, 4], [1, 1]]])


# ---- training --------------------------------------------------------------------------------------
def _training_problem(xp, dtype=np.float64):
    X, labels = gaussian_mixture(_rngs(5), 60, 4, 3, 4.0)
    arch = nw.Architecture(4, (8,), 3, "tanh")
    theta = nw.init_params(arch, _rngs(6), scheme="lecun")
    obj = NetworkObjective(arch, to_backend(X, xp, dtype), to_backend(one_hot(labels, 3), xp, dtype),
                           "cross_entropy")
    measure = lambda p: {"loss": obj.value(p), "acc": obj.accuracy(p)}  # noqa: E731
    return obj, to_backend(theta, xp, dtype), measure


@pytest.fixture
def no_host_sync(monkeypatch, backend):
    """On array_api_strict, make every implicit device->host conversion raise inside the loop."""
    if backend == "array_api_strict":
        from array_api_strict._array_object import Array

        def refuse(self, *args, **kwargs):
            raise AssertionError("host synchronization inside a training loop")
        for name in ("__bool__", "__float__", "__int__", "__index__", "__complex__", "__array__", "item"):
            if hasattr(Array, name):
                monkeypatch.setattr(Array, name, refuse)
    yield monkeypatch.undo


@pytest.mark.parametrize("method", ["gd", "sgd", "adam"])
def test_training_records_on_device_and_counts_calls(xp, backend, method, no_host_sync):
    obj, theta, measure = _training_problem(xp)
    record = [0, 5, 20, 40]
    if method == "gd":
        rec = gradient_descent(obj.gradient, theta, lr=0.5, steps=40, record=record, measure=measure,
                               calls_per_step=obj.n_samples)
        per_step = 60
    elif method == "sgd":
        rec = sgd(obj.gradient, theta, n=60, batch=10, lr=0.3, steps=40, record=record,
                  rngs=_rngs(8), measure=measure, block=16)
        per_step = 10
    else:
        rec = adam(obj.gradient, theta, lr=0.05, steps=40, record=record, measure=measure, eps=1e-8)
        per_step = 1
    no_host_sync()
    assert rec.iterations == record and rec.calls == [t * per_step for t in record]
    for value in (*rec.metrics.values(), rec.state["params"]):
        assert array_namespace(value) is array_namespace(theta)
    loss = to_numpy(rec.metrics["loss"])
    assert loss.shape == (2, 4) and np.all(loss[:, -1] < 0.6 * loss[:, 0])
    assert np.all(to_numpy(rec.metrics["acc"])[:, -1] > 0.8)


def test_training_float32_transform_hook_and_determinism():
    obj, theta, measure = _training_problem(np, np.float32)
    seen = []

    def freeze(params, g):
        seen.append(g.dtype)
        return 0.0 * g
    rec = gradient_descent(obj.gradient, theta, lr=0.5, steps=3, record=[3], measure=measure, transform=freeze)
    np.testing.assert_array_equal(rec.state["params"], theta)
    assert seen == [np.float32] * 3 and rec.metrics["loss"].dtype == np.float32
    runs = [sgd(obj.gradient, theta, n=60, batch=5, lr=0.1, steps=7, record=[7], rngs=_rngs(1), block=3)
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0].state["params"], runs[1].state["params"])
    a = adam(obj.gradient, theta, lr=1e-2, steps=5, record=[5], eps=1e-25)
    assert a.state["params"].dtype == np.float32 and np.all(np.isfinite(a.state["params"]))
