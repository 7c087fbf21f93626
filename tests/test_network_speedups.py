"""The small-network hot paths made faster (issue 11, "hot loops at their floor") compute what
they computed before: the gradient-only path, row-chunked gradients and curvature products
(bitwise), the precomputed pieces of the R-operator, the in-place span-GD gradient of
xor-grokking, and Lanczos with matmul reorthogonalization, blocked restart draws and a
preallocated basis."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from algorithms import hessian, networks as nw, xor_grokking
from algorithms.losses import Logistic
from experiments.backend import to_backend, to_numpy

LOSSES = ("mse", "cross_entropy", "logistic")


def _rngs(seed, R):
    return [np.random.default_rng([seed, r]) for r in range(R)]


def _problem(loss, act="relu", widths=(6,), *, R=5, n=9, d=4, shared=False, fixed=False, seed=0):
    """A network and data: X and Y per trial, or both shared (``shared``)."""
    k = 1 if loss == "logistic" else 3
    arch = nw.Architecture(d, widths, k, act, bias=not fixed, fixed_output=fixed)
    rng = np.random.default_rng(seed)
    lead = () if shared else (R,)
    X = rng.standard_normal((*lead, n, d))
    if loss == "logistic":
        Y = np.sign(rng.standard_normal((*lead, n)))
    else:
        Y = np.eye(k)[rng.integers(0, k, (*lead, n))]
    theta = nw.init_params(arch, _rngs(seed + 1, R), scheme="lecun", init_scale=1.5)
    return arch, theta, X, Y


CASES = [  # (loss, activation, widths, shared data, fixed output layer)
    ("mse", "relu", (6,), False, False), ("mse", "tanh", (5, 4), True, False),
    ("cross_entropy", "relu", (5, 4), False, False), ("cross_entropy", "tanh", (6,), False, False),
    ("logistic", "relu", (6,), False, True), ("logistic", "tanh", (6,), True, False),
]


# ---- the gradient-only path and row chunks ------------------------------------------------------
@pytest.mark.parametrize("loss, act, widths, shared, fixed", CASES)
def test_gradient_only_path_equals_loss_and_gradient(loss, act, widths, shared, fixed):
    arch, theta, X, Y = _problem(loss, act, widths, shared=shared, fixed=fixed)
    value, grad = nw.loss_and_gradient(arch, theta, X, Y, loss)
    np.testing.assert_array_equal(nw.gradient(arch, theta, X, Y, loss), grad)
    np.testing.assert_array_equal(nw.loss(arch, theta, X, Y, loss), value)


@pytest.mark.parametrize("loss, act, widths, shared, fixed", CASES)
def test_chunked_gradient_is_bitwise_the_batch_gradient(loss, act, widths, shared, fixed):
    arch, theta, X, Y = _problem(loss, act, widths, shared=shared, fixed=fixed)
    whole = nw.gradient(arch, theta, X, Y, loss, rows_per_chunk=theta.shape[0])
    for rows in (1, 2, 3):
        np.testing.assert_array_equal(nw.gradient(arch, theta, X, Y, loss, rows_per_chunk=rows), whole)


def test_default_chunks_on_numpy_only():
    """NumPy: blocks of rows whose (n, width) arrays stay within CHUNK_ELEMENTS; elsewhere one."""
    xp = pytest.importorskip("array_api_strict")
    arch, theta, X, Y = _problem("mse", n=nw.CHUNK_ELEMENTS // 12, widths=(6,), R=5)
    fn = nw.get_loss("mse")
    assert [c[1].shape[0] for c in nw._row_chunks(arch, fn, theta, X, Y, None)] == [2, 2, 1]
    strict = [to_backend(a, xp) for a in (theta, X, Y)]
    assert len(nw._row_chunks(arch, fn, *strict, None)) == 1
    got = nw.gradient(arch, *strict, "mse", rows_per_chunk=2)      # chunks on any namespace
    np.testing.assert_array_equal(to_numpy(got), nw.gradient(arch, theta, X, Y, "mse"))


def test_per_trial_data_of_one_row_broadcasts_across_chunks():
    """X (1, n, d) with R trials is shared by broadcasting, so a chunk must not slice it."""
    arch, theta, X, Y = _problem("mse", R=4)
    X1, Y1 = X[:1], Y[:1]
    whole = nw.gradient(arch, theta, X1, Y1, "mse", rows_per_chunk=4)
    np.testing.assert_array_equal(nw.gradient(arch, theta, X1, Y1, "mse", rows_per_chunk=1), whole)


# ---- the R-operator: chunks, precomputed pieces -------------------------------------------------
@pytest.mark.parametrize("part", ["full", "gauss_newton", "residual"])
@pytest.mark.parametrize("loss, act, widths, shared, fixed", CASES)
def test_chunked_curvature_is_bitwise_the_batch_product(loss, act, widths, shared, fixed, part):
    arch, theta, X, Y = _problem(loss, act, widths, shared=shared, fixed=fixed)
    V = np.random.default_rng(7).standard_normal(theta.shape)
    whole = nw.curvature_operator(arch, theta, X, Y, loss, part, rows_per_chunk=theta.shape[0])
    for rows in (1, 2):
        chunked = nw.curvature_operator(arch, theta, X, Y, loss, part, rows_per_chunk=rows)
        np.testing.assert_array_equal(chunked(V), whole(V))
        np.testing.assert_array_equal(chunked(2.0 * V), whole(2.0 * V))   # reusable


@pytest.mark.parametrize("loss, act, widths, shared, fixed", CASES)
def test_operator_is_symmetric_and_splits_into_its_parts(loss, act, widths, shared, fixed):
    """u^T H v = v^T H u, H = GN + residual, and the operator's fixed pieces are not consumed by a
    product (the in-place sums must only touch fresh arrays): applying it twice gives the same."""
    arch, theta, X, Y = _problem(loss, act, widths, shared=shared, fixed=fixed)
    rng = np.random.default_rng(3)
    U, V = rng.standard_normal(theta.shape), rng.standard_normal(theta.shape)
    ops = {part: nw.curvature_operator(arch, theta, X, Y, loss, part, rows_per_chunk=2)
           for part in ("full", "gauss_newton", "residual")}
    HV = ops["full"](V)
    np.testing.assert_array_equal(ops["full"](V), HV)
    np.testing.assert_allclose(np.sum(U * HV, -1), np.sum(V * ops["full"](U), -1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ops["gauss_newton"](V) + ops["residual"](V), HV, rtol=1e-10, atol=1e-12)


def test_hessian_spectrum_dense_curvature_matches_dense_hessian():
    """The tiled, chunked blocks of hessian_spectrum equal P one-column products."""
    from algorithms.hessian_spectrum import dense_curvature
    from algorithms.network_objective import NetworkObjective

    arch, theta, X, Y = _problem("mse", R=3, n=40)
    objective = NetworkObjective(arch, X, Y, "mse")
    H = dense_curvature(objective, theta, block=4)
    op = nw.curvature_operator(arch, theta, X, Y, "mse", rows_per_chunk=3)
    reference = hessian.dense_hessian(op, theta)
    np.testing.assert_allclose(H, 0.5 * (reference + np.swapaxes(reference, 1, 2)), rtol=1e-12, atol=1e-14)


# ---- Architecture ---------------------------------------------------------------------------------
def test_layer_table_built_once_and_architecture_unchanged_as_a_value():
    arch = nw.Architecture(3, (4, 5), 2, "tanh")
    assert arch.layers is arch.layers
    assert [lay.fan_out for lay in arch.layers] == [4, 5, 2]
    twin = pickle.loads(pickle.dumps(arch))
    assert twin == arch and hash(twin) == hash(arch) and twin.layers == arch.layers
    assert arch == nw.Architecture(3, [4, 5], 2, "tanh")


# ---- xor-grokking span gradient -----------------------------------------------------------------
def test_span_gradient_bitwise_as_the_plain_formula():
    rng = np.random.default_rng(0)
    R, n, m, p = 3, 8, 6, 12
    X = rng.standard_normal((R, n, p))
    W0 = 0.3 * rng.standard_normal((R, p, m))
    labels = np.sign(rng.standard_normal((R, n)))
    data = xor_grokking.SpanData(gram=X @ np.swapaxes(X, 1, 2), pre0=X @ W0, labels=labels,
                                 test_gram=None, test_pre0=None, test_labels=None, plane=None,
                                 plane0=None, sq_norm0=None)
    a = xor_grokking.second_layer(m, np, np.float64)
    coef = rng.standard_normal((R, n * m))
    pre = data.pre0 + data.gram @ coef.reshape(R, n, m)
    dl_df = Logistic.grad(np.maximum(pre, 0.0) @ a[:, None], labels)
    expected = (dl_df * (pre > 0).astype(pre.dtype) * a / n).reshape(R, n * m)
    got = xor_grokking.coefficient_gradient(data, a)(coef)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


# ---- Lanczos --------------------------------------------------------------------------------------
def _orthonormal_rows(rng, R, j, P):
    return np.swapaxes(np.linalg.qr(rng.standard_normal((R, P, j)))[0], 1, 2)


def test_orthogonalize_removes_the_projection_on_the_rows():
    rng = np.random.default_rng(1)
    Q = _orthonormal_rows(rng, 2, 5, 30)
    W = rng.standard_normal((2, 3, 30))
    out = hessian._orthogonalize(Q, W)
    assert np.max(np.abs(out @ np.swapaxes(Q, 1, 2))) < 1e-14
    inside = W - out            # the removed part lies in the row space of Q
    np.testing.assert_allclose(inside @ np.swapaxes(Q, 1, 2) @ Q, inside, atol=1e-13)


def test_restart_rows_are_the_per_iteration_draws():
    like = np.zeros((3, 11))
    blocked = hessian._host_normal_rows(_rngs(4, 3), like, 5)
    rngs = _rngs(4, 3)
    one_by_one = np.stack([hessian._host_vectors(rngs, like, "normal") for _ in range(5)], axis=1)
    np.testing.assert_array_equal(blocked, one_by_one)


@pytest.mark.parametrize("m", [7, hessian.RESTART_BLOCK + 3])
def test_lanczos_full_spectrum_and_random_stream(m):
    """m = P iterations give the whole spectrum (only with an orthogonal basis), and the trial
    Generators advance by exactly m - 1 restart vectors, used or not."""
    rng = np.random.default_rng(2)
    R, P = 2, m
    A = rng.standard_normal((R, P, P))
    H = A + np.swapaxes(A, 1, 2)
    alpha, beta = hessian.lanczos(lambda v: (H @ v[..., None])[..., 0], rng.standard_normal((R, P)),
                                  m, rngs := _rngs(5, R))
    ritz = hessian.tridiagonal_eigh(alpha, beta)[0]
    np.testing.assert_allclose(ritz, np.linalg.eigvalsh(H), atol=1e-10)
    reference = _rngs(5, R)
    for g in reference:
        g.standard_normal((m - 1, P))
    assert [g.random() for g in rngs] == [g.random() for g in reference]


def test_lanczos_breakdown_restarts_keep_the_ritz_values_exact():
    """A rank-3 matrix: the Krylov space is invariant after a few steps, the trials restart
    (beta = 0 decouples the new block), and the Ritz values are the 3 eigenvalues and zeros."""
    rng = np.random.default_rng(3)
    B = rng.standard_normal((2, 20, 3))
    H = B @ np.swapaxes(B, 1, 2)
    alpha, beta = hessian.lanczos(lambda v: (H @ v[..., None])[..., 0], rng.standard_normal((2, 20)),
                                  8, _rngs(6, 2))
    assert np.any(beta == 0.0)
    ritz = hessian.tridiagonal_eigh(alpha, beta)[0]
    top = np.linalg.eigvalsh(H)[:, -3:]
    np.testing.assert_allclose(ritz[:, -3:], top, rtol=1e-10)
    assert np.max(np.abs(ritz[:, :-3])) < 1e-10 * np.max(top)


def test_chunked_paths_are_sync_free(monkeypatch):
    """Chunks forced on array_api_strict: GD on a chunked gradient, Lanczos on a chunked
    Gauss-Newton operator (the preallocated basis filled in place)."""
    pytest.importorskip("array_api_strict")
    from test_sync_free import _assert_sync_free, _dev

    from algorithms.training import gradient_descent

    arch, theta, X, Y = (a if i == 0 else _dev(a) for i, a in enumerate(_problem("cross_entropy", R=3)))
    grad = lambda th: nw.gradient(arch, th, X, Y, "cross_entropy", rows_per_chunk=2)   # noqa: E731
    gn = nw.curvature_operator(arch, theta, X, Y, "cross_entropy", "gauss_newton", rows_per_chunk=2)

    def build(n):
        return lambda: (gradient_descent(grad, theta, lr=0.5, steps=n, record=[n]),
                        hessian.lanczos(gn, theta + 1.0, n, _rngs(3, 3)))
    _assert_sync_free(monkeypatch, build)
