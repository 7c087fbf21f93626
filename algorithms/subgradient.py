"""Factored methods for PSD matrix recovery X = U U^T from linear measurements, batched over trials.

- :func:`subgradient_method` (SubGM): the sub-gradient method on the ℓ1 loss
  f(U) = (1/m) ||y - A(U U^T)||_1 with small initialization U0 = alpha B and a geometrically
  decaying step eta_t = eta0 rho^t (Ma & Fattahi, JMLR 2023, Algorithm 1 and Theorems 2-4: the
  analysis uses an exponentially decaying step; its exact constants are not reproduced here).
- :func:`l2_gradient_descent`: the smooth baseline, gradient descent on
  (1/2m) ||y - A(U U^T)||_2^2 from the same start, constant step.

Both follow algorithms/recording.py: they record the error ||U U^T - X*||_F at the iterations in
``record`` and count oracle calls: one call = one evaluation of the sensing operator A together
with its adjoint (the cost of one (sub)gradient of the measurement loss).

Iterates carry the trials as their leading axis, optionally followed by a group axis G of runs
that share their trial's instance (U (R, G, d, k), e.g. the scales of an alpha sweep): A is then
applied to all G iterates in one matmul (problems.sensing.measure_many / adjoint_many), reading
it once instead of G times.  With one operator per trial, the trials run in blocks whose
operators fit the cache (problems.sensing.cache_block_trials, the blocks of
algorithms.factorized_gd); blocks do not change a number.
"""
from __future__ import annotations

from array_api_compat import array_namespace

from problems.sensing import adjoint, adjoint_many, measure, measure_many

# one trial-block runner for the factored methods (the matrix-sensing GD shares it)
from .trial_blocks import in_trial_blocks
from .recording import Recorder, Recording


def _errors(U, X_star):
    xp = array_namespace(U, X_star)
    diff = xp.matmul(U, U.mT) - X_star
    return xp.sqrt(xp.sum(diff**2, axis=(-2, -1)))


def _symmetrized_gradient(A, y, U, link):
    """(1/m)(G + G^T) U with G = A*(link(A(U U^T) - y)), for U (R, d, k) or (R, G, d, k)."""
    xp = array_namespace(A, y, U)
    d = U.shape[-2]
    if U.ndim == 3:
        residual = measure(A, xp.matmul(U, U.mT)) - y
        G = adjoint(A, link(residual), d, d) / y.shape[-1]
    else:              # the group's G right-hand sides in one product with A
        residual = measure_many(A, xp.matmul(U, U.mT)) - y[..., None]       # (R, m, G)
        G = adjoint_many(A, link(residual), d, d) / y.shape[-1]
    return xp.matmul(G + G.mT, U)


def l1_subgradient(A, y, U):
    """A sub-gradient of f(U) = (1/m)||y - A(U U^T)||_1 at U: (1/m)(G + G^T) U with
    G = A*(sign(A(U U^T) - y)) (sign(0) = 0 picks one element of the sub-differential).
    Shapes: A (R or 1, m, d*d), y (R, m), U (R, d, k) or (R, G, d, k).
    """
    return _symmetrized_gradient(A, y, U, array_namespace(U).sign)


def l2_gradient(A, y, U):
    """The gradient of (1/2m)||y - A(U U^T)||_2^2 at U: (1/m)(G + G^T) U, G = A*(A(U U^T) - y)."""
    return _symmetrized_gradient(A, y, U, lambda residual: residual)


def subgradient_method(A, y, U0, X_star, *, eta0: float, rho: float, iterations: int, record,
                       trials_per_block: int | None = None) -> Recording:
    """SubGM: U_{t+1} = U_t - eta0 rho^t g_t with g_t a sub-gradient of the ℓ1 loss.

    ``U0``: (R, d, k), or (R, G, d, k) for G runs per trial on the trial's data (X_star stays
    (R, d, d)).  ``record``: iteration indices (0 = the start) at which ``error`` =
    ||U U^T - X*||_F, (R,) or (R, G), is stored.  Returns a :class:`Recording` (calls: one
    operator + adjoint evaluation per step and run; ``state["U"]``: the last iterate).
    ``trials_per_block`` overrides the cache-sized trial blocks.
    """
    return _blocked(l1_subgradient, A, y, U0, X_star, eta0, rho, iterations, record, trials_per_block)


def l2_gradient_descent(A, y, U0, X_star, *, eta: float, iterations: int, record,
                        trials_per_block: int | None = None) -> Recording:
    """Gradient descent on the ℓ2 loss with a constant step (the non-robust baseline)."""
    return _blocked(l2_gradient, A, y, U0, X_star, eta, 1.0, iterations, record, trials_per_block)


def _blocked(direction, A, y, U0, X_star, eta0, rho, iterations, record, trials_per_block):
    target = X_star if U0.ndim == 3 else X_star[:, None, ...]    # one X* per trial, for every run
    return in_trial_blocks(_run, A, (y, U0), target, trials_per_block, direction=direction,
                            eta0=eta0, rho=rho, iterations=iterations, record=record)


def _run(A, y, U0, X_star, *, direction, eta0, rho, iterations, record) -> Recording:
    rec = Recorder(record, iterations)
    U, step = U0, float(eta0)
    for t in range(iterations + 1):
        if rec.due(t):
            rec.record(t, t, error=_errors(U, X_star))   # t steps taken = t oracle calls
        if t == iterations:
            break
        U = U - step * direction(A, y, U)
        step *= rho
    return rec.result(U=U)
