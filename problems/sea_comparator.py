"""The expected-loss comparator u* = argmin_{u in X} sum_t F_t(u) of an SEA instance (host side).

Regret is measured against the expected losses, not the realized ones: the realized comparator
argmin_u sum_t f(u, xi_t) is biased downwards by about sqrt(sigma^2 T), the very order the bounds
are about.  Closed forms where they exist, cvxpy otherwise (and in the tests, as a cross-check):
one parametrized (DPP) problem per (loss, number of thetas, d, rho, delta), compiled once and
re-solved with new thetas and counts.
"""
from __future__ import annotations

import numpy as np

from .sea import host_loss


def project_ball(u: np.ndarray, rho: float) -> np.ndarray:
    n = np.linalg.norm(u)
    return u if n <= rho else u * (rho / n)


def distinct_thetas(thetas: np.ndarray):
    """The distinct rows of ``thetas`` and how often each occurs (schedules have few)."""
    values, counts = np.unique(np.asarray(thetas, dtype=float), axis=0, return_counts=True)
    return values, counts.astype(float)


def distinct_labelled(thetas: np.ndarray, labels: np.ndarray):
    """The distinct rows of ``thetas`` (in np.unique's order) and each round's index into them,
    from per-round labels known from the schedule (problems.sea.schedule_labels; equal labels,
    equal rows): only the few labelled rows are sorted and merged, never the (T, d) rows."""
    th, labels = np.asarray(thetas, dtype=float), np.asarray(labels)
    present = np.flatnonzero(np.bincount(labels))
    where = np.zeros(len(present) and present[-1] + 1, dtype=np.intp)
    where[labels] = np.arange(len(labels))                    # a round of each label
    rows = th[where[present]]
    compact = np.zeros_like(where)
    compact[present] = np.arange(len(present))
    if not np.array_equal(rows[compact[labels]], th):
        raise ValueError("labels do not match the thetas: rounds with one label differ")
    order = np.lexsort(rows.T[::-1])                          # lexicographic, as np.unique
    new = np.concatenate([[True], np.any(rows[order][1:] != rows[order][:-1], axis=1)])
    index = np.empty(len(rows), dtype=np.intp)
    index[order] = np.cumsum(new) - 1                         # equal rows share one index
    return rows[order][new], index[compact[labels]]


def comparator(loss: str, thetas: np.ndarray, rho: float, delta: float = 1.0, *, solver=None):
    """(u*, sum_t F_t(u*), how) for the rounds in ``thetas``; ``how`` is 'closed form' or the
    cvxpy solver used."""
    values, counts = distinct_thetas(thetas)
    return counted_comparator(loss, values, counts, rho, delta, solver=solver)


def counted_comparator(loss: str, values: np.ndarray, counts: np.ndarray, rho: float,
                       delta: float = 1.0, *, solver=None):
    """:func:`comparator` for the distinct thetas ``values`` occurring ``counts`` times."""
    u = closed_form(loss, values, counts, rho, delta)
    how = "closed form"
    if u is None:
        u, how = cvxpy_comparator(loss, values, counts, rho, delta, solver=solver)
    total = float(np.dot(counts, host_loss(loss, u, values, delta)))
    return u, total, how


def closed_form(loss: str, values: np.ndarray, counts: np.ndarray, rho: float, delta: float = 1.0):
    """u* in closed form, or None when there is none here.

    quadratic: the projection of the count-weighted mean of theta (sum_t F_t is a round
    paraboloid).  huber / l1 with one distinct theta: its projection (h grows with ||u - theta||
    for huber; for l1, a theta inside X is its own minimizer).  Two distinct thetas with equal
    counts: their midpoint, by symmetry and convexity, when it lies in X; with unequal counts and
    both in X, the point of the segment between them where the weighted pulls balance.
    """
    if loss == "quadratic":
        return project_ball(counts @ values / counts.sum(), rho)
    if len(values) == 1:
        if loss == "huber" or np.linalg.norm(values[0]) <= rho:
            return project_ball(values[0], rho)
        return None
    if len(values) == 2 and counts[0] == counts[1]:
        mid = values.mean(axis=0)
        if np.linalg.norm(mid) <= rho:
            return mid
    if len(values) == 2 and np.all(np.linalg.norm(values, axis=1) <= rho):
        return _two_points(loss, values, counts, delta)
    return None


def _two_points(loss: str, values: np.ndarray, counts: np.ndarray, delta: float):
    """argmin_u n1 h(u - theta_1) + n2 h(u - theta_2) for two thetas in X (unequal counts).

    Projecting u onto the segment [theta_1, theta_2] shortens both distances, so the minimizer
    is u = theta_1 + lam (theta_2 - theta_1).  l1: per coordinate a weighted median, i.e. the
    heavier theta.  Huber: the stationarity condition n1 min(lam L, delta) = n2 min((1 - lam) L,
    delta) (L = |theta_2 - theta_1|) is monotone in lam; its root is found piece by piece."""
    (n1, n2), (a, b) = counts, values
    if loss == "l1":
        return (a if n1 > n2 else b).copy()
    L = float(np.linalg.norm(b - a))
    for lam in (n2 / (n1 + n2), 1.0 - n1 * delta / (n2 * L), n2 * delta / (n1 * L)):
        lam = min(max(lam, 0.0), 1.0)
        left = n1 * min(lam * L, delta) - n2 * min((1.0 - lam) * L, delta)
        if abs(left) <= 1e-12 * (n1 + n2) * max(L, delta):
            return a + lam * (b - a)
    return None


def cvxpy_comparator(loss: str, values: np.ndarray, counts: np.ndarray, rho: float,
                     delta: float = 1.0, *, solver=None):
    """argmin_{||u|| <= rho} sum_j counts_j h(u - theta_j) with cvxpy (the problem of
    :func:`_parametrized_problem`, compiled once per shape and re-solved)."""
    prob, u, thetas, weights = _parametrized_problem(loss, len(values), values.shape[1], rho, delta)
    thetas.value = np.asarray(values, dtype=float)
    weights.value = counts / counts.sum()   # keep the objective O(1) for the solver's tolerances
    solver = solver or "CLARABEL"
    prob.solve(solver=solver)
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"cvxpy comparator: status {prob.status}")
    return project_ball(np.asarray(u.value, dtype=float), rho), f"cvxpy/{solver} ({prob.status})"


_PROBLEMS: dict = {}


def _parametrized_problem(loss: str, k: int, d: int, rho: float, delta: float):
    """min_{||u|| <= rho} sum_j w_j s_j s.t. s_j >= h(u - theta_j), with the thetas and the
    weights w as cvxpy Parameters (DPP): canonicalized at the first solve, re-solved after.

    The norm-Huber is written as an infimal convolution, h(z) = min_w ||w||^2/2 + delta ||z - w||,
    which is DCP."""
    key = (loss, k, d, float(rho), float(delta))
    if key in _PROBLEMS:
        return _PROBLEMS[key]
    import cvxpy as cp

    u, s = cp.Variable(d), cp.Variable(k)
    thetas, weights = cp.Parameter((k, d)), cp.Parameter(k, nonneg=True)
    if loss == "quadratic":
        cons = [s[j] >= 0.5 * cp.sum_squares(u - thetas[j]) for j in range(k)]
    elif loss == "huber":
        w = cp.Variable((k, d))
        cons = [s[j] >= 0.5 * cp.sum_squares(w[j]) + delta * cp.norm(u - thetas[j] - w[j], 2)
                for j in range(k)]
    elif loss == "l1":
        cons = [s[j] >= cp.norm(u - thetas[j], 1) for j in range(k)]
    else:
        raise ValueError(f"unknown loss {loss!r}")
    prob = cp.Problem(cp.Minimize(weights @ s), cons + [cp.norm(u, 2) <= rho])
    _PROBLEMS[key] = (prob, u, thetas, weights)
    return _PROBLEMS[key]


def prefix_comparator_losses(loss: str, thetas: np.ndarray, checkpoints, rho: float,
                             delta: float = 1.0, *, labels=None):
    """min_u sum_{t <= tau} F_t(u) for each checkpoint tau (1-based round counts), and the ways
    they were computed.  ``labels`` (problems.sea.schedule_labels) gives the counts of each theta
    in every prefix by counting labels (no sort of the rows per checkpoint); without it the rows
    are sorted once."""
    if labels is None:
        values, index = np.unique(np.asarray(thetas, dtype=float), axis=0, return_inverse=True)
        index = index.reshape(-1)
    else:
        values, index = distinct_labelled(thetas, labels)
    out, hows = [], set()
    for tau in checkpoints:
        counts = np.bincount(index[: int(tau)], minlength=len(values)).astype(float)
        seen = counts > 0
        _, total, how = counted_comparator(loss, values[seen], counts[seen], rho, delta)
        out.append(total)
        hows.add(how)
    return np.asarray(out), sorted(hows)


def dynamic_comparator_losses(loss: str, thetas: np.ndarray, checkpoints, rho: float,
                              delta: float = 1.0):
    """sum_{t <= tau} min_{u in X} F_t(u) at each checkpoint tau: the loss of the per-round
    minimizers u_t = P_X(theta_t), the comparator sequence of dynamic regret (h grows with
    ||u - theta|| for the quadratic and the Huber loss, so the projection is the minimizer)."""
    if loss not in ("quadratic", "huber"):
        raise ValueError(f"the per-round minimizer is the projection only for smooth radial losses, "
                         f"not {loss!r}")
    th = np.asarray(thetas, dtype=float)
    n = np.linalg.norm(th, axis=1, keepdims=True)
    u = th * np.minimum(1.0, rho / np.where(n > 0, n, 1.0))
    z = u - th
    if loss == "quadratic":
        per_round = 0.5 * np.sum(z * z, axis=1)
    else:
        m = np.linalg.norm(z, axis=1)
        per_round = np.where(m <= delta, 0.5 * m * m, delta * m - 0.5 * delta * delta)
    total = np.cumsum(per_round)
    return np.asarray([total[int(tau) - 1] for tau in checkpoints]), u
