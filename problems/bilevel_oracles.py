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

Two variants of ``lower_grad`` serve the methods' hot loops without changing a number:
``lower_grad_y`` (the y-partial only, for SGD on the lower level) still consumes the x-partial's
noise from the host streams, so every later draw is the one a full call would have made; and
``lower_grads`` (several y at one x) lets the level share its x-only terms.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, device

KINDS = ("upper_grad", "lower_grad", "hvp", "jvp")


class _Block:
    """One key's block of draws: (block, R, dim) values, host-side until first used, and the next row."""

    __slots__ = ("values", "on_device", "row")

    def __init__(self, values):
        self.values, self.on_device, self.row = values, False, 0


class GaussianNoise:
    """Standard normal (R, dim) draws, per-trial host streams, refilled in blocks."""

    def __init__(self, rngs, block: int = 256):
        self.rngs = list(rngs)
        self.block = int(block)
        self._buffers: dict = {}     # (key, dim) -> _Block

    def _take(self, key: str, dim: int) -> _Block:
        """``key``'s block with a row left, refilled from the host streams when spent."""
        buf = self._buffers.get((key, dim))
        if buf is None or buf.row >= self.block:
            # each trial's stream fills its own contiguous slab (no stacking copy); rows are
            # then read through the (block, R, dim) view
            host = np.empty((len(self.rngs), self.block, dim))
            for rng, slab in zip(self.rngs, host):
                rng.standard_normal(out=slab)
            buf = self._buffers[(key, dim)] = _Block(host.transpose(1, 0, 2))
        return buf

    def draw(self, key: str, like):
        """One (R, dim) standard normal array shaped, typed and placed like ``like``."""
        buf = self._take(key, like.shape[-1])
        if not buf.on_device:
            xp = array_namespace(like)
            buf.values = xp.asarray(buf.values, dtype=like.dtype, device=device(like))
            buf.on_device = True
        row = buf.row
        buf.row = row + 1
        return buf.values[row, ...]

    def skip(self, key: str, dim: int) -> None:
        """Advance ``key`` by one draw without producing it.  The host generators are consumed
        exactly when :meth:`draw` would consume them (at a refill), so every key's draws stay
        those of a run that draws; a block only skipped never goes to the device."""
        self._take(key, dim).row += 1


class StochasticOracles:
    """Noisy, counted access to ``problem.upper`` and ``problem.lower`` for R trials.

    ``calls``: kind -> per-trial counts (a list of R ints, built on access).  Internally a charge to
    every trial is one int per kind, so charging costs the same for any R; only charges to a
    subset (``active``) keep a per-trial array.
    """

    def __init__(self, problem, rngs, *, noise_std: float = 0.0, block: int = 256):
        if not noise_std >= 0.0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
        self.problem = problem
        self.upper, self.lower = problem.upper, problem.lower
        self.R = len(rngs)
        self.noise_std = float(noise_std)
        self.noise = GaussianNoise(rngs, block)
        self._uniform = dict.fromkeys(KINDS, 0)       # calls charged to every trial
        self._masked: dict = {}                       # kind -> (R,) host ints charged to some trials
        # a level may compute the gradients at several y for one x with shared terms
        self._level_grads_at = getattr(self.lower, "grads_at", None) or self._grads_one_by_one

    # ---- bookkeeping ----------------------------------------------------------------------
    def charge(self, kind: str, amount: int = 1, active=None) -> None:
        """Add ``amount`` calls of ``kind`` to every trial, or to those with active[r] true
        (``active``: R host booleans)."""
        if active is None:
            self._uniform[kind] += int(amount)
            return
        if kind not in self._uniform:
            raise KeyError(kind)
        per_trial = self._masked.get(kind)
        if per_trial is None:
            per_trial = self._masked[kind] = np.zeros(self.R, dtype=np.int64)
        per_trial += int(amount) * np.asarray(active, dtype=bool)

    @property
    def calls(self) -> dict[str, list[int]]:
        """Calls per kind and trial: {kind: [count of trial 0, ...]}."""
        out = {}
        for kind, count in self._uniform.items():
            extra = self._masked.get(kind)
            out[kind] = [count] * self.R if extra is None else [count + int(e) for e in extra]
        return out

    def total(self) -> list[int]:
        """Oracle calls of all kinds, per trial."""
        uniform = sum(self._uniform.values())
        if not self._masked:
            return [uniform] * self.R
        return [uniform + int(e) for e in sum(self._masked.values())]

    def for_record(self, like):
        """Total calls per trial in the form Recorder.record takes: an int when every trial spent
        the same, else an (R,) int array on the device of ``like``."""
        if not self._masked:
            return sum(self._uniform.values())
        per_trial = self.total()
        if len(set(per_trial)) == 1:
            return per_trial[0]
        xp = array_namespace(like)
        return xp.asarray(per_trial, dtype=xp.int64, device=device(like))

    def by_kind(self, like):
        """Per-kind call counts as (R,) device arrays (metrics ``calls_<kind>``)."""
        xp = array_namespace(like)
        return {f"calls_{k}": xp.asarray(v, dtype=like.dtype, device=device(like))
                for k, v in self.calls.items()}

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

    def lower_grad_y(self, x, y, batch: int = 1):
        """``lower_grad(x, y, batch)[1]``, bitwise, with its noise stream and count, without
        computing grad_x g (its noise draw is skipped in the stream, not omitted)."""
        self.charge("lower_grad", batch)
        if self.noise_std != 0.0:
            self.noise.skip("lower_grad_x", x.shape[-1])     # grad_x g has the shape of x
        return self._noisy("lower_grad_y", self.lower.grad_y(x, y), batch)

    def lower_grads(self, x, ys, batch: int = 1):
        """``[lower_grad(x, y, batch) for y in ys]``, bitwise (same draws in the same order, same
        counts), with the level's x-only terms computed once (problems.bilevel.QuadraticLower:
        B^T x)."""
        self.charge("lower_grad", len(ys) * batch)
        return [(self._noisy("lower_grad_x", gx, batch), self._noisy("lower_grad_y", gy, batch))
                for gx, gy in self._level_grads_at(x, ys)]

    def _grads_one_by_one(self, x, ys):
        return [(self.lower.grad_x(x, y), self.lower.grad_y(x, y)) for y in ys]

    def hvp(self, x, y, v, batch: int = 1, active=None):
        """d2_yy g(x, y) v + noise; charged to the ``active`` trials only (all by default)."""
        self.charge("hvp", batch, active)
        return self._noisy("hvp", self.lower.hvp(x, y, v), batch)

    def jvp(self, x, y, v, batch: int = 1):
        """d2_xy g(x, y) v + noise (a dx-vector)."""
        self.charge("jvp", batch)
        return self._noisy("jvp", self.lower.jvp(x, y, v), batch)
