"""halpern-vr claims about oracle calls (complexity in n and eps, Alg. 1's cost model) and the
matrix game."""
from __future__ import annotations

import numpy as np
import sympy as sp

from experiments.base import claim
from theory import Claim, Curves, Paired, Values, loglog_slope

from .claims import fixed
from .config import L, NAME, SRC, batch_size

n_, L_, eps_, b_ = sp.symbols("n L eps b", positive=True)
VR_COMPLEXITY = n_ + sp.sqrt(n_) * L_ / eps_       # Theorems 3.2 / 4.2 (up to logs)
# Alg. 1's cost of one step once p_k has reached its floor p = b/(n+b): a full pass (n calls)
# with probability p, else a mini-batch difference (2b calls: each sampled F_i at two points).
PAGE_P = b_ / (n_ + b_)
PAGE_STEP_COST = sp.simplify(PAGE_P * n_ + (1 - PAGE_P) * 2 * b_)


def calls_to(trace, eps):
    return trace.scalar_of("calls_to_eps", eps=eps)


def scaling(results, p, problem, method):
    ns = sorted(p["ns"])
    eps = min(p["eps"]) if problem == "lsq" else p["eps_bq"]
    y = [calls_to(results.get(problem=problem, method=method, n=n, sweep="n"), eps) for n in ns]
    return Curves(np.asarray(ns, dtype=float), np.stack(y, axis=1), "loglog", setting=f"{problem} {method}")


def local_slope(var, p, eps):
    """d log(n + sqrt(n) L/eps) / d log var at the geometric middle of the measured range: the
    slope a fit over that range measures (the sqrt(n) L/eps term dominates only as eps -> 0)."""
    ns, epss = p["ns"] if var is n_ else (p["n"],), p["eps"] if var is eps_ else (eps,)
    def mid(values):
        return float(np.sqrt(min(values) * max(values)))

    slope = loglog_slope(VR_COMPLEXITY, var, at={n_: mid(ns), eps_: mid(epss), L_: L})
    return -slope if var is eps_ else slope


def sqrt_n_claim(slug, theorem, what, control, eps):
    return lambda p: Claim(
        id=f"{NAME}/{slug}", source=f"{SRC}, {theorem} (complexity n + sqrt(n) L/eps)",
        statement=f"{what}: oracle calls to reach eps grow like sqrt(n) at fixed L, eps",
        quantity="log-log slope of calls to eps in n, every n of the sweep", kind="rate",
        predicted=local_slope(n_, p, eps(p)), relation="eq",
        tolerance=0.15, r2_min=0.9,   # the n log n warm-up and log factors bend small n
        control=control)


@claim(sqrt_n_claim("sqrt-n-page", "Theorem 3.2", "Alg. 1 (least squares)",
                    "deterministic Halpern (n L/eps): slope 1", lambda p: min(p["eps"])))
def sqrt_n_page(results, p):
    """Theorem 3.2: Alg. 1 reaches E||residual|| <= eps after O~(n + sqrt(n) L/eps) calls; at
    fixed L and small eps the sqrt(n) L/eps term dominates, so log calls vs log n has slope 1/2
    (predicted: the local slope of the stated expression in the middle of the measured n range).

    Control: deterministic Halpern pays n per step for the same O(L/eps) steps (slope 1)."""
    return scaling(results, p, "lsq", "page"), scaling(results, p, "lsq", "halpern")


@claim(sqrt_n_claim("sqrt-n-alg2", "Theorem 4.2", "Alg. 2 (bilinear-quadratic)",
                    "EAG, a deterministic anchored method (n L/eps): slope 1", lambda p: p["eps_bq"]))
def sqrt_n_alg2(results, p):
    """Theorem 4.2: Alg. 2 reaches residual eps after O~(n + sqrt(n) L/eps) calls (monotone
    Lipschitz case), slope 1/2 in n at fixed L and eps -> 0.  At eps_bq the n term is not
    negligible: the prediction is the local slope of n + sqrt(n) L/eps at the geometric middle
    of the measured n range (0.57 at quick sizes; 0.5 would be the eps -> 0 limit).

    Control: EAG (Yoon & Ryu 2021) needs O(L/eps) full passes, O(n L/eps) calls (slope 1)."""
    return scaling(results, p, "bq", "alg2"), scaling(results, p, "bq", "eag")


def eps_curves(trace, p, label):
    eps = sorted(p["eps"], reverse=True)
    y = np.stack([calls_to(trace, e) for e in eps], axis=1)
    return Curves(1.0 / np.asarray(eps), y, "loglog", setting=label)


@claim(lambda p: Claim(
    id=f"{NAME}/inverse-eps", source=f"{SRC}, Theorem 3.2",
    statement="Alg. 1: oracle calls to reach eps grow like 1/eps",
    quantity="log-log slope of calls to eps in 1/eps (least squares, n fixed, every eps)", kind="rate",
    predicted=local_slope(eps_, p, None), relation="eq",
    tolerance=0.15, r2_min=0.9,
    control="Alg. 1 without anchor: linear convergence, calls grow like log(1/eps)"))
def inverse_eps(results, p):
    """Theorem 3.2 at fixed n: O~(n + sqrt(n) L/eps) calls, slope 1 in 1/eps for small eps
    (predicted: the local slope of the stated expression in the middle of the eps range).

    Control: without the anchor Alg. 1 converges linearly on this strongly monotone problem:
    calls grow like log(1/eps), a log-log slope well below 1."""
    return (eps_curves(fixed(results, "lsq", "page"), p, "page"),
            eps_curves(fixed(results, "lsq", "page-plain"), p, "page-plain"))


def stationary_cost(trace, n, b):
    """Mean calls per step, per trial, between twice the step where p_k reaches its floor
    (4/(k+4) <= b/(n+b)) and the last recorded step."""
    k0 = 2 * (4 * (n + b) / b - 4)
    its = np.asarray(trace.iterations, dtype=float)
    start = int(np.argmax(its >= k0))
    calls = trace.calls()
    return (calls[:, -1] - calls[:, start]) / (its[-1] - its[start])


@claim(lambda p: Claim(
    id=f"{NAME}/page-cost", source=f"{SRC}, Algorithm 1 and Theorem 3.2 (oracle accounting)",
    statement=("Alg. 1 spends p n + (1-p) 2b component calls per step once p_k = b/(n+b): "
               "O(sqrt(n)) per step with b = sqrt(n), the cost behind O(n + sqrt(n) L/eps)"),
    quantity="mean oracle calls per step after p_k reached its floor (least squares, n fixed)",
    kind="phenomenon", predicted=PAGE_STEP_COST, relation="eq",
    symbols={"n": p["n"], "b": batch_size(p["n"], p["batch_scale"])},
    tolerance=0.03 * float(PAGE_STEP_COST.subs({n_: p["n"], b_: batch_size(p["n"], p["batch_scale"])})),
    # 3%: the coin noise is in the Student-t interval (~1%); the band is the slack of the
    # equivalence test, far from a mini-batch charged b (-33%) or 1 (-60%) per sampled component
    control="deterministic Halpern on the same problem (n calls per step)"))
def page_cost(results, p):
    """Algorithm 1's estimator costs a full pass (n calls) with probability p_k and a mini-batch
    difference F_S(u_k) - F_S(u_{k-1}) (2b calls) otherwise; with p_k = b/(n+b) the expected cost
    per step is p n + (1-p) 2b = 3nb/(n+b) ~ 3 sqrt(n) for b = sqrt(n).  This accounting is what
    turns O(sqrt(n) L/eps) steps into the claimed O(n + sqrt(n) L/eps) calls; the slopes in n
    do not see a constant factor in it, this check does.

    Control: deterministic Halpern pays n per step (what Alg. 1 avoids).  A mini-batch charged as
    one call, or b instead of 2b, shifts the cost by 60% or 33% (tests/mutants_halpern_vr.py)."""
    n, b = p["n"], batch_size(p["n"], p["batch_scale"])
    return (Values(stationary_cost(fixed(results, "lsq", "page"), n, b), "Alg. 1"),
            Values(stationary_cost(fixed(results, "lsq", "halpern"), n, b), "deterministic Halpern"))


@claim(lambda p: Claim(
    id=f"{NAME}/game-equilibrium", source=f"{SRC}, Section 5 (matrix game) / Theorem 4.2",
    statement="Alg. 2 on the matrix game ends within 1e-4 of the cvxpy equilibrium (gap and distance)",
    quantity="max(duality gap, ||z - z*||) at the end of the epoch budget", kind="phenomenon",
    predicted=sp.Rational(1, 10000), relation="le", tolerance=0.0,
    control="projected simultaneous gradient descent-ascent (plain T x_k), same budget",
    expected_failure=("Alg. 2 converges to the cvxpy equilibrium at about the O(1/k) rate but "
                      "too slowly for 1e-4 at an affordable budget: max(gap, distance) = 9.7e-4 "
                      "at 3000 epochs, 2.9e-4 at 12000, 9.8e-5 [7.9e-5, 1.2e-4] at 40000 "
                      "(seeds 0-2, 8 trials)")))
def game_equilibrium(results, p):
    """Theorem 4.2 applied to the Policeman-and-Burglar game (Section 5): the last iterate of
    Alg. 2 converges to an equilibrium; the cvxpy LP gives the equilibrium and its value.  The
    1e-4 threshold is ours (the paper plots the residual, it states no accuracy for the game).

    Control: projected simultaneous gradient descent-ascent (the plain iteration of the game's
    forward-backward map) cycles around the equilibrium and does not approach it."""
    def end(method):
        t = fixed(results, "game", method)
        return np.maximum(t.scalars["final_gap"], t.scalars["final_distance"])

    return Values(end("alg2"), "Alg. 2"), Values(end("halpern-plain"), "projected GDA")


@claim(lambda p: Claim(
    id=f"{NAME}/game-vs-eg", source=f"{SRC}, Section 5 (experiments)",
    statement="Alg. 2 ends the epoch budget on the game at a lower residual than EG",
    quantity=f"mean residual of EG / mean residual of Alg. 2 after {p['game_epochs']:g} epochs",
    kind="order",
    predicted=1,   # the paper shows an ordering (its plots), no factor: the threshold is "lower"
    relation="ge", tolerance=0.0,
    control="EAG against EG (both deterministic O(nL/eps)): no predicted advantage",
    expected_failure=("EG converges linearly on this polyhedral game and ends orders of magnitude "
                      "below the O(1/k) of the anchored Alg. 2 (see the measured ratio).  The medians "
                      "cross near 3000 epochs at residual ~2e-4: Alg. 2 reaches 1e-3 first (727 vs "
                      "1960 epochs, seed 0 quick), EG every level below the crossing")))
def game_vs_eg(results, p):
    """Section 5 of the paper plots the residual of Alg. 2 below EG's against epochs on the
    Policeman-and-Burglar game.  No bound or factor is stated, so the claim is the ordering
    itself at the end of the common epoch budget: EG's residual over Alg. 2's, >= 1.  (Epochs to
    a residual both reach would depend on the level chosen: the curves cross, see the reason.)

    Control: EAG against EG — both deterministic, nothing predicts an advantage for EAG."""
    def end(method):
        return fixed(results, "game", method).scalars["final_residual"]

    return Paired(end("alg2"), end("eg"), "Alg. 2 vs EG"), Paired(end("eag"), end("eg"), "EAG vs EG")


CLAIMS = [sqrt_n_page, sqrt_n_alg2, inverse_eps, page_cost, game_equilibrium, game_vs_eg]
