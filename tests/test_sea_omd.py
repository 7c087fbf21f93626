"""sea-omd specifics: exact SEA variances, comparators (closed form vs cvxpy), the online learners
on every backend (oracle counts pinned), and closed-form behaviours of the instances.  Claims,
parameters and the CLI are covered generically by test_claims.py and test_contract.py."""
from __future__ import annotations

import numpy as np
import pytest

from algorithms import online
from conftest import dtype_tol
from experiments.backend import to_backend, to_numpy
from experiments.sea_omd.evidence import tightest_envelope
from problems import sea
from problems.sea_comparator import (closed_form, comparator, cvxpy_comparator,
                                     distinct_thetas, dynamic_comparator_losses)


def _stream(xp, loss="huber", schedule="fixed", T=200, R=3, d=3, s2=0.5, amplitude=0.2):
    rngs = [np.random.default_rng(10 + r) for r in range(R)]
    center = np.zeros(d)
    center[0] = 0.4
    th = sea.theta_schedule(schedule, T, d, center=center, amplitude=amplitude, switches=2, far=1.0)
    noise = sea.draw_noise(rngs, sea.noise_levels(T, s2), d)
    return sea.SEAStream(loss, to_backend(th, xp), to_backend(noise, xp), 1.0, 0.5), th


# ---- exact variances -------------------------------------------------------------------------
def test_variances_are_exact():
    T, d, rho = 50, 3, 1.0
    th = sea.theta_schedule("alternating", T, d, center=np.zeros(d), amplitude=0.1)
    Sig = sea.adversarial_variation("quadratic", th, rho)
    assert Sig[0] == pytest.approx((rho + 0.1) ** 2)
    assert np.allclose(Sig[1:], 0.2**2)
    assert sea.cumulative(Sig) == pytest.approx((1.1) ** 2 + 49 * 0.04)
    hub = sea.adversarial_variation("huber", th, rho, delta=0.05)
    assert np.allclose(hub[1:], 0.1**2)          # saturates at (2 delta)^2
    s2 = sea.noise_levels(T, 2.0, decay=True)
    assert sea.cumulative(sea.stochastic_variance(s2)) == pytest.approx(2.0 * np.sum(1 / np.arange(1, 51)))
    assert sea.maximum(s2) == 2.0
    # Monte Carlo: E|grad f - grad F|^2 = s^2 at any x
    rngs = [np.random.default_rng(0)]
    xi = sea.draw_noise(rngs, np.full(20000, 0.7), d)
    assert np.mean(np.sum(xi**2, axis=-1)) == pytest.approx(0.7, rel=0.03)


def test_huber_sigma_needs_midpoints_inside():
    th = sea.theta_schedule("ray-switches", 10, 2, center=np.array([1.5, 0.0]), switches=1, far=1.0)
    with pytest.raises(ValueError, match="midpoints"):
        sea.adversarial_variation("huber", th, 1.0)


# ---- comparator: closed form vs cvxpy --------------------------------------------------------
@pytest.mark.parametrize("loss,schedule,center,T,amplitude", [
    ("quadratic", "switches", [0.3, 0.2, 0.0], 101, 0.3),
    ("quadratic", "fixed", [1.7, -0.4, 0.2], 100, 0.3),       # outside the ball: projection
    ("huber", "fixed", [1.2, 0.5, 0.0], 100, 0.3),
    ("huber", "alternating", [0.1, 0.0, 0.3], 100, 0.3),
    ("l1", "alternating", [0.0, 0.2, 0.0], 100, 0.3),
    ("huber", "alternating", [0.1, 0.0, 0.3], 37, 0.3),     # unequal counts: the balanced point
    ("huber", "alternating", [0.1, 0.0, 0.0], 37, 0.45),    # |theta_2 - theta_1| > delta
    ("l1", "alternating", [0.0, 0.2, 0.0], 37, 0.3),        # unequal counts: the heavier theta
])
def test_comparator_closed_form_matches_cvxpy(loss, schedule, center, T, amplitude):
    th = sea.theta_schedule(schedule, T, 3, center=np.array(center), amplitude=amplitude, switches=3)
    values, counts = distinct_thetas(th)
    u = closed_form(loss, values, counts, 1.0, 0.5)
    assert u is not None
    v, _ = cvxpy_comparator(loss, values, counts, 1.0, 0.5)
    def f(w):
        return np.dot(counts, sea.host_loss(loss, w, values, 0.5))
    assert f(u) <= f(v) + 1e-6 * max(1.0, abs(f(v)))
    if loss != "l1":   # l1 minimizers are not unique
        assert np.allclose(u, v, atol=1e-4)


def test_comparator_falls_back_to_cvxpy():
    th = np.array([[0.5, 0.0]] * 3 + [[-0.5, 0.2]] * 7 + [[0.0, -0.6]] * 2)   # three thetas
    _, total, how = comparator("huber", th, 1.0, 0.3)
    assert how.startswith("cvxpy/")
    grid = [np.array([a, b]) for a in np.linspace(-1, 1, 81) for b in np.linspace(-1, 1, 81)
            if a * a + b * b <= 1]
    assert total <= min(np.sum(sea.host_loss("huber", g, th, 0.3)) for g in grid) + 1e-6


# ---- learners: backends agree, oracle counts, closed forms -----------------------------------
RECORD = [1, 50, 200]
LEARNERS = {
    "oomd": lambda s: online.oomd(s, 2.0, 0.5, RECORD),
    "omd-plain": lambda s: online.oomd(s, 2.0, 0.5, RECORD, optimistic=False),
    "oomd-sc": lambda s: online.oomd_strongly_convex(s, 1.0, RECORD),
    "oomd-sc-sqrt": lambda s: online.oomd_strongly_convex(s, 1.0, RECORD, step=online.inverse_sqrt_step),
    "ogd": lambda s: online.ogd(s, 2.0, 0.5, RECORD),
    "oftrl": lambda s: online.optimistic_ftrl(s, 2.0, 0.5, RECORD),
    "oons": lambda s: online.optimistic_ons(s, 0.2, 2.0, 2.0, RECORD),
    "oomd-fixed": lambda s: online.oomd_fixed_step(s, 0.1, RECORD),
}


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_learners_agree_across_backends(xp, name):
    ref = LEARNERS[name](_stream(np)[0])
    out = LEARNERS[name](_stream(xp)[0])
    got = np.asarray(to_numpy(out.metrics["cum_loss"]))
    assert got.shape == (3, 3)
    assert np.allclose(got, ref.metrics["cum_loss"], rtol=dtype_tol(), atol=dtype_tol())
    assert out.iterations == RECORD
    assert out.calls == [1, 50, 200]      # one gradient per trial and round: pinned


def test_oracle_calls_are_counted_on_the_stream():
    """The recorded calls are the gradients the learner actually asked for."""
    stream, _ = _stream(np, T=120)
    asked = []
    gradient = stream.gradient
    stream.gradient = lambda x, t: (asked.append(t), gradient(x, t))[1]
    out = online.oomd(stream, 2.0, 0.5, [7, 120])
    assert out.calls == [7, 120] and len(asked) == 120 and asked == list(range(120))


def test_strongly_convex_schedule_and_optimistic_first_step():
    step = online.strongly_convex_step(2.0)
    assert [step(t) for t in (1, 2, 4)] == [1.0, 0.5, 0.25]
    assert online.inverse_sqrt_step(4) == 0.5
    # round 1 plays x_1 = P(0 - eta M_1) = 0 (M_1 = 0): F_1(0) = |theta_1|^2 / 2 exactly
    stream, th = _stream(np, loss="quadratic", s2=0.0, T=3)
    out = online.oomd_strongly_convex(stream, 1.0, [1])
    assert np.allclose(out.metrics["cum_loss"][:, 0], 0.5 * th[0] @ th[0])


def test_plain_omd_lags_where_optimism_tracks():
    """theta rotating outside X, sigma = 0: OOMD's dynamic regret stays flat in T, plain OMD's
    (M_t = 0, step ~ 1/sqrt(t)) grows ~ T (the optimism-predictable claim, in miniature)."""
    def regret(T, optimistic):
        laps = 0.5 * np.sqrt(T) / (2 * np.pi)
        th = sea.theta_schedule("drift", T, 2, center=np.zeros(2), amplitude=1.5, laps=laps)
        s = sea.SEAStream("quadratic", th, np.zeros((T, 1, 2)), 1.0)
        out = online.oomd(s, 2.0, 2.5, [T], optimistic=optimistic)
        return float(out.metrics["cum_loss"][0, -1] - dynamic_comparator_losses("quadratic", th, [T], 1.0)[0][0])
    assert regret(4000, True) == pytest.approx(regret(1000, True), rel=0.01)
    assert regret(4000, False) > 2.4 * regret(1000, False) > 2.4 * regret(1000, True)


def test_ons_projection_is_the_u_norm_projection():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((4, 3, 3))
    U = A @ np.transpose(A, (0, 2, 1)) + 0.1 * np.eye(3)
    y = rng.standard_normal((4, 3)) * 2
    x = online.project_norm_ball(y, U, 1.0)
    import cvxpy as cp
    for r in range(4):
        v = cp.Variable(3)
        L = np.linalg.cholesky(U[r])
        cp.Problem(cp.Minimize(cp.sum_squares(L.T @ (v - y[r]))), [cp.norm(v) <= 1]).solve()
        def obj(w):
            return (w - y[r]) @ U[r] @ (w - y[r])
        assert np.linalg.norm(x[r]) <= 1 + 1e-12
        assert obj(x[r]) <= obj(v.value) + 1e-7        # at least as good as the conic solver
        assert np.allclose(x[r], v.value, atol=1e-4)


def test_oomd_noiseless_fixed_converges_to_theta():
    s, th = _stream(np, loss="quadratic", s2=0.0, T=400)
    out = online.oomd(s, 2.0, 1.4, [400])
    # regret against theta (inside X): bounded, far below OGD's sqrt(T) scale
    assert out.metrics["cum_loss"][:, -1].max() < 1.0


def test_shocks_schedule_and_exact_variation():
    T, c = 100, np.array([1.5, 0.0])
    th = sea.theta_schedule("shocks", T, 2, center=c, switches=4)
    shocked = np.flatnonzero(th[:, 0] < 0)
    assert shocked.tolist() == sea.shock_rounds(T, 4).tolist() == [12, 37, 62, 87]
    Sig = sea.adversarial_variation("quadratic", th, 1.0)
    assert sea.cumulative(Sig) == pytest.approx(2.5**2 + 2 * 4 * 3.0**2)
    # the static comparator is the sphere point c/|c|, the minimizer of every ordinary round
    u, _, how = comparator("quadratic", th, 1.0)
    assert how == "closed form" and np.allclose(u, [1.0, 0.0])


def test_shock_regret_is_flat_in_T_and_grows_with_K():
    def regret(T, K, eta=None):
        th = sea.theta_schedule("shocks", T, 2, center=np.array([1.5, 0.0]), switches=K)
        s = sea.SEAStream("quadratic", th, np.zeros((T, 1, 2)), 1.0)
        out = (online.oomd(s, 2.0, 2.5, [T]) if eta is None else online.oomd_fixed_step(s, eta, [T]))
        return float(out.metrics["cum_loss"][0, -1] - comparator("quadratic", th, 1.0)[1])
    assert regret(400, 2) == pytest.approx(regret(1600, 2), rel=1e-9)   # shocks cost the same
    assert 0 < regret(1600, 2) < regret(1600, 8) < 4 * regret(1600, 2)    # ~ sqrt(K), not K
    frozen = [regret(1600, k, eta=0.4) for k in (2, 4, 8)]             # same cost per shock
    assert frozen[2] - frozen[1] == pytest.approx(2 * (frozen[1] - frozen[0]), rel=1e-9)


def test_drift_path_length_and_dynamic_comparator():
    T = 4000
    th = sea.theta_schedule("drift", T, 3, center=np.zeros(3), amplitude=0.5, laps=3)
    assert sea.path_length(th) == pytest.approx(2 * np.pi * 0.5 * 3, rel=1e-3)
    loss, u = dynamic_comparator_losses("quadratic", th, [10, T], 1.0)
    assert np.allclose(loss, 0.0) and np.allclose(u, th)        # theta inside X: F_t(u_t) = 0
    far = th + np.array([2.0, 0.0, 0.0])
    loss, u = dynamic_comparator_losses("huber", far, [T], 1.0, 0.5)
    assert np.allclose(np.linalg.norm(u, axis=1), 1.0)
    dist = np.linalg.norm(far - u, axis=1)
    assert loss[0] == pytest.approx(np.sum(0.5 * dist - 0.125))
    with pytest.raises(ValueError, match="l1"):
        dynamic_comparator_losses("l1", th, [T], 1.0)


def test_dynamic_step_balances_the_bound():
    D, P, V = 2.0, 7.0, 400.0
    eta = online.dynamic_step(D, P, V)
    def bound(e):
        return (D * D + 2 * D * P) / (2 * e) + e * V
    assert bound(eta) == pytest.approx(np.sqrt(2 * (D * D + 2 * D * P) * V))
    assert bound(eta) < min(bound(0.9 * eta), bound(1.1 * eta))


def test_tightest_envelope():
    s = np.array([1.0, 2.0, 4.0, 8.0])
    y = np.array([1.5, 2.0, 3.9, 6.0])
    C, Cp = tightest_envelope(s, y)
    assert np.all(C * s + Cp >= y - 1e-12)
    assert np.sum(np.isclose(C * s + Cp, y)) >= 2                # supported by two points
    assert (C, Cp) == pytest.approx((0.8, 0.7))                  # through (1, 1.5), (4, 3.9)
