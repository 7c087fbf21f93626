"""Full-batch GD on the two-layer ReLU network of Xu, Wang, Frei, Vardi, Hu (ICLR 2024), run
exactly in the span of the training points.

Network: f(x) = sum_j a_j relu(<w_j, x>), second layer fixed, a_j = +1/sqrt(m) for the first
ceil(m/2) neurons and -1/sqrt(m) after (algorithms.networks.fixed_output_weights), no biases;
first layer W (p, m) from N(0, omega^2) (small initialization); logistic loss
L(W) = (1/n) sum_i log(1 + exp(-y_i f(x_i))); GD  W_{t+1} = W_t - alpha grad L(W_t).

The gradient is grad_W L = X^T G / n with G_ij = l'(f(x_i), y_i) a_j 1[<w_j, x_i> > 0], so every
update lies in the row span of X and W_t = W_0 + X^T C_t with C_{t+1} = C_t - alpha G_t / n
exactly.  Inner products with the training and test points then need only the Gram matrices
K = X X^T, K_test = X_test X^T and the initial pre-activations X W_0, X_test W_0:
    <w_j(t), x_i> = (X W_0)_ij + (K C_t)_ij.
One step costs O(n^2 m) instead of O(n p m), which is what makes p = 10^4 affordable; the test
(tests/test_xor_grokking.py) checks it against algorithms.networks + algorithms.training run on
W itself.  The loop is algorithms.training.gradient_descent on the flat coefficients C (R, n m),
trials in lockstep; one oracle call = one full-batch gradient.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from array_api_compat import array_namespace

from algorithms.losses import Logistic
from algorithms.networks import Architecture, fixed_output_weights
from algorithms.training import gradient_descent


@dataclass
class SpanData:
    """Everything GD needs, per trial (leading axis R), on the device.

    ``gram`` K (R, n, n); ``pre0`` X W_0 (R, n, m); ``labels`` y (R, n) (+-1, possibly flipped);
    ``test_gram`` X_test X^T (R, N, n); ``test_pre0`` X_test W_0 (R, N, m); ``test_labels`` (R, N);
    ``plane`` the first two coordinates of the training points (R, n, 2) and ``plane0`` those of
    W_0 (R, 2, m) (for the weights' components along mu1 = r e1, mu2 = r e2); ``sq_norm0``
    ||w_j(0)||^2 (R, m)."""

    gram: Any
    pre0: Any
    labels: Any
    test_gram: Any
    test_pre0: Any
    test_labels: Any
    plane: Any
    plane0: Any
    sq_norm0: Any


def second_layer(m: int, xp, dtype):
    """a (m,): +1/sqrt(m) on the first ceil(m/2) neurons, -1/sqrt(m) after (fixed, not trained)."""
    arch = Architecture(d_in=2, widths=(m,), bias=False, fixed_output=True)
    return xp.reshape(fixed_output_weights(arch, xp, dtype), (m,))


def outputs(pre, a):
    """f = relu(pre) a: (R, N) from pre-activations (R, N, m)."""
    xp = array_namespace(pre, a)
    return xp.matmul(xp.maximum(pre, 0.0), a)


def coefficient_gradient(data: SpanData, a):
    """C (R, n m) -> G / n (R, n m): the gradient of L in W, written in the span coordinates."""
    xp = array_namespace(data.gram)
    R, n, m = data.pre0.shape

    def grad(coef):
        pre = data.gram @ xp.reshape(coef, (R, n, m))
        pre += data.pre0            # X W_0 + K C; in place, as every (R, n, m) pass below
        f = outputs(pre, a)
        dl_df = Logistic.grad(xp.expand_dims(f, axis=-1), data.labels)      # (R, n, 1)
        # dl_df * gate * a / n, bitwise: (l' a) gate = (l' gate) a, signed zeros included
        g = dl_df * a
        g *= xp.astype(pre > 0, pre.dtype)
        g /= n
        return xp.reshape(g, (R, n * m))

    return grad


def measures(data: SpanData, a):
    """coefficients -> metrics (R,) at a recorded step.

    train/test accuracy (sign f vs labels); ``linear_agreement``: the fraction of test points on
    which sign f agrees with the linear classifier x -> sum_i y_i <x_i, x> (the step-1 network in
    the paper's picture); ``plane_alignment``: sum_j |<w_j, mu_k(j)>| / sum_j ||P w_j|| with P the
    projection on span(mu1, mu2) and k(j) = 1 for a_j > 0, 2 for a_j < 0 (1 when every neuron's
    in-plane part points along its class's mean +-mu_k(j); 2/pi for random in-plane directions);
    ``feature_cosine``: the mean over neurons of |cos(w_j, mu_k(j))| (full p-dimensional cosine)."""
    xp = array_namespace(data.gram)
    R, n, m = data.pre0.shape
    linear = xp.matmul(data.test_gram, xp.expand_dims(data.labels, axis=-1))[..., 0]
    own = xp.astype(a > 0, a.dtype)            # 1: class mu1 neuron, 0: class mu2 neuron

    def measure(coef):
        C = xp.reshape(coef, (R, n, m))
        f_train = outputs(data.pre0 + xp.matmul(data.gram, C), a)
        f_test = outputs(data.test_pre0 + xp.matmul(data.test_gram, C), a)
        in_plane = data.plane0 + xp.matmul(xp.matrix_transpose(data.plane), C)      # (R, 2, m)
        along = xp.abs(own * in_plane[:, 0, :] + (1.0 - own) * in_plane[:, 1, :])
        plane_norm = xp.sqrt(xp.sum(in_plane * in_plane, axis=1))
        sq_norm = (data.sq_norm0 + 2.0 * xp.sum(data.pre0 * C, axis=1)
                   + xp.sum(C * xp.matmul(data.gram, C), axis=1))
        return {
            "train_accuracy": _agree(f_train, data.labels),
            "test_accuracy": _agree(f_test, data.test_labels),
            "linear_agreement": _agree(f_test, linear),
            "plane_alignment": xp.sum(along, axis=-1) / xp.sum(plane_norm, axis=-1),
            "feature_cosine": xp.mean(along / xp.sqrt(sq_norm), axis=-1),
        }

    return measure


def train_span_gd(data: SpanData, *, step: float, steps: int, record):
    """GD with step ``step`` for ``steps`` updates from W_0 (C_0 = 0), trials in lockstep;
    returns an algorithms.recording.Recording (metrics of :func:`measures`, one gradient call
    per step) with state {"params": C (R, n m)}."""
    xp = array_namespace(data.gram)
    R, n, m = data.pre0.shape
    a = second_layer(m, xp, data.gram.dtype)
    coef0 = xp.zeros((R, n * m), dtype=data.gram.dtype)
    return gradient_descent(coefficient_gradient(data, a), coef0, lr=step, steps=steps,
                            record=record, measure=measures(data, a))


def _agree(f, targets):
    """Fraction of points with sign f == sign target, per trial (f = 0 counts as a miss)."""
    xp = array_namespace(f, targets)
    return xp.mean(xp.astype(xp.sign(f) == xp.sign(targets), f.dtype), axis=-1)
