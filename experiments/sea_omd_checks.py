"""sea-omd, second part: the interpolation bound, growth with the number of shocks K, dynamic regret.

Split from sea_omd.py for length; the experiment class calls these helpers.

1. convex-interpolation (Chen et al., Theorem 1: E[regret] <= C (sqrt(sigma^2_{1:T}) +
   sqrt(Sigma^2_{1:T})) + C', C and C' depending on D, G, L only).  A (s^2, a) grid of Huber
   instances (noise N(0, s^2 I/d), theta = +/- a e_1 alternating); the grid is split like a
   checkerboard.  On the fitting half, C and C' give the tightest bound of the theorem's form
   above every cell's expected regret (trial mean; least total gap, see fit_interpolation); the
   check is that every held-out cell's expected regret stays under the fitted bound.  Control: the l1
   loss on the held-out cells, against the same bound.  The theorem's constants do not depend
   on T, and without smoothness the adaptive step pays a sqrt(T) term at every cell (issue note:
   208..1693 for T = 1k..64k with sigma = Sigma = 0), so a bound fitted on the smooth loss must fail.
2. switches-sqrt-K (Theorem 1 with sigma = 0 and Sigma^2_{1:T} = Sigma_1^2 + 2K |2c|^2 exactly):
   on the 'shocks' adversary (see sea_omd.py) OOMD's regret at fixed T grows like
   sqrt(Sigma^2_{1:T}) ~ sqrt(K).  Theorem 1 is an upper bound; the relation is 'eq' because the
   issue claims growth with K and on this instance the bound is attained up to a constant (each
   shock costs ~ eta_t, eta_t ~ 1/sqrt(Sigma^2_{1:t})), whereas a flat curve (the first helper's
   ray instance) would pass an 'le' check without showing any growth.  Control: OOMD with its
   first step eta_1 = D/sqrt(delta + 4G^2) frozen; the same OMD lemma then gives
   D^2/(2 eta) + eta Sigma^2_{1:T}, linear in K, and every shock costs the same: slope ~ 1.
3. dynamic-path-length.  Form found: Chen et al. (ICML 2023 / JMLR 2024, dynamic-regret section)
   extend OOMD to dynamic regret against any comparator sequence with path length
   P_T = sum ||u_t - u_{t-1}||, E[D-regret] = O(sqrt((1 + P_T + sigma^2_{1:T} + Sigma^2_{1:T})
   (1 + P_T))), with a meta-learner over a grid of step sizes because P_T is unknown (the
   construction of Zhao, Zhang, Zhang, Zhou, JMLR 2024, whose Lemma 1 bounds optimistic OMD with
   a constant step by (D^2 + 2 D P_T)/(2 eta) + eta sum ||g_t - M_t||^2).  The meta-learner is not
   implemented: the learner is a single OOMD whose constant step is tuned for the known P_T and
   V = delta + 4 sigma^2_{1:T} + 2 Sigma^2_{1:T} (online.dynamic_step), whose bound is
   sqrt(2 (D^2 + 2 D P_T) V); with D = 2 this is sqrt(8 (1 + P_T) V), the paper's form when
   V >> P_T, and its log-log slope in P_T is the predicted value.  Instance: quadratic loss,
   theta_t on a circle of radius rho/2 inside X travelled `laps` times (u_t = theta_t, F_t(u_t) = 0,
   P_T ~ pi rho laps), noise s^2 = drift_noise.  Control: the same OOMD with the static tuning
   (P_T = 0 in the step): the lemma gives (D^2 + 2 D P_T)/(2 eta_0) + eta_0 V, linear in P_T.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from algorithms import online
from problems import sea
from theory import Claim, loglog_slope
from theory.evidence import Bounded, Curves

from .params import require

SHOCK_CENTER = 1.5     # |c| / rho of the shocks adversary: c outside X, shocks to -c
DRIFT_RADIUS = 0.5     # radius / rho of the drifting theta's circle (inside X)
STEP_DELTA = 1.0       # delta in the adaptive step and in V
ALGORITHMS = ("oomd-dynamic", "oomd-static-step", "oomd-frozen")


def check_params(p):
    T = p["T"]
    require(len(p["shock_counts"]) >= 3, "shock_counts needs >= 3 values (a slope is fitted over them)")
    require(max(p["shock_counts"]) <= T // 10,
            f"shock_counts must be <= T/10 (={T // 10}) so the static comparator stays c/|c| "
            f"(got max {max(p['shock_counts'])})")
    require(p["switches"] <= max(p["T"] // 16, 10) // 10,
            f"switches={p['switches']} is out of range: needs <= (T/16)/10 shocks (the shortest "
            f"horizon of the flat-in-T sweep)")
    require(len(p["drift_laps"]) >= 4 and max(p["drift_laps"]) >= 8 * min(p["drift_laps"]),
            "drift_laps needs >= 4 values spanning >= 8x (a slope in P_T is fitted over them)")
    require(max(p["drift_laps"]) * 2 * np.pi * DRIFT_RADIUS * p["radius"] <= T / 20,
            "drift_laps is too large for T: theta must move < 0.05 per round")
    for key in ("grid_noise", "grid_amplitudes"):
        require(len(p[key]) >= 3, f"{key} needs >= 3 values (a checkerboard split is fitted on)")
    require(max(p["grid_amplitudes"]) <= min(p["huber_delta"], p["radius"]),
            f"grid_amplitudes must be <= min(huber_delta, radius) so Sigma_t^2 is exact "
            f"(got max {max(p['grid_amplitudes'])})")


def grid_cells(p):
    """(i, j, s2, a, fitting half?) for the interpolation grid (checkerboard split)."""
    return [(i, j, float(s2), float(a), (i + j) % 2 == 0)
            for i, s2 in enumerate(p["grid_noise"]) for j, a in enumerate(p["grid_amplitudes"])]


def units(p, unit):
    out = []
    for i, j, s2, a, fit in grid_cells(p):
        out.append(unit("grid-huber", "huber", "alternating", s2=s2, amplitude=a))
        if not fit:
            out.append(unit("grid-l1", "l1", "alternating", s2=s2, amplitude=a))
    for k in p["shock_counts"]:
        out += [unit("shocks-K", "quadratic", "shocks", switches=k),
                unit("shocks-K-frozen", "quadratic", "shocks", switches=k, algorithm="oomd-frozen")]
    for laps in p["drift_laps"]:
        kw = {"s2": p["drift_noise"], "amplitude": DRIFT_RADIUS * p["radius"], "laps": laps}
        out += [unit("dynamic", "quadratic", "drift", algorithm="oomd-dynamic", **kw),
                unit("dynamic-static", "quadratic", "drift", algorithm="oomd-static-step", **kw)]
    return out


def variation(sig, Sig) -> float:
    """V = delta + 4 sigma^2_{1:T} + 2 Sigma^2_{1:T} >= E sum ||g_t - M_t||^2 up to the
    movement term (g_t - M_t = grad F_t(x_t) - grad F_{t-1}(x_{t-1}) + xi_t - xi_{t-1})."""
    return STEP_DELTA + 4.0 * sea.cumulative(sig) + 2.0 * sea.cumulative(Sig)


def run_algorithm(alg, stream, D, G, sig, Sig, thetas, checks):
    if alg == "oomd-frozen":
        return online.oomd_fixed_step(stream, D / np.sqrt(STEP_DELTA + 4.0 * G * G), checks)
    path = sea.path_length(thetas) if alg == "oomd-dynamic" else 0.0
    return online.oomd_fixed_step(stream, online.dynamic_step(D, path, variation(sig, Sig)), checks)


def shock_variation(exp, p, K) -> float:
    """Sigma^2_{1:T} of the shocks instance with K shocks (exact)."""
    u = {"T": p["T"], "d": p["d"], "schedule": "shocks", "loss": "quadratic", "amplitude": 0.0,
         "switches": int(K), "laps": 0.0, "s2": 0.0, "decay": False}
    _, _, _, Sig = exp.instance(u, p)
    return sea.cumulative(Sig)


def _geo_mid(v):
    return float(np.exp(np.mean(np.log(np.asarray(v, dtype=float)))))


def claims(exp, p):
    n = exp.name
    sig2, Sig2, K, P, C, Cp, S1, q, D, V = sp.symbols("sigma2 Sigma2 K P C Cp S1 q D V",
                                                     nonnegative=True)
    rho = p["radius"]
    S1v = shock_variation(exp, p, 0)                     # the first round's (rho + |c|)^2
    qv = (shock_variation(exp, p, 1) - S1v)              # two switches of size 2|c| per shock
    paths, Vs = [], []
    for laps in p["drift_laps"]:
        u = next(x for x in exp.sweep(p) if x["setting"] == "dynamic" and x["laps"] == float(laps))
        th, _, sig, Sig = exp.instance(u, p)
        paths.append(sea.path_length(th))
        Vs.append(variation(sig, Sig))
    return [
        Claim(
            id=f"{n}/convex-interpolation", kind="bound", relation="le",
            source="Chen et al. (ICML 2023 / JMLR 2024), Theorem 1 (convex and smooth)",
            statement="Between the regimes, E[regret_T] <= C (sqrt(sigma^2_{1:T}) + "
                      "sqrt(Sigma^2_{1:T})) + C' with C, C' fitted on half of a (sigma, Sigma) grid",
            quantity="trial-mean regret_T / fitted bound on the held-out (checkerboard) cells",
            predicted=C * (sp.sqrt(sig2) + sp.sqrt(Sig2)) + Cp,
            control="l1 (non-smooth) loss on the held-out cells against the bound fitted on the "
                    "smooth loss: a sqrt(T) term the bound lacks",
            # the fitted envelope touches fitting cells; between them the regret, concave in s
            # (local slope ~0.97 on the sigma = 0 edge), lies a few percent above the chord, and
            # the trial means carry a <= 2% standard error: 10% covers both, while the l1 control
            # sits > 3x above the bound
            tolerance=0.1),
        Claim(
            id=f"{n}/switches-sqrt-K", kind="rate", relation="eq",
            source="Chen et al. (ICML 2023 / JMLR 2024), Theorem 1 with sigma = 0 and "
                   "Sigma^2_{1:T} = Sigma_1^2 + 2K (2|c|)^2",
            statement="With K shocks of theta and no noise, OOMD's regret at fixed T grows like "
                      "sqrt(Sigma^2_{1:T}) ~ sqrt(K)",
            quantity="log-log slope of regret_T in K at fixed T",
            predicted=loglog_slope(sp.sqrt(sig2) + sp.sqrt(S1 + q * K), K),
            symbols={"sigma2": 0.0, "S1": S1v, "q": qv, "K": _geo_mid(p["shock_counts"])},
            control="OOMD with its first step frozen (no adaptivity): D^2/eta + eta Sigma^2, "
                    "slope ~ 1 in K",
            # the additive first-round and convergence terms bend the curve at small K; 0.1 is a
            # fifth of the exponent and excludes the control's ~1 and a flat curve's 0
            tolerance=0.1),
        Claim(
            id=f"{n}/dynamic-path-length", kind="rate", relation="eq",
            source="Chen et al. (ICML 2023 / JMLR 2024), dynamic regret of OOMD, "
                   "O(sqrt((1 + P_T + sigma^2 + Sigma^2)(1 + P_T))); constant-step form from "
                   "Zhao et al. (JMLR 2024), Lemma 1",
            statement="OOMD with the step tuned for a known path length has dynamic regret "
                      "~ sqrt((D^2 + 2 D P_T) V): it grows like sqrt(P_T) when V >> P_T",
            quantity="log-log slope of dynamic regret_T in P_T at fixed T and sigma",
            predicted=loglog_slope(sp.sqrt((D**2 + 2 * D * P) * V), P),
            symbols={"D": 2 * rho, "P": _geo_mid(paths), "V": _geo_mid(Vs)},
            control="the same OOMD with the static tuning (P_T = 0 in the step): "
                    "(D^2 + 2 D P_T)/(2 eta_0), slope ~ 1 in P_T",
            # the tuned bound drops an eta^2 term and the lag bias (relative size ~ sigma
            # sqrt(P_T / T)); they raise the local slope by up to ~0.06 on the quick grid; 0.1
            # keeps the control's ~1 far outside
            tolerance=0.1),
    ]


def evidence(exp, claim, results, p):
    slug = claim.id.split("/", 1)[1]
    if slug == "convex-interpolation":
        C, Cp, fit_x, fit_y = fit_interpolation(results, p)
        held = _grid_means(results, p, "grid-huber", fit=False)
        ctl = _grid_means(results, p, "grid-l1", fit=False)
        bound = lambda cells: claim.evaluate(sigma2=cells[:, 0], Sigma2=cells[:, 1], C=C, Cp=Cp)
        return (Bounded(held[None, :, 2], bound(held)[None, :], f"held-out Huber (C={C:.3g}, C'={Cp:.3g})"),
                Bounded(ctl[None, :, 2], bound(ctl)[None, :], "held-out l1"))
    if slug == "switches-sqrt-K":
        return (_curves(results, "shocks-K", "switches"), _curves(results, "shocks-K-frozen", "switches"))
    if slug == "dynamic-path-length":
        return (_curves(results, "dynamic", "path_length"), _curves(results, "dynamic-static", "path_length"))
    raise KeyError(claim.id)


def _curves(results, setting, key):
    rows = []
    for u, t in results.select(setting=setting):
        x = float(u[key]) if key in u else float(t.scalars[key][0])
        rows.append((x, t.scalars["regret_T"]))
    rows.sort(key=lambda r: r[0])
    return Curves(np.array([r[0] for r in rows]), np.stack([r[1] for r in rows], axis=1), "loglog",
                  None, setting)


def _grid_means(results, p, setting, fit):
    """rows (sigma^2_{1:T}, Sigma^2_{1:T}, trial-mean regret_T) of one half of the grid."""
    rows = []
    for _, _, s2, a, in_fit in grid_cells(p):
        if in_fit != fit:
            continue
        t = results.get(setting=setting, s2=s2, amplitude=a)
        rows.append((t.scalars["sigma2_total"][0], t.scalars["Sigma2_total"][0],
                     float(np.mean(t.scalars["regret_T"]))))
    return np.array(rows)


def fit_interpolation(results, p):
    """C, C' of the tightest bound over the fitting cells; also their s and trial-mean regret."""
    cells = _grid_means(results, p, "grid-huber", fit=True)
    s = np.sqrt(cells[:, 0]) + np.sqrt(cells[:, 1])
    C, Cp = tightest_envelope(s, cells[:, 2])
    return C, Cp, s, cells[:, 2]


def tightest_envelope(s, y):
    """The line C s + C' (C, C' >= 0) above every point (s_i, y_i) with the least total gap
    sum_i (C s_i + C' - y_i): a two-variable LP whose optimum passes through two points or has
    C' = 0, so the candidates are enumerated."""
    s, y = np.asarray(s, dtype=float), np.asarray(y, dtype=float)
    candidates = [(float(np.max(y / s)), 0.0)]
    for i in range(len(s)):
        for j in range(len(s)):
            if s[j] > s[i]:
                C = (y[j] - y[i]) / (s[j] - s[i])
                candidates.append((float(C), float(y[i] - C * s[i])))
    slack = 1e-9 * max(1.0, float(np.max(np.abs(y))))
    feasible = [(C, Cp) for C, Cp in candidates
                if C >= 0 and Cp >= 0 and np.all(C * s + Cp >= y - slack)]
    return min(feasible, key=lambda c: c[0] * s.sum() + c[1] * len(s))
