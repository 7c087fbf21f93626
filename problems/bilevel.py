"""Bilevel building blocks shared by bilevel-unbounded (Hao, Gong & Liu, ICLR 2024) and
penalty-bilevel (Kwon, Kwon, Wright & Nowak, ICLR 2024), batched over trials.

    min_x Phi(x) = f(x, y*(x)),   y*(x) = argmin_y g(x, y).

Every array carries the trial axis first: x (R, dx), y (R, dy).  A level is an object with
``value``, ``grad_x``, ``grad_y``; a lower level also has ``hvp`` (d2_yy g v, a dy-vector),
``jvp`` (d2_xy g v, a dx-vector), ``hess_yy`` (dense, small) and ``solution`` (y*(x)).
Host-side builders (NumPy, one Generator per trial) create instances; the levels are array-API
generic; the cvxpy ground truth (y* under a box) runs per trial on NumPy arrays.
Counting stochastic oracles: problems.bilevel_oracles; data hyper-cleaning: problems.hypercleaning;
the penalty function: problems.penalty_bilevel.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, device

LINKS = ("exp", "softplus")


# ---- small generic helpers ------------------------------------------------------------------
# matvec and rmatvec run several times per step of every bilevel method on small arrays: ``@``
# (array-API standard, the same matmul) instead of an array_namespace look-up, which costs more
# than the product at these sizes.  The levels below look their namespace up once, at creation.
def matvec(M, v):
    """Batched M v: (..., m, n) x (..., n) -> (..., m)."""
    return (M @ v[..., None])[..., 0]


def rmatvec(M, v):
    """Batched M^T v: (..., m, n) x (..., m) -> (..., n)."""
    return (v[..., None, :] @ M)[..., 0, :]


def dot(u, v):
    """Inner product over the last axis."""
    xp = array_namespace(u, v)
    return xp.sum(u * v, axis=-1)


def norm(v):
    """Euclidean norm over the last axis."""
    xp = array_namespace(v)
    return xp.sqrt(xp.sum(v * v, axis=-1))


def solve(H, v):
    """Batched H^{-1} v for (..., n, n) x (..., n)."""
    xp = array_namespace(H, v)
    return xp.linalg.solve(H, v[..., None])[..., 0]


def eye_like(M):
    """Identity with the trailing size, dtype and device of M (..., n, n)."""
    xp = array_namespace(M)
    return xp.eye(M.shape[-1], dtype=M.dtype, device=device(M))


def softplus(t, xp=None):
    """log(1 + e^t), overflow-free (``xp``: t's namespace, when the caller knows it)."""
    xp = xp or array_namespace(t)
    return xp.maximum(t, 0.0) + xp.log1p(xp.exp(-xp.abs(t)))


def sigmoid(t, xp=None):
    """1 / (1 + e^{-t}) = exp(-softplus(-t)), overflow-free."""
    xp = xp or array_namespace(t)
    return xp.exp(-softplus(-t, xp))


def project_box(y, lo, hi):
    """Projection onto the box [lo, hi] (scalars or arrays broadcasting against y)."""
    xp = array_namespace(y)
    return xp.clip(y, min=lo, max=hi)


# ---- the two levels ---------------------------------------------------------------------------
class QuadraticLower:
    """g(x, y) = 1/2 y^T Q y - y^T B^T x + (mu/2) ||y||^2, Q (R, dy, dy) PSD, B (R, dx, dy).

    grad_y g = H y - B^T x with H = Q + mu I = d2_yy g;  grad_x g = -B y;  d2_xy g = -B;
    y*(x) = H^{-1} B^T x (unique when mu > 0 or Q is definite).
    """

    def __init__(self, Q, B, mu: float = 0.0):
        self.Q, self.B, self.mu = Q, B, float(mu)
        self.H = Q + self.mu * eye_like(Q)

    def linear_term(self, x):
        return rmatvec(self.B, x)

    def value(self, x, y):
        return 0.5 * dot(y, matvec(self.H, y)) - dot(y, self.linear_term(x))

    def grad_x(self, x, y):
        return -matvec(self.B, y)

    def grad_y(self, x, y):
        return matvec(self.H, y) - self.linear_term(x)

    def hvp(self, x, y, v):
        return matvec(self.H, v)

    def jvp(self, x, y, v):
        return -matvec(self.B, v)

    def grads_at(self, x, ys):
        """[(grad_x g, grad_y g) at (x, y) for y in ys], B^T x computed once (the penalty method
        takes lower gradients at two points for one x)."""
        lin = self.linear_term(x)
        return [(-matvec(self.B, y), matvec(self.H, y) - lin) for y in ys]

    def hess_yy(self, x, y):
        return self.H

    def solution(self, x):
        return solve(self.H, self.linear_term(x))


class SeparableUpper:
    """f(x, y) = scale sum_i phi(a_i^T x) + 1/2 ||y - b||^2, A (R, m, dx), b (R, dy).

    ``link="exp"``: phi = exp.  With the a_i entrywise non-negative, ||d2_x f|| <= L1 ||grad_x f||
    with L1 = sqrt(dx) max_i ||a_i||: (L0, L1)-smooth with L0 = 0 in x, but not Lipschitz-smooth
    (the curvature grows like the gradient, without bound).  ``link="softplus"``: phi =
    log(1 + e^t), Lipschitz-smooth (L = scale ||A||^2 / 4): the control twin.
    """

    def __init__(self, A, b, link: str = "exp", scale: float = 1.0):
        if link not in LINKS:
            raise ValueError(f"unknown link {link!r}: valid links are {', '.join(LINKS)}")
        self.A, self.b, self.link, self.scale = A, b, link, float(scale)
        self.xp = array_namespace(A)

    def _phi(self, t):
        xp = self.xp
        return xp.exp(t) if self.link == "exp" else softplus(t, xp)

    def _dphi(self, t):
        xp = self.xp
        return xp.exp(t) if self.link == "exp" else sigmoid(t, xp)

    def value(self, x, y):
        xp = self.xp
        r = y - self.b
        return self.scale * xp.sum(self._phi(matvec(self.A, x)), axis=-1) + 0.5 * dot(r, r)

    def grad_x(self, x, y):
        return self.scale * rmatvec(self.A, self._dphi(matvec(self.A, x)))

    def grad_y(self, x, y):
        return y - self.b


class Bilevel:
    """A bilevel problem (upper, lower) with the exact hyper-objective and hypergradient

        grad Phi(x) = grad_x f - d2_xy g [d2_yy g]^{-1} grad_y f   at y = y*(x)

    (implicit function theorem, strongly convex lower level, unconstrained y).
    """

    def __init__(self, upper, lower):
        self.upper, self.lower = upper, lower

    def y_star(self, x):
        return self.lower.solution(x)

    def phi(self, x):
        return self.upper.value(x, self.y_star(x))

    def hypergradient(self, x):
        y = self.y_star(x)
        v = solve(self.lower.hess_yy(x, y), self.upper.grad_y(x, y))
        return self.upper.grad_x(x, y) - self.lower.jvp(x, y, v)

    def tracking_error(self, x, y):
        """||y - y*(x)|| per trial."""
        return norm(y - self.y_star(x))


# ---- instances (host side) ------------------------------------------------------------------
def quadratic_instance(rng, dx: int, dy: int, m: int, *, mu: float = 0.1, cond: float = 10.0,
                       coupling: float = 1.0) -> dict:
    """One trial's arrays (NumPy): Q = U diag(s) U^T with s log-spaced in [1, cond] (so
    H = Q + mu I has condition number (cond + mu)/(1 + mu)), B with i.i.d. N(0, coupling^2/dy)
    entries, A (m, dx) with non-negative entries |N(0, 1/dx)| (needed for
    the (L0, L1) bound of the exp link), b ~ N(0, I)."""
    s = np.geomspace(1.0, cond, dy)
    U, _ = np.linalg.qr(rng.standard_normal((dy, dy)))
    return {
        "Q": (U * s) @ U.T,
        "B": rng.standard_normal((dx, dy)) * (coupling / np.sqrt(dy)),
        "A": np.abs(rng.standard_normal((m, dx))) / np.sqrt(dx),
        "b": rng.standard_normal(dy),
        "mu": float(mu),
    }


def stack_instances(parts: list[dict]) -> dict:
    """Stack per-trial dicts into (R, ...) NumPy arrays (scalars are kept from the first)."""
    out = {}
    for key, value in parts[0].items():
        out[key] = np.stack([p[key] for p in parts]) if isinstance(value, np.ndarray) else value
    return out


def quadratic_bilevel(arrays: dict, asarray, *, link: str = "exp", scale: float = 1.0) -> Bilevel:
    """The Bilevel object of stacked arrays; ``asarray`` moves a NumPy array to the backend."""
    lower = QuadraticLower(asarray(arrays["Q"]), asarray(arrays["B"]), arrays["mu"])
    upper = SeparableUpper(asarray(arrays["A"]), asarray(arrays["b"]), link=link, scale=scale)
    return Bilevel(upper, lower)


# ---- cvxpy ground truth (NumPy side, per trial) ---------------------------------------------
def solve_constrained_qp(P, q, *, lo=None, hi=None, simplex: bool = False, extra=None):
    """argmin_y 1/2 y^T P y + q^T y over a box [lo, hi] and/or the probability simplex (one trial,
    NumPy).  ``extra(y)`` may add cvxpy constraints.  Returns (y, value, status); y is NaN unless
    the solver reports an optimal solution.  Clarabel at tight tolerances (falls back to SCS)."""
    import warnings

    import cvxpy as cp

    P = np.asarray(P, dtype=float)
    P = 0.5 * (P + P.T)
    n = P.shape[0]
    y = cp.Variable(n)
    cons = []
    if lo is not None:
        cons.append(y >= np.broadcast_to(np.asarray(lo, dtype=float), (n,)))
    if hi is not None:
        cons.append(y <= np.broadcast_to(np.asarray(hi, dtype=float), (n,)))
    if simplex:
        cons += [y >= 0, cp.sum(y) == 1]
    if extra is not None:
        cons += extra(y)
    problem = cp.Problem(cp.Minimize(0.5 * cp.quad_form(y, cp.psd_wrap(P)) + np.asarray(q, dtype=float) @ y), cons)
    solver = "CLARABEL" if "CLARABEL" in cp.installed_solvers() else "SCS"
    kwargs = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12} if solver == "CLARABEL" else {"eps": 1e-10}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        problem.solve(solver=solver, **kwargs)
    ok = problem.status in ("optimal", "optimal_inaccurate") and y.value is not None
    sol = np.asarray(y.value, dtype=float) if ok else np.full(n, np.nan)
    return sol, (float(problem.value) if ok else np.nan), problem.status


def box_lower_solution(Q, B, mu: float, x, lo, hi) -> np.ndarray:
    """y*(x) = argmin_{lo <= y <= hi} g(x, y) for every trial (NumPy arrays: Q (R, dy, dy),
    B (R, dx, dy), x (R, dx)); returns (R, dy), NaN rows where the solver failed."""
    Q, B, x = (np.asarray(a, dtype=float) for a in (Q, B, x))
    lo_arr, hi_arr = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if np.any(lo_arr > hi_arr):
        raise ValueError("box needs lo <= hi in every coordinate (a non-empty box)")
    eye = np.eye(Q.shape[-1])
    return np.stack([solve_constrained_qp(Q[r] + mu * eye, -(B[r].T @ x[r]), lo=lo, hi=hi)[0]
                     for r in range(Q.shape[0])])
