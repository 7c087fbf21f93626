"""Online learners for the SEA model, R rows in lockstep (array-API generic).

Every learner plays x_t, pays the expected loss F_t(x_t) (measured, never shown to it), queries one
stochastic gradient g_t = grad f(x_t, xi_t) (one oracle call per row and round), and updates.
Optimistic learners use the last gradient as the hint, M_t = g_{t-1} (M_1 = 0).

Rows are trials, possibly of several instances run together: a learner's constants (D, G, eta,
lam) are Python floats or (R, 1) arrays, one value per row, and every operation is row-wise, so a
row's iterates do not depend on the other rows.

Recording contract (algorithms/recording.py): ``record`` holds round counts tau (1-based: the
number of rounds played); each learner returns a :class:`Recording` whose metric ``cum_loss``
(R, n) is sum_{s <= tau} F_s(x_s) at those tau, with tau oracle calls per row.

``stream`` is a :class:`problems.sea.SEAStream` (or anything with gradient / expected_losses and
attributes T, R, d, rho, noise).
"""
from __future__ import annotations

import math

from array_api_compat import array_namespace, is_numpy_array

from .recording import Recorder


def project_ball(y, rho: float):
    """Euclidean projection of each row of y (..., d) onto {||x|| <= rho}."""
    xp = array_namespace(y)
    return _project(xp, y, rho)


def _project(xp, y, rho):
    # the loops call this with their namespace: array_namespace costs microseconds per call;
    # rho / max(|y|, rho) is 1 inside the ball (vecdot and maximum: 2 calls where sum, where and
    # full_like took 4 and 5x the time)
    n = xp.sqrt(xp.vecdot(y, y)[..., None])
    return y * (rho / xp.maximum(n, rho))


def _sqnorm(xp, y):
    """|y|^2 of each row, as (..., 1)."""
    return xp.vecdot(y, y)[..., None]


class _Loss:
    """sum_t F_t(x_t) per row, recorded at the rounds of ``record`` (no host sync).

    The played points are kept and their expected losses evaluated BLOCK rounds at a time (one
    vectorized evaluation instead of ~10 array calls per round); the running sum is still added
    up in round order (a cumulative sum starting from the previous total), so it equals the
    round-by-round sum.  Rounds must be paid in order 0, 1, 2, ...
    """

    BLOCK = 128

    def __init__(self, stream, record):
        self.xp = xp = array_namespace(stream.noise)
        self.rec = Recorder(record, stream.T)
        self.total = xp.zeros((1, stream.R), dtype=stream.noise.dtype)
        self._played: list = []
        self._start = 0

    @property
    def rounds(self) -> int:
        return self.rec.last

    def pay(self, stream, x, t: int):
        """Round t (0-based) is played at x: F_t(x) is added (at the latest when the block is
        full or the last round is paid) and recorded when tau = t + 1 is due."""
        self._played.append(x)
        self._stream = stream
        if len(self._played) == self.BLOCK or t + 1 == self.rounds:
            self._flush(stream)

    def _flush(self, stream):
        xp, start, n = self.xp, self._start, len(self._played)
        losses = stream.expected_losses(xp.stack(self._played), start)          # (n, R)
        cum = xp.cumulative_sum(xp.concat([self.total, losses], axis=0), axis=0)  # round order
        for j in range(1, n + 1):
            if self.rec.due(start + j):
                self.rec.record(start + j, start + j, cum_loss=cum[j, :])
        self.total = cum[n:, :]
        self._start, self._played = start + n, []

    def result(self):
        if self._played:   # a learner that stopped before the last recorded round
            self._flush(self._stream)
        return self.rec.result()


def oomd(stream, D: float, G, record, *, delta: float = 1.0, optimistic: bool = True):
    """Optimistic online mirror descent (Euclidean) with the adaptive step for convex losses.

    x_t = P(xh_t - eta_t M_t); xh_{t+1} = P(xh_t - eta_t g_t), M_{t+1} = g_t, with
    eta_t = D / sqrt(delta + 4 G^2 + sum_{s<t} ||g_s - M_s||^2).
    Chen et al. (ICML 2023 / JMLR 2024), Theorem 1: for convex, smooth F_t the expected regret is
    O(sqrt(sigma^2_{1:T}) + sqrt(Sigma^2_{1:T})).  ``optimistic=False`` is plain OMD (M_t = 0, so
    the step adapts to sum ||g_s||^2 instead): the baseline the optimism claim must reject.
    """
    xp = array_namespace(stream.noise)
    R, d, rho = stream.R, stream.d, stream.rho
    xh = xp.zeros((R, d), dtype=stream.noise.dtype)
    hint = xp.zeros_like(xh)
    varsum = xp.zeros((R, 1), dtype=xh.dtype)
    base = delta + 4.0 * G * G   # the round-independent part of eta_t's denominator, once
    loss = _Loss(stream, record)
    for t in range(loss.rounds):
        eta = D / xp.sqrt(base + varsum)
        x = _project(xp, xh - eta * hint, rho)
        loss.pay(stream, x, t)
        g = stream.gradient(x, t)
        xh = _project(xp, xh - eta * g, rho)
        diff = g - hint
        varsum = varsum + _sqnorm(xp, diff)
        if optimistic:
            hint = g
    return loss.result()


def oomd_fixed_step(stream, eta, record):
    """Optimistic OMD (Euclidean) with a constant step eta (a float, or one per row):
    x_t = P(xh_t - eta M_t), xh_{t+1} = P(xh_t - eta g_t), M_t = g_{t-1}.

    Against any comparator sequence u_1..u_T in X with path length P_T = sum ||u_t - u_{t-1}||,
    D_T <= (D^2 + 2 D P_T) / (2 eta) + eta sum_t ||g_t - M_t||^2 (the optimistic OMD dynamic-regret
    lemma; Zhao, Zhang, Zhang, Zhou, JMLR 2024, Lemma 1; Chen et al. bound the expectation of the
    last sum by sigma^2_{1:T} and Sigma^2_{1:T}).  :func:`dynamic_step` balances the two terms.
    """
    xp = array_namespace(stream.noise)
    R, d, rho = stream.R, stream.d, stream.rho
    xh = xp.zeros((R, d), dtype=stream.noise.dtype)
    hint = xp.zeros_like(xh)
    loss = _Loss(stream, record)
    for t in range(loss.rounds):
        x = _project(xp, xh - eta * hint, rho)
        loss.pay(stream, x, t)
        g = stream.gradient(x, t)
        xh = _project(xp, xh - eta * g, rho)
        hint = g
    return loss.result()


def dynamic_step(D: float, path: float, variation: float) -> float:
    """eta = sqrt((D^2 + 2 D P_T) / (2 V)): the constant step minimizing
    (D^2 + 2 D P_T)/(2 eta) + eta V, for a known path length P_T and variation V (P_T = 0 gives
    the static tuning); the bound is then sqrt(2 (D^2 + 2 D P_T) V)."""
    return math.sqrt((D * D + 2.0 * D * path) / (2.0 * variation))


def strongly_convex_step(lam):
    """eta_t = 2 / (lam t) (t = 1, 2, ...): the schedule of Chen et al., Theorem 2."""
    return lambda t: 2.0 / (lam * t)


def inverse_sqrt_step(t: int) -> float:
    """eta_t = 1 / sqrt(t): the convex schedule, wrong for strongly convex losses (a control)."""
    return 1.0 / math.sqrt(t)


def oomd_strongly_convex(stream, lam, record, *, step=None):
    """Optimistic OMD with the strongly convex schedule eta_t = 2 / (lam t) (or ``step(t)``).

    Chen et al. (JMLR 2024), Theorem 2 (lam-strongly convex and smooth): expected regret
    O((sigma^2_max + Sigma^2_max)/lam * log((sigma^2_{1:T} + Sigma^2_{1:T}) / (sigma^2_max + Sigma^2_max))).
    """
    xp = array_namespace(stream.noise)
    R, d, rho = stream.R, stream.d, stream.rho
    step = step or strongly_convex_step(lam)
    xh = xp.zeros((R, d), dtype=stream.noise.dtype)
    hint = xp.zeros_like(xh)
    loss = _Loss(stream, record)
    for t in range(loss.rounds):
        eta = step(t + 1)
        x = _project(xp, xh - eta * hint, rho)
        loss.pay(stream, x, t)
        g = stream.gradient(x, t)
        xh = _project(xp, xh - eta * g, rho)
        hint = g
    return loss.result()


def ogd(stream, D: float, G, record):
    """Online gradient descent, x_{t+1} = P(x_t - eta_t g_t) with eta_t = D / (G sqrt(t)):
    the non-optimistic baseline, O(D G sqrt(T)) whatever sigma and Sigma are (Zinkevich, 2003)."""
    xp = array_namespace(stream.noise)
    x = xp.zeros((stream.R, stream.d), dtype=stream.noise.dtype)
    loss = _Loss(stream, record)
    for t in range(loss.rounds):
        loss.pay(stream, x, t)
        g = stream.gradient(x, t)
        x = _project(xp, x - (D / (G * math.sqrt(t + 1))) * g, stream.rho)
    return loss.result()


def optimistic_ftrl(stream, D: float, G, record, *, delta: float = 1.0):
    """Optimistic FTRL with a Euclidean regularizer centred at 0 (Sachs et al., 2022):
    x_t = P(-eta_t (sum_{s<t} g_s + M_t)), with the same adaptive eta_t as :func:`oomd` (their
    Theorem gives D(6 sigma_bar + 3 sqrt(2) Sigma_bar) sqrt(T) + lower-order terms)."""
    xp = array_namespace(stream.noise)
    R, d = stream.R, stream.d
    gsum = xp.zeros((R, d), dtype=stream.noise.dtype)
    hint = xp.zeros_like(gsum)
    varsum = xp.zeros((R, 1), dtype=gsum.dtype)
    base = delta + 4.0 * G * G
    loss = _Loss(stream, record)
    for t in range(loss.rounds):
        eta = D / xp.sqrt(base + varsum)
        x = _project(xp, -eta * (gsum + hint), stream.rho)
        loss.pay(stream, x, t)
        g = stream.gradient(x, t)
        gsum = gsum + g
        diff = g - hint
        varsum = varsum + _sqnorm(xp, diff)
        hint = g
    return loss.result()


def ons_step_constant(alpha: float, D: float, G: float) -> float:
    """gamma = min(1/(4 G D), alpha) / 2, the online Newton step constant (Hazan et al., 2007)."""
    return 0.5 * min(1.0 / (4.0 * G * D), alpha)


def optimistic_ons(stream, alpha: float, D: float, G: float, record, *, eps: float = 1.0):
    """Optimistic online Newton step for alpha-exp-concave losses.

    x_t = P^{U_t}(xh_t - U_t^{-1} M_t); xh_{t+1} = P^{U_{t+1}}(xh_t - U_{t+1}^{-1} g_t), with
    U_t = eps I + (gamma/2) sum_{s<t} (g_s - M_s)(g_s - M_s)^T (eps > 0 enters only the log) and P^U the
    projection onto X in the U-norm.  Chen et al., Theorem 3 (exp-concave and smooth): expected
    regret O(d log(sigma^2_{1:T} + Sigma^2_{1:T})).  U^{-1} is kept by Sherman-Morrison updates.
    """
    xp = array_namespace(stream.noise)
    R, d, rho = stream.R, stream.d, stream.rho
    gamma = ons_step_constant(alpha, D, G)
    eye = xp.eye(d, dtype=stream.noise.dtype)
    U = xp.zeros((R, d, d), dtype=eye.dtype) + eps * eye
    Uinv = xp.zeros_like(U) + eye / eps
    xh = xp.zeros((R, d), dtype=eye.dtype)
    hint = xp.zeros_like(xh)
    loss = _Loss(stream, record)
    for t in range(loss.rounds):
        x = project_norm_ball(xh - _apply(Uinv, hint, xp), U, rho, xp=xp)
        loss.pay(stream, x, t)
        g = stream.gradient(x, t)
        v = g - hint
        Uv = _apply(Uinv, v, xp)
        denom = 1.0 + 0.5 * gamma * xp.vecdot(v, Uv)
        Uinv = Uinv - (0.5 * gamma) * (Uv[:, :, None] * Uv[:, None, :]) / denom[:, None, None]
        U = U + (0.5 * gamma) * (v[:, :, None] * v[:, None, :])
        xh = project_norm_ball(xh - _apply(Uinv, g, xp), U, rho, xp=xp)
        hint = g
    return loss.result()


def _apply(A, v, xp=None):
    xp = xp or array_namespace(A, v)
    return xp.matmul(A, v[..., None])[..., 0]


def project_norm_ball(y, U, rho: float, *, newton_steps: int = 30, xp=None):
    """argmin_{||x|| <= rho} (x - y)^T U (x - y) for each trial (U symmetric positive definite).

    x(mu) = (U + mu I)^{-1} U y; mu >= 0 solves ||x(mu)|| = rho, found by Newton's method on
    1/||x(mu)|| - 1/rho (monotone from mu = 0, as in trust-region solvers).  Done in the
    eigenbasis of U.  On a device (CuPy, any non-NumPy namespace) it runs for every trial: no
    host-side check of which trials are outside (that would synchronize the device every round);
    a trial already inside solves for a stand-in point outside the ball (finite whatever y is,
    e.g. y = 0) and keeps y.  On NumPy arrays, which live on the host (nothing to synchronize),
    the solve is skipped when every y is already in the ball: the same result, and ~12x less
    CPU time in the exp-concave runs, where ~96% of the calls have every trial inside.  ``xp``:
    the namespace, when the caller has it (looking it up costs more than the check).
    """
    xp = xp or array_namespace(y, U)
    outside = xp.vecdot(y, y) > rho * rho
    if is_numpy_array(outside) and not outside.any():
        return y
    stand_in = xp.full_like(y, 2.0 * rho)          # norm 2 rho sqrt(d) > rho
    lam, Q = xp.linalg.eigh(U)
    z = _apply(Q.mT, xp.where(outside[:, None], y, stand_in))
    lz = lam * z
    mu = xp.zeros_like(lam[:, :1])
    for _ in range(newton_steps):
        w = lz / (lam + mu)
        norm = xp.sqrt(xp.sum(w * w, axis=-1, keepdims=True))
        slope = xp.sum(w * w / (lam + mu), axis=-1, keepdims=True) / norm**3
        mu = mu - (1.0 / norm - 1.0 / rho) / slope
        mu = xp.where(mu > 0.0, mu, xp.zeros_like(mu))
    x = _apply(Q, lz / (lam + mu))
    x = _project(xp, x, rho)   # guard the last round-off
    return xp.where(outside[:, None], x, y)
