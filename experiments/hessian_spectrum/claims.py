"""hessian-spectrum claims (Sagun, Bottou & LeCun 2016; Sagun, Evci, Guney, Dauphin & Bottou,
"Empirical Analysis of the Hessian of Over-Parametrized Neural Networks", arXiv:1706.04454,
ICLR 2018 workshop), each next to the function gathering its evidence.

What could be verified (abstract and introduction of arXiv:1706.04454): the spectrum is a bulk
near zero plus outliers; with the data fixed more parameters scale the bulk; with the
architecture fixed, changing the data (more clusters, less separable) moves the outliers; the
large eigenvalues relate to the covariance of the gradients of the model outputs (the
Gauss-Newton part, H = (1/n) sum l'' J^T J + (1/n) sum l' Hess f); small- and large-batch
solutions "appear" to be in different basins but are connected through the flat region.  What
could not be verified: the paper's thresholds, its exact outlier count, its batch sizes and
whether its small-batch run started from the large-batch solution or from the same
initialization (here: the same initialization).  Every threshold below is therefore typed, with
its reason, not derived.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from experiments.base import claim
from theory import Claim, Values

from .config import n_params

PAPER = "Sagun, Evci, Guney, Dauphin & Bottou, arXiv:1706.04454 (2017/2018)"
k_ = sp.Symbol("k", positive=True, integer=True)
# The outlier count under MSE with k outputs: the output-layer block of the Gauss-Newton part is
# I_k (x) Sigma_a (Sigma_a: second moments of the hidden features, which cluster at k class means,
# so rank Sigma_a ~ k): k outputs x k mean directions.  Used as the index of the bulk edge.
OUTLIER_COUNT = k_ ** 2


def _count(k: int) -> int:
    return int(OUTLIER_COUNT.subs(k_, k))


def _scalar(trace, metric, point="trained", **labels):
    return np.asarray(trace.scalar_of(metric, point=point, **labels), dtype=float)


def _gap(trace, index: int, width: int):
    """lambda_index / lambda_{index+1} of the exact Hessian (ranks from 1), per trial."""
    return _scalar(trace, "eigenvalue", width=width, rank=index) / _scalar(trace, "eigenvalue", width=width, rank=index + 1)


def _relative_gn_gap(trace, k, h, point):
    """max over r <= k^2 of |lambda_r(H) - lambda_r(GN)| / lambda_r(GN), per trial."""
    return np.max([np.abs(_scalar(trace, "eigenvalue", point, width=h, rank=r)
                          - _scalar(trace, "gauss_newton_eigenvalue", point, width=h, rank=r))
                   / _scalar(trace, "gauss_newton_eigenvalue", point, width=h, rank=r)
                   for r in range(1, _count(k) + 1)], axis=0)


def _units(results, setting, p):
    return [(k, results.get(setting=setting, classes=k)) for k in p["classes"]]


# ---- 1. bulk + outliers ------------------------------------------------------------------------
@claim(lambda p: Claim(
    id="hessian-spectrum/bulk-and-outliers", source=f"{PAPER}, abstract and Sec. 2 (spectrum = bulk + outliers)",
    statement="at a trained point at least 90% of the eigenvalues lie within band * lambda_max of 0",
    quantity=f"worst over k of the near-zero fraction (|lambda| <= {p['band']} lambda_max), width {p['probe_width']}",
    kind="phenomenon",
    predicted=sp.Rational(9, 10),   # typed: the 90% (the paper gives no number)
    relation="ge",
    control="the same networks at their random initialization (large residual part, no collapse of the features)"))
def bulk_and_outliers(results, p):
    """Problem: k-class Gaussian mixture, one ReLU layer, MSE, full-batch GD.  Paper: the
    spectrum is a bulk near zero plus a few outliers (arXiv:1706.04454, abstract).  Measured:
    fraction of exact eigenvalues with |lambda| <= band * lambda_max, worst over k, at the probe
    width; the k^2 outliers (claim outlier-count) are the few outside.  Control: the same
    architecture at initialization, where the residual part (l' = f - y, order 1) spreads
    eigenvalues to both sides of 0 and the hidden features have not yet clustered; the same
    check must reject it (measured about 0.6-0.8)."""
    h = p["probe_width"]
    probes = _units(results, "probe", p)
    trained = np.min([_scalar(t, "near_zero_fraction", width=h) for _, t in probes], axis=0)
    init = np.min([_scalar(t, "near_zero_fraction", "initialization", width=h) for _, t in probes], axis=0)
    return Values(trained, setting=f"trained, width {h}"), Values(init, setting=f"initialization, width {h}")


# ---- 2. outliers track the data ------------------------------------------------------------------
GAP_MIN = 3.0   # typed: a factor-3 drop marks the bulk edge (within-cluster ratios measured < 3)


@claim(lambda p: Claim(
    id="hessian-spectrum/outlier-count", source=f"{PAPER}, abstract (the data moves the outliers); count: this suite",
    statement="under MSE the bulk edge sits after exactly k^2 eigenvalues, at every width",
    quantity="worst over k and widths of lambda_{k^2} / lambda_{k^2+1} of the exact Hessian",
    kind="phenomenon", predicted=GAP_MIN, relation="ge",
    control="the same ratio at the folklore count k, and at the count (k+1)^2 of the next class number"))
def outlier_count(results, p):
    """Paper: with the architecture fixed, changing the data (more clusters) only moves the
    outliers (arXiv:1706.04454, abstract); "number of outliers = number of classes" is the usual
    reading.  Derived here for MSE with k outputs: the output-layer block of the Gauss-Newton part
    is I_k (x) Sigma_a and the features cluster at k class means, so there are k * k = k^2
    outliers (the top k, along the mean feature, are the largest).  Measured: the ratio across
    index k^2, worst over every k and width (the same data for every width), so the count is
    width-independent and follows k.  Controls: the ratio across index k (the folklore count;
    inside the outlier group, measured < 3) and across (k+1)^2 (the count a k+1-class mixture
    would have; inside the bulk): both must fail the same check."""
    def worst(index_of):
        return np.min([_gap(t, index_of(k), h) for k, t in _units(results, "widths", p) for h in p["widths"]], axis=0)

    return (Values(worst(_count), setting="index k^2"),
            Values(worst(lambda k: k), setting="index k (folklore)"),
            Values(worst(lambda k: _count(k + 1)), setting="index (k+1)^2"))


# ---- 3. parameters scale the bulk --------------------------------------------------------------
@claim(lambda p: Claim(
    id="hessian-spectrum/width-scales-bulk", source=f"{PAPER}, abstract (fixing data, more parameters scale the bulk)",
    statement="at fixed data, the near-zero fraction is non-decreasing in the width",
    quantity="worst over k and consecutive widths of the increase of the near-zero fraction",
    kind="phenomenon", predicted=0, relation="ge",
    control="more classes at fixed width (changing the data): the near-zero fraction must not increase"))
def width_scales_bulk(results, p):
    """Paper: fixing the data and increasing the number of parameters merely scales the bulk
    (arXiv:1706.04454, abstract); the fact sheet's prototype saw the near-zero fraction grow with
    width.  Measured: near-zero fraction at widths h_1 < h_2 < ... on the same data, the smallest
    increase between consecutive widths (worst over k), per trial.  Control: the increase when k
    grows at fixed width (the data changes, the new outliers and the spread of the features
    take mass away from 0); the same check must reject it."""
    widths = sorted(p["widths"])
    units = _units(results, "widths", p)
    frac = {(k, h): _scalar(t, "near_zero_fraction", width=h) for k, t in units for h in widths}
    by_width = np.min([frac[k, b] - frac[k, a] for k, _ in units for a, b in zip(widths, widths[1:])], axis=0)
    ks = [k for k, _ in units]
    by_k = np.min([frac[b, h] - frac[a, h] for h in widths for a, b in zip(ks, ks[1:])], axis=0)
    return Values(by_width, setting="width up, data fixed"), Values(by_k, setting="k up, width fixed")


def _outlier_mean(trace, k, h):
    return np.mean([_scalar(trace, "eigenvalue", width=h, rank=r) for r in range(1, _count(k) + 1)], axis=0)


@claim(lambda p: Claim(
    id="hessian-spectrum/width-keeps-outliers", source=f"{PAPER}, abstract (only the bulk scales with parameters)",
    statement="at fixed data the outlier eigenvalues do not change with the width (within 25%)",
    quantity="mean over k of (mean top-k^2 eigenvalue at the widest) / (the same at the narrowest width)",
    kind="phenomenon", predicted=1, relation="eq", tolerance=0.25,   # typed: 25% band
    control="the number of near-zero eigenvalues, widest over narrowest (the bulk, which must scale)",
    expected_failure=("standard parameterization (LeCun init, no 1/sqrt(h) output scale): the outliers grow "
                      "with the width: seed 0 quick (h = 16 -> 64, k = 2, 3, 4, 8 trials) ratio 2.44 "
                      "[2.16, 2.73]; the hidden features' second moments grow with h")))
def width_keeps_outliers(results, p):
    """Paper: only the bulk scales with the number of parameters (arXiv:1706.04454, abstract).
    Measured: mean of the top k^2 eigenvalues at the widest over the narrowest width, mean over k,
    per trial.  It does not reproduce here (expected failure): the output-layer block I_k (x)
    Sigma_a scales with |a|^2, which grows with h in the standard parameterization.  Control:
    the count of near-zero eigenvalues (P times the near-zero fraction), widest over narrowest,
    grows about like P, far outside 1 +- 0.25: the same check must reject it."""
    lo, hi = min(p["widths"]), max(p["widths"])
    units = _units(results, "widths", p)
    outliers = np.mean([_outlier_mean(t, k, hi) / _outlier_mean(t, k, lo) for k, t in units], axis=0)
    bulk = np.mean([n_params(p["dim"], hi, k) * _scalar(t, "near_zero_fraction", width=hi)
                    / (n_params(p["dim"], lo, k) * _scalar(t, "near_zero_fraction", width=lo))
                    for k, t in units], axis=0)
    return Values(outliers, setting=f"outliers, width {lo} -> {hi}"), Values(bulk, setting=f"bulk count, width {lo} -> {hi}")


# ---- 4. outliers are the Gauss-Newton part --------------------------------------------------------
@claim(lambda p: Claim(
    id="hessian-spectrum/gauss-newton-outliers", source=f"{PAPER}, Sec. 3 (H = GN + residual; l' ~ 0 near a minimum)",
    statement="near a minimum the top k^2 eigenvalues of H match those of the Gauss-Newton part within 10%",
    quantity="worst over k and ranks r <= k^2 of |lambda_r(H) - lambda_r(GN)| / lambda_r(GN), probe width",
    kind="phenomenon",
    predicted=sp.Rational(1, 10),   # typed: the 10%
    relation="le",
    control="the same comparison at the random initialization (residuals f - y of order 1)"))
def gauss_newton_outliers(results, p):
    """Paper: H = (1/n) sum l''(f_i) J_i^T J_i + (1/n) sum l'(f_i) Hess f_i, and near a minimum
    l' ~ 0 so the large eigenvalues are those of the first (Gauss-Newton) part
    (arXiv:1706.04454, Sec. 3).  Measured: exact eigenvalues of H against Lanczos top-k^2 of the
    Gauss-Newton operator, worst relative difference, per trial.  Control: the same at
    initialization, where l' = f - y is of order 1 and the residual part shifts the outliers
    (measured 10-45%); the same check must reject it."""
    h = p["probe_width"]
    probes = _units(results, "probe", p)

    def worst(point):
        return np.max([_relative_gn_gap(t, k, h, point) for k, t in probes], axis=0)

    return (Values(worst("trained"), setting=f"trained (near a minimum), width {h}"),
            Values(worst("initialization"), setting=f"initialization, width {h}"))


# ---- 5. connected basins -----------------------------------------------------------------------
@claim(lambda p: Claim(
    id="hessian-spectrum/connected-basins", source=f"{PAPER}, Sec. 4 (small and large batch lie in one basin)",
    statement="the loss along the segment between a small-batch and a large-batch solution has no barrier",
    quantity="max_t L((1-t) theta_SB + t theta_LB) / max(L(theta_SB), L(theta_LB)) - 1",
    kind="phenomenon", predicted=0, relation="le", tolerance=0.05,   # typed: 5% of the endpoint loss
    control="the segment from the small-batch solution to a large-batch solution from another initialization"))
def connected_basins(results, p):
    """Paper: small- and large-batch training appear to reach different basins but are connected
    through the flat region: the loss along the segment between them shows no barrier
    (arXiv:1706.04454, abstract and Sec. 4).  Here both runs start from the same initialization
    (not verified against the paper).  Measured: the highest loss on the segment relative to the
    higher endpoint, per trial.  Control: a large-batch solution from another initialization (a
    permuted copy of the hidden units is another basin): the segment crosses a barrier many
    times the endpoint loss and the same check must reject it."""
    trace = results.get(setting="segment", classes=p["probe_classes"])

    def barrier(pair):
        L = np.asarray(trace.series_of("segment_loss", pair=pair), dtype=float)
        return L.max(axis=1) / np.maximum(L[:, 0], L[:, -1]) - 1.0

    return Values(barrier("small_large"), setting="SB - LB, one initialization"), \
        Values(barrier("small_other_init"), setting="SB - LB from another initialization")


CLAIMS = [bulk_and_outliers, outlier_count, width_scales_bulk, width_keeps_outliers,
          gauss_newton_outliers, connected_basins]
