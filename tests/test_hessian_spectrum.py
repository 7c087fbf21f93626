"""hessian-spectrum: the batched dense curvature against column-by-column products and closed
forms, on numpy and array_api_strict; a pinned product count; bad parameters exit 2."""
from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.hessian import dense_hessian
from algorithms.hessian_spectrum import dense_curvature, near_zero_fraction, spectrum
from algorithms.network_objective import NetworkObjective
from algorithms.networks import Architecture, curvature_operator, init_params
from conftest import dtype_tol
from experiments import cli
from experiments.backend import to_numpy
from problems.classification import gaussian_mixture, one_hot


def _setup(xp, *, R=2, n=12, d=3, h=4, k=3, activation="tanh"):
    rngs = [np.random.default_rng(10 + r) for r in range(R)]
    X, labels = gaussian_mixture(rngs, n, d, k, 3.0, 0.5)
    arch = Architecture(d, (h,), k, activation)
    theta = init_params(arch, rngs, scheme="lecun")
    X, theta = xp.asarray(X), xp.asarray(theta)
    objective = NetworkObjective(arch, X, one_hot(xp.asarray(labels), k, X.dtype), "mse")
    return objective, theta


@pytest.mark.parametrize("part", ["full", "gauss_newton", "residual"])
@pytest.mark.parametrize("block", [1, 5, 64])
def test_dense_curvature_matches_column_products(xp, part, block):
    objective, theta = _setup(xp)
    ours = to_numpy(dense_curvature(objective, theta, part=part, block=block))
    ref = to_numpy(dense_hessian(objective.hvp(theta, part), theta))
    np.testing.assert_allclose(ours, 0.5 * (ref + ref.transpose(0, 2, 1)), rtol=0, atol=dtype_tol() * 1e-2)
    np.testing.assert_allclose(ref, ref.transpose(0, 2, 1), atol=dtype_tol() * 1e-2)   # H is symmetric


def test_spectrum_is_descending_and_matches_eigvalsh(xp):
    objective, theta = _setup(xp)
    ev = to_numpy(spectrum(objective, theta))
    H = to_numpy(dense_curvature(objective, theta))
    np.testing.assert_allclose(ev, np.linalg.eigvalsh(H)[:, ::-1], atol=1e-12)
    assert np.all(np.diff(ev, axis=-1) <= 0)


def test_gauss_newton_output_block_is_kronecker_of_feature_moments():
    """MSE: the output-weight block of J^T J / n is I_k (x) (1/n) sum_i a_i a_i^T (a_i hidden
    features), the structure behind the k^2 outliers."""
    objective, theta = _setup(np, R=1, activation="relu")
    arch = objective.arch
    G = dense_curvature(objective, theta, part="gauss_newton")[0]
    hidden, out = arch.layers
    Wsl = out.weight
    A = np.maximum(objective.X[0] @ theta[0, hidden.weight].reshape(hidden.fan_in, hidden.fan_out)
                   + theta[0, hidden.bias], 0.0)
    moments = A.T @ A / A.shape[0]
    block = G[Wsl, Wsl]           # flat layout W[i, c] at i * k + c
    np.testing.assert_allclose(block, np.kron(moments, np.eye(arch.d_out)), atol=1e-12)


def test_gauss_newton_rank_is_at_most_n_times_outputs():
    objective, theta = _setup(np, R=2, n=5, h=8, k=3)
    G = dense_curvature(objective, theta, part="gauss_newton")
    ranks = [np.linalg.matrix_rank(g, tol=1e-10) for g in G]
    assert max(ranks) <= 5 * 3 < objective.arch.n_params


def test_near_zero_fraction_closed_form(xp):
    ev = xp.asarray(np.array([[10.0, 2.0, 0.05, -0.05, 0.0, -0.2]]))
    np.testing.assert_allclose(to_numpy(near_zero_fraction(ev, 0.01)), [0.5])


def test_diverged_trial_gives_nan_not_a_crash():
    objective, theta = _setup(np)
    theta = theta.copy()
    theta[1, 0] = np.nan
    ev = spectrum(objective, theta)
    assert np.isfinite(ev[0]).all() and np.isnan(ev[1]).all()


def test_pinned_product_count():
    """ceil(P / block) batched products build the dense matrix (one forward pass, reused)."""
    objective, theta = _setup(np)
    calls = {"apply": 0, "build": 0}

    def counting(*args):
        calls["build"] += 1
        apply = curvature_operator(*args)

        def wrapped(V):
            calls["apply"] += 1
            return apply(V)
        return wrapped

    P = objective.arch.n_params
    dense_curvature(objective, theta, block=8, operator=counting)
    assert (calls["build"], calls["apply"]) == (1, math.ceil(P / 8)) == (1, 4)


@pytest.mark.parametrize("setting", ["widths=0,8,16", "classes=1,2,3", "batch=100000", "probe_width=0"])
def test_bad_parameters_exit_2(setting, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["run", "hessian-spectrum", "--set", setting, "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and err.startswith("theorycheck: error:"), err
    assert not out.exists()
