"""k-class Gaussian-mixture classification data (hessian-spectrum: Sagun et al.), per trial.

Class c has mean mu_c and isotropic noise: x = mu_c + noise * N(0, I_d).  For k <= d the means
are (separation / sqrt 2) times orthonormal vectors, so every pair of means is exactly
``separation`` apart; for k > d they are random with norm separation / sqrt 2 (pairwise distance
about ``separation``).  Drawn on the host from one numpy Generator per trial; the backend
conversion happens at the edge (experiments.backend.to_backend).  Train and test sets of one trial
share its means: draw them once with :func:`mixture_means`, then :func:`sample_mixture` twice.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, device as array_device


def mixture_means(rngs, k: int, d: int, separation: float) -> np.ndarray:
    """Class means (R, k, d), pairwise distance ``separation`` (exact when k <= d)."""
    radius = separation / np.sqrt(2.0)
    out = []
    for rng in rngs:
        g = rng.standard_normal((d, k))
        if k <= d:
            q, _ = np.linalg.qr(g)
            means = q.T
        else:
            means = (g / np.linalg.norm(g, axis=0)).T
        out.append(radius * means)
    return np.stack(out)


def sample_mixture(rngs, means: np.ndarray, n: int, noise: float = 1.0):
    """n labelled points per trial from the mixture with ``means`` (R, k, d): balanced classes
    (label i mod k, shuffled).  Returns X (R, n, d) float64 and labels (R, n) int64."""
    R, k, d = means.shape
    X = np.empty((R, n, d))
    labels = np.empty((R, n), dtype=np.int64)
    for r, rng in enumerate(rngs):
        y = rng.permutation(np.arange(n) % k)
        X[r] = means[r, y] + noise * rng.standard_normal((n, d))
        labels[r] = y
    return X, labels


def gaussian_mixture(rngs, n: int, d: int, k: int, separation: float, noise: float = 1.0):
    """X (R, n, d), labels (R, n) of a fresh k-class mixture per trial (see module docstring)."""
    return sample_mixture(rngs, mixture_means(rngs, k, d, separation), n, noise)


def flip_labels(rngs, labels: np.ndarray, k: int, fraction: float) -> np.ndarray:
    """Label noise: each label replaced, with probability ``fraction``, by a uniformly drawn
    different class (k = 2: flipped).  Random labels for a bulk-edge reference: fraction (k-1)/k."""
    out = labels.copy()
    for r, rng in enumerate(rngs):
        hit = rng.random(labels.shape[1]) < fraction
        shift = rng.integers(1, k, labels.shape[1])
        out[r] = np.where(hit, (labels[r] + shift) % k, labels[r])
    return out


def one_hot(labels, k: int, dtype=None):
    """One-hot targets (..., n, k) from integer labels (..., n); array-API generic (float64
    unless ``dtype`` is given)."""
    xp = array_namespace(labels)
    hot = xp.expand_dims(labels, axis=-1) == xp.arange(k, dtype=labels.dtype, device=array_device(labels))
    return xp.astype(hot, xp.float64 if dtype is None else dtype)
