"""Seeds: one base seed; every (run unit, trial) gets its own stream derived from it.

The stream of a unit depends only on the base seed and the unit's own configuration, so adding a
configuration to a sweep, or trials to a unit, leaves every existing stream unchanged.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np


def unit_key(experiment: str, unit: dict) -> int:
    text = json.dumps([experiment, unit], sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def trial_rngs(seed: int, experiment: str, unit: dict, trials: int) -> list[np.random.Generator]:
    root = np.random.SeedSequence(entropy=seed, spawn_key=(unit_key(experiment, unit),))
    return [np.random.default_rng(s) for s in root.spawn(trials)]
