"""Data hyper-cleaning as a small bilevel problem (the task of the bilevel-unbounded experiments,
here with a linear model on synthetic data), batched over trials.

Upper variables: one weight logit lam_i per training sample (weight sigmoid(lam_i)).
Lower level (strongly convex in w, weights fixed):
    g(lam, w) = (1/n) sum_i sigmoid(lam_i) ell(y_i <x_i, w>) + (c/2) ||w||^2,  ell(m) = log(1 + e^-m).
Upper level: the clean validation loss  f(lam, w) = (1/n_val) sum_j ell(y_j <x_j, w>)  (no direct
dependence on lam).  y*(lam) has no closed form: ``solution`` runs a fixed number of batched Newton
steps, and the exact hypergradient is one linear solve (problems.bilevel.Bilevel.hypergradient).
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, device

from .bilevel import Bilevel, dot, matvec, rmatvec, sigmoid, softplus, solve


def hypercleaning_data(rng, n_train: int, n_val: int, d: int, flip: float) -> dict:
    """One trial (NumPy): Gaussian features, labels sign(<x, w_true>) in {-1, +1}, a fraction
    ``flip`` of the training labels flipped (``flipped`` marks them); validation labels clean."""
    if not 0.0 <= flip < 0.5:
        raise ValueError(f"flip must be in [0, 0.5) (a minority of corrupted labels), got {flip!r}")
    w_true = rng.standard_normal(d)
    X = rng.standard_normal((n_train, d)) / np.sqrt(d)
    Xv = rng.standard_normal((n_val, d)) / np.sqrt(d)
    y = np.where(X @ w_true >= 0, 1.0, -1.0)
    yv = np.where(Xv @ w_true >= 0, 1.0, -1.0)
    flipped = np.zeros(n_train, dtype=bool)
    flipped[rng.choice(n_train, size=int(round(flip * n_train)), replace=False)] = True
    return {"X": X, "y": np.where(flipped, -y, y), "Xv": Xv, "yv": yv, "flipped": flipped}


class WeightedLogisticLower:
    """g(lam, w) above; X (R, n, d), y (R, n), ridge c > 0 (the strong convexity modulus)."""

    def __init__(self, X, y, ridge: float, newton_steps: int = 30):
        if not ridge > 0:
            raise ValueError(f"ridge must be > 0 (strongly convex lower level), got {ridge!r}")
        self.X, self.y, self.ridge, self.newton_steps = X, y, float(ridge), int(newton_steps)
        self.n = X.shape[-2]

    def _margins(self, w):
        return self.y * matvec(self.X, w)

    def value(self, lam, w):
        xp = array_namespace(lam, w)
        loss = xp.sum(sigmoid(lam) * softplus(-self._margins(w)), axis=-1) / self.n
        return loss + 0.5 * self.ridge * dot(w, w)

    def grad_x(self, lam, w):
        s = sigmoid(lam)
        return s * (1.0 - s) * softplus(-self._margins(w)) / self.n

    def grad_y(self, lam, w):
        coef = -sigmoid(lam) * sigmoid(-self._margins(w)) * self.y / self.n
        return rmatvec(self.X, coef) + self.ridge * w

    def _curvature(self, lam, w):
        m = self._margins(w)
        return sigmoid(lam) * sigmoid(m) * sigmoid(-m) / self.n

    def hvp(self, lam, w, v):
        return rmatvec(self.X, self._curvature(lam, w) * matvec(self.X, v)) + self.ridge * v

    def jvp(self, lam, w, v):
        """d2_{lam w} g v: d/dlam_i of <grad_w g, v> (an n-vector)."""
        s = sigmoid(lam)
        m = self._margins(w)
        return -s * (1.0 - s) * sigmoid(-m) * self.y * matvec(self.X, v) / self.n

    def hess_yy(self, lam, w):
        xp = array_namespace(lam, w)
        weighted = self.X * self._curvature(lam, w)[..., None]
        d = self.X.shape[-1]
        ridge = self.ridge * xp.eye(d, dtype=w.dtype, device=device(w))
        return xp.matmul(xp.matrix_transpose(self.X), weighted) + ridge

    def solution(self, lam):
        """y*(lam) by ``newton_steps`` Newton steps from w = 0 (quadratic convergence; the ridge
        keeps every Newton system well conditioned)."""
        xp = array_namespace(lam)
        w = xp.zeros((lam.shape[0], self.X.shape[-1]), dtype=lam.dtype, device=device(lam))
        for _ in range(self.newton_steps):
            w = w - solve(self.hess_yy(lam, w), self.grad_y(lam, w))
        return w


class ValidationUpper:
    """f(lam, w) = mean validation logistic loss, Xv (R, n_val, d), yv (R, n_val)."""

    def __init__(self, Xv, yv):
        self.Xv, self.yv = Xv, yv

    def value(self, lam, w):
        xp = array_namespace(lam, w)
        return xp.mean(softplus(-self.yv * matvec(self.Xv, w)), axis=-1)

    def grad_x(self, lam, w):
        xp = array_namespace(lam)
        return xp.zeros_like(lam)

    def grad_y(self, lam, w):
        m = self.yv * matvec(self.Xv, w)
        return rmatvec(self.Xv, -sigmoid(-m) * self.yv) / self.Xv.shape[-2]


def hypercleaning_bilevel(arrays: dict, asarray, *, ridge: float = 0.1) -> Bilevel:
    """Bilevel object of stacked (R, ...) arrays; ``asarray`` moves NumPy arrays to the backend."""
    lower = WeightedLogisticLower(asarray(arrays["X"]), asarray(arrays["y"]), ridge)
    return Bilevel(ValidationUpper(asarray(arrays["Xv"]), asarray(arrays["yv"])), lower)
