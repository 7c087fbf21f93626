"""StableMax cross-entropy, the perpendicular gradient (⊥Grad) and the Softmax-Collapse measures
of Prieto, Barsbey, Mediano & Birdal, "Grokking at the edge of numerical stability" (ICLR 2025).

- StableMax (their Sec. 4, eq. for s): s(x) = x + 1 for x >= 0 and 1/(1 - x) for x < 0;
  StableMax(x)_i = s(x_i) / sum_j s(x_j); the loss is its cross-entropy.  Their code evaluates it
  in float64 and adds 1e-30 inside 1/(1 - x); here it is evaluated in the dtype of the logits
  (the point of StableMax is that its sum does not absorb: s decays polynomially, not
  exponentially) and the 1e-30 is irrelevant because 1 - x >= 1 on that branch.
- ⊥Grad (their Sec. 5, "perpendicular gradient"): for each parameter tensor w with gradient g,
  g_perp = g - (w.g / w.w) w, rescaled to the norm of g: g_perp * ||g|| / ||g_perp||.  Checked
  against the official OrthoGrad wrapper (per tensor, flattened; 1e-30 added to both
  denominators, kept here).
- Softmax Collapse (SC, their Sec. 3): a sample is in SC when the floating-point sum
  S = sum_j exp(z_j - max z) equals exactly 1, so its softmax is exactly one-hot and the
  correct-class gradient p_c - 1 is exactly 0.  Their logger reports mean(S == 1) over training
  samples; :func:`dead_gradient_fraction` reports the fraction whose correct-class loss gradient
  is exactly 0, which is the same event for softmax and the analogous one for StableMax.
- NLM direction (their Sec. 5): scaling the logits up (the weights along themselves) lowers the
  loss of a network that classifies its training set; :func:`nlm_cosine` is cos(-grad, theta).

The network helpers reuse algorithms.networks' forward/backward with a loss object (so StableMax
needs no entry in algorithms.losses).  Everything is array-API generic and batched over trials.
"""
from __future__ import annotations

from array_api_compat import array_namespace

from algorithms import networks
from algorithms.losses import CrossEntropy, softmax_with_sum

TINY = 1e-30   # the official code's guard in both ⊥Grad denominators


# ---- StableMax --------------------------------------------------------------------------------
def stablemax_s(x):
    """s(x) = x + 1 (x >= 0), 1 / (1 - x) (x < 0); both branches are evaluated safely."""
    xp = array_namespace(x)
    return xp.where(x >= 0, x + 1.0, 1.0 / (1.0 - xp.minimum(x, 0.0)))


def stablemax_s_d1(x):
    """s'(x) = 1 (x >= 0), 1 / (1 - x)^2 (x < 0)."""
    xp = array_namespace(x)
    r = 1.0 / (1.0 - xp.minimum(x, 0.0))
    return xp.where(x >= 0, xp.ones_like(x), r * r)


def stablemax_s_d2(x):
    """s''(x) = 0 (x >= 0), 2 / (1 - x)^3 (x < 0)."""
    xp = array_namespace(x)
    r = 1.0 / (1.0 - xp.minimum(x, 0.0))
    return xp.where(x >= 0, xp.zeros_like(x), 2.0 * r * r * r)


def stablemax(F):
    """StableMax probabilities s(F_i) / sum_j s(F_j) along the last axis."""
    xp = array_namespace(F)
    s = stablemax_s(F)
    return s / xp.sum(s, axis=-1, keepdims=True)


class StableMaxCrossEntropy:
    """l(f, y) = m log S - sum_j y_j log s(f_j), S = sum_j s(f_j), m = sum_j y_j (1 for one-hot),
    with the interface of algorithms.losses (value, grad dl/df, hess_vec d^2l/df^2 V):
        l'_j = s'_j (m / S - y_j / s_j),
        l''V = m (s'' V / S - s' (s'.V) / S^2) - y (s''/s - s'^2/s^2) V."""

    name = "stablemax"

    @staticmethod
    def value(F, Y):
        xp = array_namespace(F, Y)
        s = stablemax_s(F)
        return xp.sum(Y, axis=-1) * xp.log(xp.sum(s, axis=-1)) - xp.sum(Y * xp.log(s), axis=-1)

    @staticmethod
    def grad(F, Y):
        xp = array_namespace(F, Y)
        s, d1 = stablemax_s(F), stablemax_s_d1(F)
        S = xp.sum(s, axis=-1, keepdims=True)
        return d1 * (xp.sum(Y, axis=-1, keepdims=True) / S - Y / s)

    @staticmethod
    def hess_vec(F, Y, V):
        xp = array_namespace(F, Y, V)
        s, d1, d2 = stablemax_s(F), stablemax_s_d1(F), stablemax_s_d2(F)
        S = xp.sum(s, axis=-1, keepdims=True)
        m = xp.sum(Y, axis=-1, keepdims=True)
        log_part = m * (d2 * V / S - d1 * xp.sum(d1 * V, axis=-1, keepdims=True) / (S * S))
        return log_part - Y * (d2 / s - (d1 * d1) / (s * s)) * V


LOSSES = {"softmax": CrossEntropy, "stablemax": StableMaxCrossEntropy}


def get_loss(name: str):
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}: valid losses are {', '.join(LOSSES)}") from None


# ---- the network's objective with a loss object ---------------------------------------------------
def loss_and_gradient(arch, theta, X, Y, loss):
    """(mean loss (R,), gradient (R, P)) of ``arch`` under the loss object ``loss`` (the
    backpropagation of algorithms.networks with dl/df from ``loss.grad``)."""
    xp = array_namespace(theta, X, Y)
    views, F, inputs, pre = networks._forward(arch, theta, X)
    delta = loss.grad(F, Y) / F.shape[-2]
    return xp.mean(loss.value(F, Y), axis=-1), networks._backward(arch, views, inputs, pre, delta)


def gradient(arch, theta, X, Y, loss):
    """The gradient (R, P) alone: :func:`loss_and_gradient` without evaluating the loss (the
    training step needs only this; the logs take ~15% of a step otherwise)."""
    views, F, inputs, pre = networks._forward(arch, theta, X)
    return networks._backward(arch, views, inputs, pre, loss.grad(F, Y) / F.shape[-2])


# ---- ⊥Grad ----------------------------------------------------------------------------------------
def tensor_slices(arch) -> list[slice]:
    """The slices of the flat parameter vector that are separate tensors (weights, biases)."""
    return [s for lay in arch.layers for s in (lay.weight, lay.bias) if s is not None]


def project_out(g, w, *, rescale: bool = True):
    """Per trial: g - (w.g / (w.w + TINY)) w, rescaled to ||g|| when ``rescale`` (g, w: (R, m))."""
    xp = array_namespace(g, w)
    coef = xp.sum(w * g, axis=-1, keepdims=True) / (xp.sum(w * w, axis=-1, keepdims=True) + TINY)
    g_perp = g - coef * w
    if not rescale:
        return g_perp
    norm_g = xp.sqrt(xp.sum(g * g, axis=-1, keepdims=True))
    norm_perp = xp.sqrt(xp.sum(g_perp * g_perp, axis=-1, keepdims=True)) + TINY
    return g_perp * (norm_g / norm_perp)


def perpendicular_gradient(arch, *, directions=None, rescale: bool = True):
    """The ⊥Grad hook ``transform(params, grad) -> grad`` for algorithms.training.

    Per parameter tensor, the component of the gradient along the weights is removed and the
    result rescaled to the gradient's norm (Prieto et al. 2025, Sec. 5).  ``directions`` (R, P)
    replaces the weights by fixed directions (the random-direction control)."""
    slices = tensor_slices(arch)

    def transform(params, grad):
        xp = array_namespace(params, grad)
        ref = params if directions is None else directions
        return xp.concat([project_out(grad[:, s], ref[:, s], rescale=rescale) for s in slices], axis=-1)

    return transform


# ---- measurements ---------------------------------------------------------------------------------
def softmax_collapse_fraction(F):
    """Fraction of samples (R,) whose float sum of exp(z_j - max z) is exactly 1 (their logger)."""
    xp = array_namespace(F)
    _, S = softmax_with_sum(F)
    return xp.mean(xp.astype(S == 1.0, F.dtype), axis=-1)


def dead_gradient_fraction(F, Y, loss):
    """Fraction of samples (R,) whose correct-class loss gradient is exactly 0 in floating point
    (softmax: S == 1, i.e. Softmax Collapse; StableMax: S == s(f_c))."""
    xp = array_namespace(F, Y)
    g_correct = xp.sum(loss.grad(F, Y) * Y, axis=-1)
    return xp.mean(xp.astype(g_correct == 0.0, F.dtype), axis=-1)


def top2_gap(F):
    """Per sample (R, n): the largest logit minus the second largest."""
    xp = array_namespace(F)
    top = xp.max(F, axis=-1, keepdims=True)
    is_top = F == top
    # a tie at the top leaves the gap 0: mask only the first maximal entry
    first = xp.cumulative_sum(xp.astype(is_top, xp.int32), axis=-1) == 1
    masked = xp.where(is_top & first, xp.full_like(F, -xp.inf), F)
    return top[..., 0] - xp.max(masked, axis=-1)


def nlm_cosine(params, grad):
    """cos(-grad, params) per trial (R,): 1 when the gradient only scales the weights up."""
    xp = array_namespace(params, grad)
    num = -xp.sum(params * grad, axis=-1)
    den = xp.sqrt(xp.sum(params * params, axis=-1) * xp.sum(grad * grad, axis=-1))
    return num / den
