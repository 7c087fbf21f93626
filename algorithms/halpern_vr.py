"""Variance-reduced Halpern iterations for finite-sum monotone inclusions 0 in F(u) + G(u),
F = (1/n) sum_i F_i (Cai, Alacaoglu & Diakonikolas, ICLR 2024).

Randomness (mini-batches, coin flips) is drawn on the host from one Generator per trial, many
steps at a time (:class:`TrialDraws`); the iterates carry the trials along their leading axis, so
R trials are one batched pass.  The operator charges component calls per trial (a trial whose
coin asks for a full evaluation pays n, the others pay 2|S| for a mini-batch difference).
Recording follows algorithms/halpern.py: ``record`` indices in, one
:class:`~algorithms.recording.Recording` out.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, device

from .halpern import observe
from .recording import Recorder


class TrialDraws:
    """Per step and trial: ``batch`` component indices in [0, n) and one uniform for a coin.

    Trial r reads its own generator's uniforms in order, ``batch + 1`` per step, drawn ``block``
    steps at a time (one generator call per trial and block instead of two per step), so its
    draws do not depend on the block length or on the other trials.  Index j of a step is
    floor(n u_j); the coin is heads when u_batch < p.  The rows of the sampled components are
    moved to the device once per block.
    """

    def __init__(self, rngs, op, batch: int, block: int | None = None):
        self.rngs, self.op, self.batch = rngs, op, batch
        self.block = block or max(16, 2048 // (batch + 1))
        self.pos = self.block

    def _refill(self):
        u = np.stack([rng.random((self.block, self.batch + 1)) for rng in self.rngs], axis=1)
        idx = np.minimum((u[..., :self.batch] * self.op.n).astype(np.int64), self.op.n - 1)
        rows = idx + (np.arange(len(self.rngs), dtype=np.int64) * self.op.n)[:, None]
        self.rows = self.op.xp.asarray(rows.reshape(self.block, -1), device=device(self.op.M_flat))
        self.coin_u = u[..., self.batch]
        self.least_coins = self.coin_u.min(axis=1).tolist()   # host floats: "any heads?" is one compare
        self.pos = 0

    def next(self):
        """(device rows of the step's sampled components (R * batch,), host coin uniforms (R,),
        the least of those uniforms: no trial's coin is heads at p <= least)."""
        if self.pos == self.block:
            self._refill()
        t = self.pos
        self.pos += 1
        return self.rows[t, ...], self.coin_u[t], self.least_coins[t]


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
    draws = TrialDraws(rngs, op, batch)
    u_prev, u = u0, u0
    est = op.full(u0)
    if observe(rec, 0, u, op, measure, iters, max_calls):
        return rec.result(x=u)
    for k in range(iters):
        if k > 0:
            rows, coin_u, least = draws.next()
            p_k = page_probability(k, n, batch)
            coins = coin_u < p_k
            if coins.all():
                est = op.full(u)
            else:
                Ms, _ = op.gather_mean(rows, batch, with_c=False)
                op.count(np.where(coins, n, minibatch_cost(batch)))
                est = est + (Ms @ (u - u_prev)[..., None])[..., 0]
                if least < p_k:
                    mask = xp.asarray(coins, device=device(u))[:, None]
                    est = xp.where(mask, op.apply(u), est)
        lam = anchor(k) if anchored else 0.0
        u_prev, u = u, op.resolvent(lam * u0 + (1.0 - lam) * u - step * est)
        if observe(rec, k + 1, u, op, measure, iters, max_calls):
            break
    return rec.result(x=u)


def vr_forb_resolvent(op, anchor, start, scale: float, steps: int, draws: TrialDraws, step: float):
    """Approximate J_{scale (F+G)}(anchor) by the variance-reduced forward-reflected-backward
    method (Alacaoglu, Malitsky & Cevher 2021), mini-batch loopless form, on the 1-strongly
    monotone operator B(z) = scale F(z) + z - anchor (plus scale G):

        z_{t+1} = J_{step scale G}(z_t - step [B(w_t) + B_S(z_t) - B_S(w_{t-1})]),
        w_{t+1} = z_{t+1} with probability p = batch/n, else w_t.

    A snapshot refresh costs n calls (full F at the new snapshot), a step 2 |S|.  Warm-started
    at ``start``; ``draws`` (:class:`TrialDraws`) supplies the samples and the refresh coins.
    """
    xp = array_namespace(anchor, start)
    n, batch = op.n, draws.batch
    p = min(1.0, batch / n)
    z = start
    w_prev = w = start
    bw = scale * op.full(w) + w - anchor        # B(w): changes only when the snapshot does
    for _ in range(steps):
        rows, coin_u, least = draws.next()
        Ms, _ = op.gather_mean(rows, batch, with_c=False)
        op.count(minibatch_cost(batch))
        dz = z - w_prev
        z_next = op.resolvent(z - step * (bw + (scale * (Ms @ dz[..., None])[..., 0] + dz)))
        w_prev = w
        if least < p:
            coins = coin_u < p
            mask = xp.asarray(coins, device=device(z))[:, None]
            w = xp.where(mask, z_next, w)
            bw = xp.where(mask, scale * op.apply(w) + w - anchor, bw)
            op.count(np.where(coins, n, 0))
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
    draws = TrialDraws(rngs, op, batch)
    u, v = u0, u0
    if observe(rec, 0, v, op, measure, iters, max_calls):
        return rec.result(x=v)
    for k in range(iters):
        v = vr_forb_resolvent(op, u, v, scale, inner_steps, draws, inner_step)
        lam = 1.0 / (k + 2) if anchored else 0.0
        u = lam * u0 + (1.0 - lam) * v
        if observe(rec, k + 1, v, op, measure, iters, max_calls):
            break
    return rec.result(x=v)
