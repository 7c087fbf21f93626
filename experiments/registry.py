"""Which experiments exist; modules are imported only when used."""
from __future__ import annotations

import importlib
import importlib.util

from .params import ParamError

# experiment id -> module defining EXPERIMENT
MODULES = {
    "matrix-sensing": "experiments.matrix_sensing",
    "robust-recovery": "experiments.robust_recovery",
    "halpern-vr": "experiments.halpern_vr",
    "sea-omd": "experiments.sea_omd",
    "bilevel-unbounded": "experiments.bilevel_unbounded",
    "penalty-bilevel": "experiments.penalty_bilevel",
    "hessian-spectrum": "experiments.hessian_spectrum",
    "xor-grokking": "experiments.xor_grokking",
    "softmax-collapse": "experiments.softmax_collapse",
}


ENTRY_POINT_GROUP = "theorycheck.experiments"


def _load_entry_points() -> None:
    """Experiments of other packages, registered under the entry-point group
    ``theorycheck.experiments`` (name = experiment id, value = module defining EXPERIMENT)."""
    from importlib import metadata

    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        MODULES.setdefault(ep.name, ep.value)


_load_entry_points()


def available() -> list[str]:
    """Experiment ids whose module is present in this checkout."""
    names = []
    for name, module in MODULES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            names.append(name)
    return names


def get(name: str):
    if name not in available():
        raise ParamError(f"unknown experiment {name!r}: valid experiments are {', '.join(available())}")
    return importlib.import_module(MODULES[name]).EXPERIMENT
