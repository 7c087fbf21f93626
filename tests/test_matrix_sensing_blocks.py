"""matrix-sensing GD run in cache-sized trial blocks (issue 11, item 5): the blocks change which
operators each step rereads, never the numbers.  Blocked runs must equal the all-trials lockstep
bitwise, for block sizes that divide R and one that does not; the automatic block size follows
the operator's size (no timing here: benchmarks/bench_matrix_sensing.py measures)."""
from __future__ import annotations

import numpy as np
import pytest

from algorithms.factorized_gd import asymmetric_gd, symmetric_gd
from experiments.backend import to_backend, to_numpy
from problems.matrix_sensing import asymmetric_instance, random_factor, symmetric_instance
from problems.sensing import OPERATOR_CACHE_BYTES, cache_block_trials

R = 5
BLOCKS = (1, 2, 3, R)           # 2 and 3 do not divide R: the last block is shorter


def _rngs(seed):
    return [np.random.default_rng([seed, i]) for i in range(R)]


def _symmetric():
    A, M, y = symmetric_instance(_rngs(1), 6, 30, (1.0, 0.6))
    return A, y, random_factor(_rngs(2), 6, 3, 0.1), M


def _asymmetric():
    A, M, y = asymmetric_instance(_rngs(3), 6, 5, 25, (1.0, 0.6))
    scales = np.array([0.1, 0.3])[None, :, None, None]
    F0 = random_factor(_rngs(4), 6, 3, 1.0)[:, None] * scales
    G0 = random_factor(_rngs(5), 5, 3, 1.0)[:, None] * scales / 3
    return A, y, F0, G0, M[:, None]


def _assert_same(blocked, whole):
    assert blocked.iterations == whole.iterations and blocked.calls == whole.calls
    assert blocked.metrics.keys() == whole.metrics.keys() and blocked.state.keys() == whole.state.keys()
    for name in whole.metrics:
        np.testing.assert_array_equal(to_numpy(blocked.metrics[name]), to_numpy(whole.metrics[name]))
    for name in whole.state:
        np.testing.assert_array_equal(to_numpy(blocked.state[name]), to_numpy(whole.state[name]))


@pytest.mark.parametrize("block", BLOCKS)
def test_blocked_symmetric_gd_equals_lockstep(block):
    A, y, X0, M = _symmetric()
    kw = dict(step=0.2, iterations=40, record=[0, 1, 17, 40], target=M)
    _assert_same(symmetric_gd(A, y, X0, trials_per_block=block, **kw),
                 symmetric_gd(A, y, X0, trials_per_block=R, **kw))


@pytest.mark.parametrize("block", BLOCKS)
def test_blocked_asymmetric_gd_equals_lockstep(block):
    """With the group axis, the one-step modification and the gradient Gram state."""
    A, y, F0, G0, target = _asymmetric()
    kw = dict(step=0.2, iterations=30, record=[0, 10, 30], target=target, rebalance_at=12, beta=0.5)
    _assert_same(asymmetric_gd(A, y, F0, G0, trials_per_block=block, **kw),
                 asymmetric_gd(A, y, F0, G0, trials_per_block=R, **kw))


def test_blocks_on_another_backend(xp):
    """Slicing and joining are array-API generic (array_api_strict where installed)."""
    A, y, X0, M = _symmetric()
    args = [to_backend(a, xp) for a in (A, y, X0)]
    kw = dict(step=0.2, iterations=20, record=[20], target=to_backend(M, xp))
    _assert_same(symmetric_gd(*args, trials_per_block=2, **kw), symmetric_gd(*args, trials_per_block=R, **kw))


def test_shared_operator_and_broadcast_target_reach_every_block():
    """A (1, m, n^2) operator and a target without the trial axis are not sliced: every block
    runs the trials it would run with R copies of the operator."""
    A, y, X0, M = _symmetric()
    shared, target = A[:1], M[0]
    y = np.broadcast_to(y[:1], y.shape).copy()
    kw = dict(step=0.2, iterations=20, record=[20], target=target)
    copies = np.broadcast_to(shared, A.shape).copy()
    _assert_same(symmetric_gd(shared, y, X0, trials_per_block=2, **kw),
                 symmetric_gd(copies, y, X0, trials_per_block=R, **kw))


def test_block_size_follows_the_operator_size():
    m, n = 120, 20
    per_trial = m * n * n * 8
    fitting = OPERATOR_CACHE_BYTES // per_trial
    assert fitting >= 2
    assert cache_block_trials(np.zeros((32, m, n * n)), 32) == fitting       # as many as fit
    assert cache_block_trials(np.zeros((3, m, n * n)), 3) == min(3, fitting)  # small: all trials
    assert cache_block_trials(np.zeros((1, m, n * n)), 32) == 32              # shared: all trials
    huge = OPERATOR_CACHE_BYTES // (n * n * 8) + 1
    assert cache_block_trials(np.zeros((4, huge, n * n)), 4) == 1             # one trial per block
    assert cache_block_trials(np.zeros((32, m, n * n), dtype=np.float32), 32) == OPERATOR_CACHE_BYTES // (per_trial // 2)


@pytest.mark.parametrize("model", ["symmetric", "asymmetric"])
def test_blocked_runs_stay_sync_free(monkeypatch, model):
    """Slicing the blocks and joining their recordings adds no device -> host conversion
    (tests/test_sync_free.py runs sizes that fit one block)."""
    sync_free = pytest.importorskip("test_sync_free")
    dev = sync_free._dev
    if model == "symmetric":
        A, y, X0, M = (dev(a) for a in _symmetric())

        def build(n):
            return lambda: symmetric_gd(A, y, X0, step=0.2, iterations=n, record=[n], target=M,
                                        trials_per_block=2)
    else:
        A, y, F0, G0, target = (dev(a) for a in _asymmetric())

        def build(n):
            return lambda: asymmetric_gd(A, y, F0, G0, step=0.2, iterations=n, record=[n], target=target,
                                         rebalance_at=2, trials_per_block=2)
    sync_free._assert_sync_free(monkeypatch, build)
