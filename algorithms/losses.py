"""Per-sample output losses l(f, y) of the small networks, with their first two derivatives in f.

Each loss maps network outputs F (..., n, k) and targets to per-sample values (..., n); ``grad``
is dl/df (..., n, k) and ``hess_vec`` applies the Hessian d^2 l/df^2 (a k x k matrix per sample)
to a direction V (..., n, k).  The network averages over the n samples (see algorithms.networks).
These are the pieces of the Gauss-Newton split of the parameter Hessian (Sagun et al.):
    H = (1/n) sum_i J_i^T l''(f_i) J_i  +  (1/n) sum_i sum_c l'(f_i)_c  Hess f_ic.

Targets: ``mse`` and ``cross_entropy`` take (..., n, k) float arrays (one-hot for classes);
``logistic`` takes labels +-1 shaped (..., n) and a single output (k = 1).
All functions are array-API generic and keep the dtype of F.
"""
from __future__ import annotations

from array_api_compat import array_namespace


def softmax_with_sum(F):
    """Softmax the ordinary stable way: shift by the row max, exponentiate, sum, divide.

    Returns (probabilities (..., n, k), sum of shifted exponentials S (..., n)).  S >= 1 always;
    S rounding to exactly 1 is the floating-point absorption studied by softmax-collapse
    (Prieto et al. 2025): then p = 1 at the top class and the cross-entropy gradient is exactly 0.
    """
    xp = array_namespace(F)
    shifted = F - xp.max(F, axis=-1, keepdims=True)
    exps = xp.exp(shifted)
    S = xp.sum(exps, axis=-1)
    return exps / xp.expand_dims(S, axis=-1), S


def _sigmoid_pair(z):
    """(sigma(z), sigma(-z)) without overflow: both written through exp(-|z|) <= 1."""
    xp = array_namespace(z)
    e = xp.exp(-xp.abs(z))
    inv = 1.0 / (1.0 + e)
    positive = z >= 0
    return xp.where(positive, inv, e * inv), xp.where(positive, e * inv, inv)


class MeanSquaredError:
    """l(f, y) = ||f - y||^2 / 2;  l' = f - y;  l'' = identity."""

    name = "mse"

    @staticmethod
    def value(F, Y):
        xp = array_namespace(F, Y)
        return 0.5 * xp.sum((F - Y) ** 2, axis=-1)

    @staticmethod
    def grad(F, Y):
        return F - Y

    @staticmethod
    def hess_vec(F, Y, V):
        return V


class CrossEntropy:
    """Softmax cross-entropy l(f, y) = s log sum_j exp(f_j) - sum_j y_j f_j with s = sum_j y_j
    (s = 1 for one-hot or probability targets);  l' = s p - y;  l'' = s (diag p - p p^T)."""

    name = "cross_entropy"

    @staticmethod
    def value(F, Y):
        xp = array_namespace(F, Y)
        shifted = F - xp.max(F, axis=-1, keepdims=True)
        S = xp.sum(xp.exp(shifted), axis=-1)
        # log S is computed from the same S as the softmax, so collapse (S == 1) shows in the loss
        return xp.sum(Y, axis=-1) * xp.log(S) - xp.sum(Y * shifted, axis=-1)

    @staticmethod
    def grad(F, Y):
        xp = array_namespace(F, Y)
        p, _ = softmax_with_sum(F)
        return p * xp.sum(Y, axis=-1, keepdims=True) - Y

    @staticmethod
    def hess_vec(F, Y, V):
        xp = array_namespace(F, Y, V)
        p, _ = softmax_with_sum(F)
        pV = p * V
        s = xp.sum(Y, axis=-1, keepdims=True)
        return s * (pV - p * xp.sum(pV, axis=-1, keepdims=True))


class Logistic:
    """Binary logistic loss on one output, labels y = +-1:  l = log(1 + exp(-y f)),
    l' = -y sigma(-y f),  l'' = y^2 sigma(y f) sigma(-y f).  Written as
    max(-z, 0) + log1p(exp(-|z|)) (z = y f), which neither overflows nor loses small losses."""

    name = "logistic"

    @staticmethod
    def value(F, Y):
        xp = array_namespace(F, Y)
        z = F[..., 0] * Y
        return xp.maximum(-z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))

    @staticmethod
    def grad(F, Y):
        xp = array_namespace(F, Y)
        y = xp.expand_dims(Y, axis=-1)
        _, sig_neg = _sigmoid_pair(y * F)
        return -y * sig_neg

    @staticmethod
    def hess_vec(F, Y, V):
        xp = array_namespace(F, Y, V)
        y = xp.expand_dims(Y, axis=-1)
        sig_pos, sig_neg = _sigmoid_pair(y * F)
        return (y * y) * sig_pos * sig_neg * V


LOSSES = {cls.name: cls for cls in (MeanSquaredError, CrossEntropy, Logistic)}


def get_loss(name: str):
    """The loss class for a name in LOSSES (a clear error otherwise)."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}: valid losses are {', '.join(LOSSES)}") from None
