"""Bilevel building blocks: closed forms vs finite differences and cvxpy, counting oracles, the
four stochastic bilevel methods, the penalty function and its method, and backend agreement."""
from __future__ import annotations

import numpy as np
import pytest

from algorithms.bilevel import aid, bo_rep, soba, ttsa
from algorithms.penalty import penalty_method
from conftest import dtype_tol
from experiments.backend import to_backend, to_numpy
from problems import bilevel as bl
from problems.bilevel_oracles import StochasticOracles
from problems.hypercleaning import hypercleaning_bilevel, hypercleaning_data
from problems.penalty_bilevel import (ConstrainedQuadraticPenalty, JumpControl, QuadraticPenalty,
                                      check_box, check_sigma, rank_deficient_instance)

R, DX, DY, M = 3, 4, 6, 5
FD_TOL = 1e-6          # central differences with h = 1e-6: error ~ h^2 f''' + eps/h
SIGMAS = (1e-1, 1e-2, 1e-3)


def _rngs(seed, n=R):
    return [np.random.default_rng([seed, r]) for r in range(n)]


def _arrays(seed=0, mu=0.5, cond=4.0):
    return bl.stack_instances([bl.quadratic_instance(r, DX, DY, M, mu=mu, cond=cond) for r in _rngs(seed)])


def _central_diff(fun, x, h=1e-6):
    """Gradient of a per-trial scalar function (R,) by central differences, x (R, d)."""
    return np.stack([(fun(x + h * e) - fun(x - h * e)) / (2 * h) for e in np.eye(x.shape[-1])], axis=-1)


def _x0(seed=1, d=DX, scale=0.3):
    return np.random.default_rng(seed).standard_normal((R, d)) * scale


def _slope(sigmas, gaps):
    """Per-trial log-log slope of gap against sigma."""
    return np.polyfit(np.log(sigmas), np.log(np.asarray(gaps)), 1)[0]


# ---- closed forms ---------------------------------------------------------------------------
@pytest.mark.parametrize("link", bl.LINKS)
def test_hypergradient_matches_central_differences(link):
    P = bl.quadratic_bilevel(_arrays(), np.asarray, link=link, scale=0.5)
    x = _x0()
    np.testing.assert_allclose(P.hypergradient(x), _central_diff(P.phi, x), atol=FD_TOL)
    y = P.y_star(x)
    assert np.abs(P.lower.grad_y(x, y)).max() < dtype_tol()


def test_hypercleaning_blocks():
    data = bl.stack_instances([hypercleaning_data(r, 30, 20, 4, 0.3) for r in _rngs(0)])
    assert data["flipped"].sum(axis=-1).tolist() == [9, 9, 9]
    P = hypercleaning_bilevel(data, np.asarray, ridge=0.1)
    lam = _x0(2, d=30, scale=1.0)
    w = P.y_star(lam)
    assert np.abs(P.lower.grad_y(lam, w)).max() < dtype_tol()
    np.testing.assert_allclose(P.hypergradient(lam), _central_diff(P.phi, lam), atol=FD_TOL)
    v = _x0(3, d=4)
    np.testing.assert_allclose(P.lower.hvp(lam, w, v), bl.matvec(P.lower.hess_yy(lam, w), v), atol=1e-12)
    jac = np.stack([(P.lower.grad_y(lam + 1e-6 * e, w) - P.lower.grad_y(lam - 1e-6 * e, w)) / 2e-6
                    for e in np.eye(30)], axis=-2)
    np.testing.assert_allclose(P.lower.jvp(lam, w, v), bl.matvec(jac, v), atol=FD_TOL)
    np.testing.assert_allclose(P.lower.grad_x(lam, w), _central_diff(lambda u: P.lower.value(u, w), lam), atol=FD_TOL)


def test_box_lower_solution_by_cvxpy():
    arr, x = _arrays(), _x0()
    P = bl.quadratic_bilevel(arr, np.asarray)
    free = bl.box_lower_solution(arr["Q"], arr["B"], arr["mu"], x, -50.0, 50.0)    # inactive box
    np.testing.assert_allclose(free, P.y_star(x), atol=1e-7)
    tight = bl.box_lower_solution(arr["Q"], arr["B"], arr["mu"], x, -0.05, 0.05)   # active box
    assert np.all(np.abs(tight) <= 0.05 + 1e-8) and np.abs(tight - P.y_star(x)).max() > 1e-2
    # optimality: the projected gradient step leaves y* in place
    g = P.lower.grad_y(x, tight)
    np.testing.assert_allclose(bl.project_box(tight - 0.1 * g, -0.05, 0.05), tight, atol=1e-7)


# ---- oracles --------------------------------------------------------------------------------
def test_oracle_noise_level_and_counts():
    P = bl.quadratic_bilevel(_arrays(), np.asarray)
    x, y = _x0(), np.zeros((R, DY))
    o = StochasticOracles(P, _rngs(5), noise_std=0.5, block=64)
    draws = np.stack([o.hvp(x, y, y + 1.0) for _ in range(400)])
    exact = P.lower.hvp(x, y, y + 1.0)
    assert abs(np.std(draws - exact) - 0.5) < 0.03 and np.abs(np.mean(draws - exact, axis=0)).max() < 0.15
    o.upper_grad(x, y, batch=4)
    o.lower_grad(x, y)
    o.jvp(x, y, y, batch=2)
    o.hvp(x, y, y, active=[True, False, True])
    assert o.calls == {"upper_grad": [4] * 3, "lower_grad": [1] * 3, "hvp": [401, 400, 401], "jvp": [2] * 3}
    assert o.total() == [408, 407, 408]
    again = StochasticOracles(P, _rngs(5), noise_std=0.5, block=64)
    np.testing.assert_array_equal(again.hvp(x, y, y + 1.0), draws[0])   # seeded, reproducible


# ---- the stochastic bilevel methods ---------------------------------------------------------
def _run(method, xp, T, record, noise=0.01, link="softplus", **over):
    P = bl.quadratic_bilevel(_arrays(), lambda a: to_backend(a, xp), link=link)
    x0, y0 = to_backend(np.ones((R, DX)), xp), to_backend(np.zeros((R, DY)), xp)
    o = StochasticOracles(P, _rngs(1), noise_std=noise)
    measure = lambda x, y, z: {"grad": bl.norm(P.hypergradient(x)), "track": P.tracking_error(x, y)}
    common = dict(iterations=T, record=record, measure=measure)
    if method == "bo_rep":
        kw = dict(eta=0.02, gamma=0.2, nu=0.2, period=2, lower_steps=3, refine_epochs=2, refine_steps=4)
        rec = bo_rep(o, x0, y0, **common, **{**kw, **over})
    elif method == "soba":
        rec = soba(o, x0, y0, **common, **{**dict(alpha=0.1, rho=0.2), **over})
    elif method in ("aid", "aid_cg"):
        kw = dict(alpha=0.1, gamma=0.2, inner_steps=2, hessian_steps=3,
                  solver="cg" if method == "aid_cg" else "neumann")
        rec = aid(o, x0, y0, **common, **{**kw, **over})
    else:
        kw = dict(alpha=0.1, beta=0.2, lipschitz=5.0, neumann_terms=6, rngs=_rngs(9))
        rec = ttsa(o, x0, y0, **common, **{**kw, **over})
    return rec, o


PINNED = {  # calls per trial after T steps: (T, {kind: count})
    "bo_rep": (6, {"upper_grad": 6, "lower_grad": 12 + 3 * 3, "hvp": 6, "jvp": 6}),  # refine 4*(1+2), 3 periodic x N=3
    "soba": (5, {"upper_grad": 5, "lower_grad": 5, "hvp": 5, "jvp": 5}),
    "aid": (4, {"upper_grad": 4, "lower_grad": 8, "hvp": 8, "jvp": 4}),               # Q - 1 = 2 HVPs
    "aid_cg": (4, {"upper_grad": 4, "lower_grad": 8, "hvp": 12, "jvp": 4}),           # Q = 3 HVPs
}


@pytest.mark.parametrize("method", sorted(PINNED))
def test_oracle_counts_pinned(method):
    T, expected = PINNED[method]
    rec, o = _run(method, np, T, [0, T])
    assert {k: v[0] for k, v in o.calls.items()} == expected
    assert rec.calls == [rec.calls[0], sum(expected.values())]
    for kind, count in expected.items():
        np.testing.assert_array_equal(rec.metrics[f"calls_{kind}"][:, -1], count)


def test_ttsa_counts_random_neumann_depths_per_trial():
    T = 5
    rec, o = _run("ttsa", np, T, [0, 2, T])
    depths = [rng.integers(0, 6, size=T + 1) for rng in _rngs(9)]
    assert o.calls["hvp"] == [int(d[:T].sum()) for d in depths]
    assert o.calls["lower_grad"] == [T] * R and o.calls["jvp"] == [T] * R
    np.testing.assert_array_equal(np.asarray(rec.calls)[:, -1], o.total())


@pytest.mark.parametrize("method", ["bo_rep", "soba", "aid", "aid_cg", "ttsa"])
def test_methods_reduce_hypergradient_on_smooth_instance(method):
    rec, _ = _run(method, np, 200, [0, 100, 200])
    grad, track = rec.metrics["grad"], rec.metrics["track"]
    assert np.all(grad[:, -1] < 0.2 * grad[:, 0]), grad
    assert np.all(track[:, -1] < 0.05), track


def test_bo_rep_projects_the_linear_system_variable():
    rec, _ = _run("bo_rep", np, 20, [0, 20], z_radius=0.01)
    assert np.all(bl.norm(rec.state["z"]) <= 0.01 + 1e-12)


def test_divergence_gives_non_finite_values_without_exception():
    with np.errstate(all="ignore"):
        rec, _ = _run("soba", np, 60, [0, 60], link="exp", alpha=3.0)
    assert not np.all(np.isfinite(rec.metrics["grad"][:, -1]))


# ---- penalty function -----------------------------------------------------------------------
def _quadratic_penalty(kind="a", asarray=np.asarray, link="exp"):
    parts = [bl.quadratic_instance(r, DX, DY, M, mu=0.5, cond=4.0) if kind == "a"
             else rank_deficient_instance(r, DX, DY, M, rank=3) for r in _rngs(0)]
    arr = bl.stack_instances(parts)
    upper = bl.SeparableUpper(asarray(arr["A"]), asarray(arr["b"]), link=link, scale=0.5)
    return QuadraticPenalty(upper, bl.QuadraticLower(asarray(arr["Q"]), asarray(arr["B"]), arr["mu"]))


@pytest.mark.parametrize("kind", ["a", "c"])
def test_penalty_gap_is_order_sigma(kind):
    P, x = _quadratic_penalty(kind), _x0()
    gaps = [P.psi(x) - P.psi_sigma(x, s) for s in SIGMAS]
    assert np.all(np.asarray(gaps) >= -dtype_tol())                          # psi_sigma <= psi
    assert np.all(np.abs(_slope(SIGMAS, gaps) - 1.0) < 0.05)
    grad_gaps = [bl.norm(P.grad_psi_sigma(x, s) - P.grad_psi(x)) for s in SIGMAS]
    assert np.all(np.abs(_slope(SIGMAS, grad_gaps) - 1.0) < 0.05)
    np.testing.assert_allclose(P.grad_psi_sigma(x, 1e-2), _central_diff(lambda u: P.psi_sigma(u, 1e-2), x), atol=FD_TOL)


def test_explicit_gradient_formula_with_multiple_lower_solutions():
    P, x = _quadratic_penalty("c"), _x0()
    np.testing.assert_allclose(P.grad_psi(x), _central_diff(P.psi, x), atol=FD_TOL)
    y = P.y_opt(x)                     # a lower-level solution, optimal for f over S(x)
    assert np.abs(P.lower.grad_y(x, y)).max() < dtype_tol()
    assert np.abs(bl.matvec(P.P_null, P.upper.grad_y(x, y))).max() < dtype_tol()


def test_constrained_penalty_by_cvxpy():
    arr, x = _arrays(), _x0()
    box = ConstrainedQuadraticPenalty(arr, np.asarray, kind="box", lo=-0.3, hi=0.3)
    gaps = [box.psi(x) - box.psi_sigma(x, s) for s in SIGMAS[:2]]
    assert np.all(np.asarray(gaps) >= -1e-8) and np.all(np.abs(_slope(SIGMAS[:2], gaps) - 1.0) < 0.15)
    simplex = ConstrainedQuadraticPenalty(arr, np.asarray, kind="simplex")
    assert np.all(simplex.psi(x) - simplex.psi_sigma(x, 1e-2) >= -1e-8)
    wide = ConstrainedQuadraticPenalty(arr, np.asarray, kind="box", lo=-50, hi=50)
    free = QuadraticPenalty(wide.upper, wide.lower)
    np.testing.assert_allclose(wide.psi_sigma(x, 1e-2), free.psi_sigma(x, 1e-2), atol=1e-7)
    np.testing.assert_allclose(wide.grad_psi_sigma(x, 1e-2), free.grad_psi_sigma(x, 1e-2), atol=1e-6)
    np.testing.assert_allclose(wide.psi(x), free.psi(x), atol=1e-7)


def test_jump_control_breaks_order_sigma():
    J = JumpControl(c=1.0)
    for s in SIGMAS:
        x = np.array([[-s / 2], [s / 2], [0.5]])
        gap = J.psi(x) - J.psi_sigma(x, s)
        assert np.all(gap >= -1e-12) and gap[0] >= 0.9          # no O(sigma) closeness near 0
        assert gap[2] <= 1e-12                                   # far from the jump: exact


def test_invalid_inputs_name_what_is_valid():
    for bad in (0.0, -1e-3, float("nan"), float("inf"), "x"):
        with pytest.raises(ValueError, match="> 0"):
            check_sigma(bad)
    with pytest.raises(ValueError, match="lo <= hi"):
        check_box([0.0, 1.0], [1.0, 0.5])
    with pytest.raises(ValueError, match="valid sets are box, simplex"):
        ConstrainedQuadraticPenalty(_arrays(), np.asarray, kind="ball")
    with pytest.raises(ValueError, match="lo <= hi"):
        ConstrainedQuadraticPenalty(_arrays(), np.asarray, lo=1.0, hi=-1.0)
    with pytest.raises(ValueError, match="valid links are exp, softplus"):
        bl.SeparableUpper(np.ones((1, 1, 1)), np.ones((1, 1)), link="relu")
    with pytest.raises(ValueError, match="sigma must be"):
        _quadratic_penalty().psi_sigma(_x0(), 0.0)


# ---- penalty method -------------------------------------------------------------------------
def _penalty_run(inner, xp=np, T=300, record=(0, 300)):
    P = _quadratic_penalty("a", lambda a: to_backend(a, xp), link="softplus")
    s = 0.05
    o = StochasticOracles(P, _rngs(1))
    measure = lambda x, y, z: {"grad": bl.norm(P.grad_psi_sigma(x, s))}
    x0, y0 = to_backend(np.ones((R, DX)), xp), to_backend(np.zeros((R, DY)), xp)
    rec = penalty_method(o, x0, y0, sigma=s, iterations=T, record=list(record), measure=measure,
                         step_x=0.5 * s, step_y=0.2, inner_steps=inner, project_y=P.project_y)
    return rec, o


@pytest.mark.parametrize("inner,calls", [(0, {"upper_grad": 5, "lower_grad": 10}),
                                         (2, {"upper_grad": 15, "lower_grad": 30})])
def test_penalty_method_counts_and_progress(inner, calls):
    _, o = _penalty_run(inner, T=5, record=(0, 5))
    assert {k: v[0] for k, v in o.calls.items() if v[0]} == calls
    rec, _ = _penalty_run(inner)
    assert np.all(rec.metrics["grad"][:, -1] < 0.15 * rec.metrics["grad"][:, 0])


def test_penalty_method_on_box_instance():
    arr = _arrays()
    C = ConstrainedQuadraticPenalty(arr, np.asarray, kind="box", lo=-0.3, hi=0.3, link="softplus")
    s, x0 = 0.05, np.ones((R, DX))
    rec = penalty_method(StochasticOracles(C, _rngs(1)), x0, np.zeros((R, DY)), sigma=s, iterations=300,
                         record=[0, 300], measure=lambda x, y, z: {"max_y": np.max(np.abs(y), axis=-1)},
                         step_x=0.2 * s, step_y=0.2, inner_steps=2, project_y=C.project_y)
    assert np.all(rec.metrics["max_y"] <= 0.3 + 1e-12)
    before, after = bl.norm(C.grad_psi_sigma(x0, s)), bl.norm(C.grad_psi_sigma(rec.state["x"], s))
    assert np.all(after < 0.2 * before), (before, after)


# ---- backends -------------------------------------------------------------------------------
def _calls(rec):
    return np.asarray(rec.calls) if isinstance(rec.calls, list) else to_numpy(rec.calls)


def test_backends_agree(xp):
    tol = dtype_tol()
    for method in ("bo_rep", "soba", "aid_cg", "ttsa"):
        ref, _ = _run(method, np, 4, [0, 4])
        got, _ = _run(method, xp, 4, [0, 4])
        for key in ("x", "y", "z"):
            np.testing.assert_allclose(to_numpy(got.state[key]), ref.state[key], atol=tol, err_msg=method)
        np.testing.assert_allclose(to_numpy(got.metrics["grad"]), ref.metrics["grad"], atol=tol)
        np.testing.assert_array_equal(_calls(got), _calls(ref), err_msg=method)
    ref, _ = _penalty_run(2, np, T=4, record=(0, 4))
    got, _ = _penalty_run(2, xp, T=4, record=(0, 4))
    np.testing.assert_allclose(to_numpy(got.state["x"]), ref.state["x"], atol=tol)
    x = _x0()
    for kind in ("a", "c"):
        Pn, Px = _quadratic_penalty(kind), _quadratic_penalty(kind, lambda a: to_backend(a, xp))
        xb = to_backend(x, xp)
        np.testing.assert_allclose(to_numpy(Px.psi_sigma(xb, 1e-2)), Pn.psi_sigma(x, 1e-2), atol=tol)
        np.testing.assert_allclose(to_numpy(Px.grad_psi(xb)), Pn.grad_psi(x), atol=tol)
    xj = np.array([[-0.1], [0.0], [0.2]])
    np.testing.assert_allclose(to_numpy(JumpControl().grad_psi_sigma(to_backend(xj, xp), 0.5)),
                               JumpControl().grad_psi_sigma(xj, 0.5), atol=tol)
    data = bl.stack_instances([hypercleaning_data(r, 12, 10, 3, 0.25) for r in _rngs(0)])
    lam = _x0(2, d=12)
    Hn, Hx = hypercleaning_bilevel(data, np.asarray), hypercleaning_bilevel(data, lambda a: to_backend(a, xp))
    np.testing.assert_allclose(to_numpy(Hx.hypergradient(to_backend(lam, xp))), Hn.hypergradient(lam), atol=tol)
