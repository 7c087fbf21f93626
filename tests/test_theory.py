"""The claims engine on synthetic curves whose exponents and rates are known."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from theory import (Bounded, Claim, Curves, Paired, Values, bootstrap_mean_interval, check, fit_rates,
                    judge, loglog_slope, semilog_slope, tail_window)


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


def test_nan_points_are_ignored_per_trial():
    t, y = power_law(-1.0, noise=0.0)
    y[0, 1500:] = np.nan
    fit = fit_rates(t, y, "loglog", (100, 2000))
    assert np.allclose(fit["slopes"], -1.0)


def test_bootstrap_interval_covers_truth_at_about_nominal_rate():
    """Over many synthetic experiments the 95% interval of the mean exponent covers the truth
    in roughly 95% of them (percentile bootstrap with 20 trials: a little under nominal)."""
    rng = np.random.default_rng(1)
    covered = 0
    reps = 300
    for _ in range(reps):
        slopes = -1.0 + 0.1 * rng.standard_normal(20)
        _, (lo, hi) = bootstrap_mean_interval(slopes, samples=1000, seed=int(rng.integers(1 << 30)))
        covered += lo <= -1.0 <= hi
    assert 0.88 <= covered / reps <= 0.99


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


def test_verdict_fails_when_control_is_not_rejected():
    t, y = power_law(-1.0)
    c = claim(predicted=-1.0)
    v = judge(c, Curves(t, y, "loglog", (500, 2000)), Curves(t, y, "loglog", (500, 2000)))
    assert v.check.holds and not v.control_rejected and not v.holds
    _, y2 = power_law(-2.0)
    v2 = judge(c, Curves(t, y, "loglog", (500, 2000)), Curves(t, y2, "loglog", (500, 2000)))
    assert v2.holds and v2.to_json()["control"]["rejected"]


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
