"""No host synchronization inside any iteration loop of algorithms/ (issue 11, item 7).

On a GPU every device -> host conversion (``bool(x)``, ``float(x)``, ``int(x)``, ``x.item()``,
``np.asarray(x)``, DLPack export, using an array as an index) waits for the device to finish
everything queued so far: one such call per step serializes the loop.  Here each algorithm runs
on ``array_api_strict`` with its ``Array`` class instrumented so that these conversions are
counted (and where they happened is remembered); it runs twice, for N1 and N2 > N1 iterations
of its loop, recording only at the end (or at fixed steps), and the number of conversions must
not grow with the iteration count: zero per iteration.  A constant number at setup or at the
final recording would be allowed (today there are none, which is asserted too, so a new one is
seen).

Host-side bookkeeping (oracle call counts as Python ints, coin flips and minibatch indices drawn
from NumPy Generators and moved to the device) is not a device -> host conversion and is not
counted.  A negative control checks that the counter does see a loop that syncs per step.
"""
from __future__ import annotations

import math
import sys
import traceback
from collections import Counter
from contextlib import contextmanager

import numpy as np
import pytest

array_api_strict = pytest.importorskip("array_api_strict")
from array_api_strict._array_object import Array  # noqa: E402

from algorithms import bilevel as bilevel_alg  # noqa: E402
from algorithms import factorized_gd, halpern, halpern_vr, hessian, online, subgradient, training  # noqa: E402
from algorithms import hessian_spectrum, xor_grokking  # noqa: E402
from algorithms import networks as nw  # noqa: E402
from algorithms.network_objective import NetworkObjective  # noqa: E402
from algorithms.penalty import penalty_method  # noqa: E402
from experiments.backend import to_backend  # noqa: E402

xp = array_api_strict

# every way an array_api_strict Array hands a value (or its memory) to the host
CONVERSIONS = ("__bool__", "__float__", "__int__", "__index__", "__complex__", "__array__",
               "__dlpack__", "item", "tolist")
N1, N2 = 5, 10


class HostConversions:
    """Counts device -> host conversions of array_api_strict arrays made by code outside
    array_api_strict itself, with the file:line of each (for the failure message)."""

    def __init__(self):
        self.where: Counter = Counter()

    @property
    def count(self) -> int:
        return sum(self.where.values())

    def _caller(self) -> str | None:
        """The first frame outside array_api_strict, numpy and this module's wrapper; None when
        the conversion was made by array_api_strict's own implementation."""
        frame = sys._getframe(2)
        module = frame.f_globals.get("__name__", "")
        if module.startswith("array_api_strict"):
            return None
        info = traceback.extract_stack(frame, limit=1)[-1]
        return f"{info.filename.rsplit('/', 2)[-2:][-1]}:{info.lineno} ({info.name})"

    @contextmanager
    def watching(self, monkeypatch):
        originals = {name: getattr(Array, name) for name in CONVERSIONS if hasattr(Array, name)}

        def counting(name, original):
            def wrapper(arr, *args, **kwargs):
                caller = self._caller()
                if caller is not None:
                    self.where[f"{name} at {caller}"] += 1
                return original(arr, *args, **kwargs)
            return wrapper

        with monkeypatch.context() as m:
            for name, original in originals.items():
                m.setattr(Array, name, counting(name, original))
            yield self


def _conversions(monkeypatch, thunk) -> Counter:
    counter = HostConversions()
    with counter.watching(monkeypatch):
        thunk()
    return counter.where


def _assert_sync_free(monkeypatch, build):
    """``build(n) -> thunk`` prepares a run of n loop iterations (setup is not counted, the run
    is): the conversions must not depend on n (and are zero today)."""
    few = _conversions(monkeypatch, build(N1))
    many = _conversions(monkeypatch, build(N2))
    assert few == many, (f"host conversions grow with the iterations: {sum(few.values())} at "
                         f"{N1} steps, {sum(many.values())} at {N2}: {dict(many - few)}")
    assert not many, f"host conversions (constant in the iterations, but new): {dict(many)}"


def _rngs(seed, R=3):
    return [np.random.default_rng([seed, r]) for r in range(R)]


def _dev(a):
    return to_backend(a, xp)


# ---- the counter itself -------------------------------------------------------------------------
def test_counter_sees_a_loop_that_syncs_every_step(monkeypatch):
    """Negative control: a loop with a per-step host check is caught, one conversion per step."""
    x0 = _dev(np.ones((3, 4)))

    def build(n):
        def run():
            x = x0
            for _ in range(n):
                x = 0.5 * x
                if bool(xp.any(x > 1.0)):          # the pattern the test must reject
                    break
                float(xp.sum(x))
                np.asarray(x[0, ...])
        return run
    few, many = (_conversions(monkeypatch, build(n)) for n in (N1, N2))
    assert sum(few.values()) == 3 * N1 and sum(many.values()) == 3 * N2
    assert {k.split(" at ")[0] for k in many} == {"__bool__", "__float__", "__array__"}
    with pytest.raises(AssertionError, match="grow with the iterations"):
        _assert_sync_free(monkeypatch, build)


def test_counter_ignores_host_bookkeeping_and_device_work(monkeypatch):
    """Device arithmetic, host ints and host -> device copies are not conversions."""
    def run():
        a = _dev(np.arange(6.0).reshape(2, 3))
        calls = [0, 0]
        for t in range(4):
            a = xp.where(a > 2.0, a, xp.zeros_like(a)) + xp.asarray(np.full((2, 3), t), dtype=a.dtype)
            calls = [c + 1 for c in calls]
        xp.stack([a, a], axis=-1)
    assert not _conversions(monkeypatch, run)


# ---- halpern.py, halpern_vr.py: finite-sum monotone operators ----------------------------------
def _operator(constraint="none", R=3, n=12, D=4):
    from problems import monotone_instances as inst
    from problems.monotone import FiniteSumOperator

    data = [inst.least_squares(rng, n, D) for rng in _rngs(0, R)]
    M = _dev(np.stack([d["M"] for d in data]))
    c = _dev(np.stack([d["c"] for d in data]))
    if constraint == "box":
        return FiniteSumOperator(M, c, constraint="box", lo=-0.2, hi=0.2)
    if constraint == "simplices":
        return FiniteSumOperator(M, c, constraint="simplices", split=2)
    return FiniteSumOperator(M, c)


HALPERN = {
    "halpern": lambda op, x0, n, rngs, kw: halpern.halpern(op, x0, 1.0, n, **kw),
    "halpern-plain": lambda op, x0, n, rngs, kw: halpern.halpern(op, x0, 1.0, n, anchored=False, **kw),
    "extragradient": lambda op, x0, n, rngs, kw: halpern.extragradient(op, x0, 0.5, n, **kw),
    "eag": lambda op, x0, n, rngs, kw: halpern.extra_anchored_gradient(op, x0, 1 / 8, n, **kw),
    "page-halpern": lambda op, x0, n, rngs, kw: halpern_vr.page_halpern(op, x0, 1.0, n, 4, rngs, **kw),
    "inexact-halpern": lambda op, x0, n, rngs, kw: halpern_vr.inexact_halpern(
        op, x0, math.sqrt(op.n), n, rngs, inner_steps=3,
        inner_step=1.0 / (math.sqrt(op.n) * (1 + math.sqrt(op.n))), **kw),
}


@pytest.mark.parametrize("constraint", ["none", "box", "simplices"])
@pytest.mark.parametrize("name", sorted(HALPERN))
def test_halpern_family(monkeypatch, name, constraint):
    def build(n):
        op = _operator(constraint)
        x0 = _dev(np.full((op.R, op.D), 0.25))
        kw = dict(record=[n], measure=lambda x: {"residual": op.residual(x, 1.0)}, max_calls=10**9)
        return lambda: HALPERN[name](op, x0, n, _rngs(7), kw)
    _assert_sync_free(monkeypatch, build)


def test_vr_forb_inner_loop(monkeypatch):
    """Alg. 2's inner resolvent loop: the iteration count is its ``steps``."""
    def build(n):
        op = _operator()
        u = _dev(np.full((op.R, op.D), 0.5))
        return lambda: halpern_vr.vr_forb_resolvent(op, u, u, 2.0, n, halpern_vr.TrialDraws(_rngs(8), op, 2), 0.05)
    _assert_sync_free(monkeypatch, build)


# ---- factorized_gd.py, subgradient.py: matrix sensing, robust recovery -------------------------
def test_symmetric_gd(monkeypatch):
    from problems.matrix_sensing import random_factor, symmetric_instance

    A, M, y = symmetric_instance(_rngs(1, 2), 6, 30, (1.0, 0.6))
    X0 = random_factor(_rngs(2, 2), 6, 3, 0.1)
    args = [_dev(a) for a in (A, y, X0)]

    def build(n):
        return lambda: factorized_gd.symmetric_gd(*args, step=0.2, iterations=n, record=[n], target=_dev(M))
    _assert_sync_free(monkeypatch, build)


@pytest.mark.parametrize("rebalance_at", [None, 2])
def test_asymmetric_gd(monkeypatch, rebalance_at):
    from problems.matrix_sensing import asymmetric_instance, random_factor

    A, M, y = asymmetric_instance(_rngs(3, 2), 6, 5, 25, (1.0, 0.6))
    scales = np.array([0.1, 0.3])[None, :, None, None]
    F0 = random_factor(_rngs(4, 2), 6, 3, 1.0)[:, None] * scales
    G0 = random_factor(_rngs(5, 2), 5, 3, 1.0)[:, None] * scales / 3
    args = [_dev(a) for a in (A, y, F0, G0)]

    def build(n):
        return lambda: factorized_gd.asymmetric_gd(*args, step=0.2, iterations=n, record=[n],
                                                   target=_dev(M[:, None]), rebalance_at=rebalance_at)
    _assert_sync_free(monkeypatch, build)


@pytest.mark.parametrize("method", ["subgm", "l2"])
def test_subgradient_methods(monkeypatch, method):
    from problems.robust_recovery import initial_factor, make_instances

    rngs = _rngs(0)
    A, X, y = make_instances(rngs, 5, 1, 60, "outlier", 0.2, 10.0)
    A, X, y, U0 = _dev(A), _dev(X), _dev(y), _dev(1e-2 * initial_factor(rngs, 5, 2))

    def build(n):
        if method == "subgm":
            return lambda: subgradient.subgradient_method(A, y, U0, X, eta0=0.5, rho=0.95, iterations=n, record=[n])
        return lambda: subgradient.l2_gradient_descent(A, y, U0, X, eta=0.05, iterations=n, record=[n])
    _assert_sync_free(monkeypatch, build)


# ---- online.py: SEA learners -------------------------------------------------------------------
LEARNERS = {
    "oomd": lambda s, rec: online.oomd(s, 2.0, 0.5, rec),
    "omd-plain": lambda s, rec: online.oomd(s, 2.0, 0.5, rec, optimistic=False),
    "oomd-fixed": lambda s, rec: online.oomd_fixed_step(s, 0.1, rec),
    "oomd-sc": lambda s, rec: online.oomd_strongly_convex(s, 1.0, rec),
    "ogd": lambda s, rec: online.ogd(s, 2.0, 0.5, rec),
    "oftrl": lambda s, rec: online.optimistic_ftrl(s, 2.0, 0.5, rec),
    "oons": lambda s, rec: online.optimistic_ons(s, 0.2, 2.0, 2.0, rec),
}


@pytest.mark.parametrize("loss", ["quadratic", "huber", "l1"])
@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_online_learners(monkeypatch, name, loss):
    """theta outside the ball (the projections are active in some rounds, not all)."""
    from problems import sea

    T, d = N2, 3
    center = np.zeros(d)
    center[0] = 1.5
    th = sea.theta_schedule("alternating", T, d, center=center, amplitude=1.0)
    noise = sea.draw_noise(_rngs(10), sea.noise_levels(T, 0.5), d)

    def build(n):
        stream = sea.SEAStream(loss, _dev(th), _dev(noise), 1.0, 0.5)
        return lambda: LEARNERS[name](stream, [n])
    _assert_sync_free(monkeypatch, build)


def test_ons_projection_newton_loop(monkeypatch):
    """project_norm_ball's own loop (Newton steps), with trials inside and outside the ball."""
    rng = np.random.default_rng(3)
    B = rng.standard_normal((4, 3, 3))
    U = _dev(B @ np.transpose(B, (0, 2, 1)) + 0.1 * np.eye(3))
    y = _dev(rng.standard_normal((4, 3)) * np.array([[2.0], [0.1], [3.0], [0.2]]))
    _assert_sync_free(monkeypatch, lambda n: lambda: online.project_norm_ball(y, U, 1.0, newton_steps=n))


@pytest.mark.parametrize("scales", [(2.0, 0.1, 3.0, 0.0), (0.1, 0.2, 0.0, 0.3), (2.0, 3.0, 1.5, 4.0)])
def test_ons_projection_device_path_equals_host_path(scales):
    """The device path (every trial solved, inside trials on a stand-in point) returns exactly
    what the NumPy path returns (solve skipped when every trial is inside), y = 0 included, and
    raises no floating-point warning."""
    from experiments.backend import to_numpy

    rng = np.random.default_rng(4)
    B = rng.standard_normal((4, 3, 3))
    U = B @ np.transpose(B, (0, 2, 1)) + 0.1 * np.eye(3)
    y = rng.standard_normal((4, 3)) * np.asarray(scales)[:, None]
    with np.errstate(all="raise"):
        host = online.project_norm_ball(y, U, 1.0)
        device = to_numpy(online.project_norm_ball(_dev(y), _dev(U), 1.0))
    np.testing.assert_array_equal(device, host)


# ---- bilevel.py, penalty.py: stochastic bilevel methods ----------------------------------------
def _quadratic_bilevel(link="softplus"):
    from problems import bilevel as bl

    arrays = bl.stack_instances([bl.quadratic_instance(r, 4, 6, 5, mu=0.5, cond=4.0) for r in _rngs(0)])
    return bl.quadratic_bilevel(arrays, _dev, link=link), 4, 6


def _hypercleaning():
    from problems import bilevel as bl
    from problems.hypercleaning import hypercleaning_bilevel, hypercleaning_data

    data = bl.stack_instances([hypercleaning_data(r, 12, 10, 3, 0.25) for r in _rngs(4)])
    return hypercleaning_bilevel(data, _dev, ridge=0.1), 12, 3


BILEVEL = {
    "bo_rep": lambda o, x0, y0, kw: bilevel_alg.bo_rep(o, x0, y0, eta=0.02, gamma=0.2, nu=0.2, period=2,
                                                       lower_steps=2, refine_epochs=2, refine_steps=2,
                                                       z_radius=5.0, **kw),
    "soba": lambda o, x0, y0, kw: bilevel_alg.soba(o, x0, y0, alpha=0.1, rho=0.2, alpha_decay=0.6,
                                                   rho_decay=0.4, **kw),
    "aid": lambda o, x0, y0, kw: bilevel_alg.aid(o, x0, y0, alpha=0.1, gamma=0.2, inner_steps=2,
                                                 hessian_steps=3, **kw),
    "aid_cg": lambda o, x0, y0, kw: bilevel_alg.aid(o, x0, y0, alpha=0.1, gamma=0.2, inner_steps=2,
                                                    hessian_steps=3, solver="cg", batch=2, **kw),
    "ttsa": lambda o, x0, y0, kw: bilevel_alg.ttsa(o, x0, y0, alpha=0.1, beta=0.2, lipschitz=5.0,
                                                   neumann_terms=4, rngs=_rngs(9), **kw),
}


@pytest.mark.parametrize("problem", ["quadratic", "hypercleaning"])
@pytest.mark.parametrize("name", sorted(BILEVEL))
def test_bilevel_methods(monkeypatch, name, problem):
    from problems.bilevel import norm
    from problems.bilevel_oracles import StochasticOracles

    P, dx, dy = _quadratic_bilevel() if problem == "quadratic" else _hypercleaning()

    def build(n):
        oracles = StochasticOracles(P, _rngs(1), noise_std=0.01, block=4)   # noise refilled in the loop
        x0, y0 = _dev(np.full((3, dx), 0.5)), _dev(np.zeros((3, dy)))
        measure = lambda x, y, z: {"x_norm": norm(x), "lower_grad": norm(P.lower.grad_y(x, y))}  # noqa: E731
        return lambda: BILEVEL[name](oracles, x0, y0, dict(iterations=n, record=[n], measure=measure))
    _assert_sync_free(monkeypatch, build)


def test_epoch_sgd(monkeypatch):
    from problems.bilevel_oracles import StochasticOracles

    P, dx, dy = _quadratic_bilevel()
    x, y0 = _dev(np.full((3, dx), 0.5)), _dev(np.zeros((3, dy)))
    _assert_sync_free(monkeypatch, lambda n: lambda: bilevel_alg.epoch_sgd(
        StochasticOracles(P, _rngs(1), noise_std=0.1, block=4), x, y0, step=0.1, epochs=2, steps=n))


def _penalty_problems():
    from problems import bilevel as bl
    from problems.penalty_bilevel import ConstrainedQuadraticPenalty, QuadraticPenalty
    from problems.penalty_sweeps import WeightedQuadraticPenalty, weighted_rank_deficient_instance

    arrays = bl.stack_instances([bl.quadratic_instance(r, 4, 6, 5, mu=0.5, cond=4.0) for r in _rngs(0)])
    upper = bl.SeparableUpper(_dev(arrays["A"]), _dev(arrays["b"]), link="softplus", scale=0.5)
    lower = bl.QuadraticLower(_dev(arrays["Q"]), _dev(arrays["B"]), arrays["mu"])
    box = ConstrainedQuadraticPenalty(arrays, _dev, kind="box", lo=-0.3, hi=0.3, link="softplus")
    simplex = ConstrainedQuadraticPenalty(arrays, _dev, kind="simplex", link="softplus")
    warr = bl.stack_instances([weighted_rank_deficient_instance(r, 4, 6, 5, rank=2, w_cond=5.0)
                               for r in _rngs(0)])
    weighted = WeightedQuadraticPenalty(
        bl.SeparableUpper(_dev(warr["A"]), _dev(warr["b"]), link="softplus"), _dev(warr["W"]),
        bl.QuadraticLower(_dev(warr["Q"]), _dev(warr["B"]), warr["mu"]))
    return {"free": (QuadraticPenalty(upper, lower), None), "box": (box, box.project_y),
            "simplex": (simplex, simplex.project_y), "weighted": (weighted, None)}


@pytest.mark.parametrize("inner", [0, 2])
@pytest.mark.parametrize("problem", ["free", "box", "simplex", "weighted"])
def test_penalty_method(monkeypatch, problem, inner):
    from problems.bilevel import norm
    from problems.bilevel_oracles import StochasticOracles

    P, project_y = _penalty_problems()[problem]

    def build(n):
        x0, y0 = _dev(np.full((3, 4), 0.5)), _dev(np.full((3, 6), 1.0 / 6))
        return lambda: penalty_method(StochasticOracles(P, _rngs(1)), x0, y0, sigma=0.05, iterations=n,
                                      record=[n], measure=lambda x, y, z: {"x_norm": norm(x)},
                                      step_x=0.025, step_y=0.2, inner_steps=inner, project_y=project_y,
                                      project_x=lambda x: xp.clip(x, min=-2.0, max=2.0))
    _assert_sync_free(monkeypatch, build)


# ---- training.py (gd, sgd, adam) on a network, hessian.py, hessian_spectrum.py ------------------
def _network(loss="cross_entropy", R=2, n=30, d=4, k=3):
    from problems.classification import gaussian_mixture, one_hot

    X, labels = gaussian_mixture(_rngs(5, R), n, d, k, 4.0)
    arch = nw.Architecture(d, (6,), k, "tanh")
    theta = nw.init_params(arch, _rngs(6, R), scheme="lecun")
    obj = NetworkObjective(arch, _dev(X), _dev(one_hot(labels, k)), loss)
    return obj, _dev(theta), arch


def _halve(params, g):
    return 0.5 * g


OPTIMIZERS = {
    "gd": lambda obj, th, n, m: training.gradient_descent(obj.gradient, th, lr=0.5, steps=n, record=[n],
                                                          measure=m, transform=_halve),
    "gd-schedule": lambda obj, th, n, m: training.gradient_descent(obj.gradient, th, lr=lambda t: 0.5 / (t + 1),
                                                                   steps=n, record=[n], measure=m),
    "sgd": lambda obj, th, n, m: training.sgd(obj.gradient, th, n=30, batch=5, lr=0.3, steps=n, record=[n],
                                              rngs=_rngs(8, 2), measure=m, block=3, transform=_halve),
    "adam": lambda obj, th, n, m: training.adam(obj.gradient, th, lr=0.05, steps=n, record=[n], measure=m,
                                                weight_decay=1e-2, transform=_halve),
}


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_training_loops(monkeypatch, name, loss):
    obj, theta, _ = _network(loss)
    measure = lambda p: {"loss": obj.value(p), "acc": obj.accuracy(p)}   # noqa: E731
    _assert_sync_free(monkeypatch, lambda n: lambda: OPTIMIZERS[name](obj, theta, n, measure))


def test_softmax_collapse_transform_in_training(monkeypatch):
    """softmax-collapse's ⊥Grad hook (algorithms/softmax_collapse.py, only imported here) inside
    Adam and GD."""
    sc = pytest.importorskip("algorithms.softmax_collapse")
    obj, theta, arch = _network()
    transform = sc.perpendicular_gradient(arch)

    def build(n):
        return lambda: (training.adam(obj.gradient, theta, lr=0.05, steps=n, record=[n], transform=transform),
                        training.gradient_descent(obj.gradient, theta, lr=0.5, steps=n, record=[n],
                                                  transform=transform))
    _assert_sync_free(monkeypatch, build)


HESSIAN_TOOLS = {
    "lanczos": lambda hvp, like, n: hessian.lanczos(hvp, like + 1.0, n, _rngs(3, 2)),
    "lanczos_top_k": lambda hvp, like, n: hessian.lanczos_top_k(hvp, like, 2, _rngs(3, 2), iterations=n),
    "hutchinson": lambda hvp, like, n: hessian.hutchinson_trace(hvp, like, _rngs(4, 2), probes=n),
    "slq": lambda hvp, like, n: hessian.slq_density(*hessian.slq(hvp, like, _rngs(5, 2), probes=2, iterations=n),
                                                    _dev(np.linspace(-1.0, 1.0, 7)), 0.1),
}


@pytest.mark.parametrize("name", sorted(HESSIAN_TOOLS))
def test_hessian_tools(monkeypatch, name):
    obj, theta, _ = _network()
    hvp = obj.hvp(theta)
    like = xp.zeros_like(theta)
    _assert_sync_free(monkeypatch, lambda n: lambda: HESSIAN_TOOLS[name](hvp, like, n))


def test_lanczos_through_breakdowns(monkeypatch):
    """A rank-2 matrix: beta falls to rounding level and the trials restart (the masked path)."""
    rng = np.random.default_rng(0)
    V = rng.standard_normal((2, 12, 2))
    H = _dev(V @ np.transpose(V, (0, 2, 1)))
    hvp = lambda v: xp.matmul(H, v[..., None])[..., 0]   # noqa: E731
    start = _dev(rng.standard_normal((2, 12)))
    _assert_sync_free(monkeypatch, lambda n: lambda: hessian.lanczos(hvp, start, n, _rngs(1, 2)))


def test_dense_hessian_columns(monkeypatch):
    """dense_hessian loops over the P columns: P = N1 and P = N2."""
    rng = np.random.default_rng(1)

    def build(n):
        H = _dev(rng.standard_normal((2, n, n)))
        like = _dev(np.zeros((2, n)))
        return lambda: hessian.dense_hessian(lambda v: xp.matmul(H, v[..., None])[..., 0], like)
    _assert_sync_free(monkeypatch, build)


@pytest.mark.parametrize("part", ["full", "gauss_newton", "residual"])
def test_hessian_spectrum_blocks(monkeypatch, part):
    """dense_curvature's loop over column blocks (P = 51 here): 7 blocks of 8, then 13 of 4,
    the last one padded; spectrum adds the eigensolver and the non-finite guard."""
    obj, theta, _ = _network("mse")
    blocks = {N1: 8, N2: 4}
    _assert_sync_free(monkeypatch, lambda n: lambda: hessian_spectrum.spectrum(obj, theta, part=part,
                                                                             block=blocks[n]))


# ---- xor_grokking.py ---------------------------------------------------------------------------
def test_xor_span_gd(monkeypatch):
    rng = np.random.default_rng(0)
    R, n, m, N, p = 2, 8, 6, 10, 12
    X, Xt = rng.standard_normal((R, n, p)), rng.standard_normal((R, N, p))
    W0 = 0.3 * rng.standard_normal((R, p, m))
    labels, test_labels = np.sign(rng.standard_normal((R, n))), np.sign(rng.standard_normal((R, N)))
    tr = lambda a: np.swapaxes(a, 1, 2)   # noqa: E731
    data = xor_grokking.SpanData(gram=_dev(X @ tr(X)), pre0=_dev(X @ W0), labels=_dev(labels),
                                 test_gram=_dev(Xt @ tr(X)), test_pre0=_dev(Xt @ W0),
                                 test_labels=_dev(test_labels), plane=_dev(X[..., :2]),
                                 plane0=_dev(W0[:, :2, :]), sq_norm0=_dev(np.sum(W0 * W0, axis=1)))
    _assert_sync_free(monkeypatch, lambda k: lambda: xor_grokking.train_span_gd(data, step=0.3, steps=k,
                                                                                record=[0, k]))
