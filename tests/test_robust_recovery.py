"""robust-recovery, what is specific to the paper: SubGM and ℓ2 GD on every backend, the
sub-gradient against a finite difference, recovery on a small instance, the cvxpy ℓ1 estimator,
the sample grid, censoring of required m, and pinned oracle-call counts.  (Claims, bad parameter
ranges and round trips are covered for every paper by test_claims.py and test_contract.py.)"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import dtype_tol

from algorithms.subgradient import l1_subgradient, l2_gradient_descent, subgradient_method
from experiments import registry
from experiments.backend import to_backend, to_numpy
from experiments.base import Trace
from experiments.params import ParamError
from experiments.results import Results
from experiments.robust_recovery.config import m_grid
from experiments.robust_recovery.samples import required_m
from problems.cvx import installed_solver, solve
from problems.robust_recovery import initial_factor, l1_estimator, l1_loss, make_instances

NAME = "robust-recovery"


def _instance(seed=0, d=5, r=1, m=60, model="outlier", p=0.2, k=2):
    rngs = [np.random.default_rng([seed, i]) for i in range(3)]
    A, X, y = make_instances(rngs, d, r, m, model, p, 10.0)
    return A, X, y, initial_factor(rngs, d, k)


def test_subgm_generic_matches_numpy(xp):
    A, X, y, B = _instance()
    kw = dict(eta0=0.5, rho=0.95, iterations=30, record=[0, 10, 30])
    ref = subgradient_method(A, y, 1e-2 * B, X, **kw)
    got = subgradient_method(*(to_backend(a, xp) for a in (A, y, 1e-2 * B, X)), **kw)
    np.testing.assert_allclose(np.asarray(to_numpy(got.metrics["error"])), ref.metrics["error"],
                               rtol=dtype_tol(), atol=dtype_tol())
    assert ref.iterations == got.iterations == [0, 10, 30]


def test_oracle_calls_pinned():
    """One operator + adjoint evaluation per step, whatever is recorded (regression guard)."""
    A, X, y, B = _instance()
    rec = subgradient_method(A, y, 1e-2 * B, X, eta0=0.5, rho=0.95, iterations=700, record=range(0, 701, 5))
    assert len(rec.iterations) == 141 and rec.calls[-1] == 700 and rec.calls[1] == 5
    l2 = l2_gradient_descent(A, y, B, X, eta=0.01, iterations=25, record=[25, 3])
    assert l2.iterations == [3, 25] and l2.calls == [3, 25]


def test_l2_generic_matches_numpy(xp):
    A, X, y, B = _instance(model="none")
    kw = dict(eta=0.05, iterations=20, record=[0, 20])
    ref = l2_gradient_descent(A, y, 0.1 * B, X, **kw)
    got = l2_gradient_descent(*(to_backend(a, xp) for a in (A, y, 0.1 * B, X)), **kw)
    np.testing.assert_allclose(np.asarray(to_numpy(got.metrics["error"])), ref.metrics["error"],
                               rtol=dtype_tol(), atol=dtype_tol())


def test_subgradient_is_a_subgradient_of_l1_loss():
    """Away from kinks the ℓ1 loss is smooth: the sub-gradient equals a finite difference (this
    pins the sign and the symmetrized adjoint (G + G^T) U)."""
    A, X, y, B = _instance()
    U = B.copy()
    g = l1_subgradient(A, y, U)
    V = np.random.default_rng(1).standard_normal(U.shape)
    h = 1e-7

    def loss(W):
        return l1_loss(A, y, W @ W.transpose(0, 2, 1))

    fd = (loss(U + h * V) - loss(U - h * V)) / (2 * h)
    np.testing.assert_allclose(np.sum(g * V, axis=(1, 2)), fd, rtol=1e-5)


def test_subgm_recovers_exact_rank_with_outliers():
    A, X, y, B = _instance(d=6, r=1, m=150, p=0.2, k=1)
    rec = subgradient_method(A, y, 1e-3 * B, X, eta0=1.0, rho=0.96, iterations=500, record=[500])
    assert (rec.metrics["error"][:, -1] < 1e-6).all()


def test_cvxpy_l1_estimator_exact_without_noise_and_sees_outliers():
    A, X, y, _ = _instance(d=5, r=1, m=80, model="outlier", p=0.1)
    for i in range(2):
        Xc, info = l1_estimator(A[i], y[i], 5)
        assert info["solver"] == installed_solver() and info["status"] in ("optimal", "optimal_inaccurate")
        assert np.linalg.norm(Xc - X[i]) < 1e-5
        assert np.linalg.eigvalsh(Xc).min() > -1e-7        # PSD
    Xt, _ = l1_estimator(A[0], y[0], 5, trace_weight=0.5)  # a strong trace penalty shrinks X
    assert np.trace(Xt) < np.trace(X[0])


def test_cvx_helper_reports_value_solver_status():
    cp = pytest.importorskip("cvxpy")
    x = cp.Variable(2)
    value, info = solve(cp.Problem(cp.Minimize(cp.sum_squares(x - np.array([1.0, -2.0])) + 3)), tol=1e-9)
    assert value == pytest.approx(3.0, abs=1e-7) and info["status"] == "optimal"
    assert info["solver"] == installed_solver()
    np.testing.assert_allclose(x.value, [1.0, -2.0], atol=1e-6)


@pytest.mark.parametrize("key,value,words", [
    ("r_over", "1", "r' >= r"),
    ("p_claim", "0.1", "p_claim"),
    ("p_break", "0.2", "p_break"),
    ("rho_wrong", "0.96", "rho_wrong"),
    ("alphas", "1e-3,1e-4,1e-5,1e-6", "alphas"),
    ("d_samples", "16,8,10,12,14", "d_samples"),
    ("d_samples", "8,12,16,20", "d_samples"),
    ("m_factors", "2,3,4", "m_factors"),
])
def test_cross_parameter_checks(key, value, words):
    with pytest.raises(ParamError, match=words):
        registry.get(NAME).resolve("quick", {key: value})


def test_sample_grid_scales_with_d_and_r():
    p = registry.get(NAME).resolve("quick", {})
    assert m_grid(p, 8) == sorted({int(round(c * 8 * p["r"])) for c in p["m_factors"]})
    assert m_grid(p, 16)[-1] == 2 * m_grid(p, 8)[-1]


def test_required_m_reports_censored_trials_as_nan():
    """Never recovered inside the grid (or already at its smallest m) is NaN, never a cap."""
    p = registry.get(NAME).resolve("quick", {})
    p = {**p, "m_factors": (1, 2, 3), "eps_recover": 1e-3}
    grid = m_grid(p, 8)
    ok, bad = 1e-6, 1.0
    final = {grid[0]: [bad, bad, ok, bad], grid[1]: [bad, ok, ok, ok], grid[2]: [bad, ok, ok, ok]}
    units = [{"setting": f"m={m}", "group": "samples", "variant": "over", "d": 8, "m": m} for m in grid]
    traces = [Trace(np.arange(1), {}, None, {"final_error": np.array(final[m])}) for m in grid]
    need = required_m(Results(NAME, units, traces), p, "over", 8)
    np.testing.assert_array_equal(need, [np.nan, grid[1], np.nan, grid[1]])
