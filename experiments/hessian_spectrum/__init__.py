"""hessian-spectrum: the Hessian of small trained networks is a bulk near zero plus outliers that
follow the data (Sagun, Evci, Guney, Dauphin & Bottou, arXiv:1706.04454)."""
from experiments.base import Experiment

from .claims import CLAIMS
from .config import METRICS, PARAMS, check_params, sweep
from .runs import run_unit

EXPERIMENT = Experiment(
    name="hessian-spectrum",
    title="Hessian spectrum of small networks: bulk, outliers, Gauss-Newton, connected basins",
    paper="Sagun, Evci, Guney, Dauphin & Bottou, Empirical Analysis of the Hessian of "
          "Over-Parametrized Neural Networks, arXiv:1706.04454 (ICLR 2018 workshop)",
    params=PARAMS, sweep=sweep, run_unit=run_unit, claims=CLAIMS, check_params=check_params,
    trials={"quick": 8, "full": 16}, figure="experiments.hessian_spectrum.figure", metrics=METRICS,
    module=__name__)
