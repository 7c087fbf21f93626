"""A second toy experiment (same model, another name) for tests that need two experiments."""
import dataclasses

from experiments.base import ClaimCheck, Experiment
from toy_experiment import EXPERIMENT as _toy

_claims = [ClaimCheck(lambda p, c=c: dataclasses.replace(c.claim_for(p), id="toy-b/linear"), c.gather)
           for c in _toy.claim_checks]
EXPERIMENT = Experiment(name="toy-b", title="geometric contraction again", paper="none", params=_toy.params,
                        sweep=_toy._sweep, run_unit=_toy._run_unit, claims=_claims, check_params=_toy._check,
                        trials=_toy.trials, metrics=_toy.metrics, figure="toy_figure")
