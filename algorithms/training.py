"""First-order training loops for the small networks, batched over trials (leading axis R).

Each optimizer is one function over callables, so it runs on any objective (e.g.
algorithms.network_objective.NetworkObjective): ``grad(params) -> (R, P)`` (full batch) or
``grad(params, idx) -> (R, P)`` with idx (R, batch) device ints (minibatch).  Metrics come from
``measure(params) -> {name: (R,) array}``, evaluated only at the recorded steps; everything is
recorded through algorithms.recording (values stay on the device, the loop never asks the device a
question).  ``transform(params, grad) -> grad`` is applied to every gradient before the update
(e.g. softmax-collapse's perpendicular gradient).  Step 0 is the initial point; step t is after t
updates.  Oracle calls are gradient evaluations (full batch: ``calls_per_step`` each, 1 by
default, pass n to count per-sample gradients) or per-sample gradients (SGD: ``batch`` a step).
"""
from __future__ import annotations

from array_api_compat import array_namespace, device as array_device

from algorithms.recording import Recorder, Recording


def _rate(lr, t: int) -> float:
    """The step size at update t: a float, or a host schedule t -> float."""
    return float(lr(t)) if callable(lr) else float(lr)


def _record(recorder: Recorder, t: int, calls: int, params, measure) -> None:
    recorder.record(t, calls, **(measure(params) if measure is not None else {}))


def gradient_descent(grad, params0, *, lr, steps: int, record, measure=None, transform=None,
                     calls_per_step: int = 1) -> Recording:
    """Full-batch gradient descent  theta_{t+1} = theta_t - lr_t T(theta_t, grad(theta_t)),
    T = ``transform`` (identity by default).  Problem class: smooth empirical risk; with
    lr < 2/L on an L-smooth objective the loss decreases monotonically (descent lemma).
    Returns a Recording with state {"params": final iterate}.
    """
    recorder = Recorder(record, steps)
    params = params0
    for t in range(steps + 1):
        if recorder.due(t):
            _record(recorder, t, t * calls_per_step, params, measure)
        if t < steps:
            g = grad(params)
            if transform is not None:
                g = transform(params, g)
            params = params - _rate(lr, t) * g
    return recorder.result(params=params)


def sample_indices(rngs, n: int, batch: int, steps: int, xp, device=None):
    """Minibatch indices (R, steps, batch), i.i.d. uniform on 0..n-1 (with replacement), drawn
    on the host from one Generator per trial in one call each, then moved to the device once."""
    return xp.stack([xp.asarray(rng.integers(0, n, size=(steps, batch)), device=device)
                     for rng in rngs], axis=0)


def sgd(grad, params0, *, n: int, batch: int, lr, steps: int, record, rngs, measure=None,
        transform=None, block: int = 256) -> Recording:
    """Minibatch stochastic gradient descent  theta_{t+1} = theta_t - lr_t T(theta_t, g_t),
    g_t = grad(theta_t, idx_t) the mean gradient over ``batch`` samples drawn i.i.d. uniformly
    (with replacement, independently per trial from ``rngs``), so E g_t is the full gradient.

    Indices are drawn in blocks of ``block`` steps (one host call per trial and block).  Oracle
    calls: per-sample gradients, ``batch`` per step.  Returns a Recording, state {"params"}.
    """
    xp = array_namespace(params0)
    dev = array_device(params0)
    recorder = Recorder(record, steps)
    params, indices = params0, None
    for t in range(steps + 1):
        if recorder.due(t):
            _record(recorder, t, t * batch, params, measure)
        if t == steps:
            break
        if t % block == 0:
            indices = sample_indices(rngs, n, batch, min(block, steps - t), xp, dev)
        g = grad(params, indices[:, t % block, :])
        if transform is not None:
            g = transform(params, g)
        params = params - _rate(lr, t) * g
    return recorder.result(params=params)


def adam(grad, params0, *, lr, steps: int, record, betas=(0.9, 0.999), eps: float = 1e-8,
         weight_decay: float = 0.0, measure=None, transform=None, calls_per_step: int = 1) -> Recording:
    """Adam (Kingma & Ba 2015) with decoupled weight decay (AdamW, Loshchilov & Hutter 2019):

        g = T(theta, grad(theta)),  m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,
        theta <- theta - lr_t [ (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) + wd theta ].

    ``eps`` is configurable because it matters where gradients underflow (softmax-collapse uses
    eps = 1e-25 in float32).  Full batch; calls_per_step as in gradient_descent.
    Returns a Recording with state {"params", "m", "v"}.
    """
    xp = array_namespace(params0)
    b1, b2 = betas
    recorder = Recorder(record, steps)
    params = params0
    m, v = xp.zeros_like(params0), xp.zeros_like(params0)
    for t in range(steps + 1):
        if recorder.due(t):
            _record(recorder, t, t * calls_per_step, params, measure)
        if t == steps:
            break
        g = grad(params)
        if transform is not None:
            g = transform(params, g)
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * (g * g)
        k = t + 1   # bias corrections are host floats: no device round trip
        step = (m / (1.0 - b1 ** k)) / (xp.sqrt(v / (1.0 - b2 ** k)) + eps)
        if weight_decay:
            step = step + weight_decay * params
        params = params - _rate(lr, t) * step
    return recorder.result(params=params, m=m, v=v)
