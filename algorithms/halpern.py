"""Deterministic fixed-point and extragradient-type methods for monotone inclusions.

All methods take a ``monitor(k, point) -> bool`` called after iteration k (k = 0 is the start);
it measures what it wants (without charging the oracle) and returns True to stop early.  Oracle
calls are charged by the operator (problems.monotone.FiniteSumOperator): one full evaluation of
F = (1/n) sum F_i costs n component calls.
"""
from __future__ import annotations


def halpern(T, x0, iters: int, monitor, *, anchored: bool = True):
    """Classical Halpern iteration x_{k+1} = x0/(k+2) + (1 - 1/(k+2)) T(x_k).

    Problem class: T nonexpansive with a fixed point x*.  Guarantee (Lieder 2021, recalled by
    Cai, Alacaoglu & Diakonikolas, ICLR 2024, Section 2): ||x_N - T x_N|| <= 2 ||x0 - x*|| / (N+1)
    for every N, and this is tight.  ``anchored=False`` gives the plain (Picard) iteration
    x_{k+1} = T(x_k), which need not converge for a merely nonexpansive T (a rotation).
    """
    x = x0
    if monitor(0, x):
        return x
    for k in range(iters):
        lam = 1.0 / (k + 2) if anchored else 0.0
        x = lam * x0 + (1.0 - lam) * T(x)
        if monitor(k + 1, x):
            break
    return x


def forward_backward_map(op, step: float):
    """T(x) = J_G(x - step F(x)): nonexpansive when F is (1/L)-cocoercive and step <= 2/L.
    Each application charges one full evaluation (n component calls)."""

    def T(x):
        return op.resolvent(x - step * op.full(x))

    return T


def extragradient(op, x0, step: float, iters: int, monitor):
    """Extragradient (Korpelevich): xbar = J_G(x - s F(x)), x+ = J_G(x - s F(xbar)).

    Problem class: F monotone and L_F-Lipschitz, step < 1/L_F.  Two full evaluations per
    iteration (2n calls).  Deterministic baseline; last-iterate residual O(1/sqrt(k)) in the
    worst case (Gorbunov, Loizou & Gidel 2022).
    """
    x = x0
    if monitor(0, x):
        return x
    for k in range(iters):
        xbar = op.resolvent(x - step * op.full(x))
        x = op.resolvent(x - step * op.full(xbar))
        if monitor(k + 1, x):
            break
    return x


def extra_anchored_gradient(op, x0, step: float, iters: int, monitor):
    """Extra-anchored gradient EAG-C (Yoon & Ryu, ICML 2021) with anchor 1/(k+2):

        xbar = J_G(x + (x0 - x)/(k+2) - s F(x)),   x+ = J_G(x + (x0 - x)/(k+2) - s F(xbar)).

    Problem class: F monotone, L_F-Lipschitz, unconstrained (G = 0), step = 1/(8 L_F); the
    residual ||F(x_k)|| is O(L_F ||x0 - x*|| / k), i.e. O(n L / eps) component calls.  With a
    constraint the projections are applied as written (a heuristic extension, not analyzed).
    """
    x = x0
    if monitor(0, x):
        return x
    for k in range(iters):
        anchor = x + (x0 - x) / (k + 2)
        xbar = op.resolvent(anchor - step * op.full(x))
        x = op.resolvent(anchor - step * op.full(xbar))
        if monitor(k + 1, x):
            break
    return x
