"""A tiny experiment used to test the runner, cache and CLI without any paper's cost."""
from __future__ import annotations

import numpy as np
import sympy as sp
from array_api_compat import array_namespace

from experiments.base import Experiment, Trace, claim
from experiments.params import Param, require
from theory import Claim, Curves, semilog_slope


def contract(x0, q, steps):
    """x_t = q^t x0, batched over trials (the 'algorithm')."""
    xp = array_namespace(x0)
    out = [x0]
    for _ in range(steps):
        out.append(q * out[-1])
    return xp.stack(out, axis=1)


PARAMS = {
    "q": Param(0.9, 0.9, "contraction factor", low=0, high=1, open_low=True, open_high=True),
    "steps": Param(50, 200, "iterations", low=2),
    "qs": Param((0.5, 0.9), (0.5, 0.9), "extra factors swept", low=0, open_low=True),
    "blowup": Param(False, False, "add a diverging unit"),
}


class Hooks:
    """Counters the tests use to interrupt a sweep."""

    calls = 0
    interrupt_after = None


def check_params(p):
    require(p["steps"] >= 2 * len(p["qs"]), f"steps={p['steps']} is too small: needs steps >= 2*len(qs)")


def sweep(p):
    units = [{"setting": "main", "q": p["q"]}, {"setting": "flat", "q": 1.0}]
    units += [{"setting": "extra", "q": q} for q in p["qs"]]
    if p["blowup"]:
        units.append({"setting": "blowup", "q": 1e300})
    return units


def run_unit(unit, p, env):
    Hooks.calls += 1
    if Hooks.interrupt_after is not None and Hooks.calls > Hooks.interrupt_after:
        raise KeyboardInterrupt
    x0 = env.asarray(np.array([1.0 + rng.random() for rng in env.rngs]))
    path = contract(x0, unit["q"], p["steps"])
    return Trace(np.arange(p["steps"] + 1), {"error": path}, np.arange(p["steps"] + 1) * 2,
                 {"final": path[:, -1]}, {"solver": "none"})


t_, q_ = sp.symbols("t q", positive=True)


@claim(lambda p: Claim(id="toy/linear", source="toy", statement="x_t = q^t x_0 converges linearly",
                       quantity="log error slope", kind="rate", predicted=semilog_slope(q_**t_, t_),
                       relation="eq", control="q = 1 (no contraction)", tolerance=1e-6,
                       symbols={"q": p["q"]}, r2_min=0.99))
def linear(results, p):
    """x_t = q^t x_0: the semilog slope is log q.  Control: q = 1 has slope 0."""
    main, flat = results.get(setting="main"), results.get(setting="flat")
    return (Curves(main.iterations, main.series["error"], "semilog", setting="main"),
            Curves(flat.iterations, flat.series["error"], "semilog", setting="flat"))


EXPERIMENT = Experiment(name="toy", title="geometric contraction", paper="none", params=PARAMS,
                        sweep=sweep, run_unit=run_unit, claims=[linear], check_params=check_params,
                        trials={"quick": 4, "full": 4}, figure="toy_figure",
                        metrics={"error": "x_t (dimensionless)"})
