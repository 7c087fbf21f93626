"""bilevel-unbounded pieces: the cosh upper level against finite differences (numpy and
array_api_strict), the tracking level's refinement response against epoch-SGD, pinned oracle counts, the AUC, and bad parameters."""
from __future__ import annotations

import numpy as np
import pytest

from algorithms.bilevel import bo_rep, epoch_sgd
from experiments import cli
from experiments.backend import to_backend, to_numpy
from problems import bilevel as bl
from problems import bilevel_unbounded as bu
from problems.bilevel_oracles import StochasticOracles

R, DX, DY = 3, 3, 5
FD_TOL = 1e-6


def _rngs(seed=0):
    return [np.random.default_rng([seed, r]) for r in range(R)]


def _arrays(seed=0):
    return bl.stack_instances([bu.cosh_instance(r, DX, DY, mu=0.1, cond=5.0) for r in _rngs(seed)])


def _central(fun, x, h=1e-6):
    return np.stack([(fun(x + h * e) - fun(x - h * e)) / (2 * h) for e in np.eye(x.shape[-1])], axis=-1)


@pytest.mark.parametrize("link", bu.COSH_LINKS)
def test_cosh_upper_and_hypergradient_match_finite_differences(link, xp):
    arr = _arrays()
    P = bu.cosh_bilevel(arr, lambda a: to_backend(a, xp), link=link)
    x = np.random.default_rng(1).standard_normal((R, DX))
    y = np.random.default_rng(2).standard_normal((R, DY))
    Pn = bu.cosh_bilevel(arr, np.asarray, link=link)
    np.testing.assert_allclose(to_numpy(P.upper.grad_x(to_backend(x, xp), to_backend(y, xp))),
                               _central(lambda u: Pn.upper.value(u, y), x), atol=FD_TOL)
    np.testing.assert_allclose(to_numpy(P.hypergradient(to_backend(x, xp))), _central(Pn.phi, x), atol=FD_TOL)


def test_cosh_is_l0_l1_smooth_and_logcosh_is_lipschitz_smooth():
    """||d2_x f|| <= scale c^2 + c ||grad_x f|| for orthogonal rows of norm c; log cosh: <= c^2."""
    arr = _arrays()
    for level in (0.0, 2.0, 5.0):
        x = level * np.einsum("rmd,m->rd", arr["A"], np.ones(DX)) + 0.3
        t = np.einsum("rmd,rd->rm", arr["A"], x)
        hess = np.einsum("rmd,rm,rme->rde", arr["A"], np.cosh(t), arr["A"])
        grad = bu.cosh_bilevel(arr, np.asarray).upper.grad_x(x, None)
        assert np.all(np.linalg.norm(hess, ord=2, axis=(1, 2)) <= 1 + np.linalg.norm(grad, axis=-1) + 1e-9)
        assert np.all(np.linalg.norm(np.einsum("rmd,rm,rme->rde", arr["A"], 1 / np.cosh(t) ** 2, arr["A"]),
                                     ord=2, axis=(1, 2)) <= 1 + 1e-12)


def test_refinement_response_is_exact_for_a_noiseless_quadratic():
    arr = _arrays()
    P = bu.cosh_bilevel(arr, np.asarray)
    x = np.ones((R, DX))
    y0 = np.zeros((R, DY))
    y = epoch_sgd(StochasticOracles(P, _rngs()), x, y0, step=0.09, epochs=3, steps=4)
    H = arr["Q"] + 0.1 * np.eye(DY)
    lam, V = np.linalg.eigh(H)
    factor, _ = bu._refinement_response(lam.ravel(), 0.09, 3, 4)
    e0 = np.einsum("rij,ri->rj", V, y0 - P.y_star(x))
    expected = np.einsum("rij,rj->ri", V, factor.reshape(R, DY) * e0)
    np.testing.assert_allclose(y - P.y_star(x), expected, atol=1e-12)


def test_tracking_level_holds_with_noise():
    arr = _arrays()
    P = bu.cosh_bilevel(arr, np.asarray)
    x0 = np.einsum("rmd,m->rd", arr["A"], np.ones(DX))
    y0 = np.zeros((R, DY))
    rec = bo_rep(StochasticOracles(P, _rngs(), noise_std=0.1), x0, y0, iterations=200,
                 record=range(0, 201, 2), measure=lambda x, y, z: {"e": P.tracking_error(x, y)},
                 eta=0.025, gamma=0.09, nu=0.05, period=2, lower_steps=5)
    level = bu.tracking_level(arr["Q"], arr["B"], 0.1, start_error=np.linalg.norm(P.y_star(x0), axis=-1),
                              gamma=0.09, lower_steps=5, period=2, eta=0.025, noise=0.1, updates=100,
                              refine_epochs=3, refine_steps=8)
    assert np.all(rec.metrics["e"] <= level)


def test_pinned_oracle_counts():
    arr = _arrays()
    P = bu.cosh_bilevel(arr, np.asarray)
    x0, y0 = np.full((R, DX), 0.5), np.zeros((R, DY))
    o = StochasticOracles(P, _rngs(), noise_std=0.1)
    bo_rep(o, x0, y0, iterations=10, record=[10], measure=lambda x, y, z: {}, eta=0.05, gamma=0.09,
           nu=0.05, period=2, lower_steps=5)
    # refinement 8 (1 + 2 + 4) = 56 lower gradients, 5 periodic updates of 5 steps, 10 x 3 others
    assert o.calls == {"upper_grad": [10] * R, "lower_grad": [81] * R, "hvp": [10] * R, "jvp": [10] * R}


def test_auc():
    scores = np.array([[3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    pos = np.array([[True, True, False, False]] * 3)
    np.testing.assert_allclose(bu.auc(scores, pos), [1.0, 0.0, 0.5])


@pytest.mark.parametrize("override", ["mu=0", "period=0", "noise=-0.1", "flip=0.5", "flip=-0.1"])
def test_bad_parameters_exit_2(override, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["run", "bilevel-unbounded", "--set", override, "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and err.startswith("theorycheck: error:")
    assert not out.exists()
