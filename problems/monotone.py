"""Finite-sum affine monotone operators F = (1/n) sum_i F_i with a counting component oracle.

Every problem of the halpern-vr experiment is affine: F_i(u) = M_i u + c_i, stored for R trials
as M (R, n, D, D) and c (R, n, D), plus the resolvent of the constraint part G (identity, a box
projection, or a projection onto a product of two simplices).  The oracle counts component
evaluations per trial: a full evaluation F(u) costs n, a mini-batch mean over S costs |S|, and a
difference F_S(u) - F_S(v) costs 2|S|.  Indices and coin flips come from the host, so the counts
live on the host (``calls``, an int64 array: control flow such as a call budget never asks the
device); ``spent`` copies them to the device when a step is recorded (host to device only).
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, device

CONSTRAINTS = ("none", "box", "simplices")


def matvec(M, u):
    """Batched M u: (..., D, D) x (..., D) -> (..., D)."""
    return (M @ u[..., None])[..., 0]     # the operator: no namespace look-up in hot loops


def norm(u):
    """Euclidean norm over the last axis."""
    xp = array_namespace(u)
    return xp.sqrt(xp.sum(u * u, axis=-1))


def project_simplex(v):
    """Euclidean projection of each row of v (..., m) onto the probability simplex.

    Uses the sort-based threshold theta = max_k (sum of the k largest entries - 1) / k.
    """
    xp = array_namespace(v)
    s = xp.sort(v, axis=-1, descending=True)
    k = xp.arange(1, v.shape[-1] + 1, dtype=v.dtype)
    theta = xp.max((xp.cumulative_sum(s, axis=-1) - 1.0) / k, axis=-1, keepdims=True)
    return xp.clip(v - theta, min=0.0)


def project(u, constraint: str, *, lo=None, hi=None, split: int = 0):
    """Resolvent of G = normal cone of the constraint set (a projection; identity if none)."""
    xp = array_namespace(u)
    if constraint == "none":
        return u
    if constraint == "box":
        return xp.clip(u, min=lo, max=hi)
    if constraint == "simplices":
        return xp.concat([project_simplex(u[..., :split]), project_simplex(u[..., split:])], axis=-1)
    raise ValueError(f"unknown constraint {constraint!r}: valid are {', '.join(CONSTRAINTS)}")


class FiniteSumOperator:
    """F = (1/n) sum_i (M_i u + c_i) for R trials, with a resolvent and per-trial call counts.

    Every instance is scaled to average Lipschitz constant 1 by its generator
    (problems.monotone_instances), so no constant is stored here.
    """

    def __init__(self, M, c, *, constraint="none", lo=None, hi=None, split=0):
        xp = array_namespace(M, c)
        self.xp = xp
        self.R, self.n, self.D = int(M.shape[0]), int(M.shape[1]), int(M.shape[-1])
        self.M_flat = xp.reshape(M, (self.R * self.n, self.D, self.D))
        self.c_flat = xp.reshape(c, (self.R * self.n, self.D))
        self.Mbar = xp.mean(M, axis=1)
        self.cbar = xp.mean(c, axis=1)
        if constraint not in CONSTRAINTS:
            raise ValueError(f"unknown constraint {constraint!r}: valid are {', '.join(CONSTRAINTS)}")
        self.constraint, self.lo, self.hi, self.split = constraint, lo, hi, split
        self._calls = np.zeros(self.R, dtype=np.int64)
        self._uniform = 0          # calls charged to every trial, not yet added to _calls

    @property
    def game_matrix(self):
        """The mean payoff matrix A (R, m, m') of a bilinear game F(x, y) = (A y, -A^T x) on two
        simplices: the upper-right block of the mean M (for the duality gap)."""
        if self.constraint != "simplices":
            raise ValueError("game_matrix is defined for a game on simplices only")
        return self.Mbar[:, :self.split, self.split:]

    @property
    def calls(self):
        """Per-trial component calls so far (host int64 array)."""
        if self._uniform:
            self._calls += self._uniform
            self._uniform = 0
        return self._calls

    @property
    def spent(self):
        """The per-trial calls so far as an (R,) device array (for recording)."""
        return self.xp.asarray(self.calls, copy=True, device=device(self.M_flat))

    # ---- counting oracles ---------------------------------------------------------------
    def count(self, per_trial) -> None:
        """Add per-trial component calls: an int (every trial), or a host int array (R,)."""
        if isinstance(per_trial, int):
            self._uniform += per_trial
        else:
            self._calls += per_trial

    def full(self, u, *, charge=True):
        """F(u) for every trial; costs n component calls per trial when charged."""
        if charge:
            self.count(self.n)
        return self.apply(u)

    def apply(self, u):
        """F(u) without charging: for measuring residuals, never inside an algorithm's step."""
        return matvec(self.Mbar, u) + self.cbar

    def rows(self, idx):
        """Host rows of M_flat / c_flat, (R * B,), of per-trial component indices idx (R, B)."""
        idx = np.asarray(idx, dtype=np.int64)
        return (idx + (np.arange(idx.shape[0], dtype=np.int64) * self.n)[:, None]).reshape(-1)

    def gather_mean(self, sel, batch: int, *, with_c: bool = True):
        """Mean (M_S, c_S) over the sampled components, given their rows ``sel`` (R * batch,) on
        the device; c_S is None unless ``with_c``.  Not charged here."""
        xp = self.xp
        Ms = xp.take(self.M_flat, sel, axis=0)            # (R * batch, D, D)
        if batch > 1:
            Ms = xp.mean(xp.reshape(Ms, (self.R, batch, self.D, self.D)), axis=1)
        if not with_c:
            return Ms, None
        cs = xp.reshape(xp.take(self.c_flat, sel, axis=0), (self.R, batch, self.D))
        return Ms, xp.mean(cs, axis=1)

    def batch_mean(self, idx):
        """Mean (M_S, c_S) over a host index array idx (R, B) of components, one set per trial.

        Not charged here: the caller charges what it evaluates with them (B or 2B per trial).
        """
        sel = self.xp.asarray(self.rows(idx), device=device(self.M_flat))
        return self.gather_mean(sel, len(idx[0]))

    def batch(self, u, idx):
        """F_S(u) = mean over S of F_i(u); costs |S| per trial."""
        Ms, cs = self.batch_mean(idx)
        self.count(len(idx[0]))
        return matvec(Ms, u) + cs

    def batch_diff(self, u, v, idx):
        """F_S(u) - F_S(v); costs 2|S| per trial (two evaluations of each sampled component)."""
        Ms, _ = self.batch_mean(idx)
        self.count(2 * len(idx[0]))
        return matvec(Ms, u - v)

    # ---- resolvent and residuals ----------------------------------------------------------
    def resolvent(self, u):
        """J_G(u): projection onto the constraint set (any step size gives the same map)."""
        if self.constraint == "none":
            return u
        return project(u, self.constraint, lo=self.lo, hi=self.hi, split=self.split)

    def residual(self, u, step):
        """Operator residual ||u - J_G(u - step F(u))|| / step (= ||F(u)|| when unconstrained);
        a measurement, not charged."""
        return norm(u - self.resolvent(u - step * self.apply(u))) / step


def duality_gap(Abar, z, split: int):
    """Gap of a matrix game min_x max_y x^T A y at z = (x, y): max_j (A^T x)_j - min_i (A y)_i."""
    xp = array_namespace(Abar, z)
    x, y = z[..., :split], z[..., split:]
    Aty = xp.matmul(Abar, y[..., None])[..., 0]
    Atx = xp.matmul(xp.matrix_transpose(Abar), x[..., None])[..., 0]
    return xp.max(Atx, axis=-1) - xp.min(Aty, axis=-1)
