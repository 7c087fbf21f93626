"""The claims engine on synthetic curves whose exponents and rates are known."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from theory import (Bounded, Claim, Curves, Paired, Values, check, fieller_ratio_interval, fit_rates,
                    judge, loglog_slope, semilog_slope, t_mean_interval, tail_window)


def claim(kind="rate", predicted=-2, relation="eq", tolerance=0.1, **kw):
    return Claim(id="test/claim", source="synthetic", statement="s", quantity="q", kind=kind,
                 predicted=predicted, relation=relation, control="c", tolerance=tolerance, **kw)


def power_law(exponent, trials=8, noise=0.05, seed=0, t=None):
    rng = np.random.default_rng(seed)
    t = np.arange(1, 2001.0) if t is None else t
    return t, 3.0 * t**exponent * np.exp(noise * rng.standard_normal((trials, t.size)))


def exponential(rate, trials=8, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(0, 2000.0)
    return t, np.exp(rate * t + noise * rng.standard_normal((trials, t.size)))


# ---- symbolic -------------------------------------------------------------------------------
def test_loglog_slope_in_regimes():
    n, L, eps = sp.symbols("n L eps", positive=True)
    cost = n + sp.sqrt(n) * L / eps
    assert loglog_slope(cost, n, limit={eps: 0}) == sp.Rational(1, 2)
    assert loglog_slope(cost, n, limit={n: sp.oo}) == 1
    assert loglog_slope(cost, eps, limit={eps: 0}) == -1
    assert loglog_slope(1 / n**2, n) == -2


def test_semilog_slope_and_its_alpha_exponent():
    a, T, c = sp.symbols("alpha T c", positive=True)
    rate = semilog_slope(sp.exp(-c * a**2 * T), T)
    assert sp.simplify(rate + c * a**2) == 0
    assert loglog_slope(rate, a) == 2


def test_local_slope_at_a_point():
    n, L, eps = sp.symbols("n L eps", positive=True)
    local = loglog_slope(n + sp.sqrt(n) * L / eps, n, at={n: 100, L: 1, eps: 1e-3})
    assert 0.5 < float(local) < 0.6


# ---- rate fits ------------------------------------------------------------------------------
@pytest.mark.parametrize("exponent", [-0.5, -1.0, -2.0])
def test_rate_recovers_power_law_and_rejects_wrong_prediction(exponent):
    t, y = power_law(exponent)
    good = check(claim(predicted=exponent), Curves(t, y, "loglog", (500, 2000)))
    assert good.holds and abs(good.measured - exponent) < 0.02
    wrong = check(claim(predicted=exponent - 0.5), Curves(t, y, "loglog", (500, 2000)))
    assert not wrong.holds


def test_rate_recovers_linear_convergence_factor():
    t, y = exponential(-0.01)
    ok = check(claim(predicted=0, relation="le", tolerance=0), Curves(t, y, "semilog", (200, 2000)))
    assert ok.holds and abs(ok.measured + 0.01) < 1e-3


def test_model_comparison_tells_power_law_from_exponential():
    """A 1/t^2 tail is not linear convergence, and an exponential is not a power law, even though
    both have negative slopes on either scale."""
    t, y = power_law(-2.0, noise=0.01)
    linear = claim(predicted=0, relation="le", tolerance=0)
    assert not check(linear, Curves(t, y, "semilog", (250, 2000))).holds
    t, y = exponential(-0.01, noise=0.01)
    sublinear = claim(predicted=-2, relation="ge", tolerance=0.2)
    assert not check(sublinear, Curves(t, y, "loglog", (250, 2000))).holds


def test_floor_is_excluded_by_tail_window():
    t, y = exponential(-0.05, noise=0.0)
    y = np.maximum(y, 1e-30)  # round-off floor after ~1380 steps
    lo, hi = tail_window(t, y, start=0.5, floor=1e-28)
    assert hi < 1300 and lo > 500
    fit = fit_rates(t, y, "semilog", (lo, hi))
    assert np.allclose(fit["slopes"], -0.05)


def test_a_trial_non_finite_inside_the_window_fails_the_claim():
    """A diverged trial is never dropped silently: the fit flags it and the check fails."""
    t, y = power_law(-1.0, noise=0.0)
    y[0, 1500:] = np.nan
    fit = fit_rates(t, y, "loglog", (100, 2000))
    assert np.allclose(fit["slopes"], -1.0) and not fit["finite"][0] and fit["finite"][1:].all()
    assert not check(claim(predicted=-1.0), Curves(t, y, "loglog", (100, 2000))).holds
    assert check(claim(predicted=-1.0), Curves(t, y, "loglog", (100, 1400))).holds


def test_fewer_than_five_points_is_no_fit():
    t, y = power_law(-1.0, noise=0.01)
    few = check(claim(predicted=-1.0), Curves(t[:4], y[:, :4], "loglog"))
    assert not few.holds and "not enough trials" in few.detail


def test_r2_is_required_per_trial():
    """One trial that is not a power law fails the claim even when the mean curve looks fine."""
    t, y = power_law(-1.0, trials=8, noise=0.01)
    y[3] = 3.0 * t**-1.0 * (1 + 0.9 * np.sin(t / 30.0))
    c = claim(predicted=-1.0, r2_min=0.95, tolerance=0.5)
    v = check(c, Curves(t, y, "loglog", (100, 2000), compare_models=False))
    assert not v.holds and v.r2 < 0.95


def test_eq_is_an_equivalence_test():
    """A vaguer measurement must not pass more easily: the whole interval must be in the band."""
    c = claim(kind="phenomenon", predicted=1.0, relation="eq", tolerance=0.1)
    precise = np.full(8, 1.05) + 0.001 * np.arange(8)
    vague = 1.05 + 0.3 * np.array([-1, 1, -1, 1, -1, 1, -1, 1.0])
    assert check(c, Values(precise)).holds
    assert not check(c, Values(vague)).holds


def test_fewer_than_three_trials_give_no_interval():
    c = claim(kind="phenomenon", predicted=0.5, relation="ge", tolerance=0)
    v = check(c, Values(np.array([0.9, 0.95])))
    assert not v.holds and "not enough trials" in v.detail


@pytest.mark.parametrize("trials", [4, 8])
def test_student_t_interval_covers_at_nominal_rate(trials):
    """95% +- 2% coverage over 4000 synthetic experiments (a percentile bootstrap of the mean
    covers 78% at 4 trials and 88% at 8)."""
    rng = np.random.default_rng(1)
    reps = 4000
    values = -1.0 + 0.1 * rng.standard_normal((reps, trials))
    covered = sum(lo <= -1.0 <= hi for lo, hi in (t_mean_interval(v)[1] for v in values))
    assert 0.93 <= covered / reps <= 0.97


@pytest.mark.parametrize("paired", [True, False])
def test_fieller_ratio_interval_covers_at_nominal_rate(paired):
    """The interval of mean(b)/mean(a) used by order claims: 95% +- 2% at 8 trials."""
    rng = np.random.default_rng(2)
    reps, covered = 4000, 0
    for _ in range(reps):
        a = 10 + 2.0 * rng.standard_normal(8)
        noise = 0.5 * (a - 10) if paired else 0.0
        b = 30 + noise + 3.0 * rng.standard_normal(8)
        lo, hi = fieller_ratio_interval(a, b)[1]
        covered += lo <= 3.0 <= hi
    assert 0.93 <= covered / reps <= 0.97


# ---- the other kinds ------------------------------------------------------------------------
def test_bound_reports_worst_ratio_and_catches_violation():
    N = np.arange(1, 101.0)
    bound = 2.0 / (N + 1)
    c = claim(kind="bound", predicted=2 * sp.Symbol("D") / (sp.Symbol("N") + 1), relation="le", tolerance=1e-9, symbols={"D": 1.0})
    assert np.allclose(c.evaluate(N=N), bound)
    ok = check(c, Bounded(0.9 * bound[None, :].repeat(3, 0), bound))
    assert ok.holds and ok.measured == pytest.approx(0.9)
    broken = 0.9 * bound[None, :].repeat(3, 0)
    broken[1, 50] = 1.2 * bound[50]
    bad = check(c, Bounded(broken, bound))
    assert not bad.holds and bad.measured == pytest.approx(1.2)


def test_order_and_phenomenon():
    rng = np.random.default_rng(0)
    fast, slow = 100 + rng.random(16), 1500 + 100 * rng.random(16)
    c = claim(kind="order", predicted=10, relation="ge", tolerance=0)
    assert check(c, Paired(fast, slow)).holds
    assert not check(c, Paired(fast, 5 * fast)).holds
    p = claim(kind="phenomenon", predicted=0.95, relation="ge", tolerance=0)
    assert check(p, Values(np.full(8, 0.99))).holds
    assert not check(p, Values(np.array([0.99, 0.6, 0.99, 0.99]))).holds
    assert not check(p, Values(np.array([0.99, np.nan, 0.99, 0.99]))).holds   # censored trial


def test_verdict_fails_when_control_is_not_rejected():
    t, y = power_law(-1.0)
    c = claim(predicted=-1.0)
    v = judge(c, Curves(t, y, "loglog", (500, 2000)), Curves(t, y, "loglog", (500, 2000)))
    assert v.check.holds and not v.control_rejected and not v.holds
    _, y2 = power_law(-2.0)
    v2 = judge(c, Curves(t, y, "loglog", (500, 2000)), Curves(t, y2, "loglog", (500, 2000)))
    assert v2.holds and v2.to_json()["control"]["rejected"]
    # with several controls, every one must be rejected
    v3 = judge(c, Curves(t, y, "loglog", (500, 2000)), Curves(t, y2, "loglog", (500, 2000)),
               Curves(t, y, "loglog", (500, 2000)))
    assert v3.check.holds and not v3.holds and len(v3.to_json()["control"]["checks"]) == 2


def test_claim_validation():
    with pytest.raises(ValueError, match="kind"):
        claim(kind="guess")
    with pytest.raises(ValueError, match="relation"):
        claim(relation="approx")
    with pytest.raises(ValueError, match="unset symbols"):
        claim(predicted=sp.Symbol("x")).predicted_value()


def test_unmeasurable_control_rejects_nothing():
    """A control whose evidence is all NaN fails its check, but that must not count as a
    rejection: otherwise any claim would look discriminating."""
    t, y = power_law(-1.0)
    c = claim(predicted=-1.0)
    v = judge(c, Curves(t, y, "loglog", (500, 2000)), Curves(t, np.full_like(y, np.nan), "loglog"))
    assert v.check.holds and not v.control.holds
    assert not v.control_rejected and not v.holds


def test_an_abscissa_outside_the_window_cannot_poison_the_fit():
    """log x = -inf at x = 0 lies outside the window and must not turn the slope into NaN."""
    t, y = power_law(-1.0, noise=0.0)
    t = np.concatenate([[0.0], t])
    y = np.concatenate([np.ones((y.shape[0], 1)), y], axis=1)
    fit = fit_rates(t, y, "loglog", (10, 2000))
    assert np.allclose(fit["slopes"], -1.0)
