"""Realistic bugs that hessian-spectrum's claims must catch (tests/test_mutants.py)."""
from __future__ import annotations

import math

from array_api_compat import array_namespace

from algorithms import networks
from algorithms.hessian import _host_vectors, _norm, tridiagonal_eigh
from paper_runs import Mutant

PAPER = "hessian-spectrum"
RUNS = "experiments.hessian_spectrum.runs"


def _without_residual(arch, theta, X, Y, loss="mse", part="full"):
    """R-operator that drops the second-derivative (residual) terms: the 'full' product is the
    Gauss-Newton one (a forgotten delta * V_W term and s'' term in the backward R-pass)."""
    return networks.curvature_operator(arch, theta, X, Y, loss, "gauss_newton" if part == "full" else part)


def _lanczos_top_k_no_reorth(hvp, like, k, rngs, *, iterations=None):
    """Plain three-term Lanczos, no reorthogonalization: in floating point the top Ritz values
    converge and then reappear as ghost copies, pushing the genuine k-th values out of the list."""
    xp = array_namespace(like)
    P = like.shape[-1]
    m = min(P, max(3 * k, 30)) if iterations is None else min(P, iterations)
    q = _host_vectors(rngs, like, "normal")
    q = q / _norm(q)[:, None]
    q_prev, beta_prev = xp.zeros_like(q), xp.zeros_like(q[:, 0])
    alphas, betas = [], []
    for j in range(m):
        w = hvp(q)
        alpha = xp.sum(q * w, axis=-1)
        alphas.append(alpha)
        if j == m - 1:
            break
        w = w - alpha[:, None] * q - beta_prev[:, None] * q_prev
        beta = xp.maximum(_norm(w), math.ulp(1.0))
        betas.append(beta)
        q_prev, q, beta_prev = q, w / beta[:, None], beta
    values = tridiagonal_eigh(xp.stack(alphas, axis=-1), xp.stack(betas, axis=-1))[0]
    return xp.flip(values, axis=-1)[:, :k]


def _summed_gradient_descent(objective, theta0, p):
    """Full-batch GD on the summed loss (gradient times n): the step is n times too large."""
    from algorithms.training import gradient_descent

    n = objective.n_samples
    return gradient_descent(lambda th: n * objective.gradient(th), theta0, lr=p["lr"], steps=p["steps"],
                            record=[p["steps"]]).state["params"]


def _probe(unit):
    return unit["setting"] == "probe"


MUTANTS = [
    Mutant(paper=PAPER, name="R-operator without the residual term", kind="dropped term",
           patch=lambda mp: mp.setattr(f"{RUNS}.curvature_operator", _without_residual),
           claims=("hessian-spectrum/gauss-newton-outliers",), units=_probe),
    Mutant(paper=PAPER, name="Lanczos without reorthogonalization", kind="dropped term",
           patch=lambda mp: mp.setattr(f"{RUNS}.lanczos_top_k", _lanczos_top_k_no_reorth),
           claims=("hessian-spectrum/gauss-newton-outliers",), units=_probe),
    Mutant(paper=PAPER, name="summed instead of mean gradient (step n times too large)", kind="wrong step",
           patch=lambda mp: mp.setattr(f"{RUNS}.train_full_batch", _summed_gradient_descent),
           claims=("hessian-spectrum/connected-basins",), units=lambda u: u["setting"] == "segment"),
]
