"""Problem pieces of the bilevel-unbounded experiment (Hao, Gong & Liu, ICLR 2024) that the shared
bilevel blocks (problems.bilevel, problems.hypercleaning) do not provide.

- :class:`CoshUpper`: f(x, y) = scale sum_i phi(a_i^T x) + 1/2 ||y - b||^2 with phi = cosh
  (unbounded smoothness) or phi = log cosh (its Lipschitz-smooth twin).  Why cosh and not the
  exp link of problems.bilevel: with a_i >= 0, exp(a^T x) is monotone, and fixed-step gradient
  steps overshoot only towards the flat side, where they do not blow up (probed: SOBA at steps
  0.2-0.45 from x0 = 3-5 stalled instead of diverging); cosh is the textbook (L0, L1)-smooth
  function on which a fixed step diverges from a point of large gradient (Zhang, He, Sra &
  Jadbabaie, ICLR 2020).  With orthogonal rows a_i of norm c, ||d2_x f|| <= scale c^2 cosh <=
  scale c^2 + c ||grad_x f||: (L0, L1)-smooth with L0 = scale c^2, L1 = c; log cosh has
  |phi''| <= 1, so its f is scale c^2-smooth.
- :func:`cosh_instance`: the quadratic lower level of problems.bilevel with A = c U (U orthogonal
  rows), so d2_x f >= scale c^2 I and Phi has no flat directions.
- :func:`tracking_level`: the level ||y_t - y*(x_t)|| stays below after each periodic update
  (derived in its docstring for the quadratic lower level).
- Hyper-cleaning helpers: a clean test split, the AUC of learned weights against the flip mask,
  test accuracy of the lower-level solution.
"""
from __future__ import annotations

import math

import numpy as np
from array_api_compat import array_namespace

from .bilevel import Bilevel, QuadraticLower, dot, matvec, quadratic_instance, rmatvec
from .hypercleaning import hypercleaning_data

COSH_LINKS = ("cosh", "logcosh")


def _logcosh(t, xp):
    a = xp.abs(t)
    return a + xp.log1p(xp.exp(-2.0 * a)) - math.log(2.0)


class CoshUpper:
    """f(x, y) = scale sum_i phi(a_i^T x) + 1/2 ||y - b||^2, A (R, m, dx), b (R, dy),
    phi = cosh (``link="cosh"``) or log cosh (``link="logcosh"``)."""

    def __init__(self, A, b, link: str = "cosh", scale: float = 1.0):
        if link not in COSH_LINKS:
            raise ValueError(f"unknown link {link!r}: valid links are {', '.join(COSH_LINKS)}")
        self.A, self.b, self.link, self.scale = A, b, link, float(scale)
        self.xp = array_namespace(A)      # once: grad_x runs every step

    def value(self, x, y):
        xp = self.xp
        t = matvec(self.A, x)
        phi = xp.cosh(t) if self.link == "cosh" else _logcosh(t, xp)
        r = y - self.b
        return self.scale * xp.sum(phi, axis=-1) + 0.5 * dot(r, r)

    def grad_x(self, x, y):
        xp = self.xp
        t = matvec(self.A, x)
        dphi = xp.sinh(t) if self.link == "cosh" else xp.tanh(t)
        return self.scale * rmatvec(self.A, dphi)

    def grad_y(self, x, y):
        return y - self.b


def cosh_instance(rng, dx: int, dy: int, *, mu: float, cond: float, coupling: float = 1.0,
                  row_norm: float = 1.0) -> dict:
    """One trial (NumPy): the quadratic lower level of problems.bilevel.quadratic_instance and
    A = row_norm * U with U a random orthogonal dx x dx matrix (m = dx rows)."""
    arrays = quadratic_instance(rng, dx, dy, dx, mu=mu, cond=cond, coupling=coupling)
    U, _ = np.linalg.qr(rng.standard_normal((dx, dx)))
    arrays["A"] = row_norm * U
    return arrays


def cosh_bilevel(arrays: dict, asarray, *, link: str = "cosh", scale: float = 1.0) -> Bilevel:
    lower = QuadraticLower(asarray(arrays["Q"]), asarray(arrays["B"]), arrays["mu"])
    return Bilevel(CoshUpper(asarray(arrays["A"]), asarray(arrays["b"]), link=link, scale=scale), lower)


# ---- the tracking level (host side, per trial) -------------------------------------------------
def _refinement_response(lams, step: float, epochs: int, steps: int):
    """Per eigenvalue lam of H: the factor by which epoch-SGD (problems' ``epoch_sgd``) scales the
    initial error, and the standard deviation per unit noise of its output (noise of std sigma per
    coordinate and step enters as -s_k sigma xi_j).  Exact for a quadratic: every iterate is linear
    in the initial error and the noises."""
    lams = np.asarray(lams, dtype=float)
    mean = np.ones_like(lams)      # E[error] factor
    var = np.zeros_like(lams)      # output noise variance per sigma^2
    for k in range(epochs):
        n, s = steps * 2 ** k, step / 2 ** k
        c = 1.0 - s * lams
        # iterate j (1..n): e_j = c^j e_0 - s sum_{i<j} c^(j-1-i) xi_i; average over j.
        powers = c[:, None] ** np.arange(1, n + 1)[None, :]
        mean_factor = powers.mean(axis=1)
        # coefficient of xi_i in the average: -(s/n) sum_{j>i} c^(j-1-i) = -(s/n)(1 - c^(n-i))/(1-c)
        i = np.arange(n)[None, :]
        coeff = (s / n) * (1.0 - c[:, None] ** (n - i)) / np.where(np.abs(1 - c) > 1e-15, 1 - c, 1.0)[:, None]
        var = mean_factor ** 2 * var + (coeff ** 2).sum(axis=1)
        mean = mean_factor * mean
    return mean, np.sqrt(var)


def tracking_level(Q, B, mu: float, *, start_error, gamma: float, lower_steps: int, period: int,
                   eta: float, noise: float, updates: int, refine_epochs: int, refine_steps: int,
                   fail_prob: float = 1e-3) -> np.ndarray:
    """Upper level for e_k = ||y - y*(x)|| right after the k-th periodic update, per trial (R, K).

    Derivation (ours, for g quadratic with H = Q + mu I; the paper's lemma has the same shape,
    its constants were not verified):  between updates x moves I steps of length exactly eta
    (normalized step), so y* moves at most l I eta with l = ||H^{-1} B^T||.  N SGD steps of step
    gamma map the error by (I - gamma H)^N (norm q = max|1 - gamma lam|^N) plus a Gaussian term
    of covariance <= gamma^2 sigma^2 / (1 - q1^2) I, whose norm is <= s = gamma sigma
    (sqrt(dy) + u) / sqrt(1 - q1^2) except with probability exp(-u^2/2) (Gaussian
    concentration); u is set by a union bound over R K events at ``fail_prob``.  Hence
        e_k <= q^k E0 + (q l I eta + s)(1 - q^k)/(1 - q),
    with E0 the refinement's level: ||M|| ||y0 - y*(x0)|| + (sqrt(dy) + u) sigma max sd, M and sd
    from the exact response of epoch-SGD (:func:`_refinement_response`).
    """
    Q, B = np.asarray(Q, dtype=float), np.asarray(B, dtype=float)
    R, dy = Q.shape[0], Q.shape[-1]
    H = Q + mu * np.eye(dy)
    lams = np.linalg.eigvalsh(H)                                   # (R, dy)
    ell = np.linalg.norm(np.linalg.solve(H, np.swapaxes(B, -1, -2)), ord=2, axis=(-2, -1))
    q1 = np.max(np.abs(1.0 - gamma * lams), axis=-1)
    if np.any(q1 >= 1):
        raise ValueError(f"gamma={gamma} does not contract the lower level (needs gamma < 2/lam_max)")
    q = q1 ** lower_steps
    u = math.sqrt(2.0 * math.log(max(R * (updates + 1), 1) / fail_prob))
    chi = math.sqrt(dy) + u
    s = gamma * noise * chi / np.sqrt(1.0 - q1 ** 2)
    mean, sd = _refinement_response(lams.ravel(), gamma, refine_epochs, refine_steps)
    mean, sd = np.abs(mean.reshape(R, dy)).max(axis=-1), sd.reshape(R, dy).max(axis=-1)
    E0 = mean * np.asarray(start_error, dtype=float) + chi * noise * sd
    k = np.arange(updates + 1)[None, :]
    qk = q[:, None] ** k
    return qk * E0[:, None] + ((q * ell * period * eta + s) / (1.0 - q))[:, None] * (1.0 - qk)


# ---- hyper-cleaning helpers (host side) ----------------------------------------------------------
def hypercleaning_split(rng, n_train: int, n_val: int, n_test: int, d: int, flip: float) -> dict:
    """hypercleaning_data with n_val + n_test clean samples, split into validation and test."""
    data = hypercleaning_data(rng, n_train, n_val + n_test, d, flip)
    Xv, yv = data["Xv"], data["yv"]
    data.update(Xv=Xv[:n_val], yv=yv[:n_val], Xt=Xv[n_val:], yt=yv[n_val:])
    return data


def auc(scores, positives) -> np.ndarray:
    """Per trial: P(score of a positive > score of a negative) (+ 1/2 for ties), rows of (R, n)."""
    scores, positives = np.asarray(scores, dtype=float), np.asarray(positives, dtype=bool)
    out = []
    for s, p in zip(scores, positives):
        pos, neg = s[p], s[~p]
        if pos.size == 0 or neg.size == 0:
            out.append(np.nan)
            continue
        diff = pos[:, None] - neg[None, :]
        out.append(float(((diff > 0) + 0.5 * (diff == 0)).mean()))
    return np.array(out)


def clean_accuracy(w, Xt, yt) -> np.ndarray:
    """Fraction of test samples with y <x, w> > 0, per trial (host arrays)."""
    margins = np.asarray(yt) * np.einsum("rnd,rd->rn", np.asarray(Xt), np.asarray(w))
    return (margins > 0).mean(axis=-1)
