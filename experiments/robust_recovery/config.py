"""robust-recovery: parameters (quick and full values), constants and the sweep of run units.

Setting (Ma & Fattahi, JMLR 2023): y = A(X*) + s, X* (d x d, PSD, rank r, ||X*||_F = 1), i.i.d.
Gaussian A_i, loss f(U) = (1/m)||y - A(U U^T)||_1 over U in R^{d x r'} with r' >= r.  SubGM starts
at U0 = alpha B and steps eta_t = eta0 rho^t.  Baselines: ℓ2 gradient descent from the same start
and the convex ℓ1 estimator over PSD matrices (cvxpy).

Run units (``group``):
- ``outliers``: r' = r, outlier fraction p over p_grid plus p_break; SubGM, ℓ2 GD and cvxpy on the
  same data;
- ``constant`` / ``decay``: r' = r at p_claim with a constant step, and with a wrong decay factor
  (the linear-convergence claim's controls);
- ``alpha``: one unit per r' in {r, d}; every alpha of the grid is run on the same data;
- ``samples``: for each d of ``d_samples``, the recovery of r' = r and r' = d (small alpha) over the
  grid m = c d r (c in ``m_factors``); at the largest d also r' = d from alpha_control;
- ``gaussian``: r' = d under dense Gaussian noise (sigma = sigma_gauss), and without noise
  (sigma = 0, the control), against cvxpy.

Why a small alpha and the step sum are tied (our reasoning, not the paper's text): the signal
directions escape alpha at a rate ~ sigma_r(X*) per unit step, the d - r spare directions grow at a
rate set by the sub-gradient's deviation ~ sqrt(d/m); with eta_t = eta0 rho^t the total step
eta0/(1 - rho) must cover the escape (~ log(1/alpha) / sigma_r), and the spare part ends near
alpha exp(eta0/(1 - rho) * C sqrt(d/m)).  Hence alpha = 1e-12 with rho = 0.975 for the sample sweep.
"""
from __future__ import annotations

from experiments.params import Param, require

NAME = "robust-recovery"
SOURCE = "Ma & Fattahi (JMLR 2023)"
TITLE = "Sub-gradient method for robust low-rank recovery: outliers, small init, over-parameterization"
PAPER = ("J. Ma and S. Fattahi. Global convergence of sub-gradient method for robust matrix recovery: "
         "small initialization, noisy measurements, and over-parameterization. JMLR 24 (2023).")
RECORD_EVERY = 5          # iterations between recorded errors (a linear grid: the rate fit is semilog)
ROUNDOFF_FLOOR = 1e-11    # errors below this are round-off of a converged run, not the rate

PARAMS = {
    "d": Param(10, 10, "matrix dimension d (X* is d x d)", low=2),
    "r": Param(2, 2, "rank of X*", low=1),
    "r_over": Param(10, 10, "factor rank r' of the over-parameterized runs (r' = d: fully)", low=1),
    "eta0": Param(1.2, 1.2, "initial SubGM step eta0", low=0, open_low=True),
    "rho": Param(0.96, 0.96, "step decay factor: eta_t = eta0 rho^t", low=0, high=1,
                 open_low=True, open_high=True),
    "rho_wrong": Param(0.97, 0.97, "a wrong decay factor (the linear-convergence claim's second control)",
                       low=0, high=1, open_low=True, open_high=True),
    "iterations": Param(700, 700, "SubGM / GD iterations T", low=10),
    "eta_l2": Param(0.1, 0.1, "constant step of the ℓ2 GD baseline", low=0, open_low=True),
    "eta_const": Param(0.05, 0.05, "the constant SubGM step of the rate control", low=0, open_low=True),
    "outlier_scale": Param(10.0, 10.0, "outliers are N(0, scale^2)", low=0, open_low=True),
    "m_robust": Param(200, 200, "measurements m of the outlier sweep (r' = r)", low=1),
    "p_grid": Param((0.0, 0.1, 0.2, 0.3, 0.4), (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6),
                    "outlier fractions p of the sweep", low=0, high=1, open_high=True),
    "p_claim": Param(0.3, 0.3, "outlier fraction at which robustness is claimed", low=0, high=1,
                     open_high=True),
    "p_break": Param(0.65, 0.65, "outlier fraction just beyond SubGM's breakdown at m_robust (the "
                     "robustness claim's control)", low=0, high=1, open_high=True),
    "alpha_exact": Param(1e-3, 1e-3, "initialization scale for r' = r", low=0, open_low=True),
    # the small-alpha regime of the claim: above ~1e-4 the error meets the floor of the step schedule
    # (per-trial log-log R^2 drops to 0.85 with 3e-4 and 1e-3 in the grid); below ~1e-7 some trials'
    # signal has not escaped alpha within the step sum eta0 / (1 - rho) = 30
    "alphas": Param((1e-7, 3e-7, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4), (1e-7, 2e-7, 5e-7, 1e-6, 2e-6, 5e-6, 1e-5,
                    2e-5, 5e-5, 1e-4), "initialization scales of the alpha sweep (r' = d)", low=0, open_low=True),
    "p_alpha": Param(0.1, 0.1, "outlier fraction of the alpha and sample sweeps", low=0, high=1,
                     open_high=True),
    "m_alpha": Param(400, 400, "measurements m of the alpha sweep", low=1),
    "alpha_small": Param(1e-6, 1e-6, "small initialization of the over-parameterized runs", low=0,
                         open_low=True),
    "d_samples": Param((8, 11, 14, 17, 20), (8, 12, 16, 20, 24),
                       "dimensions d of the sample sweep (r' = d at each)", low=2),
    "m_factors": Param((1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10), (1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6, 8, 10),
                       "m grid of the sample sweep, as multiples of d*r", low=0, open_low=True),
    "alpha_samples": Param(1e-12, 1e-12, "initialization scale of the sample sweep", low=0,
                           open_low=True),
    "alpha_control": Param(1e-9, 1e-9, "a larger initialization of r' = d at the largest d (the sample "
                           "claim's control)", low=0, open_low=True),
    "rho_samples": Param(0.975, 0.975, "step decay of the sample sweep (slower: the escape from a "
                         "tiny alpha needs a larger sum of steps)", low=0, high=1, open_low=True,
                         open_high=True),
    "iterations_samples": Param(1100, 1100, "SubGM iterations of the sample sweep", low=10),
    "eps_recover": Param(1e-3, 1e-3, "relative error that counts as recovery", low=0, open_low=True),
    "m_gauss": Param(400, 400, "measurements m under Gaussian noise", low=1),
    "p_gauss": Param(0.7, 0.7, "fraction of measurements with Gaussian noise", low=0, high=1,
                     open_high=True),
    "sigma_gauss": Param(1.0, 1.0, "standard deviation of the Gaussian noise", low=0, open_low=True),
    "trace_weight": Param(0.01, 0.01, "weight of the trace penalty of the second cvxpy estimator", low=0),
}

TRIALS = {"quick": 8, "full": 16}


def check_params(p):
    require(p["r"] <= p["d"], f"r={p['r']} is out of range: needs r <= d (={p['d']})")
    require(p["r_over"] >= p["r"],
            f"r_over={p['r_over']} is out of range: the factor rank needs r' >= r (={p['r']})")
    require(p["r_over"] <= p["d"], f"r_over={p['r_over']} is out of range: needs r' <= d (={p['d']})")
    require(p["p_claim"] in p["p_grid"], f"p_claim={p['p_claim']} must be one of p_grid={p['p_grid']}")
    require(p["p_claim"] >= 0.3 or p["p_claim"] == max(p["p_grid"]),
            f"p_claim={p['p_claim']}: the robustness claim is about p >= 0.3")
    require(p["p_break"] > p["p_claim"],
            f"p_break={p['p_break']} must exceed p_claim={p['p_claim']} (it is beyond the breakdown)")
    require(any(q > 0 for q in p["p_grid"]), f"p_grid={p['p_grid']} needs a positive outlier fraction")
    require(p["rho_wrong"] != p["rho"], f"rho_wrong={p['rho_wrong']} must differ from rho={p['rho']}")
    require(len(p["alphas"]) >= 5, f"alphas={p['alphas']}: needs at least 5 values for the slope")
    require(len(p["m_factors"]) >= 4, f"m_factors={p['m_factors']}: needs at least 4 values (2 each side)")
    require(list(p["m_factors"]) == sorted(set(p["m_factors"])), f"m_factors={p['m_factors']} must increase")
    require(len(p["d_samples"]) >= 5, f"d_samples={p['d_samples']}: needs at least 5 values for the slope in d")
    require(min(p["d_samples"]) >= p["r"],
            f"d_samples={p['d_samples']} is out of range: every d needs d >= r (={p['r']})")
    require(list(p["d_samples"]) == sorted(set(p["d_samples"])), f"d_samples={p['d_samples']} must increase")


def m_grid(p, d):
    """The measurement counts of the sample sweep at dimension d: m = c d r, c in m_factors."""
    return sorted(set(int(round(c * d * p["r"])) for c in p["m_factors"]))


def p_values(p):
    """The outlier fractions of the outlier sweep: the grid, then the control beyond breakdown."""
    return list(p["p_grid"]) + ([p["p_break"]] if p["p_break"] not in p["p_grid"] else [])


SAMPLE_ARMS = ("exact", "over", "over-control")


def sweep(p):
    d, r = p["r_over"], p["r"]
    units = []
    for q in p_values(p):
        units.append({"setting": f"outliers p={q:g}, r'=r", "group": "outliers", "k": r, "p": q})
    units.append({"setting": f"constant step, p={p['p_claim']:g}", "group": "constant", "k": r,
                  "p": p["p_claim"]})
    units.append({"setting": f"wrong decay, p={p['p_claim']:g}", "group": "decay", "k": r, "p": p["p_claim"]})
    for k in (r, d):
        units.append({"setting": f"alpha sweep, r'={k}", "group": "alpha", "k": k, "p": p["p_alpha"]})
    for ds in p["d_samples"]:
        arms = (("exact", r), ("over", ds)) + ((("over-control", ds),) if ds == max(p["d_samples"]) else ())
        for variant, k in arms:
            for m in m_grid(p, ds):
                units.append({"setting": f"samples {variant} d={ds} m={m}", "group": "samples",
                              "variant": variant, "d": ds, "k": k, "m": m, "p": p["p_alpha"]})
    # the noise level is a numeric column (a string column that most units leave empty made pandas
    # warn about mixed types); sigma = 0 is the noiseless control
    for sigma in (p["sigma_gauss"], 0.0):
        units.append({"setting": f"{'gaussian' if sigma else 'no'} noise, r'=d", "group": "gaussian",
                      "sigma": sigma, "k": d, "p": p["p_gauss"] if sigma else 0.0})
    return units


def figure_series(unit):
    """The sample-complexity panel uses only each run's final error."""
    return unit["group"] != "samples"
