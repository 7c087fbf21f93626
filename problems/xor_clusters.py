"""XOR cluster data in R^p (Xu, Wang, Frei, Vardi, Hu, ICLR 2024, setting as in the fact sheet).

Clean distribution: pick one of four clusters with equal probability, x = c + xi, xi ~ N(0, I_p);
clusters +mu1 and -mu1 have label +1, +mu2 and -mu2 label -1, with mu1 ⊥ mu2 and
||mu1|| = ||mu2|| = r.  Training labels are flipped independently with probability eta; test
sets are clean.  The distribution is invariant under rotations, so mu1 = r e1 and mu2 = r e2
without loss of generality: a point is x = r s + xi with s in {+-e1, +-e2} ("plane" part).

Because only the first two coordinates carry the signal, every Gram matrix of points with the
same noise but different r follows from the noise Gram matrix exactly:
    <x_a, x_b> = <xi_a, xi_b> + r (<s_a, xi_b> + <xi_a, s_b>) + r^2 <s_a, s_b>,
so a grid of r values in one run costs one noise Gram matrix (common random numbers).

Bayes-optimal accuracy of the clean distribution, in closed form: the class likelihood ratio is
cosh(<x, mu1>) / cosh(<x, mu2>), so the Bayes rule predicts +1 iff |u| > |v| with
u = <x, mu1>/r, v = <x, mu2>/r.  Given cluster +mu1, u ~ N(r, 1) and v ~ N(0, 1) are independent;
A = (u - v)/sqrt2 and B = (u + v)/sqrt2 are independent N(r/sqrt2, 1), and |u| > |v| iff AB > 0:
    Bayes accuracy = Phi(r/sqrt2)^2 + Phi(-r/sqrt2)^2    (the same for every cluster).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from array_api_compat import array_namespace

CLUSTERS = 4   # 0: +mu1, 1: -mu1 (label +1); 2: +mu2, 3: -mu2 (label -1)


def bayes_accuracy(mu_norm: float) -> float:
    """Phi(r/sqrt2)^2 + Phi(-r/sqrt2)^2 with r = ||mu|| (noise N(0, I)); see the module doc."""
    if mu_norm < 0:
        raise ValueError(f"mu_norm must be >= 0, got {mu_norm}")
    phi = 0.5 * (1.0 + math.erf(mu_norm / 2.0))          # Phi(r / sqrt2) = (1 + erf(r/2)) / 2
    return phi * phi + (1.0 - phi) * (1.0 - phi)


@dataclass
class XorSample:
    """Host arrays, trials on the leading axis: ``cluster`` (R, n) ints in 0..3, ``noise``
    (R, n, p), ``flipped`` (R, n) bools (always False for a clean set)."""

    cluster: Any
    noise: Any
    flipped: Any


def sample_xor(rngs, n: int, p: int, flip_prob: float = 0.0) -> XorSample:
    """n points per trial (one numpy Generator per trial): clusters uniform over the four, noise
    N(0, I_p), each label flipped independently with probability ``flip_prob``."""
    if not 0.0 <= flip_prob < 0.5:
        raise ValueError(f"flip_prob must lie in [0, 0.5), got {flip_prob}")
    if p < 2 or n < 1:
        raise ValueError(f"needs p >= 2 and n >= 1, got p={p}, n={n}")
    clusters, noises, flips = [], [], []
    for rng in rngs:
        clusters.append(rng.integers(0, CLUSTERS, size=n))
        noises.append(rng.standard_normal((n, p)))
        flips.append(rng.random(n) < flip_prob)
    xp = array_namespace(noises[0])   # numpy, reached through the arrays the Generators made
    return XorSample(xp.stack(clusters), xp.stack(noises), xp.stack(flips))


def clean_labels(cluster):
    """+1 for clusters +-mu1, -1 for +-mu2 (float, in the dtype of a float copy of ``cluster``)."""
    xp = array_namespace(cluster)
    return 1.0 - 2.0 * xp.astype(cluster >= 2, xp.float64)


def noisy_labels(cluster, flipped):
    """The clean label, negated where ``flipped``."""
    xp = array_namespace(cluster, flipped)
    y = clean_labels(cluster)
    return xp.where(flipped, -y, y)


def plane_signs(cluster, dtype=None):
    """s in the (mu1, mu2) plane per point, (..., n, 2): (+1,0), (-1,0), (0,+1), (0,-1)."""
    xp = array_namespace(cluster)
    dtype = dtype or xp.float64
    sign = 1.0 - 2.0 * xp.astype(cluster % 2 == 1, dtype)
    first = xp.astype(cluster < 2, dtype)
    return xp.stack([sign * first, sign * (1.0 - first)], axis=-1)


def points(cluster, noise, mu_norm: float):
    """x = ||mu|| s + xi, (..., n, p): the noise with the cluster mean added on coordinates 0, 1."""
    xp = array_namespace(cluster, noise)
    s = plane_signs(cluster, noise.dtype)
    pad = xp.zeros(noise.shape[:-1] + (noise.shape[-1] - 2,), dtype=noise.dtype)
    return noise + mu_norm * xp.concat([s, pad], axis=-1)


def gram(noise_gram, s_a, xi_a, s_b, xi_b, mu_norm: float):
    """<x_a, x_b> from the noise Gram <xi_a, xi_b> (.., na, nb), the plane signs s (.., n, 2) and
    the noise's first two coordinates xi (.., n, 2) (the identity in the module doc)."""
    xp = array_namespace(noise_gram, s_a, xi_a, s_b, xi_b)
    cross = xp.matmul(s_a, xp.matrix_transpose(xi_b)) + xp.matmul(xi_a, xp.matrix_transpose(s_b))
    return noise_gram + mu_norm * cross + mu_norm ** 2 * xp.matmul(s_a, xp.matrix_transpose(s_b))
