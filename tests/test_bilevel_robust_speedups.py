"""The hot-path shortcuts of the bilevel oracles and of SubGM change no result they should not.

- StochasticOracles.lower_grad_y / lower_grads are bitwise the full lower_grad calls (values,
  later noise draws, counts), also mixed on one oracle object and across noise-block refills;
- call counting: uniform charges and per-trial (``active``) charges give the same ``calls``;
- SubGM with the initialization scales as a group axis matches the runs one after the other (to
  round-off), and trial blocks match the all-trials lockstep bitwise; the grouped path is
  sync-free.
"""
from __future__ import annotations

import numpy as np
import pytest

from algorithms.subgradient import l2_gradient_descent, subgradient_method
from problems import bilevel as bl
from problems.bilevel_oracles import KINDS, StochasticOracles
from problems.hypercleaning import hypercleaning_bilevel, hypercleaning_data
from problems.penalty_bilevel import JumpControl
from problems.robust_recovery import initial_factor, make_instances

R = 4


def _rngs(seed, n=R):
    return [np.random.default_rng([seed, r]) for r in range(n)]


def _problems():
    quad = bl.quadratic_bilevel(bl.stack_instances([bl.quadratic_instance(g, 3, 5, 4) for g in _rngs(0)]),
                                np.asarray, link="softplus")
    clean = hypercleaning_bilevel(bl.stack_instances([hypercleaning_data(g, 12, 10, 3, 0.25) for g in _rngs(1)]),
                                  np.asarray)
    return {"quadratic": (quad, 3, 5), "hypercleaning": (clean, 12, 3), "jump": (JumpControl(), 1, 1)}


def _script(o, x, y, shortcut: bool):
    """A sequence of oracle calls mixing every kind (block = 4: several refills); ``shortcut``
    uses lower_grad_y / lower_grads where only those parts are needed."""
    out = []
    for step in range(11):
        x = x + 0.01 * step
        if shortcut:
            gy = o.lower_grad_y(x, y)
            (gx1, gy1), (gx2, gy2) = o.lower_grads(x, (y, 2.0 * y), batch=2)
        else:
            gy = o.lower_grad(x, y)[1]
            (gx1, gy1), (gx2, gy2) = o.lower_grad(x, y, batch=2), o.lower_grad(x, 2.0 * y, batch=2)
        fx, fy = o.upper_grad(x, y)
        out += [gy, gx1, gy1, gx2, gy2, fx, fy, o.hvp(x, y, gy), o.jvp(x, y, gy)]
        y = y - 0.1 * gy
    return out


@pytest.mark.parametrize("noise", [0.0, 0.3])
@pytest.mark.parametrize("name", ["quadratic", "hypercleaning", "jump"])
def test_lower_gradient_shortcuts_are_bitwise_the_full_calls(name, noise):
    P, dx, dy = _problems()[name]
    x, y = np.full((R, dx), 0.2), np.full((R, dy), 0.1)
    full, short = (StochasticOracles(P, _rngs(7), noise_std=noise, block=4) for _ in range(2))
    for a, b in zip(_script(full, x, y, False), _script(short, x, y, True), strict=True):
        np.testing.assert_array_equal(a, b)
    assert full.calls == short.calls and full.total() == short.total()


def test_quadratic_lower_shares_the_linear_term_exactly():
    P, dx, dy = _problems()["quadratic"]
    x, y, z = (np.random.default_rng(3).standard_normal((R, n)) for n in (dx, dy, dy))
    for (gx, gy), w in zip(P.lower.grads_at(x, (y, z)), (y, z)):
        np.testing.assert_array_equal(gx, P.lower.grad_x(x, w))
        np.testing.assert_array_equal(gy, P.lower.grad_y(x, w))


def test_call_counts_uniform_and_per_trial():
    P, dx, dy = _problems()["quadratic"]
    o = StochasticOracles(P, _rngs(0))
    assert o.calls == {k: [0] * R for k in KINDS} and o.for_record(np.zeros(1)) == 0
    o.charge("upper_grad", 3)
    o.charge("hvp", 2, active=[True, False, True, False])
    o.charge("hvp", 1)
    assert o.calls["upper_grad"] == [3] * R and o.calls["hvp"] == [3, 1, 3, 1]
    assert o.total() == [6, 4, 6, 4]
    np.testing.assert_array_equal(o.for_record(np.zeros(1)), [6, 4, 6, 4])
    o.charge("hvp", 2, active=[False, True, False, True])        # every trial equal again: an int
    assert o.for_record(np.zeros(1)) == 6 and isinstance(o.for_record(np.zeros(1)), int)
    np.testing.assert_array_equal(o.by_kind(np.zeros(1))["calls_hvp"], [3.0] * R)
    with pytest.raises(KeyError):
        o.charge("hessian", 1, active=[True] * R)


# ---- SubGM: group axis and trial blocks --------------------------------------------------------
def _sensing(R=5, d=6, k=6, m=80, seed=0):
    rngs = _rngs(seed, R)
    A, X, y = make_instances(rngs, d, 2, m, "outlier", 0.1, 10.0)
    return A, y, initial_factor(rngs, d, k), X


ALPHAS = (1e-6, 1e-4, 1e-2)


def test_grouped_scales_match_the_runs_one_after_the_other():
    A, y, B, X = _sensing()
    kw = dict(eta0=1.2, rho=0.96, iterations=80, record=range(0, 81, 10))
    grouped = subgradient_method(A, y, np.stack([a * B for a in ALPHAS], axis=1), X, **kw)
    assert grouped.metrics["error"].shape == (5, len(ALPHAS), 9) and grouped.calls == list(range(0, 81, 10))
    for j, a in enumerate(ALPHAS):
        one = subgradient_method(A, y, a * B, X, **kw)
        np.testing.assert_allclose(grouped.metrics["error"][:, j, :], one.metrics["error"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(grouped.state["U"][:, j], one.state["U"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("method", ["subgm", "l2"])
def test_trial_blocks_are_bitwise_the_lockstep(method, grouped):
    A, y, B, X = _sensing()
    U0 = np.stack([a * B for a in ALPHAS], axis=1) if grouped else 1e-3 * B

    def run(size):
        if method == "subgm":
            return subgradient_method(A, y, U0, X, eta0=1.2, rho=0.96, iterations=30, record=[0, 7, 30],
                                      trials_per_block=size)
        return l2_gradient_descent(A, y, U0, X, eta=0.1, iterations=30, record=[0, 7, 30], trials_per_block=size)

    whole = run(A.shape[0])
    for size in (1, 2, 3):
        blocked = run(size)
        assert blocked.iterations == whole.iterations and blocked.calls == whole.calls
        np.testing.assert_array_equal(blocked.metrics["error"], whole.metrics["error"])
        np.testing.assert_array_equal(blocked.state["U"], whole.state["U"])


def test_large_operators_run_in_blocks_with_unchanged_numbers(monkeypatch):
    """The default block size comes from problems.sensing.cache_block_trials; a run split by it
    gives the numbers of the unsplit run."""
    import algorithms.trial_blocks as blocks

    A, y, B, X = _sensing(R=4, d=8, k=8, m=120)
    kw = dict(eta0=1.2, rho=0.96, iterations=20, record=[0, 20])
    sizes = []
    monkeypatch.setattr(blocks, "cache_block_trials", lambda A, trials: sizes.append(trials) or 1)
    blocked = subgradient_method(A, y, 1e-3 * B, X, **kw)
    assert sizes == [4]
    monkeypatch.undo()
    np.testing.assert_array_equal(blocked.metrics["error"],
                                  subgradient_method(A, y, 1e-3 * B, X, trials_per_block=4, **kw).metrics["error"])


def test_grouped_subgm_is_sync_free(monkeypatch):
    pytest.importorskip("array_api_strict")
    from test_sync_free import _assert_sync_free, _dev

    A, y, B, X = (_dev(a) for a in _sensing(R=3, d=5, k=5, m=40))
    import array_api_strict as xps
    U0 = xps.stack([a * B for a in ALPHAS], axis=1)

    def build(n):
        return lambda: subgradient_method(A, y, U0, X, eta0=0.5, rho=0.95, iterations=n, record=[n],
                                          trials_per_block=2)
    _assert_sync_free(monkeypatch, build)
