"""matrix-sensing: how over-parameterization slows gradient descent (Xiong, Ding, Du, ICLR 2024).

Settings (all at small scale, trials as a batch axis):
- symmetric: M* PSD of rank r, GD on X X^T with k = r (exact) and k > r (over-parameterized);
- asymmetric: M* of rank r, GD on F G^T (F initialized at scale alpha, G at alpha/3), k = r and
  k > r over a grid of alpha; and the one-step modification (a rebalancing step, see
  algorithms.factorized_gd.rebalance) over a second grid of alpha;
- the cvxpy ground truth (trace minimization over PSD matrices subject to A(X) = y) on the
  symmetric instances, and on an under-sampled instance as negative control.
The measured error is ||Z_t - M*||_F^2, the quantity of the paper's theorems.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from algorithms.factorized_gd import asymmetric_gd, symmetric_gd
from problems.matrix_sensing import (asymmetric_instance, nuclear_norm_recovery, random_factor,
                                     recovery_dof, relative_error, symmetric_instance)
from theory import Claim
from theory.evidence import Curves, Paired, Values
from theory.fits import fit_rates, tail_window
from theory.symbolic import loglog_slope, semilog_slope

from .backend import to_backend, to_numpy
from .base import Experiment, Trace
from .params import Param, require

SOURCE = "Xiong, Ding, Du (ICLR 2024)"
# Squared Frobenius error below which a run is at the round-off floor (relative 1e-11 in
# Frobenius norm, well above the ~1e-15 at which float64 iterates stall): fits end before it.
FLOOR = 1e-22
T, c, alpha, beta, power = sp.symbols("T c alpha beta p", positive=True)


class MatrixSensing(Experiment):
    name = "matrix-sensing"
    title = "Over-parameterization slows down gradient descent in matrix sensing"
    paper = ("N. Xiong, L. Ding, S. S. Du. How Over-Parameterization Slows Down Gradient Descent in "
             "Matrix Sensing: The Curses of Symmetry and Initialization. ICLR 2024.")
    params = {
        "n": Param(20, 24, "matrix size (n x n)", low=2),
        "r": Param(2, 3, "rank of M*", low=1),
        "sv_min": Param(0.7, 0.6, "smallest singular value of M* (they run linearly from 1 down to it)",
                        low=0, high=1, open_low=True),
        "k": Param(4, 5, "over-parameterized width of the factors (k > r)", low=1),
        "m_sym": Param(120, 220, "measurements, symmetric setting", low=1),
        "m_asym": Param(240, 350, "measurements, asymmetric setting", low=1),
        "m_under": Param(18, 30, "measurements of the under-sampled control instance", low=1),
        "step": Param(0.2, 0.2, "GD step size", low=0, high=0.5, open_low=True),
        "iters": Param(3000, 5000, "GD iterations (over-parameterized runs)", low=10),
        "iters_exact": Param(800, 1000, "GD iterations (exact-parameterized runs, k = r)", low=10),
        "alpha": Param(0.05, 0.05, "initialization scale of the symmetric runs", low=0, open_low=True),
        "alphas": Param((0.2, 0.25, 0.3, 0.4), (0.2, 0.25, 0.3, 0.35, 0.4),
                        "initialization scales of the asymmetric alpha^2 sweep", low=0, high=1, open_low=True),
        "alphas_modified": Param((0.05, 0.1, 0.2, 0.4), (0.05, 0.1, 0.2, 0.4),
                                 "initialization scales for the one-step modification", low=0, high=1, open_low=True),
        "beta": Param(0.5, 0.5, "scale of F after the rebalancing step", low=0, high=1, open_low=True),
        "rebalance_at": Param(300, 300, "iteration of the one-step modification", low=1),
    }
    trials = {"quick": 8, "full": 12}

    def check_params(self, p):
        n, r = p["n"], p["r"]
        require(r < n, f"r={r} is out of range: needs r < n (={n})")
        require(p["k"] > r, f"k={p['k']} is out of range: needs k > r (={r}) (the over-parameterized width)")
        require(p["k"] <= n, f"k={p['k']} is out of range: needs k <= n (={n})")
        sym_dim = n * (n + 1) // 2
        require(p["m_sym"] < sym_dim, f"m_sym={p['m_sym']} is out of range: needs m_sym < n(n+1)/2 (={sym_dim}); "
                "with more measurements A(X) = y alone determines X and there is nothing to recover")
        require(p["m_asym"] < n * n, f"m_asym={p['m_asym']} is out of range: needs m_asym < n^2 (={n * n})")
        dof = recovery_dof(n, r)
        require(p["m_sym"] > 2 * dof, f"m_sym={p['m_sym']} is out of range: needs m_sym > 2 r(2n-r+1)/2 (={2 * dof}) "
                "for exact recovery by nuclear-norm minimization")
        require(p["m_under"] < dof, f"m_under={p['m_under']} is out of range: needs m_under < r(2n-r+1)/2 (={dof}), "
                "below the dimension of rank-r PSD matrices (the control must be under-sampled)")
        require(len(p["alphas"]) >= 4, f"alphas={p['alphas']} needs at least 4 values (a slope in alpha)")
        require(len(p["alphas_modified"]) >= 2, f"alphas_modified={p['alphas_modified']} needs at least 2 values")
        require(p["rebalance_at"] < p["iters"] // 2,
                f"rebalance_at={p['rebalance_at']} is out of range: needs rebalance_at < iters/2 (={p['iters'] // 2}) "
                "so that the fitted tail comes after the modification")

    # ---- running --------------------------------------------------------------------------
    def sweep(self, p):
        r, k = p["r"], p["k"]
        units = [
            {"setting": "symmetric k=r", "model": "symmetric", "method": "gd", "k": r, "alpha": p["alpha"]},
            {"setting": f"symmetric k={k}", "model": "symmetric", "method": "gd", "k": k, "alpha": p["alpha"]},
        ]
        # every alpha of a grid runs on the same instance and the same (scaled) initial
        # directions: the dependence of the rate on alpha is then not blurred by the instance
        union = sorted(set(p["alphas"]) | set(p["alphas_modified"]))
        units += [
            {"setting": "asymmetric k=r", "model": "asymmetric", "method": "gd", "k": r,
             "alphas": sorted(p["alphas"])},
            {"setting": f"asymmetric k={k}", "model": "asymmetric", "method": "gd", "k": k, "alphas": union},
            {"setting": f"modified k={k}", "model": "asymmetric", "method": "rebalanced", "k": k,
             "alphas": sorted(p["alphas_modified"])},
        ]
        units.append({"setting": f"nuclear norm m={p['m_under']}", "model": "symmetric", "method": "cvxpy"})
        return units

    def run_unit(self, unit, p, rngs, xp):
        n, r = p["n"], p["r"]
        sv = np.linspace(1.0, p["sv_min"], r)
        if unit["method"] == "cvxpy":
            A, M, y = symmetric_instance(rngs, n, p["m_under"], sv)
            X, info = _solve_all(A, y, n)
            # one nominal recorded iteration: a trace without any trips the runner's divergence scan
            return Trace(np.zeros(1, dtype=np.int64), {}, None, {"cvx_error": _rel(X, M)}, info)
        long = unit["k"] > r
        iters = p["iters"] if long else p["iters_exact"]
        record = record_points(iters)
        k = unit["k"]
        if unit["model"] == "symmetric":
            A, M, y = symmetric_instance(rngs, n, p["m_sym"], sv)
            X0 = random_factor(rngs, n, k, unit["alpha"])
            out = symmetric_gd(to_backend(A, xp), to_backend(y, xp), to_backend(X0, xp), step=p["step"],
                               iterations=iters, record=record, target=to_backend(M, xp))
            X = np.asarray(to_numpy(out["X"]))
            Xc, info = _solve_all(A, y, n)
            scalars = {"cvx_error": _rel(Xc, M), "gd_vs_cvx": _rel(X @ np.swapaxes(X, -1, -2), Xc)}
            series = {"sq_error": np.asarray(to_numpy(out["error"]))}
        else:
            A, M, y = asymmetric_instance(rngs, n, n, p["m_asym"], sv)
            scales = np.asarray(unit["alphas"], dtype=float)[None, :, None, None]      # (1, G, 1, 1)
            F0 = random_factor(rngs, n, k, 1.0)[:, None] * scales                      # (R, G, n, k)
            G0 = random_factor(rngs, n, k, 1.0)[:, None] * (scales / 3)
            rebalance_at = p["rebalance_at"] if unit["method"] == "rebalanced" else None
            out = asymmetric_gd(to_backend(A, xp), to_backend(y, xp), to_backend(F0, xp), to_backend(G0, xp),
                                step=p["step"], iterations=iters, record=record,
                                target=to_backend(M[:, None], xp), rebalance_at=rebalance_at, beta=p["beta"])
            err = np.asarray(to_numpy(out["error"]))                                   # (R, G, T)
            series = {error_metric(a): err[:, g] for g, a in enumerate(unit["alphas"])}
            scalars, info = {}, {}
        its = np.asarray(out["iterations"], dtype=np.int64)
        return Trace(its, series, np.asarray(out["calls"]), scalars, info)

    # ---- claims ---------------------------------------------------------------------------
    def claims(self, p):
        k, r = p["k"], p["r"]
        a_lo, a_hi = min(p["alphas_modified"]), max(p["alphas_modified"])
        # Linear convergence: the semilog slope stays below the value every power law T^-p tends
        # to (0), with a good exponential fit that beats a power law on the same window.
        linear_boundary = semilog_slope(T**(-power), T, limit={T: sp.oo})
        alpha_rate = semilog_slope(sp.exp(-c * alpha**2 * T), T)        # Section 4: exp(-Omega(alpha^2 T))
        modified_rate = semilog_slope(sp.exp(-c * beta**2 * T), T)      # Section 5: alpha-free rate
        return [
            Claim(f"{self.name}/symmetric-exact-linear", f"{SOURCE}, Section 3 (symmetric, k = r: exp(-Omega(T)))",
                  "symmetric, k = r: GD converges linearly",
                  "semilog slope of ||XX^T - M*||_F^2 vs t (tail before the round-off floor)",
                  "rate", linear_boundary, "le", f"symmetric k={k} (k > r) must fail the linear check",
                  tolerance=0.0, r2_min=0.99),
            Claim(f"{self.name}/symmetric-over-sublinear", f"{SOURCE}, Theorem 3.1 (Omega(1/T^2) lower bound)",
                  "symmetric, k > r: the error decays no faster than 1/T^2, and not linearly",
                  "log-log slope of ||XX^T - M*||_F^2 vs t over the late tail",
                  # tolerance: the local slope approaches -2 from above; 0.25 absorbs the spread
                  # of a finite-window fit, far from the slopes of linear runs (< -10)
                  "rate", loglog_slope(T**-2, T), "ge", "symmetric k=r must fail (it is linear)",
                  tolerance=0.25, r2_min=0.99),
            Claim(f"{self.name}/asymmetric-exact-linear", f"{SOURCE}, Section 4 (asymmetric, k = r: exp(-Omega(T)))",
                  "asymmetric, k = r: GD converges linearly",
                  "semilog slope of ||FG^T - M*||_F^2 vs t", "rate", linear_boundary, "le",
                  f"symmetric k={k} (k > r) must fail the same check", tolerance=0.0, r2_min=0.99),
            Claim(f"{self.name}/asymmetric-over-alpha2", f"{SOURCE}, Section 4 (asymmetric, k > r: exp(-Omega(alpha^2 T)))",
                  "asymmetric, k > r: linear convergence with rate proportional to alpha^2",
                  "log-log slope of the fitted linear rate vs alpha",
                  # tolerance: +-0.3 in the exponent separates alpha^2 from alpha^1 and alpha^0.
                  # The alpha grid sits where the F/G imbalance sets the rate: below alpha ~ 0.15
                  # (at m = 0.6 n^2) the measured rate levels off near 7e-4, faster than alpha^2
                  # (the theorem bounds the rate from below, so this does not contradict it).
                  "rate", loglog_slope(-alpha_rate, alpha), "eq",
                  "asymmetric k=r, whose rate does not depend on alpha, must fail", tolerance=0.3, r2_min=0.9),
            Claim(f"{self.name}/modified-alpha-free", f"{SOURCE}, Section 5, eq. (5.1) (one-step modification)",
                  "the one-step modification converges at a rate independent of alpha",
                  "max/min over alpha of the fitted linear rate",
                  # predicted (alpha_max/alpha_min)^(d log rate / d log alpha) = 1; the
                  # tolerance 0.5 is the acceptance factor 1.5 across alpha
                  "phenomenon", (a_hi / a_lo) ** loglog_slope(-modified_rate, alpha), "le",
                  "plain GD over the same alphas (rate ~ alpha^2) must fail", tolerance=0.5),
            Claim(f"{self.name}/modified-speedup", f"{SOURCE}, Section 5 (rate exp(-Omega(T)) vs exp(-Omega(alpha^2 T)))",
                  f"at the smallest alpha ({a_lo:g}) the modification is at least 10x faster than plain GD",
                  "iterations per e-fold of plain GD / of the modified method",
                  # the theorems give (beta/alpha)^2 only up to constants: checked is the
                  # order-of-magnitude threshold 10 of the acceptance list
                  "order", sp.Integer(10), "ge",
                  f"the same comparison at the largest alpha ({a_hi:g}), where (beta/alpha)^2 is near 1, must fail"),
            Claim(f"{self.name}/cvxpy-exact-recovery", f"{SOURCE}, problem setting (RIP measurements: M* identifiable); cvxpy ground truth",
                  "nuclear-norm minimization s.t. A(X) = y (PSD) recovers M* exactly",
                  "||X_cvx - M*||_F / ||M*||_F", "phenomenon", sp.S.Zero, "le",
                  f"m = {p['m_under']} < r(2n-r+1)/2 measurements: the solution is not M*", tolerance=1e-6),
            Claim(f"{self.name}/gd-limit-equals-cvxpy", f"{SOURCE}, Section 3 (symmetric, k = r: exp(-Omega(T)))",
                  "GD (symmetric, k = r) reaches the cvxpy solution within the iteration budget",
                  "||X_T X_T^T - X_cvx||_F / ||X_cvx||_F", "phenomenon", sp.S.Zero, "le",
                  f"symmetric k={k} GD at its (longer) budget must fail: error >= c/T^2 (Theorem 3.1)",
                  tolerance=1e-6),
        ]

    def evidence(self, claim, results, p):
        """Evidence and negative control; each control is a setting the paper predicts to fail:
        - linear checks: symmetric k > r decays as a power law (Theorem 3.1), so a semilog fit is
          beaten by a log-log fit;
        - sublinear check: k = r is linear (Section 3), its log-log tail is steep and curved;
        - alpha^2 check: for k = r the rate does not depend on alpha (log-log slope ~ 0);
        - alpha-free check: plain GD's rate scales like alpha^2 (Section 4), so it spreads by
          (alpha_max / alpha_min)^2 across the grid;
        - speed-up: at the largest alpha, (beta / alpha)^2 is about 1: no 10x gain is predicted;
        - cvxpy: with fewer measurements than the dimension of rank-r PSD matrices no method can
          identify M*; GD with k > r is still at error ~ c/T^2 at its budget (Theorem 3.1).
        """
        slug = claim.id.split("/", 1)[1]
        k, r = p["k"], p["r"]
        sym_exact = results.get(model="symmetric", method="gd", k=r)
        sym_over = results.get(model="symmetric", method="gd", k=k)
        if slug == "symmetric-exact-linear":
            return self._linear(sym_exact, "symmetric k=r"), self._linear(sym_over, f"symmetric k={k}")
        if slug == "asymmetric-exact-linear":
            a = min(p["alphas"])
            asym = results.get(model="asymmetric", method="gd", k=r)
            return (self._linear(asym, f"asymmetric k=r a={a:g}", error_metric(a)),
                    self._linear(sym_over, f"symmetric k={k}"))
        if slug == "symmetric-over-sublinear":
            return self._power(sym_over, f"symmetric k={k}"), self._power(sym_exact, "symmetric k=r")
        if slug == "asymmetric-over-alpha2":
            alphas = np.array(sorted(p["alphas"]))
            over = self._rates(results, p, "gd", k, alphas)
            exact = self._rates(results, p, "gd", r, alphas)
            return (Curves(alphas, over, "loglog", setting=f"asymmetric k={k}", compare_models=False),
                    Curves(alphas, exact, "loglog", setting="asymmetric k=r", compare_models=False))
        if slug == "modified-alpha-free":
            alphas = np.array(sorted(p["alphas_modified"]))
            spread = lambda x: x.max(axis=1) / x.min(axis=1)
            return (Values(spread(self._rates(results, p, "rebalanced", k, alphas)), f"modified k={k}"),
                    Values(spread(self._rates(results, p, "gd", k, alphas)), f"plain GD k={k}"))
        if slug == "modified-speedup":
            def pair(a):
                mod = self._rates(results, p, "rebalanced", k, [a])[:, 0]
                plain = self._rates(results, p, "gd", k, [a])[:, 0]
                return Paired(1 / mod, 1 / plain, setting=f"a={a:g}")
            return pair(min(p["alphas_modified"])), pair(max(p["alphas_modified"]))
        if slug == "cvxpy-exact-recovery":
            under = results.get(method="cvxpy")
            good = np.concatenate([sym_exact.scalars["cvx_error"], sym_over.scalars["cvx_error"]])
            return (Values(good, f"m={p['m_sym']}"),
                    Values(under.scalars["cvx_error"], f"m={p['m_under']}"))
        if slug == "gd-limit-equals-cvxpy":
            return (Values(sym_exact.scalars["gd_vs_cvx"], "symmetric k=r"),
                    Values(sym_over.scalars["gd_vs_cvx"], f"symmetric k={k}"))
        raise KeyError(f"no evidence rule for claim {claim.id}")

    @staticmethod
    def _linear(trace, setting, metric="sq_error"):
        x, y = trace.iterations, trace.series[metric]
        return Curves(x, y, "semilog", tail_window(x, y, start=0.5, floor=FLOOR), setting)

    @staticmethod
    def _power(trace, setting):
        x, y = trace.iterations, trace.series["sq_error"]
        return Curves(x, y, "loglog", tail_window(x, y, start=0.7, floor=FLOOR, log=True), setting)

    @staticmethod
    def _rates(results, p, method, k, alphas):
        """(R, len(alphas)) fitted linear rates (minus the semilog slope) of each alpha's run."""
        tr = results.get(model="asymmetric", method=method, k=k)
        cols = []
        for a in alphas:
            y = tr.series[error_metric(a)]
            cols.append(-fit_rates(tr.iterations, y, "semilog", rate_window(tr.iterations, y, p, method))["slopes"])
        return np.stack(cols, axis=1)

    # ---- figure ---------------------------------------------------------------------------
    def figure(self, results, p):
        return draw_figure(self, results, p)


def error_metric(a: float) -> str:
    """Name of the error series of the run at initialization scale a (asymmetric units)."""
    return f"sq_error a={a:g}"


def rate_window(x, y, p, method):
    """The tail of a linear run before the floor; for the modified method, after its step."""
    lo, hi = tail_window(x, y, start=0.5, floor=FLOOR)
    if method == "rebalanced":
        lo = max(lo, p["rebalance_at"] + 1)
    return lo, hi


def record_points(iters: int) -> np.ndarray:
    """About 400 recorded iterations: evenly spaced (semilog fits) plus log-spaced (log-log)."""
    lin = np.linspace(1, iters, 300)
    log = np.geomspace(1, iters, 100)
    return np.unique(np.round(np.concatenate([lin, log])).astype(np.int64))


def _solve_all(A, y, n):
    sols, statuses, solver = [], set(), None
    for Ai, yi in zip(A, y):
        X, info = nuclear_norm_recovery(Ai, yi, n, n, psd=True)
        sols.append(X)
        statuses.add(info["status"])
        solver = info["solver"]
    return np.stack(sols), {"cvxpy_solver": solver, "cvxpy_status": sorted(statuses)}


def _rel(Z, M):
    return np.asarray(relative_error(Z, M))


EXPERIMENT = MatrixSensing()


def draw_figure(exp, results, p):
    """Four panels: (a) symmetric k = r vs k > r (log-log, 1/T^2 reference); (b) asymmetric k > r
    over alpha (semilog); (c) the one-step modification vs plain GD; (d) fitted rate vs alpha."""
    import matplotlib.pyplot as plt

    from .plotting import STYLE

    with plt.rc_context(STYLE):
        return _draw(exp, results, p)


def _draw(exp, results, p):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    from .plotting import band, panels, reference_slope

    k, r = p["k"], p["r"]
    fig, ax = panels(2, 2, height=2.1)
    colors = plt.get_cmap("viridis")

    # (a) symmetric
    for kk, label, color in ((r, f"k = r = {r}", "C0"), (k, f"k = {k} > r", "C3")):
        tr = results.get(model="symmetric", method="gd", k=kk)
        band(ax[0], tr.iterations, _above_floor(tr), label=label, color=color)
    tr = results.get(model="symmetric", method="gd", k=k)
    x1 = float(tr.iterations[-1])
    y1 = float(np.nanmedian(tr.series["sq_error"][:, -1]))
    reference_slope(ax[0], x1 / 20, x1, y1 * 20**2, -2.0, label=r"$\propto T^{-2}$ (Thm 3.1)")
    ax[0].set(xscale="log", yscale="log", xlabel="iteration t", ylabel=r"$\|XX^\top - M^*\|_F^2$",
              title=r"(a) symmetric $XX^\top$")

    # (b) asymmetric, plain GD over alpha
    alphas = sorted(p["alphas"])
    plain = results.get(model="asymmetric", method="gd", k=k)
    for i, a in enumerate(alphas):
        band(ax[1], plain.iterations, _above_floor(plain, a), label=fr"k = {k}, $\alpha$ = {a:g}",
             color=colors(i / max(len(alphas) - 1, 1) * 0.85))
    tr = results.get(model="asymmetric", method="gd", k=r)
    band(ax[1], tr.iterations, _above_floor(tr, alphas[0]), label=fr"k = r, $\alpha$ = {alphas[0]:g}",
         color="C3", ls="--")
    ax[1].set(yscale="log", xlabel="iteration t", ylabel=r"$\|FG^\top - M^*\|_F^2$",
              title=r"(b) asymmetric $FG^\top$, plain GD")

    # (c) one-step modification vs plain GD
    mods = sorted(p["alphas_modified"])
    for i, a in enumerate(mods):
        color = colors(i / max(len(mods) - 1, 1) * 0.85)
        mod = results.get(model="asymmetric", method="rebalanced", k=k)
        band(ax[2], mod.iterations, _above_floor(mod, a), label=fr"modified, $\alpha$ = {a:g}", color=color)
        ax[2].plot(plain.iterations, np.nanmedian(_above_floor(plain, a), axis=0), color=color, ls=":")
    ax[2].axvline(p["rebalance_at"], color="0.5", lw=0.7, ls="--")
    ax[2].plot([], [], color="0.3", ls=":", label="plain GD (same colours)")
    ax[2].set(yscale="log", xlabel="iteration t", ylabel=r"$\|FG^\top - M^*\|_F^2$",
              title="(c) one-step modification vs plain GD")

    # (d) fitted linear rate vs alpha
    every = sorted(set(p["alphas"]) | set(p["alphas_modified"]))
    for method, kk, grid, label, color, marker in (
            ("gd", k, every, f"plain GD, k = {k}", "C0", "o"),
            ("rebalanced", k, mods, f"modified, k = {k}", "C2", "s"),
            ("gd", r, alphas, "plain GD, k = r", "C3", "^")):
        rates = exp._rates(results, p, method, kk, grid)
        q = np.nanquantile(rates, [0.1, 0.5, 0.9], axis=0)
        ax[3].errorbar(grid, q[1], yerr=[q[1] - q[0], q[2] - q[1]], color=color, marker=marker, ms=3,
                       lw=0.9, capsize=2, label=label)
        if method == "gd" and kk == k:
            ref = exp._rates(results, p, "gd", k, alphas)
            a0, y0 = alphas[-1], float(np.nanmedian(ref[:, -1]))
            reference_slope(ax[3], min(every), max(every), y0 * (min(every) / a0) ** 2, 2.0,
                            label=r"$\propto \alpha^2$ (Sec. 4)")
    ax[3].set(xscale="log", yscale="log", xlabel=r"initialization scale $\alpha$",
              ylabel="fitted rate (per iteration)", title=r"(d) fitted linear rate vs $\alpha$")
    ax[3].xaxis.set_major_locator(FixedLocator(every))
    ax[3].xaxis.set_minor_locator(NullLocator())
    ax[3].set_xticklabels([f"{a:g}" if a in mods or a == max(every) else "" for a in every])
    ax[3].set_ylim(bottom=2e-5)
    for a, loc in zip(ax, ("lower left", "lower left", "lower left", "lower right")):
        a.legend(loc=loc, ncol=2 if a is ax[1] else 1)
    fig.suptitle("Matrix sensing (Xiong, Ding, Du, ICLR 2024): median over trials, 10-90% band", fontsize=8)
    return fig


def _above_floor(trace, a=None):
    """An error series with points at the round-off floor blanked (not part of any claim)."""
    y = np.array(trace.series["sq_error" if a is None else error_metric(a)], dtype=float)
    y[y <= FLOOR * 1e-6] = np.nan
    return y
