"""halpern-vr claims about the iterates: Halpern's bound, its tightness, the 1/k rates.

The oracle-complexity and matrix-game claims are in claims_complexity.py.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from experiments.base import claim
from theory import Bounded, Claim, Curves, Values, loglog_slope, tail_window

from .config import NAME, SRC

N_, D_, a_ = sp.symbols("N D a", positive=True)
HALPERN_BOUND = 2 * D_ / (N_ + 1)                  # ||x_N - T x_N|| <= 2 ||x0 - x*|| / (N+1)
# Halpern on a rotation T by a: (N+1) x_N = sum_{j<=N} T^j x0, so (I - T) x_N = (I - T^{N+1}) x0/(N+1)
# and |1 - e^{i(N+1)a}| = 2|sin((N+1)a/2)|: the residual in closed form.
ROTATION_RESIDUAL = 2 * D_ * sp.Abs(sp.sin((N_ + 1) * a_ / 2)) / (N_ + 1)
ROUNDOFF = 1e-12        # float64 round-off over a few hundred 2x2 steps is ~1e-14 of the bound


def fixed(results, problem, method):
    return results.get(problem=problem, method=method, sweep="fixed")


def bound_ratio(trace):
    """||x_N - T x_N|| over Halpern's bound 2||x0 - x*||/(N+1), per trial and recorded N."""
    k = np.asarray(trace.iterations, dtype=float)
    bound = sp.lambdify((D_, N_), HALPERN_BOUND, "numpy")(trace.scalars["distance0"][:, None], k[None, :])
    return trace.series["residual"] / bound


@claim(lambda p: Claim(
    id=f"{NAME}/halpern-bound", source=f"{SRC}, Section 2 (Halpern's last-iterate bound, Lieder 2021)",
    statement="||x_N - T x_N|| <= 2||x0 - x*||/(N+1) at every N (rotation, least squares, box LS)",
    quantity="worst ratio ||x_N - T x_N|| / (2||x0 - x*||/(N+1)) over all N and trials",
    kind="bound", predicted=HALPERN_BOUND, relation="le",
    tolerance=1e-9,   # round-off only: the reflection case attains ratio 1 exactly
    control="the plain iteration x_{k+1} = T x_k on the rotation (does not converge)"))
def halpern_bound(results, p):
    """Lieder (2021), recalled in Section 2 of the paper: for T nonexpansive with a fixed point,
    Halpern's iteration x_{k+1} = x0/(k+2) + (1 - 1/(k+2)) T x_k satisfies
    ||x_N - T x_N|| <= 2||x0 - x*||/(N+1) for every N.  Checked at every step on a rotation
    (the tight case), an unconstrained and a box-constrained least squares (T = J_G(I - F/L)).

    Control: the plain iteration on the rotation keeps ||x_N - T x_N|| = 2 sin(a/2)||x0||, so
    its ratio grows like (N+1) sin(a/2) and crosses 1 at N = 1."""
    units = [fixed(results, "rotation", "halpern"), fixed(results, "lsq-box", "halpern"),
             fixed(results, "lsq", "halpern")]
    ratios = np.concatenate([bound_ratio(t) for t in units], axis=1)
    plain = bound_ratio(fixed(results, "rotation", "halpern-plain"))
    return (Bounded(ratios, 1.0, "rotation + box LS + LS"),
            Bounded(plain, 1.0, "plain iteration on the rotation"))


def closed_form_deviation(trace):
    """max over N >= 1 of |measured ratio - |sin((N+1)a/2)||: the distance, in units of the bound,
    between the recorded residual and Halpern's closed form on the rotation."""
    k = np.asarray(trace.iterations, dtype=float)
    closed = sp.lambdify((N_, a_), sp.simplify(ROTATION_RESIDUAL / HALPERN_BOUND), "numpy")
    expected = closed(k[None, :], trace.scalars["angle"][:, None])
    dev = np.abs(bound_ratio(trace) - expected)[:, k >= 1]
    return dev.max(axis=1)


@claim(lambda p: Claim(
    id=f"{NAME}/halpern-tight", source=f"{SRC}, Section 2 (tightness, Lieder 2021)",
    statement=("on a rotation by a, Halpern's residual is exactly 2||x0-x*|| |sin((N+1)a/2)|/(N+1): "
               "the bound is attained (a = pi, N even) and cannot be improved"),
    quantity="max over N >= 1 of |residual/bound - |sin((N+1)a/2)||, per trial (rotation)",
    kind="phenomenon", predicted=0, relation="eq",
    tolerance=ROUNDOFF,   # the identity is exact; the band is float64 round-off (not a modelling slack)
    control="the plain iteration x_{k+1} = T x_k on the same rotations"))
def halpern_tight(results, p):
    """Tightness of Halpern's bound (Lieder 2021; Section 2 of the paper).  For a linear T the
    iterates are exact: with S_k = (k+1) x_k, S_{k+1} = x0 + T S_k, so
    (N+1)(I - T) x_N = (I - T^{N+1}) x0; on a rotation by a this has norm
    2|sin((N+1)a/2)| ||x0||.  The ratio to the bound is |sin((N+1)a/2)|, which is 1 for a = pi at
    even N: the bound is attained, hence tight.  The check compares every recorded N >= 1 with this
    closed form to round-off (the predicted deviation 0 is an identity, not a fitted number).

    Control: without the anchor x_N = T^N x0, whose ratio is (N+1) sin(a/2) — the deviation from
    the closed form is of order N.  A wrong anchor schedule (1/(k+3), a constant) changes x_N and
    is caught the same way (tests/mutants_halpern_vr.py)."""
    return (Values(closed_form_deviation(fixed(results, "rotation", "halpern")), "Halpern on rotations"),
            Values(closed_form_deviation(fixed(results, "rotation", "halpern-plain")), "plain iteration"))


def rate_curves(trace, label):
    x = np.asarray(trace.iterations, dtype=float)
    y = trace.series["residual"]
    x, y = x[1:], y[:, 1:]
    window = tail_window(x, y, start=0.5, floor=1e-11, log=True)
    return Curves(x, y, "loglog", window=window, setting=label)


def rate_claim(slug, what, theorem, control):
    return lambda p: Claim(
        id=f"{NAME}/{slug}", source=f"{SRC}, {theorem}",
        statement=f"{what}: last-iterate residual decays like 1/k",
        quantity="log-log slope of the residual in iterations, tail window [sqrt(K), K]", kind="rate",
        predicted=loglog_slope(HALPERN_BOUND, N_, limit={N_: sp.oo}), relation="eq",
        tolerance=0.15, r2_min=0.95, control=control)


@claim(rate_claim("halpern-rate", "Halpern on least squares", "Section 2",
                  "plain iteration T x_k on the same least squares (linear, not 1/N)"))
def halpern_rate(results, p):
    """Halpern's O(1/N) last-iterate rate (Section 2): on least squares with T = I - F/L the
    residual is (I - T^{N+1})(x0 - x*)/(N+1), slope -1 once T^{N+1} is small.

    Control: the plain iteration converges linearly (T is a contraction on this well-posed
    problem): a semilog law, steeper than -1 in log-log and a worse power-law fit."""
    return (rate_curves(fixed(results, "lsq", "halpern"), "halpern"),
            rate_curves(fixed(results, "lsq", "halpern-plain"), "halpern-plain"))


@claim(rate_claim("page-rate", "Alg. 1 (PAGE-Halpern) on least squares", "Theorem 3.2",
                  "Alg. 1 without anchor (lam_k = 0): linear convergence, not 1/k"))
def page_rate(results, p):
    """Theorem 3.2: Alg. 1 (Halpern anchor 2/(k+4) with the PAGE estimator) has
    E||residual|| = O(L||u0 - u*||/k), a 1/k law per iteration.

    Control: dropping the anchor leaves stochastic forward-backward, linear on this strongly
    monotone least squares (steeper than -1, better fit by an exponential).  A stale estimator
    (never refreshed) stalls the residual: slope near 0 (tests/mutants_halpern_vr.py)."""
    return (rate_curves(fixed(results, "lsq", "page"), "page"),
            rate_curves(fixed(results, "lsq", "page-plain"), "page-plain"))


@claim(rate_claim("alg2-rate", "Alg. 2 on the bilinear-quadratic problem", "Theorem 4.2",
                  "Alg. 2 without anchor (inexact proximal point): not a 1/k law"))
def alg2_rate(results, p):
    """Theorem 4.2: Alg. 2 (inexact Halpern on the resolvent J_{sqrt(n)/L (F+G)}, VR-FoRB inner
    loop) has residual O(L||u0 - u*||/(sqrt(n) k)) at the computable output v_k.

    Control: without the anchor the outer loop is an inexact proximal-point method, linear on
    this problem (the bilinear coupling makes the resolvent a contraction)."""
    return (rate_curves(fixed(results, "bq", "alg2"), "alg2"),
            rate_curves(fixed(results, "bq", "alg2-plain"), "alg2-plain"))


CLAIMS = [halpern_bound, halpern_tight, halpern_rate, page_rate, alg2_rate]
