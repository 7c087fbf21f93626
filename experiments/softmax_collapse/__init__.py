"""softmax-collapse: Prieto, Barsbey, Mediano & Birdal, "Grokking at the edge of numerical
stability" (ICLR 2025), on (a + b) mod q with a bias-free MLP, full batch, Adam without weight
decay, float32 and float64 side by side.

Verified against the official code (LucasPrietoAl/grokking-at-the-edge-of-numerical-stability,
read through a public fork): StableMax s(x), the ⊥Grad projection per parameter tensor with its
rescaling to ||g|| and 1e-30 guards, the SC measure mean(S == 1) on training logits, one-hot
[a | b] inputs, bias-free MLP, Adam eps 1e-25, lr 0.01.  Not verified: the paper's own definition
of the NLM cosine plot (here cos(-grad, theta) over all parameters).
"""
from experiments.base import Experiment

from .claims import CLAIMS
from .config import METRICS, PARAMS, check_params, sweep
from .runs import run_unit

EXPERIMENT = Experiment(
    name="softmax-collapse",
    title="Softmax Collapse, StableMax and ⊥Grad on modular addition",
    paper="Prieto, Barsbey, Mediano & Birdal, Grokking at the edge of numerical stability, ICLR 2025",
    params=PARAMS, sweep=sweep, run_unit=run_unit, claims=CLAIMS, check_params=check_params,
    trials={"quick": 4, "full": 8}, figure="experiments.softmax_collapse.figure", metrics=METRICS,
    module="experiments.softmax_collapse",
)
