"""Low-rank matrix sensing instances (Xiong, Ding, Du, ICLR 2024), batched over trials.

Symmetric setting: M* = U diag(s) U^T (n x n, PSD, rank r), learned as X X^T.
Asymmetric setting: M* = U diag(s) V^T (n1 x n2, rank r), learned as F G^T.
Measurements y_i = <A_i, M*> with i.i.d. N(0, 1), *non-symmetric* sensing matrices A_i: with
symmetrized A_i the antisymmetric part of F G^T would be unobservable.

Host-side builders (NumPy, one rng per trial) create the data; the error and loss below are
array-API generic; the cvxpy ground truth (nuclear-norm minimization subject to A(X) = y, PSD in
the symmetric case) runs per trial on NumPy arrays.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from .sensing import gaussian_sensing, low_rank, low_rank_psd, measure


# ---- instances (host side) ------------------------------------------------------------------
def symmetric_instance(rngs, n: int, m: int, singular_values):
    """(A, M*, y) for R = len(rngs) trials: A (R, m, n*n), M* (R, n, n) PSD, y (R, m)."""
    M = np.stack([low_rank_psd(rng, n, singular_values) for rng in rngs])
    A = gaussian_sensing(rngs, m, n)
    return A, M, measure(A, M)


def asymmetric_instance(rngs, n1: int, n2: int, m: int, singular_values):
    """(A, M*, y) for R trials: A (R, m, n1*n2), M* (R, n1, n2) of rank len(singular_values)."""
    M = np.stack([low_rank(rng, n1, n2, singular_values) for rng in rngs])
    A = gaussian_sensing(rngs, m, n1, n2)
    return A, M, measure(A, M)


def random_factor(rngs, rows: int, k: int, scale: float) -> np.ndarray:
    """(R, rows, k) initial factor with i.i.d. N(0, scale^2 / rows) entries (columns of norm
    about ``scale``): the small random initialization of the paper, scale = alpha."""
    return np.stack([rng.standard_normal((rows, k)) * (scale / np.sqrt(rows)) for rng in rngs])


def recovery_dof(n: int, r: int) -> int:
    """Dimension of the set of n x n PSD matrices of rank r: fewer generic measurements than this
    cannot identify M*, whatever the recovery method."""
    return r * (2 * n - r + 1) // 2


# ---- generic metrics ------------------------------------------------------------------------
def squared_error(Z, M):
    """||Z - M*||_F^2 per trial: (R, n1, n2) x (R, n1, n2) -> (R,)."""
    xp = array_namespace(Z, M)
    D = Z - M
    return xp.sum(D * D, axis=(-2, -1))


def relative_error(Z, M):
    """||Z - M||_F / ||M||_F per trial."""
    xp = array_namespace(Z, M)
    return xp.sqrt(squared_error(Z, M) / xp.sum(M * M, axis=(-2, -1)))


# ---- local curvature at a solution (generic) ------------------------------------------------
def symmetric_curvature(A, X):
    """Eigenvalues (ascending) of the Hessian of ||A(X X^T) - y||^2 / (4m) at a zero-residual X.

    At zero residual the Hessian is the Gauss-Newton matrix J^T J / (2m), J_i = vec((A_i + A_i^T) X).
    A: (R, m, n*n); X: (R, [G,] n, k) -> (R, [G,] n k).  The first k(k-1)/2 eigenvalues are 0
    (the rotations X Q leave X X^T unchanged).
    """
    xp = array_namespace(A, X)
    n, k = X.shape[-2], X.shape[-1]
    R, m = A.shape[0], A.shape[1]
    lead = X.shape[1:-2]
    As = xp.reshape(A, (R,) + (1,) * len(lead) + (m, n, n))
    J = xp.matmul(As + xp.matrix_transpose(As), xp.expand_dims(X, axis=-3))      # (R, [G,] m, n, k)
    J = xp.reshape(J, (R,) + lead + (m, n * k))
    return xp.linalg.eigvalsh(xp.matmul(xp.matrix_transpose(J), J) / (2 * m))


def asymmetric_curvature(A, F, G):
    """Eigenvalues (ascending) of the Hessian of ||A(F G^T) - y||^2 / (2m) at a zero-residual (F, G).

    The Gauss-Newton matrix J^T J / m with J_i = [vec(A_i G), vec(A_i^T F)]; A: (R, m, n1*n2),
    F: (R, [G,] n1, k), G: (R, [G,] n2, k).  The first k^2 eigenvalues are 0 (F Q, G Q^{-T}).
    """
    xp = array_namespace(A, F, G)
    n1, n2, k = F.shape[-2], G.shape[-2], F.shape[-1]
    R, m = A.shape[0], A.shape[1]
    lead = F.shape[1:-2]
    As = xp.reshape(A, (R,) + (1,) * len(lead) + (m, n1, n2))
    JF = xp.matmul(As, xp.expand_dims(G, axis=-3))                                 # (R, [G,] m, n1, k)
    JG = xp.matmul(xp.matrix_transpose(As), xp.expand_dims(F, axis=-3))            # (R, [G,] m, n2, k)
    J = xp.concat([xp.reshape(JF, (R,) + lead + (m, n1 * k)),
                   xp.reshape(JG, (R,) + lead + (m, n2 * k))], axis=-1)
    return xp.linalg.eigvalsh(xp.matmul(xp.matrix_transpose(J), J) / m)


def balanced_factors(M, r: int):
    """(F*, G*) = (U_r S_r^{1/2}, V_r S_r^{1/2}) from the SVD of M* (host side): the balanced
    rank-r solution; for a PSD M*, F* = G* is the symmetric solution X*."""
    U, s, Vt = np.linalg.svd(np.asarray(M, dtype=float))
    root = np.sqrt(s[..., None, :r])
    return U[..., :, :r] * root, np.swapaxes(Vt, -1, -2)[..., :, :r] * root


# ---- cvxpy ground truth (NumPy side, per trial) ---------------------------------------------
def nuclear_norm_recovery(A: np.ndarray, y: np.ndarray, n1: int, n2: int, *, psd: bool):
    """argmin ||X||_* subject to A(X) = y, for one trial (A: (m, n1*n2), y: (m,)).

    With ``psd`` the variable is a symmetric PSD matrix and the nuclear norm is its trace (an SDP).
    Returns (X, info) with info = {"solver", "status"}.  Clarabel (interior point) is used for
    its accuracy: the check compares the solution with M* at relative error 1e-6.  On these
    degenerate SDPs (a low-rank solution) it typically stops at its reduced tolerance, status
    'optimal_inaccurate', with X within ~1e-7 of M*; any other status gives a NaN matrix.
    """
    import warnings

    import cvxpy as cp

    A = np.asarray(A, dtype=float)
    y = np.asarray(y, dtype=float)
    if psd:
        X = cp.Variable((n1, n1), PSD=True)
        objective = cp.trace(X)
    else:
        X = cp.Variable((n1, n2))
        objective = cp.normNuc(X)
    # row-major flattening, as in problems.sensing.measure
    constraints = [A @ cp.reshape(X, (n1 * n2,), order="C") == y]
    problem = cp.Problem(cp.Minimize(objective), constraints)
    solver = "CLARABEL" if "CLARABEL" in cp.installed_solvers() else "SCS"
    kwargs = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10} if solver == "CLARABEL" else {"eps": 1e-10}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # 'inaccurate' is reported in the status
        problem.solve(solver=solver, **kwargs)
    solved = problem.status in ("optimal", "optimal_inaccurate") and X.value is not None
    value = X.value if solved else np.full((n1, n2), np.nan)
    return np.asarray(value), {"solver": solver, "status": problem.status}
