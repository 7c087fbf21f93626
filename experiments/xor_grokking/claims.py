"""Claims of xor-grokking, each beside the function gathering its evidence.

Paper: Z. Xu, Y. Wang, S. Frei, G. Vardi, W. Hu, "Benign Overfitting and Grokking in ReLU
Networks for XOR Cluster Data", ICLR 2024.  Verified from the abstract: after the first GD step
the network fits the noisy training labels (100% training accuracy) with near-random test
accuracy; at a later step it reaches near-optimal test accuracy while still fitting the flipped
labels; the step-1 network is close to a linear classifier; the proof tracks feature learning of
the first layer.  Not verified (paper text not reachable here): the theorem numbers, constants and
the exact grokking-time bound -- thresholds below are typed with their reasons.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from experiments.base import claim
from theory import Claim, Values

from .config import mu_text

PAPER = "Xu, Wang, Frei, Vardi, Hu, ICLR 2024 (Benign overfitting and grokking ... XOR cluster data)"
ALIGNED = 0.9   # in-plane |cos| with the class mean; random in-plane directions give 2/pi ~ 0.64
train_acc, linear_acc = sp.symbols("train_accuracy linear_test_accuracy")


def at_step(trace, metric: str, mu: float, step: int) -> np.ndarray:
    """Per-trial value of a metric at a recorded step."""
    idx = int(np.flatnonzero(np.asarray(trace.iterations) == step)[0])
    return np.asarray(trace.series_of(metric, mu=float(mu)), dtype=float)[:, idx]


def first_passage(trace, metric: str, mu: float, level: float, start: int = 1) -> np.ndarray:
    """First recorded step >= start with metric >= level, per trial (inf: never, censored)."""
    its = np.asarray(trace.iterations)
    values = np.asarray(trace.series_of(metric, mu=float(mu)), dtype=float)
    hit = (values >= level) & (its >= start)[None, :]
    return np.where(hit.any(axis=1), its[np.argmax(hit, axis=1)].astype(float), np.inf)


def grok_level(mu: float) -> float:
    from problems.xor_clusters import bayes_accuracy

    return 0.5 * (0.5 + bayes_accuracy(mu))   # half-way from chance to Bayes


def grid_unit(results, mu: float):
    """The grid unit of signal norm ``mu``."""
    return results.get(setting="grid", mu_values=mu_text([mu]))


def _mean(v) -> str:
    return f"{float(np.mean(v)):.3f}"


@claim(lambda p: Claim(
    id="xor-grokking/first-step-interpolates", source=PAPER + ", main theorem (step 1)",
    statement="after one GD step the network fits every noisy training label",
    quantity="training accuracy on the noisy labels after step 1", kind="phenomenon",
    predicted=1, relation="ge", tolerance=0.0,
    control="large initialization omega = large_init; clean strong signal ||mu|| = strong_mu"))
def first_step_interpolates(results, p):
    """Theorem (step 1): with small initialization and p large against n ||mu||^2, the first GD
    step alone interpolates the noisy labels: w_j(1) ~ (alpha a_j / 2n) sum_i y_i 1_ij x_i and
    <x_i, x_i> = p dominates the cross terms, so y_i f(x_i) > 0 for every i.  Measured: training
    accuracy after step 1 at ||mu|| = first_step_mu (each trial must be exactly 1).
    Controls: a large initialization (omega sqrt(p) = 10, far above the step-1 update) keeps the
    random initial features, so step 1 cannot fit every label; a clean strong signal
    (||mu||^2 sqrt(n) >> p) breaks p >~ n ||mu||^2, the cross terms dominate and the step-1 network
    does not interpolate."""
    mu = p["first_step_mu"]
    big, clean = results.get(setting="large-init"), results.get(setting="clean-strong")
    return (Values(at_step(results.get(setting="first-step"), "train_accuracy", mu, 1), f"||mu||={mu:g}"),
            Values(at_step(big, "train_accuracy", mu, 1), f"omega={p['large_init']:g}"),
            Values(at_step(clean, "train_accuracy", p["strong_mu"], 1), f"eta=0, ||mu||={p['strong_mu']:g}"))


@claim(lambda p: Claim(
    id="xor-grokking/first-step-chance-test", source=PAPER + ", main theorem (step 1)",
    statement="after step 1 the train-test gap is that of a perfect fit against a linear "
              "classifier's chance accuracy on XOR",
    quantity="training accuracy minus clean test accuracy after step 1", kind="phenomenon",
    predicted=train_acc - linear_acc, symbols={"train_accuracy": 1.0, "linear_test_accuracy": 0.5},
    relation="ge",
    # |test - 1/2| <= 0.1 (<= 10% disagreement with a linear classifier, issue's figure; its clean
    # accuracy is exactly 1/2: Phi(c) + Phi(-c) = 1 per pair of opposite clusters) + 3 binomial s.d.
    tolerance=0.1 + 1.5 / math.sqrt(p["n_test"]),
    control="large initialization; clean strong signal"))
def first_step_chance_test(results, p):
    """Theorem (step 1): the step-1 network is (nearly) linear, and any linear classifier through
    the origin has clean test accuracy exactly 1/2 on XOR clusters, so train - test ~ 1 - 1/2.
    Measured: train accuracy - test accuracy after step 1 at ||mu|| = first_step_mu.
    Controls (same gap, must fall short): large initialization (random features: neither fits
    nor generalizes: gap 0.14-0.17 measured); clean strong signal (step 1 does not interpolate)."""
    mu, s = p["first_step_mu"], p["strong_mu"]

    def gap(trace, m):
        return at_step(trace, "train_accuracy", m, 1) - at_step(trace, "test_accuracy", m, 1)

    grid = results.get(setting="first-step")
    return (Values(gap(grid, mu), f"||mu||={mu:g}: test {_mean(at_step(grid, 'test_accuracy', mu, 1))}"),
            Values(gap(results.get(setting="large-init"), mu), f"omega={p['large_init']:g}"),
            Values(gap(results.get(setting="clean-strong"), s), f"eta=0, ||mu||={s:g}"))


def benign_score(trace, mu: float, steps: int) -> np.ndarray:
    """test accuracy at the last step minus Bayes, for trials that still fit every noisy label
    over the second half of the run; -1 (no benign overfitting) for a trial that does not."""
    its = np.asarray(trace.iterations)
    train = np.asarray(trace.series_of("train_accuracy", mu=float(mu)), dtype=float)[:, its >= steps // 2]
    bayes = np.asarray(trace.scalar_of("bayes_accuracy", mu=float(mu)), dtype=float)
    score = at_step(trace, "test_accuracy", mu, steps) - bayes
    return np.where(np.all(train >= 1.0, axis=1), score, -1.0)


@claim(lambda p: Claim(
    id="xor-grokking/late-benign-overfitting", source=PAPER + ", main theorem (late step)",
    statement="later, test accuracy is within 0.05 of Bayes while every noisy label stays fitted",
    quantity="test accuracy - Bayes accuracy at the last step (-1 if a noisy label is lost)",
    kind="phenomenon", predicted=0, relation="ge", tolerance=0.05,
    control="a step (saturating_step) that saturates the logistic loss after step 1"))
def late_benign_overfitting(results, p):
    """Theorem (late step): after O(1/alpha)-many further steps the network is near Bayes-optimal
    on clean data while still interpolating the flipped labels (benign overfitting).  Measured:
    test - Bayes (closed form) at the last step, ||mu|| = late_mu, only for trials with training
    accuracy 1 over the second half of the run.  Control: a step so large that every margin is
    huge after step 1: the logistic gradients vanish, GD stalls at the step-1 linear network and
    the test accuracy stays near 1/2."""
    mu, T = p["late_mu"], p["steps"]
    return (Values(benign_score(grid_unit(results, mu), mu, T), f"||mu||={mu:g}"),
            Values(benign_score(results.get(setting="saturated"), mu, T), f"step={p['saturating_step']:g}"))


@claim(lambda p: Claim(
    id="xor-grokking/late-features-align", source=PAPER + ", feature-learning analysis",
    statement="late first-layer weights point (in the signal plane) along +-mu1 for a_j > 0 and "
              "+-mu2 for a_j < 0",
    quantity="sum_j |<w_j, mu_k(j)>| / sum_j ||P w_j|| at the last step", kind="phenomenon",
    # a neuron separating its clusters from the other pair needs |cos| > cos 45 deg = 0.71;
    # 0.9 (25 deg) asks for clear alignment, random in-plane directions give 2/pi = 0.64
    predicted=ALIGNED, relation="ge", control="the same measure at step 1; the saturated step"))
def late_features_align(results, p):
    """Paper (feature learning): after the first steps, the neurons with a_j > 0 grow along the
    label +1 means +-mu1 and those with a_j < 0 along +-mu2, which is how the network solves XOR.
    Measured at ||mu|| = late_mu, last step.  Controls: at step 1 the in-plane parts are sums of
    randomly signed cluster means (no alignment with the neuron's class); with the saturating
    step GD stalls at step 1, so the alignment never forms."""
    mu, T = p["late_mu"], p["steps"]
    grid, sat = grid_unit(results, mu), results.get(setting="saturated")
    return (Values(at_step(grid, "plane_alignment", mu, T), f"step {T}"),
            Values(at_step(grid, "plane_alignment", mu, 1), "step 1"),
            Values(at_step(sat, "plane_alignment", mu, T), f"step={p['saturating_step']:g}"))


# Not a claim: the step-1 agreement with the linear classifier x -> sum_i y_i <x_i, x> (issue
# item 3, ">= 90% of test points") is recorded as ``linear_agreement`` but flips between holding
# and failing with the seed at m = 50: quick, 8 trials, mean 0.918 [0.857, 0.978] (seed 0),
# 0.928 [0.877, 0.978] (seed 1), 0.942 [0.908, 0.976] (seed 2); per trial it is bimodal
# (0.96-1.00 in about half the trials, 0.83-0.89 in the others).  Neither a claim nor a strict
# expected failure can be stated on that; see the figure data.
#
# Not a claim either: "grokking time grows as ||mu|| shrinks" (issue item 4).  Grokking time =
# first step >= 1 with test accuracy >= (1/2 + Bayes)/2 (``grokking_times`` below).  Quick, 8
# trials, ||mu|| = 18, 21, 25, 30, mean times: seed 0: 3.12, 6.88, 2.00, 2.00; seed 2: 2.50,
# 6.38, 3.25, 2.00; seeds 1 and 3: some trials at 18 (and 21) never reach the level (censored).
# The transition happens at step 2-7, the trial-to-trial spread exceeds the growth, and the
# censoring makes even a strict expected failure unmeasurable on some seeds.  (Control measured
# on the way: eta = 0, ||mu|| = 60, generalization/fit time 0.92 [0.72, 1.17], no delay.)
CLAIMS = [first_step_interpolates, first_step_chance_test, late_benign_overfitting,
          late_features_align]


def grokking_times(results, p) -> dict:
    """Per-||mu|| grokking times (first step >= 1 with test >= (1/2 + Bayes)/2), for reports."""
    return {m: first_passage(grid_unit(results, m), "test_accuracy", m, grok_level(m)) for m in sorted(p["mus"])}
