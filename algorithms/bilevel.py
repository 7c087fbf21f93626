"""Stochastic bilevel methods for min_x Phi(x) = f(x, y*(x)), y*(x) = argmin_y g(x, y), g strongly
convex in y: BO-REP (Hao, Gong & Liu, ICLR 2024) and the baselines it is compared with (SOBA,
an AID method in the StocBiO style, TTSA).

Every method takes counting oracles (problems.bilevel_oracles.StochasticOracles), iterates
x (R, dx), y (R, dy) with the trials along the leading axis, the iteration indices to ``record``,
and ``measure(x, y, z) -> {name: (R,) array}``, evaluated only at recorded steps.  It returns a
Recording whose ``calls`` are the total oracle calls per trial and whose metrics add the calls by
kind (``calls_upper_grad``, ``calls_lower_grad``, ``calls_hvp``, ``calls_jvp``).  Iteration t is
recorded before the t-th x-update (t = 0: the start, after BO-REP's initialization refinement;
BO-REP records after the periodic lower-level update that opens its step t).
No host synchronization inside the loops; a diverging trial simply carries NaN/Inf.
SGD steps on the lower level ask ``oracles.lower_grad_y`` (grad_y g alone, with the noise stream
and count of a full lower_grad call), so no x-partial is computed only to be dropped.

Step sizes are arguments: the theorems fix them up to constants the experiments choose; the
docstrings give the schedules and where they come from.
"""
from __future__ import annotations

import math

from array_api_compat import array_namespace, device

from algorithms.recording import Recorder, Recording
from problems.bilevel import norm

_TINY = 1e-30


def _maybe_record(rec: Recorder, t: int, oracles, measure, x, y, z) -> None:
    if rec.due(t):
        rec.record(t, oracles.for_record(x), **measure(x, y, z), **oracles.by_kind(x))


def _zeros_like(y, z0):
    xp = array_namespace(y)
    return xp.zeros_like(y) if z0 is None else z0


def _project_ball(z, radius: float):
    """Projection onto {||z|| <= radius} per trial (identity for radius = inf)."""
    if math.isinf(radius):
        return z
    xp = array_namespace(z)
    return z * xp.minimum(1.0, radius / xp.maximum(norm(z), _TINY))[..., None]


def epoch_sgd(oracles, x, y, *, step: float, epochs: int, steps: int):
    """Initialization refinement: epoch-SGD on g(x, .) (Hazan & Kale 2011 style): epoch k runs
    steps * 2^k SGD steps with step / 2^k from the previous epoch's average; returns the last
    epoch's average.  Costs steps * (2^epochs - 1) lower-level gradients."""
    xp = array_namespace(x, y)
    for k in range(epochs):
        avg = xp.zeros_like(y)
        n = steps * 2 ** k
        for _ in range(n):
            y = y - (step / 2 ** k) * oracles.lower_grad_y(x, y)
            avg = avg + y / n
        y = avg
    return y


def bo_rep(oracles, x0, y0, *, iterations: int, record, measure, eta: float, gamma: float,
           nu: float, beta: float = 0.9, period: int = 2, lower_steps: int = 5,
           refine_epochs: int = 3, refine_steps: int = 8, z_radius: float = math.inf,
           z0=None) -> Recording:
    """BO-REP (Hao, Gong & Liu, ICLR 2024, Algorithm 1 as described in the paper and its code).

    Problem class: f (L_{x,0}, L_{x,1}, L_{y,0}, L_{y,1})-smooth (unbounded smoothness, e.g. an
    exp link), g mu-strongly convex and smooth in y, unbiased oracles of bounded variance.
    Algorithm:
        y_0 = epoch-SGD on g(x_0, .)                                     (initialization refinement)
        every ``period`` = I steps (t > 0): ``lower_steps`` = N SGD steps on g(x_t, .) with step
            gamma, warm-started at y_t                                   (periodic updates)
        h_t = grad_x f(x_t, y_t) - d2_xy g(x_t, y_t) z_t                 (hypergradient estimate)
        z_{t+1} = Proj_{||z|| <= z_radius}(z_t - nu (d2_yy g z_t - grad_y f))   (linear system)
        m_{t+1} = beta m_t + (1 - beta) h_t;   x_{t+1} = x_t - eta m_{t+1} / ||m_{t+1}||.
    Theorem (the paper's main convergence theorem; verified from its abstract: the average
    ||grad Phi(x_t)|| <= eps after T = O~(eps^-4) iterations, each with O(1) stochastic gradient or
    HVP calls; I = O(eps^-2) from the reviews).  Not verified in the text (theorem number,
    constants): 1 - beta = O(eps^2) and eta = O(eps^3), the usual normalized-momentum choice
    for T = eps^-4 (Cutkosky & Mehta 2020), N = O~(1), nu constant.  Defaults beta = 0.9 and the
    ranges I = 2-3, N = 3-10, nu = 1e-2 are those of the authors' code.  The hypergradient uses z_t
    (SOBA convention); the code applies the updated z: a second-order difference.
    """
    xp = array_namespace(x0, y0)      # once: the loop below runs on small arrays
    rec = Recorder(record, iterations)
    x = x0
    y = epoch_sgd(oracles, x, y0, step=gamma, epochs=refine_epochs, steps=refine_steps)
    z = _zeros_like(y, z0)
    m = xp.zeros_like(x)
    for t in range(iterations + 1):
        if t > 0 and t % period == 0:
            for _ in range(lower_steps):
                y = y - gamma * oracles.lower_grad_y(x, y)
        _maybe_record(rec, t, oracles, measure, x, y, z)
        if t == rec.last:
            break
        fx, fy = oracles.upper_grad(x, y)
        h = fx - oracles.jvp(x, y, z)
        z = _project_ball(z - nu * (oracles.hvp(x, y, z) - fy), z_radius)
        m = beta * m + (1.0 - beta) * h
        m_norm = xp.sqrt(xp.sum(m * m, axis=-1))          # problems.bilevel.norm, namespace known
        x = x - eta * m / xp.maximum(m_norm, _TINY)[..., None]
    return rec.result(x=x, y=y, z=z)


def soba(oracles, x0, y0, *, iterations: int, record, measure, alpha: float, rho: float,
         alpha_decay: float = 0.0, rho_decay: float = 0.0, z0=None) -> Recording:
    """SOBA (Dagreou, Ablin, Vaiter & Moreau, NeurIPS 2022): one joint, un-normalized step

        y_{t+1} = y_t - rho_t grad_y g,   z_{t+1} = z_t - rho_t (d2_yy g z_t - grad_y f),
        x_{t+1} = x_t - alpha_t (grad_x f - d2_xy g z_t),   all at (x_t, y_t),

    4 oracle calls per step (one of each kind).  Problem class: f Lipschitz-smooth (bounded
    smoothness), g strongly convex.  Their Theorem 1 (stochastic, as we recall it; not re-checked
    in the text): rho_t = rho t^-2/5, alpha_t = alpha t^-3/5 give min_t E||grad Phi||^2 =
    O(log T / T^2/5); ``rho_decay = 0.4, alpha_decay = 0.6`` reproduce that, the defaults (0)
    are the constant-step deterministic variant.  Under unbounded smoothness the un-normalized
    x-step is the one BO-REP argues can blow up.
    """
    rec = Recorder(record, iterations)
    x, y, z = x0, y0, _zeros_like(y0, z0)
    for t in range(iterations + 1):
        _maybe_record(rec, t, oracles, measure, x, y, z)
        if t == rec.last:
            break
        a, r = alpha / (t + 1) ** alpha_decay, rho / (t + 1) ** rho_decay
        gy = oracles.lower_grad_y(x, y)
        fx, fy = oracles.upper_grad(x, y)
        hz, jz = oracles.hvp(x, y, z), oracles.jvp(x, y, z)
        x, y, z = x - a * (fx - jz), y - r * gy, z - r * (hz - fy)
    return rec.result(x=x, y=y, z=z)


def _neumann(oracles, x, y, rhs, steps: int, eta: float):
    """eta sum_{q<steps} (I - eta H)^q rhs ~ H^{-1} rhs with steps - 1 Hessian-vector products."""
    term, acc = rhs, rhs
    for _ in range(steps - 1):
        term = term - eta * oracles.hvp(x, y, term)
        acc = acc + term
    return eta * acc


def _conjugate_gradient(oracles, x, y, rhs, steps: int):
    """``steps`` iterations of CG on H v = rhs from v = 0 (one HVP each), batched; a trial whose
    residual vanished stops moving (no division by zero)."""
    xp = array_namespace(rhs)
    v, r = xp.zeros_like(rhs), rhs
    p, rr = r, xp.sum(r * r, axis=-1)
    for _ in range(steps):
        hp = oracles.hvp(x, y, p)
        php = xp.sum(p * hp, axis=-1)
        ok = php > _TINY
        a = xp.where(ok, rr / xp.where(ok, php, 1.0), 0.0)[..., None]
        v, r = v + a * p, r - a * hp
        rr_new = xp.sum(r * r, axis=-1)
        b = xp.where(rr > _TINY, rr_new / xp.where(rr > _TINY, rr, 1.0), 0.0)[..., None]
        p, rr = r + b * p, rr_new
    return v


def aid(oracles, x0, y0, *, iterations: int, record, measure, alpha: float, gamma: float,
        inner_steps: int, hessian_steps: int, solver: str = "neumann", eta: float = None,
        batch: int = 1) -> Recording:
    """AID hypergradient descent in the StocBiO style (Ji, Yang & Liang, ICML 2021):

        y <- ``inner_steps`` = D SGD steps on g(x_t, .) with step gamma, warm-started;
        v ~ [d2_yy g]^{-1} grad_y f by ``hessian_steps`` = Q terms of a Neumann series with step
        eta (Q - 1 HVPs, StocBiO's estimator) or Q iterations of conjugate gradient (Q HVPs);
        x_{t+1} = x_t - alpha (grad_x f - d2_xy g v)     (mini-batches of ``batch`` for f, HVP, JVP).

    Problem class: f and g Lipschitz-smooth, g strongly convex (condition number kappa).
    StocBiO's Theorem (as we recall it, constants not re-checked): constant alpha, gamma,
    D = O(kappa log kappa), Q = O(kappa log(kappa/eps)), batches O(eps^-1) give an eps-stationary
    point (E||grad Phi||^2 <= eps) with O~(kappa^5 eps^-2) oracle calls.
    """
    solvers = ("neumann", "cg")
    if solver not in solvers:
        raise ValueError(f"unknown solver {solver!r}: valid solvers are {', '.join(solvers)}")
    rec = Recorder(record, iterations)
    x, y = x0, y0
    v = _zeros_like(y0, None)
    for t in range(iterations + 1):
        _maybe_record(rec, t, oracles, measure, x, y, v)
        if t == rec.last:
            break
        for _ in range(inner_steps):
            y = y - gamma * oracles.lower_grad_y(x, y)
        fx, fy = oracles.upper_grad(x, y, batch)
        if solver == "neumann":
            v = _neumann(oracles, x, y, fy, hessian_steps, gamma if eta is None else eta)
        else:
            v = _conjugate_gradient(oracles, x, y, fy, hessian_steps)
        x = x - alpha * (fx - oracles.jvp(x, y, v, batch))
    return rec.result(x=x, y=y, z=v)


def ttsa(oracles, x0, y0, *, iterations: int, record, measure, alpha: float, beta: float,
         lipschitz: float, neumann_terms: int, rngs) -> Recording:
    """TTSA (Hong, Wai, Wang & Yang, SIAM J. Optim. 2023), single loop, two time scales:

        y_{t+1} = y_t - beta grad_y g(x_t, y_t),
        x_{t+1} = x_t - alpha [grad_x f - d2_xy g (K/L) prod_{i<=p} (I - d2_yy g / L) grad_y f]
                  at (x_t, y_{t+1}),  p ~ Uniform{0, ..., K - 1} per trial and step

    (the randomized Neumann estimator of Ghadimi & Wang 2018; K = ``neumann_terms``, L =
    ``lipschitz`` of grad_y g; unbiased for (1/L) sum_{p<K} (I - H/L)^p).  A trial pays p HVPs;
    the R trials run in lockstep with masks.  Problem class: f, g smooth, g strongly convex.
    Their nonconvex theorem (as we recall it): alpha ~ T^-3/5, beta ~ T^-2/5 (constant for a
    horizon T) give min_t E||grad Phi||^2 = O(T^-2/5); pass alpha, beta scaled so.
    """
    xp = array_namespace(x0, y0)
    rec = Recorder(record, iterations)
    depths = [rng.integers(0, neumann_terms, size=iterations + 1) for rng in rngs]
    x, y = x0, y0
    u = xp.zeros_like(y0)
    for t in range(iterations + 1):
        _maybe_record(rec, t, oracles, measure, x, y, u)
        if t == rec.last:
            break
        y = y - beta * oracles.lower_grad_y(x, y)
        fx, fy = oracles.upper_grad(x, y)
        p = [int(d[t]) for d in depths]
        u = fy
        for i in range(1, max(p) + 1):
            active = [pr >= i for pr in p]
            mask = xp.asarray(active, device=device(x))[:, None]
            u = xp.where(mask, u - oracles.hvp(x, y, u, active=active) / lipschitz, u)
        u = (neumann_terms / lipschitz) * u
        x = x - alpha * (fx - oracles.jvp(x, y, u))
    return rec.result(x=x, y=y, z=u)
