"""sea-omd parameters, constants, the sweep, and the exact instance behind each unit.

Every unit is one SEA instance (problems/sea.py) and one learner; its keys are columns of the
results table.  ``instance`` rebuilds the host-side theta schedule, the noise variances and the
exact sigma_t^2 / Sigma_t^2 from a unit alone, so claims derive their x axes (sigma^2_{1:T},
Sigma^2_{1:T}, P_T) from the instance, not from recorded values.
"""
from __future__ import annotations

import math

import numpy as np

from experiments.params import Param, require
from problems import sea

SHOCK_CENTER = 1.5     # |c| / rho of the shocks adversary: c outside X, shocks to -c
DRIFT_RADIUS = 0.5     # radius / rho of the drifting theta's circle (inside X: dynamic regret)
ROTATION_RADIUS = 1.5  # radius / rho of the rotating theta (outside X: the optimism claim)
STEP_DELTA = 1.0       # delta in the adaptive step and in V
ALTERNATING_AMPLITUDE = 0.25   # the Sigma^2 ~ T control of the switches claim
SC_AMPLITUDE = 0.5     # alternating theta of the strongly convex rate claim: |Delta theta|^2 = 1
SC_OVERSTATED = 8.0    # the strongly convex control: the learner assumes lam 8x the loss's
FIT_POINTS = 5         # the top FIT_POINTS values of the sigma and Sigma sweeps are fitted
REGIMES = {  # name: (schedule, amplitude, s2) on the Huber loss (figure panels a-c)
    "stochastic": ("fixed", 0.0, 1.0),
    "adversarial": ("alternating", 0.25, 0.0),
    "intermediate": ("alternating", 0.0625, 0.25),
}

PARAMS = {
    "T": Param(10000, 50000, "rounds (horizon)", low=1),
    "d": Param(4, 4, "dimension of the convex-claim instances", low=2),
    "radius": Param(1.0, 1.0, "radius of the ball X", low=0, open_low=True),
    "huber_delta": Param(0.5, 0.5, "Huber threshold of the convex instance", low=0, open_low=True),
    "noise_levels": Param(tuple(0.16 * 2.0**k for k in range(7)), tuple(0.04 * 2.0**k for k in range(9)),
                          "noise variances s^2 of the sigma sweep (the top 5 are fitted)", low=0,
                          open_low=True),
    "amplitudes": Param(tuple(0.25 * 2.0 ** (-k / 2) for k in range(6, -1, -1)),
                        tuple(0.25 * 2.0 ** (-k / 2) for k in range(8, -1, -1)),
                        "alternation amplitudes a of the Sigma sweep (theta_t = +/- a e_1; the top 5 "
                        "are fitted)", low=0, open_low=True),
    "switches": Param(4, 4, "number of shocks K of the near-stationary adversary (flat-in-T claim)",
                      low=1),
    "shock_counts": Param((8, 16, 32, 64, 128), (8, 16, 32, 64, 128, 256),
                          "numbers of shocks K of the growth-in-K sweep (fixed T)", low=1),
    "grid_noise": Param((0.0, 0.01, 0.04, 0.16, 0.64), (0.0, 0.01, 0.04, 0.16, 0.64),
                        "noise variances s^2 of the (sigma, Sigma) interpolation grid", low=0),
    "grid_amplitudes": Param((0.0, 0.0625, 0.125, 0.25, 0.5), (0.0, 0.0625, 0.125, 0.25, 0.5),
                             "alternation amplitudes a of the interpolation grid", low=0),
    "drift_laps": Param((1, 2, 3, 5, 8), (1, 2, 4, 8, 16),
                        "laps of the drifting theta (path length ~ pi radius laps)", low=0, open_low=True),
    "drift_noise": Param(0.25, 0.25, "noise variance s^2 of the dynamic-regret runs", low=0),
    "rotation": Param(0.5, 0.5, "angle c/sqrt(T) per round of the rotating theta (optimism claim)",
                      low=0, open_low=True),
    "sc_noise": Param(1.0, 1.0, "noise variance s^2 of the strongly convex / exp-concave runs", low=0,
                      open_low=True),
    "dims": Param((2, 3, 4, 6, 8), (2, 3, 4, 6, 8, 12, 16), "dimensions of the exp-concave sweep", low=1),
}
TRIALS = {"quick": 16, "full": 24}


def check_params(p):
    T = p["T"]
    require(T >= 1000, f"T={T} is out of range: needs T >= 1000 (horizons T/16..T, fits from T/100)")
    for key in ("noise_levels", "amplitudes"):
        require(len(p[key]) >= FIT_POINTS + 1,
                f"{key} needs >= {FIT_POINTS + 1} values (the top {FIT_POINTS} are fitted)")
    require(max(p["amplitudes"]) <= min(p["huber_delta"], p["radius"]),
            f"amplitudes must be <= min(huber_delta, radius) so Sigma_t^2 = (2a)^2 exactly "
            f"(got max {max(p['amplitudes'])})")
    require(len(p["dims"]) >= 5, "dims needs >= 5 dimensions (a slope is fitted over them)")
    require(len(p["shock_counts"]) >= 5, "shock_counts needs >= 5 values (a slope is fitted over them)")
    require(max(p["shock_counts"]) <= T // 10,
            f"shock_counts must be <= T/10 (={T // 10}) so the static comparator stays c/|c| "
            f"(got max {max(p['shock_counts'])})")
    require(p["switches"] <= max(T // 16, 10) // 10,
            f"switches={p['switches']} is out of range: needs <= (T/16)/10 shocks (the shortest "
            f"horizon of the flat-in-T sweep)")
    require(len(p["drift_laps"]) >= 5 and max(p["drift_laps"]) >= 8 * min(p["drift_laps"]),
            "drift_laps needs >= 5 values spanning >= 8x (a slope in P_T is fitted over them)")
    require(max(p["drift_laps"]) * 2 * np.pi * DRIFT_RADIUS * p["radius"] <= T / 20,
            "drift_laps is too large for T: theta must move < 0.05 per round")
    require(p["rotation"] <= 2.0, f"rotation={p['rotation']} is out of range: needs <= 2 (a slow rotation)")
    for key in ("grid_noise", "grid_amplitudes"):
        require(len(p[key]) >= 3, f"{key} needs >= 3 values (a checkerboard split is fitted on)")
    require(max(p["grid_amplitudes"]) <= min(p["huber_delta"], p["radius"]),
            f"grid_amplitudes must be <= min(huber_delta, radius) so Sigma_t^2 is exact "
            f"(got max {max(p['grid_amplitudes'])})")


def memory(p, trials) -> float:
    """Estimated peak bytes: the larger of one unit's (R, T, d) noise and temporaries at the
    largest d, and a batch of units run together (runs.run_units): its noise, per-row thetas and
    draws over up to MAX_BATCH_ROWS rows at the convex-claim d."""
    from experiments.runner import MAX_BATCH_ROWS, MAX_BATCH_UNITS

    rows = min(MAX_BATCH_UNITS * trials, max(MAX_BATCH_ROWS, trials))
    return 8.0 * p["T"] * max(16 * trials * max(max(p["dims"]), p["d"]), 4 * rows * p["d"])


def horizons(p) -> list[int]:
    """T/16, T/8, T/4, T/2, T: the horizons of the flat-in-T claims."""
    return [max(p["T"] // 2**k, 10) for k in (4, 3, 2, 1, 0)]


def grid_cells(p):
    """(s2, a, fitting half?) of the interpolation grid (checkerboard split)."""
    return [(float(s2), float(a), (i + j) % 2 == 0)
            for i, s2 in enumerate(p["grid_noise"]) for j, a in enumerate(p["grid_amplitudes"])]


def unit(setting, loss, schedule, p, *, s2=0.0, amplitude=0.0, algorithm="oomd", horizon=None,
         dim=None, decay=False, switches=0, laps=0.0, lam=1.0):
    """One run unit; every unit carries every key so each column has one type."""
    return {"setting": setting, "loss": loss, "schedule": schedule, "s2": float(s2),
            "amplitude": float(amplitude), "algorithm": algorithm,
            "T": int(horizon or p["T"]), "d": int(dim or p["d"]), "decay": bool(decay),
            "switches": int(switches), "laps": float(laps), "lam": float(lam)}


def rotation_laps(p, horizon: int) -> float:
    """Laps of the rotating theta over ``horizon`` rounds: angle rotation/sqrt(T) per round."""
    return p["rotation"] * math.sqrt(horizon) / (2.0 * math.pi)


def sweep(p):
    units = []
    for loss in ("huber", "l1"):
        units += [unit(f"sigma-sweep-{loss}", loss, "fixed", p, s2=s2) for s2 in p["noise_levels"]]
        units += [unit(f"Sigma-sweep-{loss}", loss, "alternating", p, amplitude=a) for a in p["amplitudes"]]
    units += [unit("switches", "quadratic", "shocks", p, horizon=h, switches=p["switches"]) for h in horizons(p)]
    units.append(unit("alternating", "quadratic", "alternating", p, amplitude=ALTERNATING_AMPLITUDE))
    for alg in ("oomd", "omd-plain"):
        units += [unit("predictable", "quadratic", "drift", p, algorithm=alg, horizon=h,
                       amplitude=ROTATION_RADIUS * p["radius"], laps=rotation_laps(p, h))
                  for h in horizons(p)]
    s2 = p["sc_noise"]
    units += [unit("sc-decaying", "quadratic", "fixed", p, s2=s2, decay=True, algorithm="oomd-sc"),
              unit("sc-constant", "quadratic", "fixed", p, s2=s2, algorithm="oomd-sc")]
    for alg, lam in (("oomd-sc", 1.0), ("oomd-sc-inverse-sqrt", 1.0), ("oomd-sc", SC_OVERSTATED)):
        units.append(unit("sc-alternating", "quadratic", "alternating", p, s2=s2, decay=True,
                          amplitude=SC_AMPLITUDE * p["radius"], algorithm=alg, lam=lam))
    for k in p["dims"]:
        units += [unit("exp-concave", "quadratic", "fixed", p, s2=s2, dim=k, algorithm="oons"),
                  unit("exp-concave-sc", "quadratic", "fixed", p, s2=s2, dim=k, algorithm="oomd-sc")]
    for regime, (schedule, a, s2r) in REGIMES.items():
        units += [unit(f"regime-{regime}", "huber", schedule, p, s2=s2r, amplitude=a, algorithm=alg)
                  for alg in ("oomd", "ogd", "oftrl")]
    for s2g, a, fit in grid_cells(p):
        units.append(unit("grid-huber", "huber", "alternating", p, s2=s2g, amplitude=a))
        if not fit:
            units.append(unit("grid-l1", "l1", "alternating", p, s2=s2g, amplitude=a))
    for k in p["shock_counts"]:
        units += [unit("shocks-K", "quadratic", "shocks", p, switches=k),
                  unit("shocks-K-frozen", "quadratic", "shocks", p, switches=k, algorithm="oomd-frozen")]
    for laps in p["drift_laps"]:
        kw = {"s2": p["drift_noise"], "amplitude": DRIFT_RADIUS * p["radius"], "laps": laps}
        units += [unit("dynamic", "quadratic", "drift", p, algorithm="oomd-dynamic", **kw),
                  unit("dynamic-static", "quadratic", "drift", p, algorithm="oomd-static-step", **kw)]
    return units


def instance(u, p):
    """Host-side theta schedule (T, d), noise variances s_t^2, and exact sigma_t^2, Sigma_t^2."""
    T, d, rho = u["T"], u["d"], p["radius"]
    center = np.zeros(d)
    if u["schedule"] == "fixed":
        center[0] = 0.5 * rho
    elif u["schedule"] == "shocks":
        center[0] = SHOCK_CENTER * rho
    thetas = sea.theta_schedule(u["schedule"], T, d, center=center, amplitude=u["amplitude"],
                                switches=u["switches"], far=rho, laps=u["laps"])
    s2 = sea.noise_levels(T, u["s2"], decay=u["decay"])
    # l1 has no Sigma_t (not smooth); its x axis uses the same schedule's |Delta theta|^2
    smooth = u["loss"] if u["loss"] != "l1" else "quadratic"
    Sig = sea.adversarial_variation(smooth, thetas, rho, p["huber_delta"])
    return thetas, s2, sea.stochastic_variance(s2), Sig


def variation(sig, Sig) -> float:
    """V = delta + 4 sigma^2_{1:T} + 2 Sigma^2_{1:T} >= E sum ||g_t - M_t||^2 up to the
    movement term (g_t - M_t = grad F_t(x_t) - grad F_{t-1}(x_{t-1}) + xi_t - xi_{t-1})."""
    return STEP_DELTA + 4.0 * sea.cumulative(sig) + 2.0 * sea.cumulative(Sig)


def record_rounds(T: int, p) -> list[int]:
    """About 40 log-spaced rounds in [1, T], plus the rounds the claims read (T/100, T/10, the
    horizons)."""
    grid = np.unique(np.round(np.geomspace(1, T, 40)).astype(int))
    extra = [p["T"] // 100, p["T"] // 10] + horizons(p)
    return sorted(set(grid.tolist()) | {int(e) for e in extra if 1 <= e <= T} | {T})
