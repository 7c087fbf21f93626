"""The empirical risk of a small network on fixed data, packaged as the callables that the
optimizers (algorithms.training) and the Hessian tools (algorithms.hessian) take, and the
per-trial minibatch selection SGD needs.  Array-API generic."""
from __future__ import annotations

from dataclasses import dataclass

from array_api_compat import array_namespace, device as array_device

from algorithms.networks import Architecture, accuracy, curvature_operator, gradient, logits, loss


def take_samples(A, idx, per_trial: bool):
    """Per-trial rows idx (R, b) of A, shared (n, ...) or ``per_trial`` (R, n, ...): (R, b, ...)."""
    xp = array_namespace(A, idx)
    R, b = idx.shape
    if per_trial:
        n = A.shape[1]
        A = xp.reshape(A, (R * n, *A.shape[2:]))
        idx = idx + xp.reshape(xp.arange(R, dtype=idx.dtype, device=array_device(idx)) * n, (R, 1))
    rows = xp.take(A, xp.reshape(idx, (-1,)), axis=0)
    return xp.reshape(rows, (R, b, *A.shape[1:]))


@dataclass(frozen=True, eq=False)
class NetworkObjective:
    """The empirical risk of ``arch`` on (X, Y) under ``loss``, as the callables the optimizers
    (algorithms.training) and the Hessian tools (algorithms.hessian) take.

    X shared (n, d) or per trial (R, n, d); Y shared or per trial likewise (see algorithms.losses
    for the target shapes).  ``idx`` (R, b) device ints selects a per-trial minibatch.
    """

    arch: Architecture
    X: object
    Y: object
    loss: str = "mse"

    def _data(self, idx):
        if idx is None:
            return self.X, self.Y
        y_rank = 1 if self.loss == "logistic" else 2
        return (take_samples(self.X, idx, self.X.ndim == 3),
                take_samples(self.Y, idx, self.Y.ndim == y_rank + 1))

    @property
    def n_samples(self) -> int:
        return self.X.shape[-2]

    def value(self, theta, idx=None):
        """Mean loss per trial (R,)."""
        return loss(self.arch, theta, *self._data(idx), self.loss)

    def gradient(self, theta, idx=None):
        """Gradient of the mean loss (over the minibatch idx when given): (R, P)."""
        return gradient(self.arch, theta, *self._data(idx), self.loss)

    def hvp(self, theta, part: str = "full"):
        """V -> H(theta) V (or its Gauss-Newton / residual part): the forward pass is shared."""
        return curvature_operator(self.arch, theta, self.X, self.Y, self.loss, part)

    def logits(self, theta, X=None):
        return logits(self.arch, theta, self.X if X is None else X)

    def accuracy(self, theta, X=None, Y=None):
        return accuracy(self.logits(theta, X), self.Y if Y is None else Y)
