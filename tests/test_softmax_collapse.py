"""softmax-collapse blocks: the addition task, StableMax against closed forms and finite
differences, ⊥Grad's definition, the SC measures, the collapse threshold, bad parameters."""
from __future__ import annotations

import numpy as np
import pytest

from algorithms import softmax_collapse as sc
from algorithms.losses import CrossEntropy, softmax_with_sum
from algorithms.networks import Architecture, init_params
from experiments import cli
from problems.modular_arithmetic import addition_table, modular_addition_split, train_size


def test_addition_table_and_split():
    X, y = addition_table(5)
    assert X.shape == (25, 10) and np.all(X.sum(1) == 2)
    a, b = np.argmax(X[:, :5], 1), np.argmax(X[:, 5:], 1)
    np.testing.assert_array_equal(y, (a + b) % 5)
    rngs = [np.random.default_rng(i) for i in range(3)]
    Xtr, Ytr, Xte, Yte = modular_addition_split(rngs, 5, 0.4)
    assert Xtr.shape == (3, train_size(5, 0.4), 10) and Xte.shape[1] == 25 - 10 and Ytr.shape[-1] == 5
    assert not np.array_equal(Xtr[0], Xtr[1])         # a split per trial
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError):
            modular_addition_split(rngs, 5, bad)


def test_test_labels_never_seen_with_their_operands():
    """Why memorizing networks score below chance (0 instead of 1/q) on this task: the label c of
    a test pair (a, b) never occurs with a or with b in training (a and c fix b), so per-operand
    label counts rank c last."""
    q = 11
    rngs = [np.random.default_rng(i) for i in range(2)]
    Xtr, Ytr, Xte, Yte = modular_addition_split(rngs, q, 0.5)
    for r in range(2):
        seen_a = np.einsum("na,nc->ac", Xtr[r, :, :q], Ytr[r])   # label counts per first operand
        seen_b = np.einsum("nb,nc->bc", Xtr[r, :, q:], Ytr[r])
        score = Xte[r, :, :q] @ seen_a + Xte[r, :, q:] @ seen_b
        assert np.all(np.sum(score * Yte[r], -1) == 0)            # the true label: never seen
        assert np.mean(np.argmax(score, -1) == np.argmax(Yte[r], -1)) == 0.0


def test_gradient_alone_matches_loss_and_gradient():
    arch = Architecture(6, (5, 5), 3, bias=False)
    rngs = [np.random.default_rng(i) for i in range(2)]
    theta = init_params(arch, rngs)
    X = np.random.default_rng(5).standard_normal((2, 7, 6))
    Y = np.eye(3)[np.random.default_rng(6).integers(0, 3, (2, 7))]
    for loss in (CrossEntropy, sc.StableMaxCrossEntropy):
        np.testing.assert_allclose(sc.gradient(arch, theta, X, Y, loss),
                                   sc.loss_and_gradient(arch, theta, X, Y, loss)[1])


def test_stablemax_s_branches(xp):
    x = xp.asarray([-3.0, -0.5, 0.0, 2.0])
    np.testing.assert_allclose(np.asarray(sc.stablemax_s(x)), [0.25, 1 / 1.5, 1.0, 3.0])
    p = np.asarray(sc.stablemax(xp.asarray([[0.0, -1.0]])))
    np.testing.assert_allclose(p, [[2 / 3, 1 / 3]])


def test_stablemax_grad_and_hvp_match_finite_differences():
    rng = np.random.default_rng(0)
    F = 3 * rng.standard_normal((2, 4, 5))
    Y = np.eye(5)[rng.integers(0, 5, (2, 4))]
    L, h = sc.StableMaxCrossEntropy, 1e-6
    V = rng.standard_normal(F.shape)
    fd = (L.value(F + h * V, Y) - L.value(F - h * V, Y)) / (2 * h)
    np.testing.assert_allclose(np.sum(L.grad(F, Y) * V, -1), fd, rtol=1e-6, atol=1e-8)
    fd2 = (L.grad(F + h * V, Y) - L.grad(F - h * V, Y)) / (2 * h)
    np.testing.assert_allclose(L.hess_vec(F, Y, V), fd2, rtol=1e-5, atol=1e-7)


def test_perp_grad_removes_weight_direction_and_keeps_norm(xp):
    arch = Architecture(4, (3, 3), 2, bias=False)
    rngs = [np.random.default_rng(i) for i in range(2)]
    w = xp.asarray(init_params(arch, rngs))
    g = xp.asarray(np.random.default_rng(9).standard_normal((2, arch.n_params)))
    out = sc.perpendicular_gradient(arch)(w, g)
    for s in sc.tensor_slices(arch):
        W, G, Out = (np.asarray(a[:, s]) for a in (w, g, out))
        np.testing.assert_allclose(np.sum(W * Out, -1), 0.0, atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(Out, axis=-1), np.linalg.norm(G, axis=-1))
        perp = G - (np.sum(W * G, -1) / np.sum(W * W, -1))[:, None] * W
        np.testing.assert_allclose(Out, perp * (np.linalg.norm(G, axis=-1) / np.linalg.norm(perp, axis=-1))[:, None])


def test_sc_measures_agree_and_threshold_is_sharp():
    for dtype in ("float32", "float64"):
        eps = float(np.finfo(dtype).eps)
        edge = np.log(2 / eps)
        gaps = edge + np.array([-1e-3, 1e-3, 0.5, 2.0])
        F = np.zeros((1, 4, 3), dtype=dtype)
        F[0, :, 0] = gaps
        F[0, :, 1:] = 0.0                      # two classes at the gap: (k-1) = 2 terms
        F[0, 3, 2] = -50.0
        Y = np.zeros_like(F)
        Y[..., 0] = 1
        _, S = softmax_with_sum(F)
        collapsed = S[0] == 1.0
        # below log(2/eps): never; between: depends on the others; at log(2(k-1)/eps) + margin: always
        assert not collapsed[0] and collapsed[3]
        # just above log(2/eps) it depends on the summation order (summed after the max, each term
        # is absorbed on its own): the bracket's inside is not pinned here
        np.testing.assert_allclose(sc.softmax_collapse_fraction(F), sc.dead_gradient_fraction(F, Y, CrossEntropy))


def test_top2_gap_and_nlm_cosine(xp):
    F = xp.asarray([[[1.0, 3.0, 2.5], [0.0, 0.0, -1.0]]])
    np.testing.assert_allclose(np.asarray(sc.top2_gap(F)), [[0.5, 0.0]])
    w = xp.asarray([[1.0, 2.0]])
    np.testing.assert_allclose(np.asarray(sc.nlm_cosine(w, -3.0 * w)), [1.0])


def test_quick_run_counts_gradient_calls():
    from experiments import registry
    from experiments.base import RunEnv
    exp = registry.get("softmax-collapse")
    p = exp.resolve("quick", {"q": "5", "steps": "100", "f64_steps": "100", "stablemax_steps": "100",
                              "perp_steps": "100", "record_every": "50"})
    tr = exp.run_unit(exp.sweep(p)[0], p, RunEnv(np, [np.random.default_rng(i) for i in range(3)]))
    np.testing.assert_array_equal(tr.calls()[0], [0, 50, 100])   # one full-batch gradient a step
    assert tr.series_of("sc_fraction").shape == (3, 3)


@pytest.mark.parametrize("setting", ["q=1", "train_fraction=0", "train_fraction=1", "train_fraction=1.5",
                                     "dtypes=float32,float16", "dtypes=float64,float64"])
def test_bad_parameters_exit_2(setting, tmp_path, capsys):
    code = cli.main(["run", "softmax-collapse", "--set", setting, "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and not (tmp_path / "o").exists()
