"""matrix-sensing (Xiong, Ding, Du, ICLR 2024): the algorithms against closed forms, on every
backend; the local-curvature spectrum; the cvxpy ground truth.  (Claims, bad parameters and the
CLI round trip are covered for every paper by tests/test_claims.py and tests/test_contract.py.)"""
from __future__ import annotations

import numpy as np
import pytest

from algorithms.factorized_gd import asymmetric_gd, rebalance, symmetric_gd
from conftest import dtype_tol
from experiments.backend import to_backend, to_numpy
from experiments.matrix_sensing.evidence import LOCAL_SLOPE, local_slope
from problems.matrix_sensing import (asymmetric_curvature, asymmetric_instance, balanced_factors,
                                     nuclear_norm_recovery, random_factor, recovery_dof,
                                     symmetric_curvature, symmetric_instance)
from problems.sensing import adjoint, adjoint_many, low_rank, low_rank_psd, measure, measure_many
from theory.fits import fit_rates

def T_(X):
    return np.swapaxes(X, -1, -2)


def _rngs(seed, R=2):
    return [np.random.default_rng([seed, i]) for i in range(R)]


def _identity_operator(n1, n2):
    """A with A*A / m = identity (m = n1 n2): the population loss ||Z - M||^2."""
    return np.eye(n1 * n2)[None] * np.sqrt(n1 * n2)


# ---- generic algorithms on every backend ---------------------------------------------------------
def _small_symmetric():
    A, M, y = symmetric_instance(_rngs(1), 6, 30, (1.0, 0.6))
    X0 = random_factor(_rngs(2), 6, 3, 0.1)
    return A, M, y, X0


def _small_asymmetric():
    A, M, y = asymmetric_instance(_rngs(3), 6, 5, 25, (1.0, 0.6))
    scales = np.array([0.1, 0.3])[None, :, None, None]
    F0 = random_factor(_rngs(4), 6, 3, 1.0)[:, None] * scales
    G0 = random_factor(_rngs(5), 5, 3, 1.0)[:, None] * scales / 3
    return A, M, y, F0, G0


def test_symmetric_gd_matches_numpy_and_counts_one_gradient_per_step(xp):
    A, M, y, X0 = _small_symmetric()
    kw = dict(step=0.2, iterations=60, record=[0, 1, 10, 60])
    ref = symmetric_gd(A, y, X0, target=M, **kw)
    out = symmetric_gd(to_backend(A, xp), to_backend(y, xp), to_backend(X0, xp), target=to_backend(M, xp), **kw)
    np.testing.assert_allclose(to_numpy(out.metrics["sq_error"]), ref.metrics["sq_error"], rtol=dtype_tol(), atol=0)
    np.testing.assert_allclose(to_numpy(out.state["X"]), ref.state["X"], rtol=dtype_tol(), atol=dtype_tol())
    assert out.iterations == [0, 1, 10, 60] and out.calls == [0, 1, 10, 60]     # regression guard
    assert ref.metrics["sq_error"].shape == (2, 4)


def test_asymmetric_gd_with_modification_matches_numpy(xp):
    A, M, y, F0, G0 = _small_asymmetric()
    kw = dict(step=0.2, iterations=40, record=range(0, 41, 10), rebalance_at=20, beta=0.5)
    ref = asymmetric_gd(A, y, F0, G0, target=M[:, None], **kw)
    out = asymmetric_gd(*(to_backend(a, xp) for a in (A, y, F0, G0)), target=to_backend(M[:, None], xp), **kw)
    np.testing.assert_allclose(to_numpy(out.metrics["sq_error"]), ref.metrics["sq_error"], rtol=dtype_tol(), atol=0)
    np.testing.assert_allclose(to_numpy(out.state["F"]), ref.state["F"], rtol=dtype_tol(), atol=dtype_tol())
    assert ref.metrics["sq_error"].shape == (2, 2, 5)
    assert ref.calls == [0, 10, 20, 30, 40]          # regression guard: the modification costs no gradient


def test_grouped_runs_equal_separate_runs():
    """Runs sharing an instance along the group axis give the runs made one at a time."""
    A, M, y, F0, G0 = _small_asymmetric()
    kw = dict(step=0.2, iterations=30, record=[30])
    grouped = asymmetric_gd(A, y, F0, G0, target=M[:, None], **kw).metrics["sq_error"]
    for g in range(F0.shape[1]):
        single = asymmetric_gd(A, y, F0[:, g], G0[:, g], target=M, **kw).metrics["sq_error"]
        np.testing.assert_allclose(grouped[:, g], single, rtol=dtype_tol())


def test_measure_many_and_adjoint_many_agree_with_single(xp):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((2, 7, 12))
    Z = rng.standard_normal((2, 3, 3, 4))
    V = rng.standard_normal((2, 7, 3))
    Ab = to_backend(A, xp)
    many = to_numpy(measure_many(Ab, to_backend(Z, xp)))
    adj = to_numpy(adjoint_many(Ab, to_backend(V, xp), 3, 4))
    for g in range(3):
        np.testing.assert_allclose(many[:, :, g], measure(A, Z[:, g]), rtol=dtype_tol())
        np.testing.assert_allclose(adj[:, g], adjoint(A, V[:, :, g], 3, 4), rtol=dtype_tol())
    # adjointness: <A(Z), v> = <Z, A*(v)>
    lhs = np.sum(measure(A, Z[:, 0]) * V[:, :, 0])
    rhs = np.sum(Z[:, 0] * adjoint(A, V[:, :, 0], 3, 4))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_rebalance_keeps_product_and_sets_singular_values(xp):
    rng = np.random.default_rng(1)
    F = rng.standard_normal((2, 8, 3)) * 0.01
    G = rng.standard_normal((2, 7, 3))
    F2, G2 = rebalance(to_backend(F, xp), to_backend(G, xp), 0.5)
    F2, G2 = to_numpy(F2), to_numpy(G2)
    np.testing.assert_allclose(F2 @ T_(G2), F @ T_(G), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(F2, compute_uv=False), 0.5, rtol=1e-9)


# ---- closed forms ---------------------------------------------------------------------------------
def test_symmetric_step_closed_form():
    """With A*A / m = identity, one symmetric step is X - eta (X X^T - M) X exactly."""
    n, k = 4, 2
    A = _identity_operator(n, n)
    rng = np.random.default_rng(2)
    X0, M = rng.standard_normal((1, n, k)), np.eye(n)[None]
    X1 = symmetric_gd(A, measure(A, M), X0, step=0.1, iterations=1, record=[1], target=M).state["X"]
    np.testing.assert_allclose(X1, X0 - 0.1 * (X0 @ T_(X0) - M) @ X0, rtol=1e-12)


def test_asymmetric_step_closed_form_is_simultaneous():
    """With A*A / m = identity, one asymmetric step is F - eta E G, G - eta E^T F with the same
    E = F G^T - M for both factors (a sequential update would use F_1 in G's step)."""
    n1, n2, k, eta = 4, 3, 2, 0.3
    A = _identity_operator(n1, n2)
    rng = np.random.default_rng(3)
    F0, G0 = rng.standard_normal((1, n1, k)), rng.standard_normal((1, n2, k))
    M = low_rank(rng, n1, n2, (1.0, 0.5))[None]
    out = asymmetric_gd(A, measure(A, M), F0, G0, step=eta, iterations=1, record=[1], target=M)
    E = F0 @ T_(G0) - M
    F1, G1 = F0 - eta * E @ G0, G0 - eta * T_(E) @ F0
    np.testing.assert_allclose(out.state["F"], F1, rtol=1e-12)
    np.testing.assert_allclose(out.state["G"], G1, rtol=1e-12)
    # the imbalance changes by exactly eta^2 (grad_F^T grad_F - grad_G^T grad_G)

    def D(F, G):
        return T_(F) @ F - T_(G) @ G

    np.testing.assert_allclose(D(F1, G1) - D(F0, G0), eta**2 * out.state["gradient_gram"], atol=1e-12)


def test_population_curvature_spectrum():
    """At A*A / m = identity the nonzero Hessian eigenvalues at the balanced solution are
    sigma_i (normal directions), sigma_i + sigma_j and 2 sigma_i; zeros: k(k-1)/2 (symmetric),
    k^2 (asymmetric).  So lambda_min = sigma_r."""
    n, s = 5, (1.0, 0.6)
    rng = np.random.default_rng(0)
    M = low_rank_psd(rng, n, s)[None]
    X, _ = balanced_factors(M, 2)
    w = symmetric_curvature(_identity_operator(n, n), X)[0]
    np.testing.assert_allclose(w, [0, .6, .6, .6, 1, 1, 1, 1.2, 1.6, 2], atol=1e-12)
    M2 = low_rank(rng, n, n, s)[None]
    F, G = balanced_factors(M2, 2)
    w2 = asymmetric_curvature(_identity_operator(n, n), F, G)[0]
    np.testing.assert_allclose(w2[:4], 0, atol=1e-12)
    np.testing.assert_allclose(w2[4], 0.6, atol=1e-12)


def test_curvature_matches_numpy(xp):
    A, M, _ = asymmetric_instance(_rngs(6), 5, 4, 30, (1.0, 0.6))
    F, G = balanced_factors(M, 2)
    ref = asymmetric_curvature(A, F, G)
    out = to_numpy(asymmetric_curvature(*(to_backend(a, xp) for a in (A, F, G))))
    np.testing.assert_allclose(out, ref, atol=dtype_tol())


def test_linear_rate_is_the_local_prediction():
    """Population GD at k = r: the semilog slope of the squared error is 2 log(1 - eta sigma_r)."""
    n, eta, s = 6, 0.2, (1.0, 0.5)
    M = low_rank_psd(np.random.default_rng(4), n, s)[None]
    A = _identity_operator(n, n)
    X0 = random_factor(_rngs(5, 1), n, 2, 0.3)
    rec = symmetric_gd(A, measure(A, M), X0, step=eta, iterations=200, record=range(201), target=M)
    fit = fit_rates(np.arange(201), rec.metrics["sq_error"], "semilog", (100, 200))
    assert str(LOCAL_SLOPE) == "2*log(-eta*lambda + 1)"
    np.testing.assert_allclose(fit["slopes"], local_slope(eta, [s[-1]]), rtol=1e-3)


# ---- cvxpy ground truth -------------------------------------------------------------------------
def test_nuclear_norm_recovery_is_exact_above_threshold_only():
    n, r = 8, 1
    A, M, y = symmetric_instance(_rngs(7, 1), n, 40, (1.0,))
    X, info = nuclear_norm_recovery(A[0], y[0], n, n, psd=True)
    assert info["status"] in ("optimal", "optimal_inaccurate")
    assert np.linalg.norm(X - M[0]) / np.linalg.norm(M[0]) <= 1e-6
    m_under = recovery_dof(n, r) - 1
    Xu, _ = nuclear_norm_recovery(A[0, :m_under], y[0, :m_under], n, n, psd=True)
    assert np.linalg.norm(Xu - M[0]) / np.linalg.norm(M[0]) > 1e-2


def test_asymmetric_nuclear_norm_recovery():
    A, M, y = asymmetric_instance(_rngs(8, 1), 6, 5, 26, (1.0,))
    X, _ = nuclear_norm_recovery(A[0], y[0], 6, 5, psd=False)
    assert np.linalg.norm(X - M[0]) / np.linalg.norm(M[0]) <= 1e-5
