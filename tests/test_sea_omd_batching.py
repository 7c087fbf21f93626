"""sea-omd units run together (Experiment.batch_key / run_units): a unit's trace is bitwise the
one it gets alone, whatever it is batched with; the runner's grouping; the deferred loss sums; the
comparator's counts from the schedule's labels and its re-solved cvxpy problem."""
from __future__ import annotations

import numpy as np
import pytest

from algorithms import online
from experiments import runner
from experiments.runner import RunOptions, batches, compute_unit, compute_units, run_experiment
from experiments.sea_omd import EXPERIMENT as EXP
from problems import sea
from problems import sea_comparator as sc

MODULE = "experiments.sea_omd"


@pytest.fixture(scope="module")
def p():
    return EXP.resolve_values("quick", {"T": 2000})


def _same(a, b) -> bool:
    return (a.series.keys() == b.series.keys() and a.scalars.keys() == b.scalars.keys()
            and all(np.array_equal(a.series[k], b.series[k], equal_nan=True) for k in a.series)
            and all(np.array_equal(a.scalars[k], b.scalars[k], equal_nan=True) for k in a.scalars)
            and np.array_equal(a.iterations, b.iterations) and a.info == b.info)


def _groups(p):
    out: dict = {}
    for u in EXP.sweep(p):
        key = EXP.batch_key(u)
        if key is not None:
            out.setdefault(key, []).append(u)
    return {k: v for k, v in out.items() if len(v) > 1}


def test_every_learner_family_is_batched(p):
    families = {k[0] for k in _groups(p)}
    assert families >= {"oomd", "oomd-sc", "ogd", "oftrl", "fixed-step"}
    assert all(EXP.batch_key(u) is None for u in EXP.sweep(p) if u["algorithm"] == "oons")


@pytest.mark.parametrize("family", ["oomd", "oomd-sc", "ogd", "oftrl", "fixed-step"])
def test_a_batched_unit_is_bitwise_the_unit_alone(p, family):
    """Each group of the quick sweep (at T = 2000) run together, and a subset of it in another
    order: every unit's trace equals its single-unit trace exactly."""
    for key, units in _groups(p).items():
        if key[0] != family:
            continue
        units = units[:5]
        alone = [compute_unit(MODULE, u, p, 3, 3, "numpy") for u in units]
        together = compute_units(MODULE, units, p, 3, 3, "numpy")
        assert all(_same(a, b) for a, b in zip(alone, together)), key
        other = compute_units(MODULE, units[::-2], p, 3, 3, "numpy")
        assert all(_same(a, b) for a, b in zip(alone[::-2], other)), key


def test_batches_group_by_key_in_order_and_cap_the_rows(p):
    units = EXP.sweep(p)
    for trials in (16, 24, 100):
        tasks = batches(EXP, units, trials)
        assert sorted(i for t in tasks for i in t) == list(range(len(units)))
        assert tasks == batches(EXP, units, trials)
        firsts, seen = [], {}
        for t in tasks:   # keys in order of first appearance, a key's units in sweep order
            key = EXP.batch_key(units[t[0]])
            assert t == sorted(t) and (key is None or seen.get(key, -1) < t[0])
            if key is None or key not in seen:
                firsts.append(t[0])
            seen[key] = t[-1]
        assert firsts == sorted(firsts)
        for t in tasks:
            keys = {EXP.batch_key(units[i]) for i in t}
            assert len(keys) == 1 and (len(t) == 1 or None not in keys)
            assert len(t) <= runner.MAX_BATCH_UNITS
            assert len(t) == 1 or len(t) * trials <= runner.MAX_BATCH_ROWS
    assert max(len(t) for t in batches(EXP, units, 16)) > 1


def test_run_experiment_batched_equals_unbatched(p, monkeypatch):
    """The runner hands each unit its own trace back (positions across tasks)."""
    sweep = EXP.sweep(p)
    picked = [sweep[i] for i in (0, 7, 1, 30, 8, 2)] + [u for u in sweep if u["algorithm"] == "oons"][:1]
    monkeypatch.setattr(EXP, "_sweep", lambda p: picked)
    opts = RunOptions(seed=5, trials=2, cache_dir=None, progress=False)
    together = run_experiment(EXP, p, opts)
    monkeypatch.setattr(EXP, "_batch_key", None)
    alone = run_experiment(EXP, p, opts)
    assert all(_same(a, b) for (_, a), (_, b) in zip(together.items(), alone.items()))


def test_deferred_losses_equal_the_round_by_round_sum():
    rng = np.random.default_rng(0)
    T, R, d = 300, 5, 3
    th = rng.standard_normal((T, R, d))
    stream = sea.SEAStream("huber", th, rng.standard_normal((T, R, d)), 1.0, 0.5)
    xs = rng.standard_normal((T, R, d))
    loss = online._Loss(stream, [1, 128, 129, 257, T])
    total, expected = np.zeros(R), []
    for t in range(T):
        loss.pay(stream, xs[t], t)
        total = total + stream.expected_loss(xs[t], t)
        if t + 1 in (1, 128, 129, 257, T):
            expected.append(total)
    assert np.array_equal(loss.result().metrics["cum_loss"], np.stack(expected, axis=-1))


def test_shared_and_per_row_thetas_agree():
    rng = np.random.default_rng(1)
    th, noise, x = rng.standard_normal((20, 3)), rng.standard_normal((20, 4, 3)), rng.standard_normal((4, 3))
    for loss in sea.LOSSES:
        shared = sea.SEAStream(loss, th, noise, 1.0, 0.5)
        rows = sea.SEAStream(loss, np.repeat(th[:, None, :], 4, axis=1), noise, 1.0, 0.5)
        assert np.array_equal(shared.gradient(x, 7), rows.gradient(x, 7))
        assert np.array_equal(shared.expected_loss(x, 7), rows.expected_loss(x, 7))


@pytest.mark.parametrize("kind,kw", [("fixed", {}), ("alternating", {"amplitude": 0.3}),
                                     ("alternating", {"amplitude": 0.0}), ("switches", {"amplitude": 0.3, "switches": 3}),
                                     ("shocks", {"switches": 5}), ("ray-switches", {"switches": 3, "far": 1.0})])
def test_prefix_counts_from_the_schedule_equal_sorting(kind, kw):
    c = np.array([1.5, 0.0, 0.0]) if kind in ("shocks", "ray-switches") else np.array([0.5, 0.0, 0.1])
    th = sea.theta_schedule(kind, 501, 3, center=c, **kw)
    labels = sea.schedule_labels(kind, 501, kw.get("switches", 0))
    for loss in sea.LOSSES:
        taus = [1, 2, 3, 37, 250, 501]
        by_labels = sc.prefix_comparator_losses(loss, th, taus, 1.0, 0.5, labels=labels)
        by_sorting = [sc.comparator(loss, th[:tau], 1.0, 0.5)[1] for tau in taus]
        assert np.array_equal(by_labels[0], by_sorting)


def test_labels_must_match_the_thetas():
    th = sea.theta_schedule("alternating", 10, 2, center=np.zeros(2), amplitude=0.2)
    with pytest.raises(ValueError, match="labels do not match"):
        sc.distinct_labelled(th, np.zeros(10, dtype=int))


def test_the_cvxpy_problem_is_compiled_once_and_re_solved():
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal((3, 2)) for _ in range(2))
    counts = np.array([3.0, 7.0, 2.0])
    first, _ = sc.cvxpy_comparator("huber", a, counts, 1.0, 0.3)
    sc.cvxpy_comparator("huber", b, counts[::-1].copy(), 1.0, 0.3)
    again, _ = sc.cvxpy_comparator("huber", a, counts, 1.0, 0.3)
    prob = sc._PROBLEMS[("huber", 3, 2, 1.0, 0.3)][0]
    assert prob.is_dpp()
    assert np.allclose(first, again, atol=1e-7)
    grid = [np.array([x, y]) for x in np.linspace(-1, 1, 81) for y in np.linspace(-1, 1, 81) if x * x + y * y <= 1]
    f = lambda u: counts @ sea.host_loss("huber", u, a, 0.3)   # noqa: E731
    assert f(first) <= min(f(g) for g in grid) + 1e-6
