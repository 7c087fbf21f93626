"""xor-grokking: benign overfitting and grokking of two-layer ReLU networks on XOR cluster data
(Xu, Wang, Frei, Vardi, Hu, ICLR 2024)."""
from experiments.base import Experiment

from .claims import CLAIMS, PAPER
from .config import METRICS, PARAMS, check_params, sweep
from .runs import run_unit

EXPERIMENT = Experiment(
    name="xor-grokking",
    title="Benign overfitting and grokking of a two-layer ReLU network on XOR clusters",
    paper=PAPER, params=PARAMS, sweep=sweep, run_unit=run_unit, claims=CLAIMS,
    check_params=check_params, trials={"quick": 8, "full": 16},
    figure="experiments.xor_grokking.figure", metrics=METRICS, module=__name__)
