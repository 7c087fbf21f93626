"""Hessian tools (algorithms.hessian) held to the dense truth: Lanczos vs eigvalsh, Hutchinson
within its standard error, SLQ moments, dense_hessian vs an explicit matrix."""
from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import array_namespace

from algorithms import networks as nw
from algorithms.hessian import (dense_hessian, hutchinson_trace, lanczos, lanczos_top_k, slq,
                                slq_density)
from algorithms.network_objective import NetworkObjective
from experiments.backend import to_backend, to_numpy
from problems.classification import gaussian_mixture, one_hot

RTOL = 1e-6          # Ritz values vs eigvalsh (float64)
SE_BOUND = 3.0       # stochastic estimates within 3 standard errors


def _rngs(seed, R=2):
    return [np.random.default_rng([seed, i]) for i in range(R)]


def _matrix_hvp(H):
    """hvp of an explicit batch of symmetric matrices H (R, P, P), on H's backend."""
    xp = array_namespace(H)
    return lambda V: xp.matmul(H, V[..., None])[..., 0]


def _spectrum_matrix(P=120, R=2, seed=0):
    """Symmetric matrices with a bulk near zero, a null space and a few outliers (network-like)."""
    rng = np.random.default_rng(seed)
    mats = []
    for _ in range(R):
        q, _ = np.linalg.qr(rng.standard_normal((P, P)))
        lam = np.concatenate([[40.0, 25.0, 12.0, 7.0], 0.5 * rng.standard_normal(P - 4 - 30) ** 2 - 0.1,
                              np.zeros(30)])
        mats.append((q * lam) @ q.T)
    return np.stack(mats)


@pytest.fixture(scope="module")
def network_hessian():
    """A trained-ish tanh network on a 3-class mixture (P = 75) and its dense Hessian."""
    X, labels = gaussian_mixture(_rngs(0), 40, 5, 3, 3.0)
    arch = nw.Architecture(5, (9,), 3, "tanh")
    theta = nw.init_params(arch, _rngs(1), scheme="lecun")
    obj = NetworkObjective(arch, X, one_hot(labels, 3), "cross_entropy")
    for _ in range(50):
        theta = theta - 0.5 * obj.gradient(theta)
    hvp = obj.hvp(theta)
    H = dense_hessian(hvp, theta)
    return hvp, theta, (H + np.swapaxes(H, 1, 2)) / 2


def test_dense_hessian_reproduces_an_explicit_matrix(xp):
    H = _spectrum_matrix(P=40)
    like = to_backend(np.zeros((2, 40)), xp)
    got = dense_hessian(_matrix_hvp(to_backend(H, xp)), like)
    assert array_namespace(got) is array_namespace(like)
    np.testing.assert_allclose(to_numpy(got), H, rtol=0, atol=1e-13)


def test_lanczos_top_k_matches_eigvalsh_on_a_matrix(xp):
    H = _spectrum_matrix()
    like = to_backend(np.zeros((2, H.shape[-1])), xp)
    top = lanczos_top_k(_matrix_hvp(to_backend(H, xp)), like, 4, _rngs(3), iterations=40)
    assert top.shape == (2, 4) and array_namespace(top) is array_namespace(like)
    np.testing.assert_allclose(to_numpy(top), np.linalg.eigvalsh(H)[:, ::-1][:, :4], rtol=RTOL)


def test_lanczos_top_k_matches_eigvalsh_on_a_network_hessian(network_hessian):
    hvp, theta, H = network_hessian
    exact = np.linalg.eigvalsh(H)[:, ::-1]
    top = lanczos_top_k(hvp, theta, 5, _rngs(4), iterations=60)
    np.testing.assert_allclose(top, exact[:, :5], rtol=RTOL)


def test_lanczos_full_run_gives_the_whole_spectrum_through_breakdowns():
    """A rank-deficient H makes the Krylov space invariant early: the restart keeps T exact."""
    H = _spectrum_matrix(P=60)
    H[1] = np.diag(np.repeat([3.0, 1.0, 0.0], 20))                   # 3 distinct eigenvalues
    start = np.random.default_rng(0).standard_normal((2, 60))
    alpha, beta = lanczos(_matrix_hvp(H), start, 60, _rngs(5))
    T = np.zeros((2, 60, 60))
    for r in range(2):
        T[r] = np.diag(alpha[r]) + np.diag(beta[r], 1) + np.diag(beta[r], -1)
    assert np.sum(beta[1] == 0) >= 2                               # the restarts happened
    np.testing.assert_allclose(np.linalg.eigvalsh(T), np.linalg.eigvalsh(H), atol=1e-10 * 40)


def test_hutchinson_within_three_standard_errors(network_hessian):
    hvp, theta, H = network_hessian
    est, se = hutchinson_trace(hvp, theta, _rngs(6), probes=300)
    trace = np.trace(H, axis1=1, axis2=2)
    assert np.all(se > 0) and np.all(np.abs(est - trace) <= SE_BOUND * se)
    diag = np.stack([np.diag(np.arange(1.0, 31.0))] * 2)              # exact for a diagonal H
    est, se = hutchinson_trace(_matrix_hvp(diag), np.zeros((2, 30)), _rngs(7), probes=3)
    np.testing.assert_allclose(est, 465.0, rtol=1e-14)
    np.testing.assert_allclose(se, 0.0, atol=1e-12)


def test_slq_moments_against_the_dense_spectrum(network_hessian):
    hvp, theta, H = network_hessian
    P = H.shape[-1]
    probes = 40
    nodes, weights = slq(hvp, theta, _rngs(8), probes=probes, iterations=20)
    assert nodes.shape == weights.shape == (2, probes, 20)
    np.testing.assert_allclose(np.sum(weights, axis=-1), 1.0, rtol=1e-12)        # 0th moment
    # per probe the Gauss rule integrates t and t^2 exactly: v^T H v / P and |H v|^2 / P
    v = np.stack([2.0 * g.integers(0, 2, P) - 1.0 for g in _rngs(8)])   # the first probes
    Hv = np.einsum("rij,rj->ri", H, v)
    m1 = np.sum(weights * nodes, axis=-1)
    np.testing.assert_allclose(m1[:, 0], np.sum(v * Hv, axis=-1) / P, rtol=1e-10)
    np.testing.assert_allclose(np.sum(weights * nodes**2, axis=-1)[:, 0], np.sum(Hv * Hv, axis=-1) / P, rtol=1e-10)
    # averaged over probes the first moment estimates trace / P
    mean, se = np.mean(m1, axis=-1), np.std(m1, axis=-1, ddof=1) / np.sqrt(probes)
    assert np.all(np.abs(mean - np.trace(H, axis1=1, axis2=2) / P) <= SE_BOUND * se)
    # the smoothed density is a probability density whose mass sits on the spectrum's range
    lam = np.linalg.eigvalsh(H)
    grid = np.linspace(lam.min() - 1.0, lam.max() + 1.0, 4001)
    dens = slq_density(nodes, weights, grid, sigma=0.02 * (lam.max() - lam.min()))
    np.testing.assert_allclose(np.trapezoid(dens, grid, axis=-1), 1.0, rtol=1e-3)


def test_tools_agree_across_backends_and_keep_float32(xp):
    H = _spectrum_matrix(P=50)
    ref = lanczos_top_k(_matrix_hvp(H), np.zeros((2, 50)), 3, _rngs(9), iterations=30)
    for dtype, rtol in ((np.float64, 1e-10), (np.float32, 1e-4)):
        like = to_backend(np.zeros((2, 50)), xp, dtype)
        hvp = _matrix_hvp(to_backend(H, xp, dtype))
        top = lanczos_top_k(hvp, like, 3, _rngs(9), iterations=30)
        est, se = hutchinson_trace(hvp, like, _rngs(10), probes=4)
        nodes, weights = slq(hvp, like, _rngs(11), probes=2, iterations=8)
        for out in (top, est, se, nodes, weights):
            assert out.dtype == like.dtype and array_namespace(out) is array_namespace(like)
        np.testing.assert_allclose(to_numpy(top), ref, rtol=rtol)
