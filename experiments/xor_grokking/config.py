"""Parameters, constants and the sweep of xor-grokking.

The paper's regime (p >~ C n^5, ||mu||^2 >~ n^0.51 sqrt(p), p >~ n^2 ||mu||^2, per the fact sheet)
is out of reach; the constants below follow the fact sheet's NumPy prototype (n = 100,
p = 10^4, m = 50, eta = 0.1, omega = 1e-6, step 0.05), where the phenomenon shows.  Measured
while choosing them (8 trials, this machine): step-1 training accuracy is 1.0 in every trial for
||mu|| <= 16, 0.99 in one trial of seed 1 at 18, and 0.95-0.99 in 4/8 trials at 25 (signal
cross terms ~ sqrt(n) ||mu||^2 compete with ||xi||^2 = p); test accuracy >= Bayes - 0.05 by
step 1000 in every trial only for ||mu|| >= 25 (at 18-21 two trials stay at 0.85-0.93).  So the
step-1 claims use their own unit at ||mu|| = 16 (20 steps) and the late claims the grid unit at
||mu|| = 25.  One unit per ||mu|| keeps each mutant's rerun to the units its claim reads.
"""
from __future__ import annotations

from experiments.params import Param, require

PARAMS = {
    "n": Param(100, 100, "training points", low=4),
    "p": Param(10000, 10000, "input dimension", low=2),
    "width": Param(50, 50, "hidden neurons m", low=1),
    "flip_prob": Param(0.1, 0.1, "label flip probability eta", low=0.0, high=0.5, open_high=True),
    "step": Param(0.05, 0.05, "GD step size alpha", low=0.0, open_low=True),
    "init_scale": Param(1e-6, 1e-6, "initial weights N(0, omega^2): omega", low=0.0, open_low=True),
    "steps": Param(1000, 3000, "GD steps of the long runs", low=30),
    "n_test": Param(1000, 2000, "clean test points", low=100),
    "mus": Param((18.0, 21.0, 25.0, 30.0), (18.0, 21.0, 25.0, 30.0, 36.0),
                 "signal norms ||mu|| of the grid units", low=0.0, open_low=True),
    "first_step_mu": Param(16.0, 16.0, "||mu|| of the step-1 claims", low=0.0, open_low=True),
    "late_mu": Param(25.0, 25.0, "||mu|| of the late claims (one of mus)", low=0.0, open_low=True),
    # controls, each just outside one assumption of the theorem
    "large_init": Param(0.1, 0.1, "control: omega with omega sqrt(p) = 10 >> the step-1 update",
                        low=0.0, open_low=True),
    "saturating_step": Param(2.0, 2.0, "control: a step that saturates the loss after step 1",
                             low=0.0, open_low=True),
    "strong_mu": Param(60.0, 60.0, "control: ||mu|| with ||mu||^2 sqrt(n) >> p (eta = 0)",
                       low=0.0, open_low=True),
}

SHORT_STEPS = 20           # the step-1 unit and its large-initialization control: first steps only
CLEAN_STEPS = 200          # the clean strong-signal control fits and generalizes within ~10 steps


def check_params(p: dict) -> None:
    require(p["late_mu"] in p["mus"], f"late_mu={p['late_mu']} must be one of mus={p['mus']}")
    require(len(set(p["mus"])) >= 4, f"mus={p['mus']}: the grokking-time grid needs >= 4 distinct values")
    require(p["n"] < p["p"], f"n={p['n']} must be < p={p['p']} (the overparameterized regime)")


def record_steps(steps: int) -> list[int]:
    """Every step up to 20, then geometric (x1.08): first-passage times resolved to ~8%."""
    marks, t = set(range(min(steps, 20) + 1)), 20.0
    while t < steps:
        t *= 1.08
        marks.add(min(steps, int(round(t))))
    marks.add(steps)
    return sorted(marks)


def mu_text(values) -> str:
    return ",".join(f"{float(v):g}" for v in values)


def sweep(p: dict) -> list[dict]:
    base = {"flip_prob": p["flip_prob"], "init_scale": p["init_scale"], "step": p["step"],
            "steps": p["steps"], "mu_values": mu_text(p["mus"])}
    grid = [{"setting": "grid", **base, "mu_values": mu_text([mu])} for mu in p["mus"]]
    return grid + [
        {"setting": "first-step", **base, "steps": SHORT_STEPS, "mu_values": mu_text([p["first_step_mu"]])},
        {"setting": "large-init", **base, "init_scale": p["large_init"], "steps": SHORT_STEPS,
         "mu_values": mu_text([p["first_step_mu"]])},
        {"setting": "clean-strong", **base, "flip_prob": 0.0, "steps": CLEAN_STEPS,
         "mu_values": mu_text([p["strong_mu"]])},
        {"setting": "saturated", **base, "step": p["saturating_step"],
         "mu_values": mu_text([p["late_mu"]])},
    ]


METRICS = {
    "train_accuracy": "accuracy of sign f on the noisy training labels [fraction]",
    "test_accuracy": "accuracy of sign f on a clean test set [fraction]",
    "linear_agreement": "fraction of test points where sign f = sign of x -> sum_i y_i <x_i, x> [fraction]",
    "plane_alignment": "sum_j |<w_j, mu_k(j)>| / sum_j ||P_plane w_j|| (1: in-plane parts along +-mu_k(j)) [cosine]",
    "feature_cosine": "mean over neurons of |cos(w_j, mu_k(j))| in R^p [cosine]",
    "bayes_accuracy": "Bayes-optimal accuracy of the clean distribution, closed form [fraction]",
}
