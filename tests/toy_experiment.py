"""A tiny experiment used to test the runner, cache and CLI without any paper's cost."""
from __future__ import annotations

import numpy as np
import sympy as sp
from array_api_compat import array_namespace

from experiments.backend import to_backend
from experiments.base import Experiment, Trace
from experiments.params import Param, require
from theory import Claim, Curves, semilog_slope


def contract(x0, q, steps):
    """x_t = q^t x0, batched over trials (the 'algorithm')."""
    xp = array_namespace(x0)
    out = [x0]
    for _ in range(steps):
        out.append(q * out[-1])
    return xp.stack(out, axis=1)


class Toy(Experiment):
    name = "toy"
    title = "geometric contraction"
    paper = "none"
    params = {
        "q": Param(0.9, 0.9, "contraction factor", low=0, high=1, open_low=True, open_high=True),
        "steps": Param(50, 200, "iterations", low=2),
        "qs": Param((0.5, 0.9), (0.5, 0.9), "extra factors swept", low=0, open_low=True),
        "blowup": Param(False, False, "add a diverging unit"),
    }
    trials = {"quick": 4, "full": 4}
    calls = 0
    interrupt_after = None

    def check_params(self, p):
        require(p["steps"] >= 2 * len(p["qs"]), f"steps={p['steps']} is too small: needs steps >= 2*len(qs)")

    def sweep(self, p):
        units = [{"setting": "main", "q": p["q"]}, {"setting": "flat", "q": 1.0}]
        units += [{"setting": "extra", "q": q} for q in p["qs"]]
        if p["blowup"]:
            units.append({"setting": "blowup", "q": 1e300})
        return units

    def run_unit(self, unit, p, rngs, xp):
        type(self).calls += 1
        if self.interrupt_after is not None and type(self).calls > self.interrupt_after:
            raise KeyboardInterrupt
        x0 = to_backend(np.array([1.0 + rng.random() for rng in rngs]), xp)
        path = contract(x0, unit["q"], p["steps"])
        return Trace(np.arange(p["steps"] + 1), {"error": path}, np.arange(p["steps"] + 1) * 2,
                     {"final": path[:, -1]}, {"solver": "none"})

    def claims(self, p):
        t, q = sp.symbols("t q", positive=True)
        return [Claim("toy/linear", "toy", "x_t = q^t x_0 converges linearly", "log error slope", "rate",
                      semilog_slope(q**t, t), "eq", "q = 1 (no contraction)", tolerance=1e-6,
                      symbols={"q": p["q"]}, r2_min=0.99)]

    def evidence(self, claim, results, p):
        main, flat = results.get(setting="main"), results.get(setting="flat")
        return (Curves(main.iterations, main.series["error"], "semilog", setting="main"),
                Curves(flat.iterations, flat.series["error"], "semilog", setting="flat"))

    def figure(self, results, p):
        from experiments.plotting import band, panels

        fig, (ax,) = panels(1, width=3.4)
        for unit, tr in results.items():
            band(ax, tr.iterations, tr.series["error"], label=unit["setting"])
        ax.set_yscale("log")
        return fig


EXPERIMENT = Toy()
