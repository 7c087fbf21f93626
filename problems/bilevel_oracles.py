"""Counting stochastic oracles for bilevel problems, trials in lockstep.

Four kinds, counted separately per trial (the papers count lower-level gradients apart from
second-order products): ``upper_grad`` (grad f, both partials), ``lower_grad`` (grad g, both
partials), ``hvp`` (d2_yy g v) and ``jvp`` (d2_xy g v).  Each returns the exact quantity plus
Gaussian noise N(0, noise_std^2 / batch) per coordinate; a call with ``batch=b`` costs b calls
(the mean of b independent samples has exactly that law).  With noise_std = 0 the oracles are
deterministic and draw nothing.

Noise comes from one host Generator per trial, drawn in blocks of ``block`` calls per kind and
moved to the device once per block (not one generator call per step per trial).  Counts are host
ints (bookkeeping, not numerics); a call can be charged to a subset of the trials (``active``),
e.g. a per-trial random number of Hessian-vector products run in lockstep with masks.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, device

KINDS = ("upper_grad", "lower_grad", "hvp", "jvp")


class GaussianNoise:
    """Standard normal (R, dim) draws, per-trial host streams, refilled in blocks."""

    def __init__(self, rngs, block: int = 256):
        self.rngs = list(rngs)
        self.block = int(block)
        self._buffers: dict = {}

    def draw(self, key: str, like):
        """One (R, dim) standard normal array shaped, typed and placed like ``like``."""
        xp = array_namespace(like)
        dim = like.shape[-1]
        buf, pos = self._buffers.get((key, dim), (None, self.block))
        if pos >= self.block:
            host = np.stack([rng.standard_normal((self.block, dim)) for rng in self.rngs], axis=1)
            buf, pos = xp.asarray(host, dtype=like.dtype, device=device(like)), 0
        self._buffers[(key, dim)] = (buf, pos + 1)
        return buf[pos, ...]


class StochasticOracles:
    """Noisy, counted access to ``problem.upper`` and ``problem.lower`` for R trials."""

    def __init__(self, problem, rngs, *, noise_std: float = 0.0, block: int = 256):
        if not noise_std >= 0.0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
        self.problem = problem
        self.upper, self.lower = problem.upper, problem.lower
        self.R = len(rngs)
        self.noise_std = float(noise_std)
        self.noise = GaussianNoise(rngs, block)
        self.calls = {kind: [0] * self.R for kind in KINDS}

    # ---- bookkeeping ----------------------------------------------------------------------
    def charge(self, kind: str, amount: int = 1, active=None) -> None:
        """Add ``amount`` calls of ``kind`` to every trial, or to those with active[r] true."""
        counts = self.calls[kind]
        for r in range(self.R):
            if active is None or active[r]:
                counts[r] += int(amount)

    def total(self) -> list[int]:
        """Oracle calls of all kinds, per trial."""
        return [sum(self.calls[k][r] for k in KINDS) for r in range(self.R)]

    def for_record(self, like):
        """Total calls per trial in the form Recorder.record takes: an int when every trial spent
        the same, else an (R,) int array on the device of ``like``."""
        per_trial = self.total()
        if len(set(per_trial)) == 1:
            return per_trial[0]
        xp = array_namespace(like)
        return xp.asarray(per_trial, dtype=xp.int64, device=device(like))

    def by_kind(self, like):
        """Per-kind call counts as (R,) device arrays (metrics ``calls_<kind>``)."""
        xp = array_namespace(like)
        return {f"calls_{k}": xp.asarray(self.calls[k], dtype=like.dtype, device=device(like))
                for k in KINDS}

    def _noisy(self, kind: str, value, batch: int):
        if self.noise_std == 0.0:
            return value
        return value + (self.noise_std / batch ** 0.5) * self.noise.draw(kind, value)

    # ---- the oracles ----------------------------------------------------------------------
    def upper_grad(self, x, y, batch: int = 1):
        """(grad_x f, grad_y f) + noise."""
        self.charge("upper_grad", batch)
        return (self._noisy("upper_grad_x", self.upper.grad_x(x, y), batch),
                self._noisy("upper_grad_y", self.upper.grad_y(x, y), batch))

    def lower_grad(self, x, y, batch: int = 1):
        """(grad_x g, grad_y g) + noise."""
        self.charge("lower_grad", batch)
        return (self._noisy("lower_grad_x", self.lower.grad_x(x, y), batch),
                self._noisy("lower_grad_y", self.lower.grad_y(x, y), batch))

    def hvp(self, x, y, v, batch: int = 1, active=None):
        """d2_yy g(x, y) v + noise; charged to the ``active`` trials only (all by default)."""
        self.charge("hvp", batch, active)
        return self._noisy("hvp", self.lower.hvp(x, y, v), batch)

    def jvp(self, x, y, v, batch: int = 1):
        """d2_xy g(x, y) v + noise (a dx-vector)."""
        self.charge("jvp", batch)
        return self._noisy("jvp", self.lower.jvp(x, y, v), batch)
