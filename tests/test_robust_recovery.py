"""robust-recovery: claims on the quick configuration, generic algorithms, cvxpy ground truth,
parameter errors."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import dtype_tol

from algorithms.subgradient import l1_subgradient, l2_gradient_descent, subgradient_method
from experiments import registry
from experiments.backend import to_backend, to_numpy
from experiments.params import ParamError
from problems.robust_recovery import initial_factor, l1_estimator, l1_loss, make_instances

NAME = "robust-recovery"


def _instance(seed=0, d=5, r=1, m=60, model="outlier", p=0.2, k=2):
    rngs = [np.random.default_rng([seed, i]) for i in range(3)]
    A, X, y = make_instances(rngs, d, r, m, model, p, 10.0)
    B = initial_factor(rngs, d, k)
    return A, X, y, B


@pytest.mark.parametrize("seed", [0, 3])
def test_quick_claims_hold(run_quick, seed):
    _, verdicts = run_quick(NAME, seed=seed)
    assert len(verdicts) >= 4
    held = [v for v in verdicts if v.claim.expected_failure is None]
    assert len(held) >= 4
    for v in verdicts:
        assert v.control_rejected, f"{v.claim.id}: control not rejected ({v.control})"
        assert v.passed, f"{v.claim.id}: {v.check}"
    for v in held:
        assert v.holds, f"{v.claim.id}: {v.check}"


def test_subgm_generic_matches_numpy(xp):
    A, X, y, B = _instance()
    kw = dict(eta0=0.5, rho=0.95, iterations=30, record=[0, 10, 30])
    ref, calls, _ = subgradient_method(A, y, 1e-2 * B, X, **kw)
    got, calls_x, _ = subgradient_method(*(to_backend(a, xp) for a in (A, y, 1e-2 * B, X)), **kw)
    np.testing.assert_allclose(np.asarray(to_numpy(got)), ref, rtol=dtype_tol(), atol=dtype_tol())
    assert calls == calls_x == [0, 10, 30]   # one operator + adjoint evaluation per step


def test_l2_generic_matches_numpy(xp):
    A, X, y, B = _instance(model="none")
    kw = dict(eta=0.05, iterations=20, record=[0, 20])
    ref, _, _ = l2_gradient_descent(A, y, 0.1 * B, X, **kw)
    got, _, _ = l2_gradient_descent(*(to_backend(a, xp) for a in (A, y, 0.1 * B, X)), **kw)
    np.testing.assert_allclose(np.asarray(to_numpy(got)), ref, rtol=dtype_tol(), atol=dtype_tol())


def test_subgradient_is_a_subgradient_of_l1_loss():
    """Away from kinks the ℓ1 loss is smooth: the sub-gradient equals a finite difference."""
    A, X, y, B = _instance()
    U = B.copy()
    g = l1_subgradient(A, y, U)
    rng = np.random.default_rng(1)
    V = rng.standard_normal(U.shape)
    h = 1e-7
    fd = (l1_loss(A, y, (U + h * V) @ (U + h * V).transpose(0, 2, 1))
          - l1_loss(A, y, (U - h * V) @ (U - h * V).transpose(0, 2, 1))) / (2 * h)
    np.testing.assert_allclose(np.sum(g * V, axis=(1, 2)), fd, rtol=1e-5)


def test_subgm_recovers_exact_rank_with_outliers():
    A, X, y, B = _instance(d=6, r=1, m=150, p=0.2, k=1)
    err, _, _ = subgradient_method(A, y, 1e-3 * B, X, eta0=1.0, rho=0.96, iterations=500, record=[500])
    assert (err[:, -1] < 1e-6).all()


def test_cvxpy_l1_estimator_exact_without_noise_and_sees_outliers():
    A, X, y, _ = _instance(d=5, r=1, m=80, model="outlier", p=0.1)
    for i in range(2):
        Xc, info = l1_estimator(A[i], y[i], 5)
        assert info["status"] in ("optimal", "optimal_inaccurate")
        assert np.linalg.norm(Xc - X[i]) < 1e-5
        assert np.linalg.eigvalsh(Xc).min() > -1e-7        # PSD
    Xt, _ = l1_estimator(A[0], y[0], 5, trace_weight=0.5)  # a strong trace penalty shrinks X
    assert np.trace(Xt) < np.trace(X[0])


@pytest.mark.parametrize("key,value,words", [
    ("r_over", "1", "r' >= r"),
    ("p_grid", "0.1,1.0", "p_grid"),
    ("p_claim", "-0.1", "p_claim"),
    ("rho", "1", "rho"),
    ("rho", "0", "rho"),
    ("alpha_small", "0", "alpha_small"),
    ("alphas", "1e-3,-1e-4,1e-5,1e-6", "alphas"),
    ("r", "11", "r <= d"),
    ("d_samples", "16,8", "d_samples"),
    ("d_samples", "1,8", "d_samples"),
    ("m_factors", "2,3,4", "m_factors"),
    ("rho_samples", "1", "rho_samples"),
])
def test_bad_parameters(key, value, words):
    exp = registry.get(NAME)
    overrides = {key: value}
    if key == "r":
        overrides["r_over"] = "10"
    with pytest.raises(ParamError, match=words):
        exp.resolve("quick", overrides)


def test_sample_grid_scales_with_d_and_r():
    exp = registry.get(NAME)
    p = exp.resolve("quick", {})
    assert exp.m_grid(p, 8) == [int(round(c * 8 * p["r"])) for c in p["m_factors"]]
    assert exp.m_grid(p, 16)[-1] == 2 * exp.m_grid(p, 8)[-1]


def test_cli_bad_parameter_exit_2(tmp_path):
    from experiments.cli import main

    assert main(["run", NAME, "--set", "rho=1.5", "--out", str(tmp_path)]) == 2
    assert not any(tmp_path.iterdir())
