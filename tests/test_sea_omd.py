"""sea-omd: SEA instances, comparators, online learners, claims and parameter errors."""
from __future__ import annotations

import numpy as np
import pytest

from algorithms import online
from experiments.backend import to_backend, to_numpy
from experiments.params import ParamError
from problems import sea
from experiments.sea_omd_checks import tightest_envelope
from problems.sea_comparator import (closed_form, comparator, cvxpy_comparator,
                                     distinct_thetas, dynamic_comparator_losses)
from conftest import dtype_tol


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
@pytest.mark.parametrize("loss,schedule,center", [
    ("quadratic", "switches", [0.3, 0.2, 0.0]),
    ("quadratic", "fixed", [1.7, -0.4, 0.2]),       # outside the ball: projection
    ("huber", "fixed", [1.2, 0.5, 0.0]),
    ("huber", "alternating", [0.1, 0.0, 0.3]),
    ("l1", "alternating", [0.0, 0.2, 0.0]),
])
def test_comparator_closed_form_matches_cvxpy(loss, schedule, center):
    th = sea.theta_schedule(schedule, 101 if schedule == "switches" else 100, 3,
                            center=np.array(center), amplitude=0.3, switches=3)
    values, counts = distinct_thetas(th)
    u = closed_form(loss, values, counts, 1.0)
    assert u is not None
    v, _ = cvxpy_comparator(loss, values, counts, 1.0, 0.5)
    f = lambda w: np.dot(counts, sea.host_loss(loss, w, values, 0.5))
    assert f(u) <= f(v) + 1e-6 * max(1.0, abs(f(v)))
    if loss != "l1":   # l1 minimizers are not unique
        assert np.allclose(u, v, atol=1e-4)


def test_comparator_falls_back_to_cvxpy():
    th = np.array([[0.5, 0.0]] * 3 + [[-0.5, 0.2]] * 7)
    _, total, how = comparator("huber", th, 1.0, 0.3)
    assert how.startswith("cvxpy/")
    grid = [np.array([a, b]) for a in np.linspace(-1, 1, 81) for b in np.linspace(-1, 1, 81)
            if a * a + b * b <= 1]
    assert total <= min(np.sum(sea.host_loss("huber", g, th, 0.3)) for g in grid) + 1e-6


# ---- learners: backends agree, oracle counts, closed forms -----------------------------------
LEARNERS = {
    "oomd": lambda s: online.oomd(s, 2.0, 0.5, [1, 50, 200]),
    "oomd-sc": lambda s: online.oomd_strongly_convex(s, 1.0, [1, 50, 200]),
    "ogd": lambda s: online.ogd(s, 2.0, 0.5, [1, 50, 200]),
    "oftrl": lambda s: online.optimistic_ftrl(s, 2.0, 0.5, [1, 50, 200]),
    "oons": lambda s: online.optimistic_ons(s, 0.2, 2.0, 2.0, [1, 50, 200]),
    "oomd-fixed": lambda s: online.oomd_fixed_step(s, 0.1, [1, 50, 200]),
}


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_learners_agree_across_backends(xp, name):
    ref = LEARNERS[name](_stream(np)[0])
    out = LEARNERS[name](_stream(xp)[0])
    got = np.asarray(to_numpy(out["cum_loss"]))
    assert got.shape == (3, 3)
    assert np.allclose(got, ref["cum_loss"], rtol=dtype_tol(), atol=dtype_tol())
    assert out["calls"] == [1.0, 50.0, 200.0]      # one gradient per trial and round


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
        obj = lambda w: (w - y[r]) @ U[r] @ (w - y[r])
        assert np.linalg.norm(x[r]) <= 1 + 1e-12
        assert obj(x[r]) <= obj(v.value) + 1e-7        # at least as good as the conic solver
        assert np.allclose(x[r], v.value, atol=1e-4)


def test_oomd_noiseless_fixed_converges_to_theta():
    s, th = _stream(np, loss="quadratic", s2=0.0, T=400)
    out = online.oomd(s, 2.0, 1.4, [400])
    # regret against theta (inside X): bounded, far below OGD's sqrt(T) scale
    assert out["cum_loss"][:, -1].max() < 1.0


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
        return float(out["cum_loss"][0, -1] - comparator("quadratic", th, 1.0)[1])
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
    bound = lambda e: (D * D + 2 * D * P) / (2 * e) + e * V
    assert bound(eta) == pytest.approx(np.sqrt(2 * (D * D + 2 * D * P) * V))
    assert bound(eta) < min(bound(0.9 * eta), bound(1.1 * eta))


def test_tightest_envelope():
    s = np.array([1.0, 2.0, 4.0, 8.0])
    y = np.array([1.5, 2.0, 3.9, 6.0])
    C, Cp = tightest_envelope(s, y)
    assert np.all(C * s + Cp >= y - 1e-12)
    assert np.sum(np.isclose(C * s + Cp, y)) >= 2                # supported by two points
    assert (C, Cp) == pytest.approx((0.8, 0.7))                  # through (1, 1.5), (4, 3.9)


# ---- parameters and CLI ------------------------------------------------------------------------
@pytest.mark.parametrize("key,value,needle", [
    ("T", "0", "T"), ("d", "0", "d"), ("noise_levels", "-1,1,2", "noise_levels"),
    ("sc_noise", "-0.5", "sc_noise"), ("radius", "0", "radius"), ("radius", "-1", "radius"),
    ("dims", "2,4", "dims"), ("amplitudes", "0.1,0.2,0.9", "amplitudes"),
    ("shock_counts", "8,16,5000", "shock_counts"), ("drift_laps", "1,2,3,4", "drift_laps"),
    ("grid_amplitudes", "0,0.1,0.9", "grid_amplitudes"), ("grid_noise", "0,-1,1", "grid_noise"),
    ("switches", "100", "switches"),
])
def test_bad_parameters(key, value, needle):
    from experiments import registry

    with pytest.raises(ParamError, match=needle):
        registry.get("sea-omd").resolve("quick", {key: value})


def test_cli_bad_parameter_exits_2(tmp_path):
    from experiments import cli

    assert cli.main(["run", "sea-omd", "--set", "T=0", "--out", str(tmp_path)]) == 2
    assert not any(tmp_path.iterdir())


# ---- claims ------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_claims_hold_and_controls_are_rejected(run_quick, seed):
    _, verdicts = run_quick("sea-omd", seed=seed)
    assert len(verdicts) == 8
    for v in verdicts:
        assert v.check.holds, (v.claim.id, v.check)
        assert v.control_rejected, (v.claim.id, v.control)
        assert v.holds
