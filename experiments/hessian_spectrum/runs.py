"""hessian-spectrum run units: train small ReLU networks on a Gaussian mixture by full-batch
gradient descent (and small-batch SGD), then take the exact Hessian spectrum, the Gauss-Newton
top eigenvalues by Lanczos, an SLQ density, and the loss along interpolation segments.

Module-level names (train_full_batch, train_small_batch, curvature_operator, lanczos_top_k,
spectrum) are what the mutants in tests/mutants_hessian_spectrum.py replace.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from algorithms.hessian import lanczos_top_k, slq, slq_density
from algorithms.hessian_spectrum import near_zero_fraction, spectrum
from algorithms.network_objective import NetworkObjective
from algorithms.networks import Architecture, curvature_operator, init_params
from algorithms.training import gradient_descent, sgd
from experiments.base import Trace, series_key
from problems.classification import gaussian_mixture, one_hot

from .config import DENSITY_GRID, DENSITY_SIGMA, SEGMENT_POINTS


def train_full_batch(objective, theta0, p):
    """Large batch: full-batch gradient descent, ``steps`` steps of size ``lr``."""
    return gradient_descent(objective.gradient, theta0, lr=p["lr"], steps=p["steps"],
                            record=[p["steps"]]).state["params"]


def train_small_batch(objective, theta0, p, rngs):
    """Small batch: SGD with ``batch`` samples drawn with replacement, step ``sb_lr``."""
    return sgd(objective.gradient, theta0, n=objective.n_samples, batch=p["batch"], lr=p["sb_lr"],
               steps=p["sb_steps"], record=[p["sb_steps"]], rngs=rngs).state["params"]


def _problem(unit, p, env):
    """The unit's data (one mixture per trial, shared by every width) as backend arrays."""
    k = unit["classes"]
    X, labels = gaussian_mixture(env.rngs, p["samples"], p["dim"], k, p["separation"], p["noise"])
    X = env.asarray(X)
    return X, one_hot(env.asarray(labels), k, X.dtype)


def _objective(X, Y, width, k, p):
    return NetworkObjective(Architecture(p["dim"], (width,), k, "relu"), X, Y, "mse")


def _density(eigenvalues, grid):
    """Exact density (1/P) sum_i N(t; lambda_i, sigma^2) on the grid: (R, G)."""
    xp = array_namespace(eigenvalues)
    ones = xp.ones_like(eigenvalues)
    return slq_density(eigenvalues[:, None, :], ones[:, None, :] / eigenvalues.shape[-1], grid, DENSITY_SIGMA)


def _measure_spectrum(objective, theta, k, p, env, *, with_slq: bool):
    """Per-trial scalars (top eigenvalues, Gauss-Newton top k^2, near-zero fraction, loss,
    accuracy) and density series at theta."""
    arch, X, Y = objective.arch, objective.X, objective.Y
    xp = env.xp
    # a diverged trial is measured at 0 (so Lanczos stays finite) and reported as NaN
    loss = objective.value(theta)
    finite = xp.all(xp.isfinite(theta), axis=-1) & xp.isfinite(loss)
    theta = xp.where(finite[:, None], theta, 0.0)
    nan = float("nan")
    eig = spectrum(objective, theta, operator=curvature_operator)
    K = k * k
    top = min(arch.n_params, 2 * K + 2)
    gn = curvature_operator(arch, theta, X, Y, "mse", "gauss_newton")
    gn_top = lanczos_top_k(gn, theta, K, env.rngs, iterations=min(arch.n_params, 3 * K + 20))
    eig = xp.where(finite[:, None], eig, nan)
    gn_top = xp.where(finite[:, None], gn_top, nan)
    scalars = {("eigenvalue", r + 1): eig[:, r] for r in range(top)}
    scalars.update({("gauss_newton_eigenvalue", r + 1): gn_top[:, r] for r in range(K)})
    scalars[("near_zero_fraction", None)] = xp.where(finite, near_zero_fraction(eig, p["band"]), nan)
    scalars[("train_loss", None)] = loss
    scalars[("train_accuracy", None)] = xp.where(finite, objective.accuracy(theta), nan)
    grid = env.asarray(np.linspace(*DENSITY_GRID))
    series = {"density": _density(eig, grid)}
    if with_slq:
        full = curvature_operator(arch, theta, X, Y, "mse", "full")
        nodes, weights = slq(full, theta, env.rngs, p["slq_probes"], min(arch.n_params, p["slq_steps"]))
        series["slq_density"] = xp.where(finite[:, None], slq_density(nodes, weights, grid, DENSITY_SIGMA), nan)
    return scalars, series


def _record(scalars, series, measured, **labels):
    sc, se = measured
    for (metric, rank), v in sc.items():
        extra = {} if rank is None else {"rank": rank}
        scalars[series_key(metric, **labels, **extra)] = v
    for metric, v in se.items():
        series[series_key(metric, **labels)] = v


def _widths_unit(unit, p, env) -> Trace:
    """Every width trained on the same data (one mixture per trial): width is a grid label."""
    k = unit["classes"]
    X, Y = _problem(unit, p, env)
    scalars, series = {}, {}
    for h in p["widths"]:
        objective = _objective(X, Y, h, k, p)
        theta = train_full_batch(objective, env.asarray(init_params(objective.arch, env.rngs, scheme="lecun")), p)
        _record(scalars, series, _measure_spectrum(objective, theta, k, p, env, with_slq=False),
                point="trained", width=h)
    return Trace(np.arange(DENSITY_GRID[2]), series, None, scalars, {"loss": "mse", "activation": "relu"})


def _probe_unit(unit, p, env) -> Trace:
    """One network of the probe width: its spectrum at initialization and after training (with
    an SLQ density next to the exact one)."""
    k, h = unit["classes"], p["probe_width"]
    X, Y = _problem(unit, p, env)
    objective = _objective(X, Y, h, k, p)
    theta0 = env.asarray(init_params(objective.arch, env.rngs, scheme="lecun"))
    scalars, series = {}, {}
    _record(scalars, series, _measure_spectrum(objective, theta0, k, p, env, with_slq=False),
            point="initialization", width=h)
    theta = train_full_batch(objective, theta0, p)
    _record(scalars, series, _measure_spectrum(objective, theta, k, p, env, with_slq=True),
            point="trained", width=h)
    return Trace(np.arange(DENSITY_GRID[2]), series, None, scalars, {"loss": "mse", "activation": "relu"})


def _segment_losses(objective, a, b, xp):
    """Loss along (1 - t) a + t b at SEGMENT_POINTS values of t: (R, S)."""
    ts = np.linspace(0.0, 1.0, SEGMENT_POINTS)
    return xp.stack([objective.value((1.0 - float(t)) * a + float(t) * b) for t in ts], axis=-1)


def _segment_unit(unit, p, env) -> Trace:
    """Large batch (GD) and small batch (SGD) from one initialization; a second large-batch
    solution from another initialization is the control (a different basin)."""
    k, h = unit["classes"], p["probe_width"]
    X, Y = _problem(unit, p, env)
    objective = _objective(X, Y, h, k, p)
    theta0 = env.asarray(init_params(objective.arch, env.rngs, scheme="lecun"))
    other0 = env.asarray(init_params(objective.arch, env.rngs, scheme="lecun"))
    large = train_full_batch(objective, theta0, p)
    small = train_small_batch(objective, theta0, p, env.rngs)
    large_other = train_full_batch(objective, other0, p)
    series = {
        series_key("segment_loss", pair="small_large"): _segment_losses(objective, small, large, env.xp),
        series_key("segment_loss", pair="small_other_init"): _segment_losses(objective, small, large_other, env.xp),
    }
    return Trace(np.arange(SEGMENT_POINTS), series, None,
                 {"train_loss": objective.value(theta0)}, {"loss": "mse", "width": h})


def run_unit(unit, p, env) -> Trace:
    if unit["setting"] == "widths":
        return _widths_unit(unit, p, env)
    if unit["setting"] == "probe":
        return _probe_unit(unit, p, env)
    if unit["setting"] == "segment":
        return _segment_unit(unit, p, env)
    raise ValueError(f"unknown setting {unit['setting']!r}")
