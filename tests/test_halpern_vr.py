"""halpern-vr specifics: the algorithms on every backend, closed forms, pinned oracle counts,
cvxpy ground truth.  (Claims, bad parameters and round trips: tests/test_claims.py and
tests/test_contract.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.halpern import extra_anchored_gradient, extragradient, halpern
from algorithms.halpern_vr import TrialDraws, inexact_halpern, page_halpern
from conftest import dtype_tol
from experiments.backend import to_backend, to_numpy
from experiments.halpern_vr.runs import first_hits
from problems import monotone_instances as inst
from problems.monotone import FiniteSumOperator, duality_gap, project_simplex

N_COMPONENTS, ITERS = 12, 20


def _lsq_operator(xp, R=3, n=N_COMPONENTS, d=4, seed=0):
    rngs = [np.random.default_rng([seed, r]) for r in range(R)]
    data = [inst.least_squares(rng, n, d) for rng in rngs]
    M = to_backend(np.stack([x["M"] for x in data]), xp)
    c = to_backend(np.stack([x["c"] for x in data]), xp)
    return FiniteSumOperator(M, c)


def _residual(op):
    return lambda x: {"residual": op.residual(x, 1.0)}


def _run(name, xp):
    """One method for ITERS steps on a small least-squares problem, recording every step."""
    op = _lsq_operator(xp)
    rngs = [np.random.default_rng([7, r]) for r in range(op.R)]
    x0 = to_backend(np.zeros((op.R, op.D)), xp)
    rec = {"record": range(ITERS + 1), "measure": _residual(op)}
    if name == "halpern":
        out = halpern(op, x0, 1.0, ITERS, **rec)
    elif name == "page":
        out = page_halpern(op, x0, 1.0, ITERS, 4, rngs, **rec)
    elif name == "alg2":
        out = inexact_halpern(op, x0, math.sqrt(op.n), 4, rngs, inner_steps=12,
                              inner_step=1.0 / (math.sqrt(op.n) * (1 + math.sqrt(op.n))), **rec)
    elif name == "eg":
        out = extragradient(op, x0, 0.5, ITERS, **rec)
    else:
        out = extra_anchored_gradient(op, x0, 1 / 8, ITERS, **rec)
    return out, op


METHODS = ("halpern", "page", "alg2", "eg", "eag")


@pytest.mark.parametrize("name", METHODS)
def test_algorithms_backend_generic(name, xp):
    ref, ref_op = _run(name, np)
    got, op = _run(name, xp)
    np.testing.assert_allclose(to_numpy(got.state["x"]), ref.state["x"], rtol=dtype_tol(), atol=dtype_tol())
    np.testing.assert_allclose(to_numpy(got.metrics["residual"]), ref.metrics["residual"],
                               rtol=dtype_tol(), atol=dtype_tol())
    np.testing.assert_array_equal(op.calls, ref_op.calls)
    np.testing.assert_array_equal(to_numpy(got.calls), ref.calls)
    # the device-side count recorded at the last step is the host-side count
    np.testing.assert_array_equal(to_numpy(got.calls)[:, -1], op.calls)


def test_oracle_call_counts_pinned():
    """Regression guards: deterministic counts are exact; the random ones are pinned for a seed."""
    n = N_COMPONENTS
    counts = {name: _run(name, np)[1].calls.tolist() for name in METHODS}
    assert counts["halpern"] == [ITERS * n] * 3          # one full evaluation per step
    assert counts["eg"] == [2 * ITERS * n] * 3           # two per step
    assert counts["eag"] == [2 * ITERS * n] * 3
    # PAGE: a first full pass, then n (coin) or 2 * batch per step
    assert all(n + (ITERS - 1) * 2 * 4 <= c <= ITERS * n for c in counts["page"])
    assert counts["page"] == [200, 180, 192]          # pinned with the block draws (TrialDraws)
    assert counts["alg2"] == [168, 216, 180]


@pytest.mark.parametrize("block", [1, 7, 64])
def test_trial_draws_do_not_depend_on_block_or_other_trials(block):
    """Trial r reads its own generator in order: the same draws whatever the block length and
    whether it runs alone or beside other trials."""
    op = _lsq_operator(np, R=3)
    draws = TrialDraws([np.random.default_rng([5, r]) for r in range(3)], op, 4, block=block)
    alone = TrialDraws([np.random.default_rng([5, 1])], _lsq_operator(np, R=1), 4, block=5)
    for _ in range(20):
        rows, coin, least = draws.next()
        rows1, coin1, _ = alone.next()
        assert least == coin.min()
        np.testing.assert_array_equal(rows[4:8] - op.n, rows1)      # trial 1's rows, offset by n
        assert coin[1] == coin1[0] and 0 <= rows1.min() and rows1.max() < op.n


def test_recording_is_on_the_iterates_device(xp):
    out, _ = _run("page", xp)
    assert out.iterations == list(range(ITERS + 1))
    assert out.metrics["residual"].shape == (3, ITERS + 1) and out.calls.shape == (3, ITERS + 1)


def test_budget_stops_on_host_counts():
    op = _lsq_operator(np)
    out = halpern(op, np.zeros((op.R, op.D)), 1.0, 1000, record=[0, 1000], measure=_residual(op),
                  max_calls=5 * N_COMPONENTS)
    assert out.iterations == [0, 5] and op.calls.tolist() == [5 * N_COMPONENTS] * 3


def _rotation_operator(angle):
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return FiniteSumOperator((np.eye(2) - rot)[None, None], np.zeros((1, 1, 2)))


@pytest.mark.parametrize("angle", [np.pi, 0.93 * np.pi, 2.0])
def test_halpern_closed_form_on_rotations(angle):
    """(N+1)(I - T) x_N = (I - T^{N+1}) x0 for Halpern on a linear T: on a rotation by a the
    residual is 2|sin((N+1)a/2)| ||x0||/(N+1); for a = pi (T = -I) the bound is attained at even N."""
    op = _rotation_operator(angle)
    x0 = np.array([[3.0, -4.0]])
    out = halpern(op, x0, 1.0, 40, record=range(41), measure=_residual(op))
    N = np.arange(41)
    closed = 2 * np.abs(np.sin((N + 1) * angle / 2)) * 5.0 / (N + 1)
    np.testing.assert_allclose(out.metrics["residual"][0], closed, rtol=0, atol=1e-13)
    if angle == np.pi:
        assert out.metrics["residual"][0, 10] == pytest.approx(2 * 5.0 / 11, rel=1e-12)


def test_plain_iteration_on_rotation_does_not_converge():
    op = _rotation_operator(0.95 * np.pi)
    x0 = np.array([[1.0, 0.0]])
    out = halpern(op, x0, 1.0, 30, record=range(31), measure=_residual(op), anchored=False)
    np.testing.assert_allclose(out.metrics["residual"][0], 2 * np.sin(0.95 * np.pi / 2), rtol=1e-12)


def test_first_hits_reads_calls_at_the_first_step_below_eps():
    residual = np.array([[1.0, 0.5, 0.2, 0.3, 0.05], [1.0, 0.9, 0.8, 0.7, 0.6]])
    calls = np.array([[0, 10, 20, 30, 40], [0, 12, 24, 36, 48]])
    np.testing.assert_array_equal(first_hits(residual, calls, 0.25), [20.0, np.nan])


def test_simplex_projection(xp):
    v = np.random.default_rng(0).standard_normal((4, 7)) * 2
    p = to_numpy(project_simplex(to_backend(v, xp)))
    assert np.allclose(p.sum(axis=1), 1.0) and (p >= 0).all()
    import cvxpy as cp
    for row, proj in zip(v, p):
        z = cp.Variable(7)
        cp.Problem(cp.Minimize(cp.sum_squares(z - row)), [z >= 0, cp.sum(z) == 1]).solve()
        np.testing.assert_allclose(proj, z.value, atol=1e-6)


def test_cvxpy_matrix_game_ground_truth():
    rng = np.random.default_rng(3)
    data = inst.policeman_burglar(rng, 4, 5)
    eq = inst.solve_matrix_game(data["A"])
    A, x, y = data["A"], eq["x"], eq["y"]
    assert abs(eq["value"] - eq["value_dual"]) < 1e-7
    assert (A.T @ x).max() - (A @ y).min() < 1e-7     # zero duality gap at the equilibrium
    # the stacked components average to the game matrix, scaled to average Lipschitz 1
    assert inst.average_lipschitz(data["M"]) == pytest.approx(1.0)
    op = FiniteSumOperator(data["M"][None], data["c"][None], constraint="simplices", split=5)
    np.testing.assert_allclose(op.game_matrix[0], A, atol=1e-14)
    assert abs(duality_gap(op.game_matrix, np.concatenate([x, y])[None], 5)[0]) < 1e-7


def test_cvxpy_box_least_squares_is_fixed_point():
    rng = np.random.default_rng(1)
    d = inst.least_squares(rng, 30, 4)
    x, _, status = inst.solve_box_least_squares(d["A"], d["b"], -0.3, 0.3)
    grad = d["A"].T @ (d["A"] @ x - d["b"]) / 30
    assert status == "optimal"
    assert np.linalg.norm(x - np.clip(x - grad, -0.3, 0.3)) < 1e-6


def test_n_sweep_shares_streams_and_mean_operator():
    """Common random numbers: the scaling units of one problem share a stream key, so trial r
    draws the same mean operator at every n; fixed-n units keep their own streams."""
    from experiments.halpern_vr import EXPERIMENT
    from experiments.seeds import trial_rngs

    p = EXPERIMENT.defaults("quick")
    units = EXPERIMENT.sweep(p)
    scaling = [u for u in units if u["sweep"] == "n" and u["problem"] == "bq"]
    keys = {str(EXPERIMENT.stream_key(u)) for u in scaling}
    assert len(scaling) >= 10 and len(keys) == 1
    fixed = [u for u in units if u["sweep"] == "fixed"]
    assert all(EXPERIMENT.stream_key(u) == u for u in fixed)
    means = [inst.bilinear_quadratic(trial_rngs(0, EXPERIMENT.name, EXPERIMENT.stream_key(u), 2)[1],
                                     u["n"], p["m"])["solution"] for u in scaling]
    for z in means[1:]:
        np.testing.assert_array_equal(z, means[0])
