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
"""
from __future__ import annotations

from array_api_compat import array_namespace

from problems.sensing import adjoint, measure

from .recording import Recorder, Recording


def _errors(U, X_star):
    xp = array_namespace(U, X_star)
    diff = xp.matmul(U, U.mT) - X_star
    return xp.sqrt(xp.sum(diff**2, axis=(-2, -1)))


def l1_subgradient(A, y, U):
    """A sub-gradient of f(U) = (1/m)||y - A(U U^T)||_1 at U: (1/m)(G + G^T) U with
    G = A*(sign(A(U U^T) - y)) (sign(0) = 0 picks one element of the sub-differential).
    Shapes: A (R, m, d*d), y (R, m), U (R, d, k).
    """
    xp = array_namespace(A, y, U)
    d = U.shape[-2]
    residual = measure(A, xp.matmul(U, U.mT)) - y
    G = adjoint(A, xp.sign(residual), d, d) / y.shape[-1]
    return xp.matmul(G + G.mT, U)


def l2_gradient(A, y, U):
    """The gradient of (1/2m)||y - A(U U^T)||_2^2 at U: (1/m)(G + G^T) U, G = A*(A(U U^T) - y)."""
    xp = array_namespace(A, y, U)
    d = U.shape[-2]
    residual = measure(A, xp.matmul(U, U.mT)) - y
    G = adjoint(A, residual, d, d) / y.shape[-1]
    return xp.matmul(G + G.mT, U)


def subgradient_method(A, y, U0, X_star, *, eta0: float, rho: float, iterations: int, record) -> Recording:
    """SubGM: U_{t+1} = U_t - eta0 rho^t g_t with g_t a sub-gradient of the ℓ1 loss.

    ``record``: iteration indices (0 = the start) at which ``error`` = ||U U^T - X*||_F (R,) is
    stored.  Returns a :class:`Recording` (calls: one operator + adjoint evaluation per step;
    ``state["U"]``: the last iterate).
    """
    return _run(l1_subgradient, A, y, U0, X_star, eta0, rho, iterations, record)


def l2_gradient_descent(A, y, U0, X_star, *, eta: float, iterations: int, record) -> Recording:
    """Gradient descent on the ℓ2 loss with a constant step (the non-robust baseline)."""
    return _run(l2_gradient, A, y, U0, X_star, eta, 1.0, iterations, record)


def _run(direction, A, y, U0, X_star, eta0, rho, iterations, record) -> Recording:
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
