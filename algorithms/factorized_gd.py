"""Factorized gradient descent for matrix sensing (Xiong, Ding, Du, ICLR 2024), batched over trials.

Problem: recover a rank-r M* from y = A(M*), A(Z)_i = <A_i, Z>, i = 1..m (problems.sensing).
- Symmetric parameterization Z = X X^T, loss f(X) = ||A(X X^T) - y||^2 / (4m),
  gradient sym(A*(r)) X / m with r = A(X X^T) - y (Section 3 of the paper).
- Asymmetric parameterization Z = F G^T, loss f(F, G) = ||A(F G^T) - y||^2 / (2m),
  gradients A*(r) G / m and A*(r)^T F / m (Section 4); both factors step from the same iterate
  (a simultaneous, "Jacobi" update).
With E[A*A / m] = identity these are the population gradients (Z - M*) X etc.

Every iterate carries the trials as its leading axis, optionally followed by a group axis G of
runs that share their trial's instance (iterates (R, G, n, k); e.g. several initialization
scales): A is then applied to all G iterates in one matmul.  One gradient evaluation (one
application of A and one of its adjoint, each a single batched matmul) is one oracle call per
run and is counted.  Both methods record through :class:`algorithms.recording.Recorder`.

With one operator per trial, the trials run in consecutive blocks whose operators fit the cache
(problems.sensing.cache_block_trials), each block all its iterations in lockstep; the block
recordings are joined into one.  Every batched operation treats the trials one by one, so the
numbers are bitwise those of the all-trials lockstep (tests/test_matrix_sensing_blocks.py).
"""
from __future__ import annotations

from array_api_compat import array_namespace

from algorithms.recording import Recorder, Recording
from problems.matrix_sensing import squared_error
from problems.sensing import adjoint_many, measure_many

from .trial_blocks import in_trial_blocks

# The gradients below run once per step on small arrays: they take the namespace from one array
# and multiply with ``@`` / ``.mT`` (both array-API standard), because array_namespace over
# several arrays and the compat wrappers cost more than the arithmetic at the quick sizes.


def _residual_matrix(A, y, Z):
    """A*(A(Z) - y) / m, shaped like Z: (R, n1, n2) or (R, G, n1, n2); y is (R, m)."""
    xp = array_namespace(Z)
    R, n1, n2 = Z.shape[0], Z.shape[-2], Z.shape[-1]
    Zg = xp.reshape(Z, (R, -1, n1, n2))
    residual = measure_many(A, Zg) - y[..., None]                    # (R, m, G)
    return xp.reshape(adjoint_many(A, residual, n1, n2), Z.shape) / A.shape[1]


def symmetric_gradient(A, y, X):
    """Gradient of ||A(X X^T) - y||^2 / (4m) in X: (R, n, k)."""
    S = _residual_matrix(A, y, X @ X.mT)
    return ((S + S.mT) / 2) @ X


def asymmetric_gradient(A, y, F, G):
    """Gradients of ||A(F G^T) - y||^2 / (2m) in F and in G."""
    S = _residual_matrix(A, y, F @ G.mT)
    return S @ G, S.mT @ F


def rebalance(F, G, beta: float):
    """The one-step modification used here: F <- F P, G <- G P^{-T} with P = beta (F^T F)^{-1/2}.

    The product F G^T is unchanged, while every singular value of F becomes beta (F becomes beta
    times a matrix with orthonormal columns).  In the over-parameterized asymmetric case the rate
    of plain GD is governed by the smallest singular value of F (about the initialization scale
    alpha, so exp(-Omega(alpha^2 T))); after this step it is about beta, independent of alpha.

    NOTE: this is the mechanism-consistent candidate from the project's fact sheet, not a
    verified transcription of the paper's eq. (5.1), whose exact formula could not be retrieved.
    """
    xp = array_namespace(F, G)
    w, V = xp.linalg.eigh(xp.matmul(F.mT, F))       # F^T F = V diag(w) V^T, w > 0 for full rank F
    root = xp.expand_dims(xp.sqrt(w), axis=-2)        # scales the columns of V
    inv_sqrt = xp.matmul(V / root, V.mT)
    sqrt = xp.matmul(V * root, V.mT)
    return beta * xp.matmul(F, inv_sqrt), xp.matmul(G, sqrt) / beta


def symmetric_gd(A, y, X0, *, step: float, iterations: int, record, target,
                 trials_per_block: int | None = None) -> Recording:
    """Gradient descent X <- X - step * grad f(X) on the symmetric parameterization X X^T.

    Records ``sq_error`` = ||X_t X_t^T - target||_F^2, shape (R, [G,] T), at the iterations in
    ``record`` (``target`` broadcasts against X X^T, e.g. (R, 1, n, n) for X of shape
    (R, G, n, k)); calls = gradient evaluations per run (one per step); state: the final X.
    The trials run in cache-sized blocks (:func:`in_trial_blocks`; ``trials_per_block``
    overrides the size); the result does not depend on the blocks.
    """
    return in_trial_blocks(_symmetric_gd, A, (y, X0), target, trials_per_block,
                            step=step, iterations=iterations, record=record)


def _symmetric_gd(A, y, X0, target, *, step, iterations, record) -> Recording:
    rec = Recorder(record, iterations)
    X = X0
    for t in range(iterations + 1):
        if rec.due(t):
            rec.record(t, t, sq_error=squared_error(X @ X.mT, target))
        if t < iterations:
            X = X - step * symmetric_gradient(A, y, X)
    return rec.result(X=X)


def asymmetric_gd(A, y, F0, G0, *, step: float, iterations: int, record, target,
                  rebalance_at: int | None = None, beta: float = 0.5,
                  trials_per_block: int | None = None) -> Recording:
    """Gradient descent on (F, G) (asymmetric parameterization F G^T), both factors stepping from
    the same iterate.

    With ``rebalance_at`` = t0, the one-step modification (:func:`rebalance`) replaces the
    iterate once, before the gradient step of iteration t0; it evaluates no gradient, so it costs
    no oracle call.  Records ``sq_error`` (R, [G,] T); state: the final F and G, and
    ``gradient_gram`` = sum over steps of (grad_F^T grad_F - grad_G^T grad_G), (R, [G,] k, k): with
    simultaneous steps the imbalance F^T F - G^T G changes by exactly step^2 times that sum.
    Trials run in cache-sized blocks, as in :func:`symmetric_gd`.
    """
    return in_trial_blocks(_asymmetric_gd, A, (y, F0, G0), target, trials_per_block,
                            step=step, iterations=iterations, record=record,
                            rebalance_at=rebalance_at, beta=beta)


def _asymmetric_gd(A, y, F0, G0, target, *, step, iterations, record, rebalance_at, beta) -> Recording:
    rec = Recorder(record, iterations)
    F, G = F0, G0
    gram = array_namespace(F0).zeros_like(F0.mT @ F0)
    for t in range(iterations + 1):
        if t == rebalance_at:
            F, G = rebalance(F, G, beta)
        if rec.due(t):
            rec.record(t, t, sq_error=squared_error(F @ G.mT, target))
        if t < iterations:
            gF, gG = asymmetric_gradient(A, y, F, G)
            gram = gram + gF.mT @ gF - gG.mT @ gG
            F, G = F - step * gF, G - step * gG
    return rec.result(F=F, G=G, gradient_gram=gram)
