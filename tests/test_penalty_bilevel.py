"""penalty-bilevel pieces: instance (c') and the box hypergradient against finite differences
(numpy and array_api_strict), the formulas of runs.py against the blocks' closed forms, pinned
oracle counts, and bad parameters."""
from __future__ import annotations

import numpy as np
import pytest

from algorithms.penalty import penalty_method
from experiments import cli
from experiments.backend import to_backend, to_numpy
from experiments.penalty_bilevel import runs
from problems import bilevel as bl
from problems.bilevel_oracles import StochasticOracles
from problems.penalty_bilevel import ConstrainedQuadraticPenalty, QuadraticPenalty
from problems.penalty_sweeps import (WeightedQuadraticPenalty, box_hypergradient,
                                     weighted_rank_deficient_instance)

R, DX, DY, M = 3, 2, 5, 4
FD_TOL = 1e-6


def _rngs(seed=0):
    return [np.random.default_rng([seed, r]) for r in range(R)]


def _central(fun, x, h=1e-6):
    return np.stack([(fun(x + h * e) - fun(x - h * e)) / (2 * h) for e in np.eye(x.shape[-1])], axis=-1)


def _weighted(asarray=np.asarray):
    arr = bl.stack_instances([weighted_rank_deficient_instance(r, DX, DY, M, rank=2, w_cond=5.0)
                              for r in _rngs()])
    upper = bl.SeparableUpper(asarray(arr["A"]), asarray(arr["b"]), link="softplus")
    lower = bl.QuadraticLower(asarray(arr["Q"]), asarray(arr["B"]), arr["mu"])
    return WeightedQuadraticPenalty(upper, asarray(arr["W"]), lower)


def _x(seed=3):
    return np.random.default_rng(seed).standard_normal((R, DX))


def test_weighted_instance_closed_forms_match_finite_differences(xp):
    P = _weighted(lambda a: to_backend(a, xp))
    Pn = _weighted()
    x = _x()
    xb = to_backend(x, xp)
    np.testing.assert_allclose(to_numpy(P.grad_psi(xb)), _central(Pn.psi, x), atol=FD_TOL)
    # y_opt lies in S(x) and minimizes f there; y_sigma minimizes sigma f + g
    y = to_numpy(P.y_opt(xb))
    assert np.abs(to_numpy(P.lower.grad_y(xb, to_backend(y, xp)))).max() < 1e-10
    assert np.abs(np.einsum("rij,rj->ri", Pn.P_null, Pn.grad_y(x, y))).max() < 1e-10
    s = 1e-2
    ys = Pn.y_sigma(x, s)
    assert np.abs(s * Pn.grad_y(x, ys) + Pn.lower.grad_y(x, ys)).max() < 1e-10
    # psi_sigma's gradient by the runs' formula against differences of psi_sigma
    def psi_sigma(u):
        yu, yl = Pn.y_sigma(u, s), Pn.y_lower(u)
        return runs.penalty_value(Pn.value(u, yu), Pn.lower.value(u, yu), Pn.lower.value(u, yl), s)
    grad = runs.penalty_gradient(Pn.grad_x(x, ys), Pn.lower.grad_x(x, ys), Pn.lower.grad_x(x, Pn.y_lower(x)), s)
    np.testing.assert_allclose(grad, _central(psi_sigma, x), atol=1e-5)


def test_naive_formula_misses_psi_with_anisotropic_f_but_not_with_isotropic_f():
    P, x = _weighted(), _x()
    assert np.abs(P.naive_grad(x) - _central(P.psi, x)).max() > 1e-3
    iso = bl.stack_instances([weighted_rank_deficient_instance(r, DX, DY, M, rank=2, w_cond=1.0)
                              for r in _rngs()])
    upper = bl.SeparableUpper(iso["A"], iso["b"], link="softplus")
    Pi = WeightedQuadraticPenalty(upper, iso["W"], bl.QuadraticLower(iso["Q"], iso["B"], 0.0))
    np.testing.assert_allclose(Pi.naive_grad(x), Pi.grad_psi(x), atol=1e-10)
    same = QuadraticPenalty(upper, bl.QuadraticLower(iso["Q"], iso["B"], 0.0))
    np.testing.assert_allclose(Pi.psi(x), same.psi(x), atol=1e-10)


def test_box_hypergradient_matches_finite_differences_of_cvxpy_psi():
    arr = bl.stack_instances([bl.quadratic_instance(r, DX, DY, M, mu=0.1, cond=2.0, coupling=2.0)
                              for r in _rngs()])
    box = ConstrainedQuadraticPenalty(arr, np.asarray, kind="box", lo=-0.5, hi=0.5, link="softplus")
    x = _x()
    y_star, _ = box.lower_solution(x)
    assert np.any(np.isclose(np.abs(y_star), 0.5, atol=1e-7)), "no active constraint: a weak test"
    grad = box_hypergradient(arr["Q"], arr["B"], arr["mu"], box.np_upper.grad_x(x, y_star), y_star,
                             arr["b"], -0.5, 0.5)
    np.testing.assert_allclose(grad, _central(box.psi, x, h=1e-5), atol=1e-5)


def test_penalty_pieces_match_the_blocks_closed_forms():
    arr = bl.stack_instances([bl.quadratic_instance(r, DX, DY, M, mu=0.1) for r in _rngs()])
    upper = bl.SeparableUpper(arr["A"], arr["b"], link="softplus")
    P = QuadraticPenalty(upper, bl.QuadraticLower(arr["Q"], arr["B"], arr["mu"]))
    x, s, offset = _x(), 1e-3, 1.0
    ys, yl = P.y_sigma(x, s), P.y_lower(x)
    value = runs.penalty_value(upper.value(x, ys), P.lower.value(x, ys) + offset, P.lower.value(x, yl) + offset, s)
    np.testing.assert_allclose(value, P.psi_sigma(x, s), rtol=1e-9)
    grad = runs.penalty_gradient(upper.grad_x(x, ys), P.lower.grad_x(x, ys), P.lower.grad_x(x, yl), s)
    np.testing.assert_allclose(grad, P.grad_psi_sigma(x, s), atol=1e-9)
    wrong = runs.wrong_sign_penalty_value(upper.value(x, ys), P.lower.value(x, ys) + offset,
                                          P.lower.value(x, yl) + offset, s)
    np.testing.assert_allclose(wrong - value, 2 * (P.lower.value(x, yl) + offset) / s)


@pytest.mark.parametrize("inner,per_iteration", [(0, 3), (2, 9)])
def test_pinned_oracle_counts(inner, per_iteration):
    arr = bl.stack_instances([bl.quadratic_instance(r, DX, DY, M, mu=0.1) for r in _rngs()])
    upper = bl.SeparableUpper(arr["A"], arr["b"], link="softplus")
    P = QuadraticPenalty(upper, bl.QuadraticLower(arr["Q"], arr["B"], arr["mu"]))
    oracles = StochasticOracles(P, _rngs())
    penalty_method(oracles, np.ones((R, DX)), np.zeros((R, DY)), sigma=0.05, iterations=7,
                   record=[0, 7], measure=lambda x, y, z: {}, step_x=0.05, step_y=0.2, inner_steps=inner)
    assert oracles.total() == [7 * per_iteration] * R
    assert oracles.calls["upper_grad"] == [7 * per_iteration // 3] * R
    assert oracles.calls["hvp"] == oracles.calls["jvp"] == [0] * R


@pytest.mark.parametrize("override", ["sigma_min=0", "sigma_min=-1e-3", "sigma_max=0",
                                      "box_lo=1", "box_lo=0.5", "sigma_ratio=0", "rank=6"])
def test_bad_parameters_exit_2(override, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["run", "penalty-bilevel", "--set", override, "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and err.startswith("theorycheck: error:"), err
    assert not out.exists()
