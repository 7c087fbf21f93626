"""Extra pieces for the penalty-bilevel experiment (Kwon, Kwon, Wright & Nowak, ICLR 2024).

- :class:`WeightedQuadraticPenalty`, instance (c'): the rank-deficient lower level of instance
  (c) under an upper level whose y-part is anisotropic, f = u(x) + 1/2 (y - b)^T W (y - b).
  With W = I (instance (c) of problems.penalty_bilevel) f's y-gradient differs between two lower
  solutions by a null(H) vector, which H^+ annihilates, so the explicit gradient of psi and the
  naive implicit-function formula evaluated at *any* lower solution coincide; W != I separates
  them, which is what a check of the explicit formula needs.
- :func:`box_hypergradient`: grad psi for the box-constrained, strongly convex lower level of
  instance (b), from the active set of y*(x) (NumPy, per trial; valid under strict
  complementarity, away from the kinks of y*).
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from .bilevel import QuadraticLower, SeparableUpper, dot, eye_like, matvec, solve
from .penalty_bilevel import check_sigma, rank_deficient_instance


def weighted_rank_deficient_instance(rng, dx: int, dy: int, m: int, rank: int, cond: float = 10.0,
                                     w_cond: float = 4.0) -> dict:
    """Instance (c) of problems.penalty_bilevel plus W = V diag(s) V^T, s log-spaced in
    [1, w_cond] (one trial, NumPy)."""
    arrays = rank_deficient_instance(rng, dx, dy, m, rank, cond)
    V, _ = np.linalg.qr(rng.standard_normal((dy, dy)))
    arrays["W"] = (V * np.geomspace(1.0, w_cond, dy)) @ V.T
    return arrays


class WeightedQuadraticPenalty:
    """Instance (c'): f(x, y) = u(x) + 1/2 (y - b)^T W (y - b) (u: SeparableUpper's x-part),
    g = QuadraticLower with H = Q singular and B^T x in range(H); closed forms (trials first):

        S(x) = ybar + null(H), ybar = H^+ B^T x;   y_opt = argmin_{S(x)} f;
        y_sigma = (sigma W + H)^{-1} (sigma W b + B^T x);
        grad psi(x) = grad_x f - d2_xy g H^+ grad_y f(x, y_opt)    (explicit formula);
        naive(x)    = the same at ybar, the solution a lower-level solver returns from 0.

    The explicit formula is the limit of grad psi_sigma as sigma -> 0 (y_sigma = y_opt -
    sigma H^+ W (y_opt - b) + o(sigma), and d2_xy g = -B vanishes on null(H)); the naive one is
    the gradient of x -> f(x, ybar(x)), a different function from psi.
    """

    def __init__(self, upper: SeparableUpper, W, lower: QuadraticLower):
        xp = array_namespace(W)
        self.u, self.W, self.b, self.lower = upper, W, upper.b, lower
        self.upper = self
        H = lower.H
        self.H_pinv = xp.linalg.pinv(H)
        self.P_null = eye_like(H) - xp.matmul(self.H_pinv, H)
        PWP = xp.matmul(self.P_null, xp.matmul(W, self.P_null))
        self._null_solve = xp.matmul(xp.linalg.pinv(PWP), xp.matmul(self.P_null, W))

    # the upper level f
    def value(self, x, y):
        r = y - self.b
        return self.u.value(x, self.b) + 0.5 * dot(r, matvec(self.W, r))

    def grad_x(self, x, y):
        return self.u.grad_x(x, y)

    def grad_y(self, x, y):
        return matvec(self.W, y - self.b)

    def project_y(self, y):
        return y

    # lower-level solutions and the penalty problem
    def y_lower(self, x):
        return matvec(self.H_pinv, self.lower.linear_term(x))

    def y_opt(self, x):
        ybar = self.y_lower(x)
        return ybar - matvec(self._null_solve, ybar - self.b)

    def y_sigma(self, x, sigma):
        s = check_sigma(sigma)
        return solve(s * self.W + self.lower.H, s * matvec(self.W, self.b) + self.lower.linear_term(x))

    def psi(self, x):
        return self.value(x, self.y_opt(x))

    def _formula_at(self, x, y):
        w = matvec(self.H_pinv, self.grad_y(x, y))
        return self.grad_x(x, y) - self.lower.jvp(x, y, w)

    def grad_psi(self, x):
        return self._formula_at(x, self.y_opt(x))

    def naive_grad(self, x):
        return self._formula_at(x, self.y_lower(x))


def box_hypergradient(Q, B, mu: float, A_grad_x, y_star, b, lo, hi, tol: float = 1e-7) -> np.ndarray:
    """grad psi(x) = grad_x f + B_F H_FF^{-1} (y* - b)_F for g = 1/2 y^T H y - y^T B^T x on a box,
    f = u(x) + 1/2 ||y - b||^2, F the free coordinates of y* (NumPy; A_grad_x = grad_x f,
    (R, dx)): on F, H_FF y_F + H_FA y_A = (B^T x)_F, so dy_F/dx = H_FF^{-1} B_F^T and
    dy_A/dx = 0."""
    Q, B, y_star, b = (np.asarray(a, dtype=float) for a in (Q, B, y_star, b))
    out = np.array(A_grad_x, dtype=float, copy=True)
    lo_a = np.broadcast_to(np.asarray(lo, dtype=float), y_star.shape[-1:])
    hi_a = np.broadcast_to(np.asarray(hi, dtype=float), y_star.shape[-1:])
    for r in range(y_star.shape[0]):
        free = (y_star[r] > lo_a + tol) & (y_star[r] < hi_a - tol)
        if free.any():
            H = Q[r] + mu * np.eye(Q.shape[-1])
            w = np.linalg.solve(H[np.ix_(free, free)], (y_star[r] - b[r])[free])
            out[r] += B[r][:, free] @ w
    return out
