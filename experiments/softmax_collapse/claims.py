"""softmax-collapse claims (Prieto, Barsbey, Mediano & Birdal, ICLR 2025), each beside its evidence."""
from __future__ import annotations

import numpy as np
import sympy as sp

from experiments.base import claim
from theory import Bounded, Claim, Paired, Values

from .config import (AREA_RATIO, EARLY_STEP, GROKKED, NLM_ALIGNED, SC_MAJORITY, STABLEMAX_DEAD_MAX,
                     dtype_pair)

PAPER = "Prieto, Barsbey, Mediano & Birdal, Grokking at the edge of numerical stability, ICLR 2025"
eps_, k_, gap_ = sp.symbols("epsilon k Delta", positive=True)

# Collapse threshold.  Top logit z_c, the other k-1 at gaps Delta_j >= Delta (Delta = top-2 gap):
# S = 1 + sum_j exp(-Delta_j), and 1 + x rounds to 1 iff x <= eps/2 (half an ulp of 1).
# Necessary: exp(-Delta) <= eps/2 (the runner-up alone); sufficient: (k-1) exp(-Delta) <= eps/2.
COLLAPSE_NEEDS = sp.solve(sp.Eq(sp.exp(-gap_), eps_ / 2), gap_)[0]              # log(2/eps)
COLLAPSE_FORCED = sp.solve(sp.Eq((k_ - 1) * sp.exp(-gap_), eps_ / 2), gap_)[0]  # log(2(k-1)/eps)


def machine_eps(dtype: str) -> float:
    return float(np.finfo(dtype).eps)


def threshold(expr, dtype: str, k: int) -> float:
    return float(expr.subs({eps_: machine_eps(dtype), k_: k}))


def _last_within(trace, metric, budget):
    """The series up to the budget (recorded steps <= budget): (R, T')."""
    keep = np.asarray(trace.iterations) <= budget
    return np.asarray(trace.series_of(metric), dtype=float)[:, keep]


@claim(lambda p: Claim(
    id="softmax-collapse/sc-float32", source=f"{PAPER}, Sec. 3 (Fig. 2)",
    statement="without regularization, float32 softmax training drives most training samples into "
              "Softmax Collapse within the budget",
    quantity="largest SC fraction over the recorded steps of the budget (float32)", kind="phenomenon",
    predicted=sp.Float(SC_MAJORITY), relation="ge",
    control="float64 softmax, same data, init and budget: no absorption before gap ~36.7"))
def sc_float32(results, p):
    """Softmax Collapse (Prieto et al. 2025, Sec. 3): once the top-2 logit gap of a correctly
    classified sample passes log(2/eps) the float sum of exp(z - max z) is exactly 1 and its
    gradient vanishes; Adam without weight decay keeps scaling the logits (the NLM direction), so
    float32 (eps = 2^-23, threshold 16.6) reaches it within a few thousand steps.
    Measured: max over recorded steps <= budget of the fraction of training samples with S == 1.
    Control: float64 (threshold 36.7) under the same budget: its gaps are ~30 at the budget, so
    its SC fraction stays 0 and the same >= 0.5 check must reject it."""
    low, high = dtype_pair(p)
    budget = p["steps"]
    ev = [Values(_last_within(results.get(setting="softmax", dtype=d), "sc_fraction", budget).max(axis=1),
                 setting=f"softmax {d}") for d in (low, high)]
    return ev[0], ev[1]


@claim(lambda p: Claim(
    id="softmax-collapse/stablemax-no-collapse", source=f"{PAPER}, Sec. 4",
    statement="with StableMax the correct-class gradient of (almost) every training sample stays "
              "non-zero while float32 softmax collapses",
    quantity="largest fraction of training samples with an exactly zero correct-class gradient",
    kind="phenomenon", predicted=sp.Float(STABLEMAX_DEAD_MAX), relation="le",
    control="plain softmax, float32, same budget"))
def stablemax_no_collapse(results, p):
    """StableMax (Sec. 4): s(x) = x + 1 / 1/(1 - x) decays polynomially, so the normalizing sum
    does not absorb the other classes at gaps where exp does.  Measured over the StableMax run
    (float32, its budget): the largest fraction of samples whose correct-class gradient is exactly
    0.  (At much longer budgets float32 StableMax also absorbs, at logits ~1e4: their code
    evaluates StableMax in float64.)  Control: softmax float32 over the same number of steps,
    whose dead fraction (= SC fraction) passes 0.05 once the gaps reach 16.6."""
    low, _ = dtype_pair(p)
    budget = p["stablemax_steps"]
    stab = results.get(setting="stablemax", dtype=low)
    soft = results.get(setting="softmax", dtype=low)
    return (Values(_last_within(stab, "dead_fraction", budget).max(axis=1), setting="stablemax"),
            Values(_last_within(soft, "dead_fraction", max(budget, p["steps"])).max(axis=1),
                   setting="softmax float32"))


@claim(lambda p: Claim(
    id="softmax-collapse/stablemax-groks", source=f"{PAPER}, Sec. 4 (Fig. 1, 4)",
    statement="StableMax cross-entropy generalizes without regularization",
    quantity="final test accuracy of the StableMax run", kind="phenomenon",
    predicted=sp.Float(GROKKED), relation="ge", control="plain softmax, float32 (collapses)",
    expected_failure="not reproduced at this scale: quick (q=23, MLP 64x64, lr 0.01, beta2 0.99, "
                     "train fraction 0.5, float32 StableMax, 2000 steps, 4 trials): test accuracy "
                     "0.002 [-0.004, 0.008]; in the paper's own regime (beta2 0.999, lr 0.01, whole "
                     "model and loss in float64, 3 trials): train fraction 0.5, width 64, 12k steps: "
                     "test 0.00; train fraction 0.4, width 128, 8k steps: test 0.00-0.003; the "
                     "correct class stays ranked ~16-17 of 23 on test, improving by < 1 rank in 12k "
                     "steps; the fact sheet's prototype: 0.00 at 20k (lr 3e-3) and 60k (lr 1e-2). "
                     "The paper needs 80k epochs at q=113 (5107 training pairs vs 264 here)"))
def stablemax_groks(results, p):
    """StableMax lets models grok without regularization (Sec. 4, Fig. 4: 80k epochs, q = 113).
    Measured: the StableMax run's final test accuracy.  Control: softmax float32, which stalls at
    test accuracy ~0 after SC (so it must fail the >= 0.9 check).

    Test accuracy ~0, below chance 1/q, is the task's structure, not a bug: the label c of a test
    pair (a, b) never occurs with a (nor with b) in training, since a and c fix b = c - a.  A
    network that memorizes per-operand label statistics therefore ranks c below every label seen
    with a or b: measured rank ~17 of 23 = the number of such labels (16.4-16.6 per split), while
    a random network is at chance (0.015-0.053) and ⊥Grad on the same split reaches 0.35-0.71
    (tests/test_softmax_collapse.py pins the structure)."""
    low, _ = dtype_pair(p)
    stab = results.get(setting="stablemax", dtype=low)
    soft = results.get(setting="softmax", dtype=low)
    return (Values(np.asarray(stab.series_of("test_accuracy"))[:, -1], setting="stablemax"),
            Values(np.asarray(soft.series_of("test_accuracy"))[:, -1], setting="softmax float32"))


@claim(lambda p: Claim(
    id="softmax-collapse/perp-grad-faster", source=f"{PAPER}, Sec. 5 (Fig. 6)",
    statement="⊥Grad generalizes sooner than the same Adam without it",
    quantity="mean test error over the recorded steps <= perp_steps: Adam / ⊥Grad", kind="order",
    predicted=sp.Float(AREA_RATIO), relation="ge",
    control="⊥Grad removing a fixed random direction per tensor instead of the weights"))
def perp_grad_faster(results, p):
    """⊥Grad (Sec. 5): removing the gradient's component along the weights (the NLM direction)
    stops the logit scaling that leads to SC and lets the model generalize without weight decay.
    Cost: the area under the test-error curve (mean over the recorded steps <= perp_steps, the
    same steps for all three runs), which is small when generalization comes early.
    Steps-to-threshold is not used because plain Adam never generalizes in the budget (censored).
    Control: the same wrapper removing a random fixed direction, which in ~7000 dimensions leaves
    the NLM component in place: it behaves like Adam and its ratio ~1 must fail the >= 1.1 check."""
    low, _ = dtype_pair(p)

    def error_area(setting):
        acc = _last_within(results.get(setting=setting, dtype=low), "test_accuracy", p["perp_steps"])
        return np.mean(1.0 - acc, axis=1)

    base, perp, rand = (error_area(s) for s in ("softmax", "perp", "perp_random"))
    return Paired(perp, base, setting="perp vs adam"), Paired(rand, base, setting="random vs adam")


@claim(lambda p: Claim(
    id="softmax-collapse/nlm-alignment", source=f"{PAPER}, Sec. 5 (Fig. 5)",
    statement="past overfitting the gradient aligns with the NLM direction (cosine > 0.9)",
    quantity="cos(-gradient, weights) at the end of the float64 softmax run's budget", kind="phenomenon",
    predicted=sp.Float(NLM_ALIGNED), relation="ge",
    control=f"the same measure at step {EARLY_STEP} (before overfitting)",
    expected_failure="not reproduced at this scale: float64 softmax, q=23, MLP 64x64, 4000 steps: "
                     "cosine 0.81 (0.77-0.82 over 3-4 trials, rising by < 0.01 per 1000 steps); "
                     "width 128: 0.74; the fact sheet's prototype saw 0.81 (float64) and 0.92 "
                     "(StableMax, 15k-20k steps)"))
def nlm_alignment(results, p):
    """Past 100% training accuracy, -grad approaches a positive multiple of theta (Sec. 5): the
    loss is lowered most cheaply by scaling a homogeneous network's logits.  Measured in float64
    (no SC within the budget, so the gradient is not zeroed) at the budget's last recorded step.
    Control: the same cosine at step 100, before the training set is fit, which must be < 0.9."""
    _, high = dtype_pair(p)
    tr = results.get(setting="softmax", dtype=high)
    cos = _last_within(tr, "nlm_cosine", p["steps"])
    early = np.asarray(tr.series_of("nlm_cosine"))[:, list(tr.iterations).index(EARLY_STEP)]
    return Values(cos[:, -1], setting="float64, end of budget"), Values(early, setting=f"step {EARLY_STEP}")


def _collapse_gaps(results, p):
    return {d: results.get(setting="softmax", dtype=d).scalar_of("first_collapse_gap")
            for d in dtype_pair(p)}


def _bounded(gaps, p, expr, swap=False):
    dts = dtype_pair(p)
    bounds = [threshold(expr, dts[1 - i] if swap else d, p["q"]) for i, d in enumerate(dts)]
    measured = np.concatenate([np.asarray(gaps[d], dtype=float) for d in dts])[:, None]
    bound = np.concatenate([np.full(len(gaps[d]), b) for d, b in zip(dts, bounds)])[:, None]
    return Bounded(measured, bound, setting="other dtype's threshold" if swap else "own dtype")


@claim(lambda p: Claim(
    id="softmax-collapse/collapse-needs-gap", source=f"{PAPER}, Sec. 3 (floating-point absorption)",
    statement="no training sample collapses before its top-2 logit gap reaches log(2/eps)",
    quantity="first-collapse top-2 gap / log(2/eps), float32 and float64 runs", kind="bound",
    predicted=COLLAPSE_NEEDS, relation="ge", tolerance=1e-6,  # one rounding of float32 exp
    symbols={"k": p["q"], "epsilon": machine_eps(dtype_pair(p)[0])},
    control="each dtype's gaps against the other dtype's threshold"))
def collapse_needs_gap(results, p):
    """Absorption: 1 + x == 1 in floating point iff x <= eps/2, so a sample with top-2 gap Delta
    has S > 1 while exp(-Delta) > eps/2: collapse needs Delta >= log(2/eps) = 16.64 (float32),
    36.74 (float64), exact up to one rounding of exp.  Measured per trial: the smallest top-2 gap
    of any training sample seen in SC (a trial that never collapses is censored and fails).
    Control: the float32 gaps against the float64 threshold fall far below (ratio ~0.45)."""
    gaps = _collapse_gaps(results, p)
    return _bounded(gaps, p, COLLAPSE_NEEDS), _bounded(gaps, p, COLLAPSE_NEEDS, swap=True)


@claim(lambda p: Claim(
    id="softmax-collapse/collapse-by-gap", source=f"{PAPER}, Sec. 3 (floating-point absorption)",
    statement="the first collapse happens by the top-2 gap log(2(k-1)/eps), k = q classes",
    quantity="first-collapse top-2 gap / log(2(k-1)/eps), float32 and float64 runs", kind="bound",
    predicted=COLLAPSE_FORCED, relation="le", symbols={"k": p["q"], "epsilon": machine_eps(dtype_pair(p)[0])},
    control="each dtype's gaps against the other dtype's threshold"))
def collapse_by_gap(results, p):
    """Once (k-1) exp(-Delta) <= eps/2 every other class is absorbed whatever the spread of the
    logits below the runner-up: collapse is forced at Delta = log(2(k-1)/eps) (19.73 in float32,
    39.83 in float64 for k = 23), so the first collapse must come at or below it (the bracket
    [log(2/eps), log(2(k-1)/eps)] has width log(k-1) = 3.09, the tolerance this pair of bounds
    justifies).  Control: the float64 gaps (~36.7) against the float32 bound (19.7) exceed it."""
    gaps = _collapse_gaps(results, p)
    return _bounded(gaps, p, COLLAPSE_FORCED), _bounded(gaps, p, COLLAPSE_FORCED, swap=True)


CLAIMS = [sc_float32, stablemax_no_collapse, stablemax_groks, perp_grad_faster, nlm_alignment,
          collapse_needs_gap, collapse_by_gap]
