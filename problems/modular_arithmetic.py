"""Modular addition (a + b) mod q with one-hot inputs, split per trial (softmax-collapse).

The task of Prieto et al. (ICLR 2025, Sec. 2; their code's AlgorithmicDataset): every pair
(a, b) in {0..q-1}^2 is one sample, its input the concatenation of the one-hot codes of a and b
(2q features), its label (a + b) mod q.  A fraction of the q^2 pairs is the training set, the
rest the test set; the split is drawn per trial on the host from that trial's numpy Generator
(int(fraction * q^2) training pairs, as the paper's code does), and the arrays are stacked on a
leading trial axis.  The backend conversion happens at the edge (experiments.backend.to_backend).
"""
from __future__ import annotations

import numpy as np


def addition_table(q: int):
    """All q^2 samples: inputs (q^2, 2q) one-hot [a | b] (float64) and labels (q^2,) int64."""
    if q < 2:
        raise ValueError(f"the modulus q must be >= 2, got {q}")
    a, b = np.divmod(np.arange(q * q), q)
    X = np.zeros((q * q, 2 * q))
    X[np.arange(q * q), a] = 1.0
    X[np.arange(q * q), q + b] = 1.0
    return X, (a + b) % q


def train_size(q: int, train_fraction: float) -> int:
    """The number of training pairs, int(fraction * q^2) as in the paper's code."""
    return int(train_fraction * q * q)


def one_hot_labels(labels: np.ndarray, q: int) -> np.ndarray:
    """(..., n) int labels -> (..., n, q) float64 one-hot targets."""
    return (labels[..., None] == np.arange(q)).astype(np.float64)


def modular_addition_split(rngs, q: int, train_fraction: float):
    """Per-trial random train/test split of the addition table.

    Returns (X_train (R, n_tr, 2q), Y_train (R, n_tr, q) one-hot, X_test, Y_test) as float64
    host arrays.  Raises ValueError when either side would be empty."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train fraction must be in (0, 1), got {train_fraction}")
    n_train = train_size(q, train_fraction)
    if not 0 < n_train < q * q:
        raise ValueError(f"q={q}, train fraction={train_fraction} leaves an empty train or test set")
    X, labels = addition_table(q)
    Y = one_hot_labels(labels, q)
    parts = [[], [], [], []]
    for rng in rngs:
        order = rng.permutation(q * q)
        tr, te = order[:n_train], order[n_train:]
        for store, value in zip(parts, (X[tr], Y[tr], X[te], Y[te])):
            store.append(value)
    return tuple(np.stack(p) for p in parts)
