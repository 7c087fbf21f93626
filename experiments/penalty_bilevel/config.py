"""penalty-bilevel: parameters (quick and full values), grids and the sweep.

Setting (Kwon, Kwon, Wright & Nowak, ICLR 2024): upper f = sum_i softplus(a_i^T x) + 1/2 ||y - b||^2
(smooth, as the paper assumes; 1/2 (y - b)^T W (y - b) on instance (c')), lower g = 1/2 y^T Q y -
y^T B^T x + mu/2 ||y||^2 + g_offset.  Instances: (a) mu > 0, y free (closed forms); (b) the same
with y in the box [box_lo, box_hi] (cvxpy); (c) Q of rank < dy, mu = 0 (S(x) an affine subspace);
(c') (c) with an anisotropic W (problems.penalty_sweeps); (d) the control g = x y on [-1, 1].

The constant ``g_offset`` models a lower-level loss with a positive minimum (a training loss,
say): psi, psi_sigma and their gradients do not depend on it, but g*(x) does, so a wrong sign of
the g* term shows as psi_sigma > psi (claim psi-sigma-below-psi).

Run units (``group``):
- ``landscape`` (one per instance): at ``points`` random x per trial (instance (d): within
  ``jump_radius`` of 0, both signs) and ``sigma_points`` sigmas log-spaced in [sigma_min,
  sigma_max]: psi, psi_sigma, the value and gradient gaps; on (c') the explicit and naive
  gradients against central differences of psi; on (d) a slice of psi and psi_sigma through 0;
- ``complexity``: the single-loop penalty method on instance (a) for each eps of the grid with
  sigma = sigma_ratio eps, step_x = step_scale sigma, step_y = 1/L_g and a budget of
  iters_ref (eps_max/eps)^3 iterations (variant ``shrinking``), and with sigma fixed at
  sigma_ratio eps_max (variant ``fixed``, the control);
- ``cost``: short runs of the single loop and of the double loop (``inner_steps``), for the
  counted oracle calls per iteration.
"""
from __future__ import annotations

import math

import numpy as np

from experiments.params import Param, require

NAME = "penalty-bilevel"
SOURCE = "Kwon, Kwon, Wright & Nowak (ICLR 2024)"
TITLE = "Penalty methods for nonconvex bilevel optimization: landscape and complexity"
PAPER = ("J. Kwon, D. Kwon, S. Wright, R. Nowak. On Penalty Methods for Nonconvex Bilevel "
         "Optimization and First-Order Stochastic Approximation. ICLR 2024.")
INSTANCES = ("a", "b", "c", "cw")        # where the theorems apply; (d) is the control
CONTROL = "d"
RECORD_POINTS = 100                       # recorded steps per complexity run
SLICE_SIGMAS = (0.3, 0.1, 0.03)           # psi_sigma on the slice of the figure
# the theorems hold for sigma below a threshold set by the error-bound constants: on (b) the active
# set of y_sigma still differs from y*'s near sigma = 0.1 (local slope of the gradient gap 1.3-2.0
# there, seed 0), so the slopes are fitted on sigma <= SIGMA_FIT_MAX (the figure shows all sigmas)
SIGMA_FIT_MAX = 0.05

PARAMS = {
    "dx": Param(2, 2, "upper dimension", low=1),
    "dy": Param(6, 6, "lower dimension (>= dx)", low=2),
    "m": Param(4, 4, "rows a_i of the upper level's x-part", low=1),
    "mu": Param(0.1, 0.1, "ridge of the strongly convex lower levels (a), (b)", low=0, open_low=True),
    "cond": Param(2.0, 2.0, "condition number of Q", low=1),
    "coupling": Param(2.0, 2.0, "scale of B (x-y coupling of the lower level)", low=0, open_low=True),
    "rank": Param(3, 3, "rank of Q in instances (c), (c') (< dy: multiple lower solutions)", low=1),
    "w_cond": Param(4.0, 4.0, "condition number of W in instance (c')", low=1),
    "g_offset": Param(1.0, 1.0, "constant added to g (a loss with positive minimum)", low=0),
    "box_lo": Param(-0.5, -0.5, "lower end of the box of instance (b)"),
    "box_hi": Param(0.5, 0.5, "upper end of the box of instance (b)"),
    "points": Param(3, 4, "sampled x per trial and instance", low=1),
    "x_scale": Param(1.0, 1.0, "std of the sampled x", low=0, open_low=True),
    "sigma_min": Param(1e-4, 1e-4, "smallest sigma (cvxpy accuracy ~ tolerance/sigma)", low=0, open_low=True),
    "sigma_max": Param(1e-1, 1e-1, "largest sigma", low=0, open_low=True),
    "sigma_points": Param(7, 10, "sigmas, log-spaced in [sigma_min, sigma_max]", low=5),
    "jump_c": Param(1.0, 1.0, "c of the control f = x^2/2 + c y (jump 2c of psi at 0)", low=0, open_low=True),
    "jump_radius": Param(1e-5, 1e-5, "sampled x of the control lie within this of 0", low=0, open_low=True),
    "fd_step": Param(1e-5, 1e-5, "central finite-difference step", low=0, open_low=True),
    "fd_tol": Param(1e-5, 1e-5, "agreement required of the explicit gradient", low=0, open_low=True),
    "eps_max": Param(0.2, 0.2, "largest target eps of the complexity sweep", low=0, open_low=True),
    "eps_points": Param(5, 7, "targets eps (halving eps over the sweep)", low=5),
    "sigma_ratio": Param(0.25, 0.25, "sigma = sigma_ratio eps", low=0, open_low=True),
    "step_scale": Param(1.0, 1.0, "step_x = step_scale sigma", low=0, open_low=True),
    "iters_ref": Param(2000, 2000, "iterations at eps_max (T = iters_ref (eps_max/eps)^3)", low=RECORD_POINTS),
    "x0": Param(1.0, 1.0, "start x0 = x0 (1, ..., 1)"),
    "inner_steps": Param(2, 2, "inner steps of the double loop (cost control)", low=1),
    "cost_iters": Param(50, 50, "iterations of the cost runs", low=1),
}

TRIALS = {"quick": 8, "full": 16}


def check_params(p):
    require(p["box_lo"] < p["box_hi"],
            f"box_lo={p['box_lo']}, box_hi={p['box_hi']} is out of range: the box [box_lo, box_hi] "
            "is empty or a single point (needs box_lo < box_hi)")
    require(p["sigma_min"] < p["sigma_max"],
            f"sigma_min={p['sigma_min']} is out of range: needs 0 < sigma_min < sigma_max (={p['sigma_max']})")
    require(p["rank"] < p["dy"], f"rank={p['rank']} is out of range: needs rank < dy (={p['dy']})")
    require(p["dy"] >= p["dx"], f"dy={p['dy']} is out of range: needs dy >= dx (={p['dx']})")


def sigma_grid(p) -> list[float]:
    return [float(s) for s in np.geomspace(p["sigma_min"], p["sigma_max"], p["sigma_points"])]


def eps_grid(p) -> list[float]:
    n = p["eps_points"]
    return [p["eps_max"] * 2.0 ** (-k / (n - 1)) for k in range(n)]


def schedule(p, eps: float, variant: str) -> dict:
    """sigma (= sigma_ratio eps, or fixed at its eps_max value) and the iteration budget
    iters_ref (eps_max/eps)^3 (the O(eps^-3) of the deterministic complexity)."""
    sigma = p["sigma_ratio"] * (eps if variant == "shrinking" else p["eps_max"])
    return {"sigma": sigma, "iterations": math.ceil(p["iters_ref"] * (p["eps_max"] / eps) ** 3)}


def sweep(p):
    units = [{"setting": f"landscape ({k})", "group": "landscape", "instance": k}
             for k in INSTANCES + (CONTROL,)]
    units += [{"setting": f"complexity sigma {v}", "group": "complexity", "instance": "a", "variant": v}
              for v in ("shrinking", "fixed")]
    units += [{"setting": f"cost {v} loop", "group": "cost", "instance": "a", "variant": v}
              for v in ("single", "double")]
    return units
