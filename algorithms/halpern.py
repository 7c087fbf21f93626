"""Deterministic fixed-point and extragradient-type methods for monotone inclusions.

Every method records through :class:`algorithms.recording.Recorder`: it takes the iteration
indices to record (``record``) and a ``measure(x) -> {name: (R,) array}`` evaluated on the device
at those steps (residuals, distances: never charged to the oracle), and returns one
:class:`~algorithms.recording.Recording`.  Oracle calls are charged by the operator
(problems.monotone.FiniteSumOperator): one full evaluation of F = (1/n) sum F_i costs n component
calls.  ``max_calls`` stops a run once every trial has spent that many calls; the test reads the
host-side counts, so the loop never waits on the device.
"""
from __future__ import annotations

from .recording import Recorder


def halpern_anchor(k: int) -> float:
    """Halpern's anchor weight lambda_k = 1/(k+2) (step k = 0, 1, ...)."""
    return 1.0 / (k + 2)


def observe(rec: Recorder, t: int, x, op, measure, iters: int, max_calls) -> bool:
    """Record step t when due (and always the last step); True when the run must stop."""
    done = t >= iters or (max_calls is not None and op.calls.min() >= max_calls)
    if rec.due(t) or (done and (not rec.iterations or rec.iterations[-1] != t)):
        rec.record(t, op.spent, **measure(x))
    return done


def forward_backward_map(op, step: float):
    """T(x) = J_G(x - step F(x)): nonexpansive when F is (1/L)-cocoercive and step <= 2/L.
    Each application charges one full evaluation (n component calls)."""

    def T(x):
        return op.resolvent(x - step * op.full(x))

    return T


def halpern(op, x0, step: float, iters: int, *, record, measure, anchored: bool = True,
            anchor=halpern_anchor, max_calls=None):
    """Classical Halpern iteration x_{k+1} = lambda_k x0 + (1 - lambda_k) T(x_k), lambda_k = 1/(k+2),
    on the forward-backward map T = J_G(I - step F).

    Problem class: T nonexpansive with a fixed point x*.  Guarantee (Lieder 2021, recalled by
    Cai, Alacaoglu & Diakonikolas, ICLR 2024, Section 2): ||x_N - T x_N|| <= 2 ||x0 - x*|| / (N+1)
    for every N, and this is tight.  ``anchored=False`` gives the plain (Picard) iteration
    x_{k+1} = T(x_k), which need not converge for a merely nonexpansive T (a rotation).
    """
    T = forward_backward_map(op, step)
    rec = Recorder(record, iters)
    x = x0
    if not observe(rec, 0, x, op, measure, iters, max_calls):
        for k in range(iters):
            lam = anchor(k) if anchored else 0.0
            x = lam * x0 + (1.0 - lam) * T(x)
            if observe(rec, k + 1, x, op, measure, iters, max_calls):
                break
    return rec.result(x=x)


def extragradient(op, x0, step: float, iters: int, *, record, measure, max_calls=None):
    """Extragradient (Korpelevich): xbar = J_G(x - s F(x)), x+ = J_G(x - s F(xbar)).

    Problem class: F monotone and L_F-Lipschitz, step < 1/L_F.  Two full evaluations per
    iteration (2n calls).  Deterministic baseline; last-iterate residual O(1/sqrt(k)) in the
    worst case (Gorbunov, Loizou & Gidel 2022).
    """
    rec = Recorder(record, iters)
    x = x0
    if not observe(rec, 0, x, op, measure, iters, max_calls):
        for k in range(iters):
            xbar = op.resolvent(x - step * op.full(x))
            x = op.resolvent(x - step * op.full(xbar))
            if observe(rec, k + 1, x, op, measure, iters, max_calls):
                break
    return rec.result(x=x)


def extra_anchored_gradient(op, x0, step: float, iters: int, *, record, measure, max_calls=None):
    """Extra-anchored gradient EAG-C (Yoon & Ryu, ICML 2021) with anchor 1/(k+2):

        xbar = J_G(x + (x0 - x)/(k+2) - s F(x)),   x+ = J_G(x + (x0 - x)/(k+2) - s F(xbar)).

    Problem class: F monotone, L_F-Lipschitz, unconstrained (G = 0), step = 1/(8 L_F); the
    residual ||F(x_k)|| is O(L_F ||x0 - x*|| / k), i.e. O(n L / eps) component calls.  With a
    constraint the projections are applied as written (a heuristic extension, not analyzed).
    """
    rec = Recorder(record, iters)
    x = x0
    if not observe(rec, 0, x, op, measure, iters, max_calls):
        for k in range(iters):
            anchor = x + (x0 - x) / (k + 2)
            xbar = op.resolvent(anchor - step * op.full(x))
            x = op.resolvent(anchor - step * op.full(xbar))
            if observe(rec, k + 1, x, op, measure, iters, max_calls):
                break
    return rec.result(x=x)
