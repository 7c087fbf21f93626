"""Host-side (NumPy) instances of finite-sum monotone problems and their cvxpy ground truth.

Each generator takes one trial's Generator and returns NumPy arrays M (n, D, D), c (n, D) of
the components F_i(u) = M_i u + c_i, scaled so that the average Lipschitz constant
L^2 = lambda_max(mean_i M_i^T M_i) equals 1 for every n (the regime of a complexity claim at
fixed L), plus what the ground truth needs.
"""
from __future__ import annotations

import numpy as np


def average_lipschitz(M: np.ndarray) -> float:
    """sqrt(lambda_max(mean_i M_i^T M_i)): the constant of E||F_i(u)-F_i(v)||^2 <= L^2||u-v||^2."""
    G = np.einsum("nij,nik->jk", M, M) / M.shape[0]
    return float(np.sqrt(np.linalg.eigvalsh(G)[-1]))


def spectral_norm(M: np.ndarray) -> float:
    return float(np.linalg.norm(M, 2))


def least_squares(rng, n: int, d: int, *, noise: float = 0.1, decay: float = 10.0):
    """Components F_i(u) = a_i (a_i^T u - b_i) with unit rows a_i (so each F_i is 1-cocoercive
    and the average cocoercivity/Lipschitz constant is at most 1).

    Rows are normalized anisotropic Gaussians (covariance eigenvalues from 1 down to 1/decay), so
    F = (1/n) A^T A (.) - A^T b / n is well posed for n >= d and its spectrum barely moves with n.
    """
    scales = np.geomspace(1.0, 1.0 / decay, d) ** 0.5
    A = rng.standard_normal((n, d)) * scales
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    x_true = rng.standard_normal(d)
    x_true /= np.linalg.norm(x_true)
    b = A @ x_true + noise * rng.standard_normal(n)
    M = A[:, :, None] * A[:, None, :]
    c = -A * b[:, None]
    return {"M": M, "c": c, "A": A, "b": b, "cocoercive": 1.0}


def bilinear_quadratic(rng, n: int, m: int, *, spread: float = 1.0, curvature: float = 0.05,
                       smallest: float = 0.01):
    """min_x max_y 1/2 x^T Q x + x^T B_i y - 1/2 y^T P y + q_i^T x - r_i^T y, averaged over i.

    F_i(x, y) = (Q x + B_i y + q_i, -B_i^T x + P y + r_i).  B has singular values from 1 down to
    ``smallest`` (ill-conditioned, so linear convergence of extragradient is slow and the 1/k
    regime of the theorems is what one sees); Q, P are small rank-deficient PSD matrices, so F is
    monotone but not cocoercive.  The solution z* is drawn with ||z*|| = 1 and (q, r) set so that
    F(z*) = 0.  The perturbations B_i - B, q_i - q, r_i - r are centered (they sum to zero), so F
    is the same operator for every n.  Scaled to average Lipschitz constant L = 1.
    """
    U, _ = np.linalg.qr(rng.standard_normal((m, m)))
    V, _ = np.linalg.qr(rng.standard_normal((m, m)))
    B = (U * np.geomspace(1.0, smallest, m)) @ V.T

    def psd():
        G = rng.standard_normal((m, m // 2))
        return curvature * G @ G.T / m

    Q, P = psd(), psd()
    Mbar = np.block([[Q, B], [-B.T, P]])
    z_star = rng.standard_normal(2 * m)
    z_star /= np.linalg.norm(z_star)
    cbar = -Mbar @ z_star
    dB = rng.standard_normal((n, m, m)) * spread / np.sqrt(m)
    dc = rng.standard_normal((n, 2 * m)) * spread / np.sqrt(2 * m)
    if n > 1:
        dB -= dB.mean(axis=0)
        dc -= dc.mean(axis=0)
    else:
        dB[:], dc[:] = 0.0, 0.0
    Bi = B + dB
    M = np.zeros((n, 2 * m, 2 * m))
    M[:, :m, :m] = Q
    M[:, :m, m:] = Bi
    M[:, m:, :m] = -np.swapaxes(Bi, 1, 2)
    M[:, m:, m:] = P
    c = cbar + dc
    L = average_lipschitz(M)
    return {"M": M / L, "c": c / L, "solution": z_star}


def policeman_burglar(rng, n: int, m: int, *, theta: float = 0.8, spread: float = 0.3):
    """Finite-sum Policeman-and-Burglar game min_x max_y x^T A y on two simplices (Nemirovski).

    The burglar picks house j (wealth w_j), the policeman patrols house i; the burglar's gain is
    w_j (1 - exp(-theta |i - j|)).  Components A_k = A + centered noise (so the mean game is the
    same for every n); F_k(x, y) = (A_k y, -A_k^T x).  Scaled to average Lipschitz constant 1.
    """
    w = rng.uniform(0.5, 1.0, m)
    idx = np.arange(m)
    A = w[None, :] * (1.0 - np.exp(-theta * np.abs(idx[:, None] - idx[None, :])))
    dA = rng.standard_normal((n, m, m)) * spread / np.sqrt(m)
    if n > 1:
        dA -= dA.mean(axis=0)
    else:
        dA[:] = 0.0
    Ak = A + dA
    M = np.zeros((n, 2 * m, 2 * m))
    M[:, :m, m:] = Ak
    M[:, m:, :m] = -np.swapaxes(Ak, 1, 2)
    L = average_lipschitz(M)
    return {"M": M / L, "c": np.zeros((n, 2 * m)), "A": A / L}


def rotation(rng, angle_range=(0.9 * np.pi, np.pi)) -> np.ndarray:
    """A 2-D rotation (nonexpansive, unique fixed point 0); angles near pi nearly attain
    Halpern's bound (the reflection x -> -x attains it exactly at even N)."""
    a = rng.uniform(*angle_range)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


# ---- ground truth ----------------------------------------------------------------------------
def solve_affine(M: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The zero of the mean affine operator (unconstrained problems): Mbar u = -cbar."""
    return np.linalg.solve(M.mean(axis=0), -c.mean(axis=0))


def solve_box_least_squares(A, b, lo: float, hi: float):
    """argmin_{lo <= x <= hi} ||A x - b||^2 / (2n) with cvxpy; returns (x, solver, status)."""
    import cvxpy as cp

    x = cp.Variable(A.shape[1])
    prob = cp.Problem(cp.Minimize(cp.sum_squares(A @ x - b) / (2 * A.shape[0])), [x >= lo, x <= hi])
    solver = _solve(prob)
    return np.asarray(x.value), solver, prob.status


def solve_matrix_game(A: np.ndarray):
    """Equilibrium (x, y) and value of min_x max_y x^T A y over simplices, by two LPs."""
    import cvxpy as cp

    m1, m2 = A.shape
    x, v = cp.Variable(m1), cp.Variable()
    px = cp.Problem(cp.Minimize(v), [A.T @ x <= v, x >= 0, cp.sum(x) == 1])
    solver = _solve(px)
    y, w = cp.Variable(m2), cp.Variable()
    py = cp.Problem(cp.Maximize(w), [A @ y >= w, y >= 0, cp.sum(y) == 1])
    _solve(py)
    return {"x": np.asarray(x.value), "y": np.asarray(y.value), "value": float(v.value),
            "value_dual": float(w.value), "solver": solver, "status": px.status + "/" + py.status}


def _solve(prob) -> str:
    import cvxpy as cp

    for solver in ("CLARABEL", "ECOS", "SCS"):
        if solver in cp.installed_solvers():
            kw = {"eps": 1e-10} if solver == "SCS" else {}
            prob.solve(solver=solver, **kw)
            if prob.status in ("optimal", "optimal_inaccurate"):
                return solver
    raise RuntimeError(f"cvxpy could not solve the problem (status {prob.status})")
