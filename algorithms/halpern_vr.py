"""Variance-reduced Halpern iterations for finite-sum monotone inclusions 0 in F(u) + G(u),
F = (1/n) sum_i F_i (Cai, Alacaoglu & Diakonikolas, ICLR 2024).

Randomness (mini-batches, coin flips) is drawn on the host from one Generator per trial; the
iterates carry the trials along their leading axis, so R trials are one batched pass.  The
operator charges component calls per trial (a trial whose coin asks for a full evaluation pays n,
the others pay 2|S| for a mini-batch difference).  Recording follows algorithms/halpern.py:
``record`` indices in, one :class:`~algorithms.recording.Recording` out.
"""
from __future__ import annotations

from array_api_compat import array_namespace

from .halpern import observe
from .recording import Recorder


def _coins(rngs, prob: float):
    return [bool(rng.random() < prob) for rng in rngs]


def _indices(rngs, n: int, size: int):
    return [rng.integers(0, n, size) for rng in rngs]


def minibatch_cost(batch: int) -> int:
    """Component calls of a mini-batch difference F_S(u) - F_S(v): each sampled F_i is evaluated
    at two points."""
    return 2 * batch


def page_anchor(k: int) -> float:
    """Alg. 1's anchor weight lambda_k = 2/(k+4)."""
    return 2.0 / (k + 4)


def page_probability(k: int, n: int, batch: int) -> float:
    """Probability of a full evaluation at step k: 4/(k+4) early (the iterates still move a lot),
    never below PAGE's batch/(n+batch), so that a full pass (n calls) costs on average what the
    mini-batch steps cost in between (about 2 batch ~ sqrt(n) calls per step)."""
    return max(min(1.0, 4.0 / (k + 4)), batch / (n + batch))


def page_halpern(op, u0, step: float, iters: int, batch: int, rngs, *, record, measure,
                 anchored=True, anchor=page_anchor, max_calls=None):
    """Algorithm 1 (cocoercive case): Halpern with the PAGE (loopless SARAH) estimator.

        Ft_k = F(u_k)                                   with probability p_k,
             = Ft_{k-1} + F_S(u_k) - F_S(u_{k-1}),  |S| = batch,   otherwise;
        u_{k+1} = J_{step G}(lam_k u0 + (1 - lam_k) u_k - step Ft_k),   lam_k = 2/(k+4).

    Problem class: the F_i on average (1/L)-cocoercive, step ~ 1/L, batch ~ sqrt(n).  The paper's
    guarantee (Theorem 3.2 there): E||residual|| <= eps after O~(n + sqrt(n) L / eps) calls.
    ``anchored=False`` drops the anchor (lam_k = 0): a plain stochastic forward-backward method.
    """
    xp = array_namespace(u0)
    n = op.n
    rec = Recorder(record, iters)
    u_prev, u = u0, u0
    est = op.full(u0)
    if observe(rec, 0, u, op, measure, iters, max_calls):
        return rec.result(x=u)
    for k in range(iters):
        if k > 0:
            coins = _coins(rngs, page_probability(k, n, batch))
            if all(coins):
                est = op.full(u)
            else:
                Ms, _ = op.batch_mean(_indices(rngs, n, batch))
                full = op.apply(u)
                op.count([n if c else minibatch_cost(batch) for c in coins])
                recursive = est + xp.matmul(Ms, (u - u_prev)[..., None])[..., 0]
                est = xp.where(xp.asarray(coins)[:, None], full, recursive)
        lam = anchor(k) if anchored else 0.0
        u_prev, u = u, op.resolvent(lam * u0 + (1.0 - lam) * u - step * est)
        if observe(rec, k + 1, u, op, measure, iters, max_calls):
            break
    return rec.result(x=u)


def vr_forb_resolvent(op, anchor, start, scale: float, steps: int, batch: int, rngs, step: float):
    """Approximate J_{scale (F+G)}(anchor) by the variance-reduced forward-reflected-backward
    method (Alacaoglu, Malitsky & Cevher 2021), mini-batch loopless form, on the 1-strongly
    monotone operator B(z) = scale F(z) + z - anchor (plus scale G):

        z_{t+1} = J_{step scale G}(z_t - step [B(w_t) + B_S(z_t) - B_S(w_{t-1})]),
        w_{t+1} = z_{t+1} with probability p = batch/n, else w_t.

    A snapshot refresh costs n calls (full F at the new snapshot), a step 2 |S|.  Warm-started
    at ``start``.
    """
    xp = array_namespace(anchor, start)
    n = op.n
    p = min(1.0, batch / n)
    z = start
    w_prev = w = start
    Fw = op.full(w)
    for _ in range(steps):
        Ms, _ = op.batch_mean(_indices(rngs, n, batch))
        op.count(minibatch_cost(batch))
        diff = scale * xp.matmul(Ms, (z - w_prev)[..., None])[..., 0] + (z - w_prev)
        estimate = scale * Fw + w - anchor + diff
        z_next = op.resolvent(z - step * estimate)
        coins = _coins(rngs, p)
        w_prev = w
        if any(coins):
            mask = xp.asarray(coins)[:, None]
            w = xp.where(mask, z_next, w)
            Fw = xp.where(mask, op.apply(w), Fw)
            op.count([n if c else 0 for c in coins])
        z = z_next
    return z


def inexact_halpern(op, u0, scale: float, iters: int, rngs, *, record, measure, inner_steps: int,
                    inner_step: float, batch: int = 1, anchored=True, max_calls=None):
    """Algorithm 2 (monotone Lipschitz case): inexact Halpern on the resolvent,

        v_k ~ J_{scale (F+G)}(u_k)  (``inner_steps`` VR-FoRB steps, warm-started at v_{k-1}),
        u_{k+1} = u0/(k+2) + (1 - 1/(k+2)) v_k.

    With scale = sqrt(n)/L and single-sample inner steps (p = 1/n, step ~ 1/(sqrt(n)(1 + scale L)))
    one resolvent costs O(n) calls per digit of accuracy and O(L/(sqrt(n) eps)) outer steps
    suffice: O~(n + sqrt(n) L / eps) calls in all (Section 4 of the paper).  A fixed inner count
    with warm starts keeps the resolvent errors proportional to the (shrinking) outer moves.
    What is recorded is measured at v_k (the computable output).  ``anchored=False`` drops the
    anchor: an inexact proximal-point method.
    """
    rec = Recorder(record, iters)
    u, v = u0, u0
    if observe(rec, 0, v, op, measure, iters, max_calls):
        return rec.result(x=v)
    for k in range(iters):
        v = vr_forb_resolvent(op, u, v, scale, inner_steps, batch, rngs, inner_step)
        lam = 1.0 / (k + 2) if anchored else 0.0
        u = lam * u0 + (1.0 - lam) * v
        if observe(rec, k + 1, v, op, measure, iters, max_calls):
            break
    return rec.result(x=v)
