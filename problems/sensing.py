"""Linear sensing operators A(X) = [<A_i, X>]_i, batched over trials.

The m sensing matrices of each trial are stored flattened as one (R, m, n1*n2) array, so the
operator and its adjoint are each one batched matmul.  An operator shared by every trial is stored
as (1, m, n1*n2): then the R trials' iterates are stacked as the columns of one matrix and each
application is a single matrix-matrix product (the operator is read once, not R times).
Shared by matrix-sensing and robust-recovery.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, device


def gaussian_sensing(rngs, m: int, n1: int, n2: int | None = None) -> np.ndarray:
    """(R, m, n1*n2) i.i.d. N(0, 1) entries, non-symmetric; one stream per trial (host side)."""
    n2 = n1 if n2 is None else n2
    return np.stack([rng.standard_normal((m, n1 * n2)) for rng in rngs])


def measure(A, X):
    """A(X): (R or 1, m, n1*n2) x (R, n1, n2) -> (R, m)."""
    xp = array_namespace(A, X)
    R, n1, n2 = X.shape
    if A.shape[0] == 1:
        return xp.matmul(xp.reshape(X, (R, n1 * n2)), A[0, ...].mT)
    return xp.matmul(A, xp.reshape(X, (R, n1 * n2, 1)))[..., 0]


def adjoint(A, v, n1: int, n2: int):
    """A*(v) = sum_i v_i A_i: (R or 1, m, n1*n2) x (R, m) -> (R, n1, n2)."""
    xp = array_namespace(A, v)
    R = v.shape[0]
    if A.shape[0] == 1:
        return xp.reshape(xp.matmul(v, A[0, ...]), (R, n1, n2))
    flat = xp.matmul(xp.reshape(v, (R, 1, v.shape[1])), A)[:, 0, :]
    return xp.reshape(flat, (R, n1, n2))


def low_rank_psd(rng, n: int, singular_values) -> np.ndarray:
    """An n x n PSD matrix U diag(s) U^T with orthonormal U (host side)."""
    s = np.asarray(singular_values, dtype=float)
    q, _ = np.linalg.qr(rng.standard_normal((n, s.size)))
    return (q * s) @ q.T


def low_rank(rng, n1: int, n2: int, singular_values) -> np.ndarray:
    """An n1 x n2 matrix U diag(s) V^T with orthonormal U, V (host side)."""
    s = np.asarray(singular_values, dtype=float)
    u, _ = np.linalg.qr(rng.standard_normal((n1, s.size)))
    v, _ = np.linalg.qr(rng.standard_normal((n2, s.size)))
    return (u * s) @ v.T


def measure_many(A, Z):
    """A(Z) for several matrices per trial: (R or 1, m, n1*n2) x (R, G, n1, n2) -> (R, m, G).

    One batched matmul with G right-hand sides: A is read once for all G matrices (e.g. the runs
    of one trial's instance at several initialization scales).  Called once per GD step: the
    namespace is looked up from Z alone and products use ``@`` (the compat wrappers cost more
    than the arithmetic at these sizes).
    """
    R, G, n1, n2 = Z.shape
    return A @ array_namespace(Z).reshape(Z, (R, G, n1 * n2)).mT


def adjoint_many(A, V, n1: int, n2: int):
    """A*(v) for several vectors per trial: (R or 1, m, n1*n2) x (R, m, G) -> (R, G, n1, n2)."""
    R, _, G = V.shape
    return array_namespace(V).reshape(V.mT @ A, (R, G, n1, n2))


# ---- trial blocks sized to the cache ----------------------------------------------------------
# A GD run rereads its trial's m sensing matrices at every step.  With one operator per trial,
# R of them together (R = 32 at the quick matrix-sensing size: 12-25 MB) spill a core's private
# L2 cache and every step streams them from a slower level, so the R-trial lockstep was no
# faster than a loop over trials.  Running the trials in consecutive blocks, each block all its
# iterations in lockstep, keeps one block's operators cached for its whole run.  1.5 MiB is
# three quarters of a 2 MiB per-core L2 (current x86 server cores), leaving room for the
# iterates and BLAS's packing buffers; on the development machine it is the measured optimum of
# both quick-configuration cases (4 symmetric / 2 asymmetric operators per block).
OPERATOR_CACHE_BYTES = 3 * 2**19


def cache_block_trials(A, trials: int, cache_bytes: int = OPERATOR_CACHE_BYTES) -> int:
    """How many trials of a GD run over the operator A (R or 1, m, n1*n2) to run in lockstep.

    All of them when the operator is shared (read once for every trial), when every trial's
    operator fits ``cache_bytes`` together, or when A lives off the CPU (an accelerator has no
    such cache and wants the widest batch); else as many as fit, and at least one.
    """
    if A.shape[0] == 1 or not _on_cpu(A):
        return trials
    xp = array_namespace(A)
    operator_bytes = A.shape[1] * A.shape[2] * (xp.finfo(A.dtype).bits // 8)
    return max(1, min(trials, cache_bytes // operator_bytes))


def _on_cpu(x) -> bool:
    """Whether x lives in host memory (NumPy 'cpu', torch 'cpu', array_api_strict CPU_DEVICE)."""
    return "cpu" in str(device(x)).lower()
