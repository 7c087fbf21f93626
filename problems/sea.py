"""Stochastically extended adversarial (SEA) instances with exactly known variances.

The SEA model (Sachs et al., 2022): at round t nature draws f(., xi_t) from a distribution D_t
chosen by an adversary; F_t = E f(., xi_t).  Here, on the ball X = {||x|| <= rho} in R^d,

    f(x, xi_t) = h(x - theta_t) + <xi_t, x>,   xi_t ~ N(0, s_t^2 I / d),

with h one of
    'quadratic'  h(z) = ||z||^2 / 2                     (1-smooth, 1-strongly convex, exp-concave)
    'huber'      h(z) = ||z||^2/2 if ||z|| <= delta else delta ||z|| - delta^2/2
                                                       (1-smooth, convex, not strongly convex)
    'l1'         h(z) = ||z||_1                         (convex, NOT smooth: the negative control)

Because the noise is additive and independent of x, grad f - grad F_t = xi_t for every x, so the
stochastic variance is exact: sigma_t^2 = E||xi_t||^2 = s_t^2.  The adversarial variation
Sigma_t^2 = sup_x ||grad F_t(x) - grad F_{t-1}(x)||^2 (grad F_0 = 0) is exact too (see
:func:`adversarial_variation`).  Host-side generators (schedules, noise, comparator) use NumPy;
the per-round oracle :class:`SEAStream` is array-API generic.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

LOSSES = ("quadratic", "huber", "l1")
SCHEDULES = ("fixed", "switches", "alternating", "ray-switches", "shocks", "drift")


# ---- adversary schedules and noise levels (host side) --------------------------------------
def theta_schedule(kind: str, T: int, d: int, *, center, amplitude: float = 0.0, switches: int = 0,
                   far: float = 0.0, laps: float = 1.0) -> np.ndarray:
    """(T, d) sequence theta_1..theta_T chosen by an oblivious adversary.

    - 'fixed': theta_t = center (stationary: Sigma_t = 0 for t >= 2);
    - 'alternating': center +/- amplitude e_1, flipping every round (Sigma^2_{1:T} grows like T);
    - 'switches': center +/- amplitude e_1, flipping ``switches`` times at evenly spaced rounds;
    - 'ray-switches': theta on the ray through ``center`` outside the ball, jumping ``switches``
      times between |center| and |center| + far; every theta_t projects to the same point of X,
      so one comparator is best in every round and tracking cannot beat it (static regret >= 0);
    - 'shocks': theta_t = center except at ``switches`` evenly spaced single rounds where
      theta_t = -center (2 switches each).  With center outside X every ordinary round has the
      same minimizer on the sphere, which is also the static comparator, so no learner gains by
      tracking; each shock knocks a gradient learner inward and it pays to come back;
    - 'drift': center + amplitude (cos, sin)(2 pi laps t / T) in the first two coordinates (path
      length about 2 pi amplitude laps).
    """
    c = np.asarray(center, dtype=float)
    t = np.arange(T)
    e1 = np.zeros(d)
    e1[0] = 1.0
    if kind == "fixed":
        return np.tile(c, (T, 1))
    if kind == "alternating":
        sign = np.where(t % 2 == 0, 1.0, -1.0)
        return c + amplitude * sign[:, None] * e1
    if kind == "switches":
        sign = np.where(_segment(t, T, switches) % 2 == 0, 1.0, -1.0)
        return c + amplitude * sign[:, None] * e1
    if kind == "ray-switches":
        unit = c / np.linalg.norm(c)
        radius = np.linalg.norm(c) + far * (_segment(t, T, switches) % 2)
        return radius[:, None] * unit
    if kind == "shocks":
        out = np.tile(c, (T, 1))
        out[shock_rounds(T, switches)] = -c
        return out
    if kind == "drift":
        if d < 2:
            raise ValueError("a drifting theta needs d >= 2")
        out = np.tile(c, (T, 1))
        phase = 2 * np.pi * laps * (t + 1) / T
        out[:, 0] += amplitude * np.cos(phase)
        out[:, 1] += amplitude * np.sin(phase)
        return out
    raise ValueError(f"unknown schedule {kind!r}: valid schedules are {', '.join(SCHEDULES)}")


def schedule_labels(kind: str, T: int, switches: int = 0) -> np.ndarray:
    """(T,) which of the schedule's thetas each round plays (theta_t = theta_s when labels agree),
    known from the schedule alone: counts of each theta over any prefix of rounds follow without
    sorting the (T, d) rows.  Labels of equal thetas (e.g. amplitude 0) may differ."""
    t = np.arange(T)
    if kind == "fixed":
        return np.zeros(T, dtype=np.intp)
    if kind == "alternating":
        return t % 2
    if kind in ("switches", "ray-switches"):
        return _segment(t, T, switches) % 2
    if kind == "shocks":
        labels = np.zeros(T, dtype=np.intp)
        labels[shock_rounds(T, switches)] = 1
        return labels
    if kind == "drift":
        return t
    raise ValueError(f"unknown schedule {kind!r}: valid schedules are {', '.join(SCHEDULES)}")


def _segment(t, T, switches):
    """Index of the segment each round falls in, for ``switches`` evenly spaced switches."""
    return (t * (switches + 1)) // T


def shock_rounds(T: int, shocks: int) -> np.ndarray:
    """The 0-based rounds of ``shocks`` evenly spaced shocks (mid-points of equal segments)."""
    return ((np.arange(shocks) + 0.5) * T / max(shocks, 1)).astype(int)


def path_length(thetas) -> float:
    """P_T = sum_{t >= 2} ||u_t - u_{t-1}|| of a comparator sequence (rows of ``thetas``)."""
    return float(np.sum(np.linalg.norm(np.diff(np.asarray(thetas, dtype=float), axis=0), axis=1)))


def noise_levels(T: int, s2: float, *, decay: bool = False) -> np.ndarray:
    """Per-round noise variances s_t^2: constant s2, or s2 / t when ``decay``."""
    if s2 < 0:
        raise ValueError(f"noise variance s2={s2} must be >= 0")
    t = np.arange(1, T + 1, dtype=float)
    return s2 / t if decay else np.full(T, float(s2))


def draw_noise(rngs, s2_rounds: np.ndarray, d: int) -> np.ndarray:
    """(T, R, d) Gaussian noise xi_t ~ N(0, s_t^2 I/d), one stream per trial (host side)."""
    scale = np.sqrt(np.asarray(s2_rounds, dtype=float) / d)[:, None]
    return np.stack([rng.standard_normal((len(scale), d)) * scale for rng in rngs], axis=1)


# ---- exact sigma^2 and Sigma^2 ---------------------------------------------------------------
def stochastic_variance(s2_rounds) -> np.ndarray:
    """sigma_t^2 = max_x E||grad f(x, xi_t) - grad F_t(x)||^2 = s_t^2 (noise independent of x)."""
    return np.asarray(s2_rounds, dtype=float).copy()


def adversarial_variation(loss: str, thetas: np.ndarray, rho: float, delta: float = 1.0) -> np.ndarray:
    """Sigma_t^2 = sup_{||x|| <= rho} ||grad F_t(x) - grad F_{t-1}(x)||^2 with grad F_0 = 0.

    quadratic: grad F_t - grad F_{t-1} = theta_{t-1} - theta_t for every x, and
    Sigma_1^2 = sup ||x - theta_1||^2 = (rho + ||theta_1||)^2.
    huber: grad h is the projection onto the delta-ball, so the difference is at most
    min(||Delta theta||, 2 delta), attained at the midpoint of theta_{t-1}, theta_t (required to be
    in X; checked); Sigma_1^2 = min(rho + ||theta_1||, delta)^2.
    l1 is not smooth and has no such bound; it is only used as a control.
    """
    th = np.asarray(thetas, dtype=float)
    step = np.linalg.norm(np.diff(th, axis=0), axis=1)
    first = rho + np.linalg.norm(th[0])
    if loss == "quadratic":
        return np.concatenate([[first**2], step**2])
    if loss == "huber":
        mid = np.linalg.norm((th[1:] + th[:-1]) / 2, axis=1)
        moving = step > 0
        if np.any(mid[moving] > rho * (1 + 1e-12)):
            raise ValueError("exact Huber Sigma_t needs the midpoints of consecutive thetas in X")
        return np.concatenate([[min(first, delta) ** 2], np.minimum(step, 2 * delta) ** 2])
    raise ValueError(f"Sigma_t^2 is defined here for smooth losses only, not {loss!r}")


def cumulative(rounds) -> float:
    """sigma^2_{1:T} or Sigma^2_{1:T}: the sum of the per-round values."""
    return float(np.sum(rounds))


def maximum(rounds) -> float:
    """sigma^2_max or Sigma^2_max."""
    return float(np.max(rounds))


def gradient_bound(loss: str, thetas: np.ndarray, rho: float, delta: float = 1.0) -> float:
    """G = sup_t sup_{x in X} ||grad F_t(x)|| (the expected gradients; noise excluded)."""
    far = rho + float(np.max(np.linalg.norm(thetas, axis=1)))
    if loss == "quadratic":
        return far
    if loss == "huber":
        return min(far, delta)
    if loss == "l1":
        return float(np.sqrt(thetas.shape[1]))
    raise ValueError(f"unknown loss {loss!r}")


# ---- expected losses on the host (for comparators) ------------------------------------------
def host_loss(loss: str, u: np.ndarray, thetas: np.ndarray, delta: float = 1.0) -> np.ndarray:
    """F_t(u) for each row theta_t (NumPy)."""
    z = u[None, :] - thetas
    if loss == "quadratic":
        return 0.5 * np.sum(z * z, axis=1)
    if loss == "huber":
        n = np.linalg.norm(z, axis=1)
        return np.where(n <= delta, 0.5 * n * n, delta * n - 0.5 * delta * delta)
    if loss == "l1":
        return np.sum(np.abs(z), axis=1)
    raise ValueError(f"unknown loss {loss!r}")


# ---- the per-round oracle (array-API generic) -----------------------------------------------
class SEAStream:
    """Round-t oracle of SEA instances for R rows (trials, possibly of several instances) in lockstep.

    ``thetas`` is (T, d), shared by every row (the adversary is oblivious), or (T, R, d), one
    schedule per row (instances with different schedules run together); ``noise`` is (T, R, d).
    ``gradient`` is the stochastic first-order oracle grad f(x, xi_t) (one call per row);
    ``expected_loss`` / ``expected_losses`` are F_t(x), used only to measure regret, never shown
    to the learner.  Every operation is row-wise: a row's values do not depend on the other rows.
    """

    def __init__(self, loss: str, thetas, noise, rho: float, delta: float = 1.0):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}: valid losses are {', '.join(LOSSES)}")
        self.xp = xp = array_namespace(noise, thetas)   # once: the oracle is called every round
        self.T, self.R, self.d = noise.shape
        # (T, 1 or R, d): thetas[t] broadcasts against the (R, d) iterate either way
        self.thetas = xp.reshape(thetas, (self.T, 1, self.d)) if thetas.ndim == 2 else thetas
        self.loss, self.noise = loss, noise
        self.rho, self.delta = float(rho), float(delta)

    def _loss_of(self, z):
        """h(z) over the last axis."""
        xp = self.xp
        if self.loss == "quadratic":
            return 0.5 * xp.vecdot(z, z)
        if self.loss == "huber":
            n = xp.sqrt(xp.vecdot(z, z))
            return xp.where(n <= self.delta, 0.5 * n * n, self.delta * n - 0.5 * self.delta**2)
        return xp.sum(xp.abs(z), axis=-1)

    def expected_loss(self, x, t: int):
        """F_t(x) for x (R, d): (R,)."""
        return self._loss_of(x - self.thetas[t, ...])

    def expected_losses(self, xs, start: int):
        """F_t(x_t) for a block xs (B, R, d) of rounds start .. start + B - 1: (B, R)."""
        return self._loss_of(xs - self.thetas[start:start + xs.shape[0], ...])

    def expected_gradient(self, x, t: int):
        xp = self.xp
        z = x - self.thetas[t, ...]
        if self.loss == "quadratic":
            return z
        if self.loss == "huber":   # z / max(1, |z|/delta): the projection of z onto the delta-ball
            n = xp.sqrt(xp.vecdot(z, z)[..., None])
            return z * (self.delta / xp.maximum(n, self.delta))
        return xp.sign(z)

    def gradient(self, x, t: int):
        return self.expected_gradient(x, t) + self.noise[t, ...]
