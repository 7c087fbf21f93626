"""Penalty reformulation of bilevel problems (Kwon, Kwon, Wright & Nowak, ICLR 2024), four instances.

With h_sigma = sigma f + g and l(x, sigma) = min_{y in Y} h_sigma(x, y), the penalty function is

    psi_sigma(x) = (l(x, sigma) - l(x, 0)) / sigma = min_{y in Y} f(x, y) + (g(x, y) - g*(x)) / sigma,

and the (optimistic) hyper-objective psi(x) = min { f(x, y) : y in S(x) = argmin_Y g(x, .) }.
Always psi_sigma <= psi (take y in S(x)).  Its gradient (Danskin-type formula, at minimizers
y_sigma of the penalty problem and y* in S(x)):

    grad psi_sigma(x) = grad_x f(x, y_sigma) + (grad_x g(x, y_sigma) - grad_x g(x, y*)) / sigma.

Instances: (a) the quadratic lower level of problems.bilevel, strongly convex (closed forms);
(b) the same with y in a box or the simplex (cvxpy ground truth, NumPy side); (c) a rank-deficient
quadratic lower level (a subspace of solutions; quadratics satisfy the proximal error bound) with
the explicit gradient of psi; (d) the control g(x, y) = x y on [-1, 1], whose solution set jumps
at x = 0 (psi is discontinuous there and |psi_sigma - psi| = O(sigma) fails near 0).
"""
from __future__ import annotations

import math

import numpy as np
from array_api_compat import array_namespace

from .bilevel import (QuadraticLower, SeparableUpper, dot, eye_like, matvec, project_box,
                      solve, solve_constrained_qp)
from .monotone import project_simplex

SETS = ("box", "simplex")


def check_sigma(sigma) -> float:
    """sigma as a float; ValueError unless it is a finite number > 0."""
    try:
        s = float(sigma)
    except (TypeError, ValueError):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}") from None
    if not (s > 0 and math.isfinite(s)):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    return s


def check_box(lo, hi):
    """ValueError unless lo <= hi in every coordinate (a non-empty box) and neither is NaN."""
    lo_a, hi_a = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if np.any(np.isnan(lo_a)) or np.any(np.isnan(hi_a)) or np.any(lo_a > hi_a):
        raise ValueError(f"box needs lo <= hi in every coordinate (a non-empty box), got lo={lo!r}, hi={hi!r}")


def rank_deficient_instance(rng, dx: int, dy: int, m: int, rank: int, cond: float = 10.0) -> dict:
    """Instance (c), one trial (NumPy): Q = U diag(s) U^T of rank ``rank`` < dy and B = M^T Q, so
    B^T x lies in range(Q) and S(x) = Q^+ B^T x + null(Q) is a (dy - rank)-dim affine subspace."""
    if not 0 < rank < dy:
        raise ValueError(f"rank must satisfy 0 < rank < dy = {dy} (multiple solutions), got {rank}")
    U, _ = np.linalg.qr(rng.standard_normal((dy, rank)))
    Q = (U * np.geomspace(1.0, cond, rank)) @ U.T
    M = rng.standard_normal((dy, dx)) / np.sqrt(dx)
    return {"Q": Q, "B": M.T @ Q, "A": np.abs(rng.standard_normal((m, dx))) / np.sqrt(dx),
            "b": rng.standard_normal(dy), "mu": 0.0}


class QuadraticPenalty:
    """Instances (a) (mu > 0) and (c) (mu = 0, B^T x in range(Q)): y unconstrained,
    f = SeparableUpper (u(x) + 1/2 ||y - b||^2), g = QuadraticLower.  Everything is closed form:

        y_sigma = (sigma I + H)^{-1} (sigma b + B^T x),   g - g* = 1/2 (y - ybar)^T H (y - ybar),
        ybar = H^+ B^T x (the min-norm lower solution),   y_opt = ybar + P_null(H) (b - ybar),
        grad psi(x) = grad_x f(x, y_opt) - d2_xy g H^+ grad_y f(x, y_opt)

    (the last: the limit of grad psi_sigma as sigma -> 0; grad_y f(x, y_opt) is orthogonal to
    null(H) by optimality over S(x), so H^+ acts as the inverse there).
    """

    def __init__(self, upper: SeparableUpper, lower: QuadraticLower):
        xp = array_namespace(lower.H)
        self.upper, self.lower = upper, lower
        self.H_pinv = xp.linalg.pinv(lower.H)
        self.P_null = eye_like(lower.H) - xp.matmul(self.H_pinv, lower.H)

    def project_y(self, y):
        return y

    def y_lower(self, x):
        return matvec(self.H_pinv, self.lower.linear_term(x))

    def lower_gap(self, x, y):
        """g(x, y) - g*(x), computed without cancellation."""
        d = y - self.y_lower(x)
        return 0.5 * dot(d, matvec(self.lower.H, d))

    def y_sigma(self, x, sigma):
        s = check_sigma(sigma)
        H = self.lower.H
        return solve(s * eye_like(H) + H, s * self.upper.b + self.lower.linear_term(x))

    def psi_sigma(self, x, sigma):
        s = check_sigma(sigma)
        y = self.y_sigma(x, s)
        return self.upper.value(x, y) + self.lower_gap(x, y) / s

    def grad_psi_sigma(self, x, sigma):
        s = check_sigma(sigma)
        y = self.y_sigma(x, s)
        ybar = self.y_lower(x)
        return self.upper.grad_x(x, y) + (self.lower.grad_x(x, y) - self.lower.grad_x(x, ybar)) / s

    def y_opt(self, x):
        ybar = self.y_lower(x)
        return ybar + matvec(self.P_null, self.upper.b - ybar)

    def psi(self, x):
        return self.upper.value(x, self.y_opt(x))

    def grad_psi(self, x):
        y = self.y_opt(x)
        w = matvec(self.H_pinv, self.upper.grad_y(x, y))
        return self.upper.grad_x(x, y) - self.lower.jvp(x, y, w)


class ConstrainedQuadraticPenalty:
    """Instance (b): f, g as in (a), y restricted to a box [lo, hi] or the probability simplex.

    Built from stacked NumPy arrays (``asarray`` moves them to the backend for the algorithms);
    the ground-truth methods take and return NumPy arrays and solve per trial with cvxpy:
    g*(x) and y* (one QP), y_sigma (one QP with H + sigma I), psi = f(x, y*) when mu > 0, else
    a convex QCQP: min f over {y in Y : g(x, y) <= g*(x) + tol (1 + |g*|)}.  psi_sigma is f(y_sigma) + (g(y_sigma) - g*)/sigma, so
    its accuracy is about solver tolerance / sigma: keep sigma >= 1e-4.
    """

    def __init__(self, arrays: dict, asarray, *, kind: str = "box", lo=-1.0, hi=1.0,
                 link: str = "exp", scale: float = 1.0):
        if kind not in SETS:
            raise ValueError(f"unknown constraint set {kind!r}: valid sets are {', '.join(SETS)}")
        if kind == "box":
            check_box(lo, hi)
        self.kind, self.lo, self.hi = kind, lo, hi
        self.np_upper = SeparableUpper(arrays["A"], arrays["b"], link=link, scale=scale)
        self.np_lower = QuadraticLower(arrays["Q"], arrays["B"], arrays["mu"])
        self.upper = SeparableUpper(asarray(arrays["A"]), asarray(arrays["b"]), link=link, scale=scale)
        self.lower = QuadraticLower(asarray(arrays["Q"]), asarray(arrays["B"]), arrays["mu"])

    def project_y(self, y):
        if self.kind == "box":
            return project_box(y, self.lo, self.hi)
        return project_simplex(y)

    def _qp(self, P, q, extra=None):
        box = dict(lo=self.lo, hi=self.hi) if self.kind == "box" else dict(simplex=True)
        return solve_constrained_qp(P, q, extra=extra, **box)

    def lower_solution(self, x):
        """(y*, g*) per trial: (R, dy), (R,)."""
        H, Bt_x = self.np_lower.H, self.np_lower.linear_term(np.asarray(x, dtype=float))
        out = [self._qp(H[r], -Bt_x[r]) for r in range(H.shape[0])]
        return np.stack([o[0] for o in out]), np.array([o[1] for o in out])

    def y_sigma(self, x, sigma):
        s = check_sigma(sigma)
        H, b = self.np_lower.H, self.np_upper.b
        Bt_x = self.np_lower.linear_term(np.asarray(x, dtype=float))
        eye = np.eye(H.shape[-1])
        # sigma (1/2 ||y - b||^2) + g(x, y), constants dropped
        return np.stack([self._qp(s * eye + H[r], -(s * b[r] + Bt_x[r]))[0] for r in range(H.shape[0])])

    def psi_sigma(self, x, sigma):
        s = check_sigma(sigma)
        x = np.asarray(x, dtype=float)
        y = self.y_sigma(x, s)
        _, g_star = self.lower_solution(x)
        return self.np_upper.value(x, y) + (self.np_lower.value(x, y) - g_star) / s

    def grad_psi_sigma(self, x, sigma):
        s = check_sigma(sigma)
        x = np.asarray(x, dtype=float)
        y, (y_star, _) = self.y_sigma(x, s), self.lower_solution(x)
        lower = self.np_lower
        return self.np_upper.grad_x(x, y) + (lower.grad_x(x, y) - lower.grad_x(x, y_star)) / s

    def psi(self, x, tol: float = 1e-9):
        import cvxpy as cp

        x = np.asarray(x, dtype=float)
        y_star, g_star = self.lower_solution(x)
        if self.np_lower.mu > 0:   # S(x) = {y*}
            return self.np_upper.value(x, y_star)
        H, Bt_x, b = self.np_lower.H, self.np_lower.linear_term(x), self.np_upper.b
        values = []
        for r in range(H.shape[0]):
            level = lambda y, r=r: [0.5 * cp.quad_form(y, cp.psd_wrap(H[r])) - Bt_x[r] @ y
                                    <= g_star[r] + tol * (1.0 + abs(g_star[r]))]
            y, _, _ = self._qp(np.eye(H.shape[-1]), -b[r], extra=level)
            values.append(y)
        return self.np_upper.value(x, np.stack(values))


class JumpControl:
    """Instance (d): f(x, y) = x^2/2 + c y, g(x, y) = x y, y in [-1, 1], x and y of size 1.

    S(x) = {-sign x} (all of [-1, 1] at x = 0), g* = -|x|, psi(x) = x^2/2 - c sign(x) (and
    x^2/2 - |c| at 0): a jump of 2|c| at 0.  psi_sigma(x) = x^2/2 - |c + x/sigma| + |x|/sigma is
    continuous, so sup_x |psi_sigma - psi| >= |c| for every sigma: no O(sigma) closeness.
    """

    def __init__(self, c: float = 1.0):
        self.c = float(c)
        self.upper, self.lower = self, _BilinearLower()

    # upper level f
    def value(self, x, y):
        return 0.5 * x[..., 0] ** 2 + self.c * y[..., 0]

    def grad_x(self, x, y):
        return x

    def grad_y(self, x, y):
        xp = array_namespace(y)
        return xp.full(y.shape, self.c, dtype=y.dtype)

    def project_y(self, y):
        return project_box(y, -1.0, 1.0)

    def y_lower(self, x):
        xp = array_namespace(x)
        return xp.where(x == 0, -math.copysign(1.0, self.c), -xp.sign(x))

    def psi(self, x):
        return self.value(x, self.y_lower(x))

    def y_sigma(self, x, sigma):
        s = check_sigma(sigma)
        xp = array_namespace(x)
        return 1.0 - 2.0 * xp.astype(self.c + x / s >= 0, x.dtype)

    def psi_sigma(self, x, sigma):
        s = check_sigma(sigma)
        xp = array_namespace(x)
        t = x[..., 0]
        return 0.5 * t ** 2 - xp.abs(self.c + t / s) + xp.abs(t) / s

    def grad_psi_sigma(self, x, sigma):
        s = check_sigma(sigma)
        return x + (self.y_sigma(x, s) - self.y_lower(x)) / s


class _BilinearLower:
    """g(x, y) = x y (sizes 1)."""

    def value(self, x, y):
        return x[..., 0] * y[..., 0]

    def grad_x(self, x, y):
        return y

    def grad_y(self, x, y):
        return x

    def hvp(self, x, y, v):
        return 0.0 * v

    def jvp(self, x, y, v):
        return v
