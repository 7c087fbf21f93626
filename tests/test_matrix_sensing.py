"""matrix-sensing (Xiong, Ding, Du, ICLR 2024): claims, generic algorithms, cvxpy, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from algorithms.factorized_gd import asymmetric_gd, rebalance, symmetric_gd
from conftest import dtype_tol
from experiments.backend import to_backend, to_numpy
from experiments.params import ParamError
from problems.matrix_sensing import (asymmetric_instance, nuclear_norm_recovery, random_factor,
                                     recovery_dof, symmetric_instance)
from problems.sensing import adjoint, adjoint_many, measure, measure_many

NAME = "matrix-sensing"


def _rngs(seed, R=2):
    return [np.random.default_rng([seed, i]) for i in range(R)]


# ---- claims -----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 3])
def test_quick_claims_hold_and_controls_are_rejected(run_quick, seed):
    _, verdicts = run_quick(NAME, seed=seed)
    assert len(verdicts) >= 5
    for v in verdicts:
        assert v.check.holds, (v.claim.id, v.check)
        assert v.control_rejected, (v.claim.id, v.control)
        assert v.holds


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


def test_symmetric_gd_matches_numpy(xp):
    A, M, y, X0 = _small_symmetric()
    kw = dict(step=0.2, iterations=60, record=[0, 1, 10, 60])
    ref = symmetric_gd(A, y, X0, target=M, **kw)
    out = symmetric_gd(to_backend(A, xp), to_backend(y, xp), to_backend(X0, xp), target=to_backend(M, xp), **kw)
    np.testing.assert_allclose(to_numpy(out["error"]), ref["error"], rtol=dtype_tol(), atol=0)
    np.testing.assert_allclose(to_numpy(out["X"]), ref["X"], rtol=dtype_tol(), atol=dtype_tol())
    assert out["iterations"] == [0, 1, 10, 60] and out["calls"] == [0, 1, 10, 60]   # 1 gradient per step
    assert ref["error"].shape == (2, 4)


def test_asymmetric_gd_with_modification_matches_numpy(xp):
    A, M, y, F0, G0 = _small_asymmetric()
    kw = dict(step=0.2, iterations=40, record=range(0, 41, 10), rebalance_at=20, beta=0.5)
    ref = asymmetric_gd(A, y, F0, G0, target=M[:, None], **kw)
    out = asymmetric_gd(*(to_backend(a, xp) for a in (A, y, F0, G0)), target=to_backend(M[:, None], xp), **kw)
    np.testing.assert_allclose(to_numpy(out["error"]), ref["error"], rtol=dtype_tol(), atol=0)
    np.testing.assert_allclose(to_numpy(out["F"]), ref["F"], rtol=dtype_tol(), atol=dtype_tol())
    assert ref["error"].shape == (2, 2, 5)
    assert ref["calls"] == [0, 10, 20, 30, 40]          # the modification costs no gradient


def test_grouped_runs_equal_separate_runs():
    """Runs sharing an instance along the group axis give the runs made one at a time."""
    A, M, y, F0, G0 = _small_asymmetric()
    kw = dict(step=0.2, iterations=30, record=[30])
    grouped = asymmetric_gd(A, y, F0, G0, target=M[:, None], **kw)["error"]
    for g in range(F0.shape[1]):
        single = asymmetric_gd(A, y, F0[:, g], G0[:, g], target=M, **kw)["error"]
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
    np.testing.assert_allclose(F2 @ np.swapaxes(G2, 1, 2), F @ np.swapaxes(G, 1, 2), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(F2, compute_uv=False), 0.5, rtol=1e-9)


def test_population_gradient_closed_form():
    """With the full identity as sensing operator (m = n^2, A = I), the symmetric gradient step is
    X - eta (X X^T - M) X exactly."""
    n, k = 4, 2
    A = np.eye(n * n)[None] * np.sqrt(n * n)            # A*A / m = identity
    rng = np.random.default_rng(2)
    X0, M = rng.standard_normal((1, n, k)), np.eye(n)[None]
    y = measure(A, M)
    X1 = symmetric_gd(A, y, X0, step=0.1, iterations=1, record=[1], target=M)["X"]
    np.testing.assert_allclose(X1, X0 - 0.1 * (X0 @ np.swapaxes(X0, 1, 2) - M) @ X0, rtol=1e-12)


# ---- cvxpy ground truth -------------------------------------------------------------------------
def test_nuclear_norm_recovery_is_exact_above_threshold_only():
    n, r = 8, 1
    A, M, y = symmetric_instance(_rngs(7, 1), n, 40, (1.0,))
    X, info = nuclear_norm_recovery(A[0], y[0], n, n, psd=True)
    assert info["status"] in ("optimal", "optimal_inaccurate")
    assert np.linalg.norm(X - M[0]) / np.linalg.norm(M[0]) <= 1e-6
    m_under = recovery_dof(n, r) // 2
    Xu, _ = nuclear_norm_recovery(A[0, :m_under], y[0, :m_under], n, n, psd=True)
    assert np.linalg.norm(Xu - M[0]) / np.linalg.norm(M[0]) > 1e-2


def test_asymmetric_nuclear_norm_recovery():
    A, M, y = asymmetric_instance(_rngs(8, 1), 6, 5, 26, (1.0,))
    X, _ = nuclear_norm_recovery(A[0], y[0], 6, 5, psd=False)
    assert np.linalg.norm(X - M[0]) / np.linalg.norm(M[0]) <= 1e-5


# ---- parameters and CLI -------------------------------------------------------------------------
@pytest.mark.parametrize("overrides, words", [
    ({"k": "2"}, ["k=2", "k > r"]),
    ({"k": "0"}, ["k=0", ">= 1"]),
    ({"alpha": "0"}, ["alpha=0", "> 0"]),
    ({"step": "-0.1"}, ["step=-0.1"]),
    ({"m_under": "100"}, ["m_under=100", "r(2n-r+1)/2"]),
    ({"m_sym": "300"}, ["m_sym=300", "n(n+1)/2"]),
    ({"alphas": "0.1,0.2"}, ["alphas", "at least 4"]),
    ({"nope": "1"}, ["nope", "valid parameters"]),
])
def test_bad_parameters_raise_helpful_errors(overrides, words):
    from experiments import registry

    with pytest.raises(ParamError) as err:
        registry.get(NAME).resolve("quick", overrides)
    for w in words:
        assert w in str(err.value)


def test_cli_bad_value_exits_2_and_writes_nothing(tmp_path):
    from experiments.cli import main

    assert main(["run", NAME, "--set", "bad=1", "--out", str(tmp_path)]) == 2
    assert main(["run", NAME, "--set", "k=1", "--out", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []
