"""Console tables and REPORT.md, both from verdict records (the --json contract's dicts)."""
from __future__ import annotations

import math


def fmt(x, digits=3) -> str:
    if x is None:
        return "n/a"
    x = float(x)
    if not math.isfinite(x):
        return "n/a"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def status(v: dict) -> str:
    st = v.get("status", "holds" if v["holds"] else "fails")
    if st == "fails":
        return "FAILS (control not rejected)" if v.get("check_holds") else "FAILS"
    if st in ("unexpectedly holds", "expected failure not measured"):
        return st.upper()
    return st


def predicted_text(v: dict) -> str:
    op = {"eq": "=", "ge": ">=", "le": "<="}[v["relation"]]
    tol = v.get("tolerance") or 0
    tol_text = (f" ± {fmt(tol)}" if v["relation"] == "eq" else f" (tol {fmt(tol)})") if tol else ""
    what = "ratio " if v["kind"] == "bound" else ""
    return f"{what}{op} {fmt(v['predicted'])}{tol_text}"


def measured_text(measured, interval, kind: str = "") -> str:
    """A mean with its 95% interval; for a bound, the worst ratio and the range of the per-trial
    worst ratios (not a confidence interval)."""
    lo, hi = interval if interval else (None, None)
    if kind == "bound":
        rng = f" (trials {fmt(lo)}..{fmt(hi)})" if lo is not None and hi is not None and lo != hi else ""
        return f"worst {fmt(measured)}{rng}"
    if lo is not None and hi is not None and lo != hi:
        digits = _digits(measured, lo, hi)
        return f"{fmt(measured, digits)} [{fmt(lo, digits)}, {fmt(hi, digits)}]"
    return fmt(measured)


def _digits(measured, lo, hi) -> int:
    """Enough significant digits to show an interval's width (3 at least, 7 at most)."""
    try:
        scale = max(abs(float(measured)), abs(float(lo)), abs(float(hi)))
        width = abs(float(hi) - float(lo))
        return int(min(7, max(3, math.ceil(math.log10(scale / width)) + 1)))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return 3


def control_text(v: dict) -> str:
    parts = []
    for c in v["control"]["checks"]:
        parts.append(f"{measured_text(c['measured'], c['interval'], v['kind'])} "
                     f"{'rejected' if c['rejected'] else 'NOT rejected'}")
    return "; ".join(parts)


def console_table(verdicts: list[dict]) -> str:
    rows = [("claim", "predicted", "measured [95% CI] / worst ratio", "controls", "verdict")]
    for v in verdicts:
        rows.append((v["id"], predicted_text(v), measured_text(v["measured"], v["interval"], v["kind"]),
                     control_text(v), status(v)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def why(v: dict) -> str:
    """A reader's one-line reason for the verdict: the fit model and its R², censoring, model
    comparison, and why each control was rejected (or not)."""
    detail = v.get("detail") or ""
    parts = []
    if v["kind"] == "rate" and v.get("r2") is not None:
        parts.append(f"{detail.split(' ', 1)[0]} fit, worst R² {v['r2']:.3f}")
    if "not a good fit" in detail:
        parts.append("the fit or the model comparison rejects the model")
    for key in ("non-finite", "censored", "not enough trials"):
        if key in detail:
            parts.append(key)
    if not parts and v["check_holds"]:
        parts.append("inside the predicted band" if v["relation"] == "eq" else "on the predicted side")
    elif not parts:
        parts.append("outside the predicted band" if v["relation"] == "eq" else "on the wrong side")
    for c in v["control"]["checks"]:
        d = c.get("detail") or ""
        if not c["rejected"]:
            reason = "not rejected" + (" (not measured)" if c["measured"] is None else "")
        elif "not a good fit" in d:
            reason = "rejected by the fit (model comparison or R²)"
        elif "non-finite" in d or "censored" in d:
            reason = "rejected: censored / non-finite trials"
        elif "not enough trials" in d:
            reason = "rejected: not enough trials"
        else:
            reason = "rejected: outside the predicted band"
        parts.append(f"control {c['setting'] or ''}: {reason}".replace("  ", " "))
    return "; ".join(parts)


def markdown_table(verdicts: list[dict]) -> str:
    out = ["| claim | statement (source) | predicted | measured: mean [95% CI], or worst ratio for a bound "
           "| negative controls | verdict | why |", "|---|---|---|---|---|---|---|"]
    reasons = []
    for v in verdicts:
        ctrl = f"{v['control']['description']}: " + "; ".join(
            f"{c['setting']} {measured_text(c['measured'], c['interval'], v['kind'])} — "
            f"{'rejected' if c['rejected'] else '**not rejected**'}" for c in v["control"]["checks"])
        verdict = status(v)
        if v.get("expected_failure"):
            reasons.append(f"- `{v['id']}` ({verdict}): {v['expected_failure']}")
        out.append(f"| `{v['id']}` | {v['statement']} ({v['source']}) | {predicted_text(v)} "
                   f"| {measured_text(v['measured'], v['interval'], v['kind'])} | {ctrl} | {verdict} | {why(v)} |")
    if reasons:
        out += ["", "Expected failures (claims that did not reproduce, with the measured numbers):", ""] + reasons
    return "\n".join(out)


def solver_warnings(prov: dict) -> list[str]:
    """cvxpy statuses other than 'optimal' recorded by any unit (e.g. optimal_inaccurate)."""
    found = []
    for entry in prov.get("info") or []:
        for key, value in entry.items():
            if "status" not in key:
                continue
            values = value if isinstance(value, list) else [value]
            bad = sorted({str(x) for x in values if str(x) != "optimal"})
            if bad:
                found.append(f"unit {entry.get('unit')} ({entry.get('setting')}): {key} = {', '.join(bad)}")
    return found


def report_markdown(sections: list[dict], *, title="theorycheck report", intro="") -> str:
    """sections: dicts with experiment, title, paper, verdicts (dicts), figure (relative path or
    None), provenance (dict)."""
    lines = [f"# {title}", ""]
    if intro:
        lines += [intro, ""]
    held = sum(v["holds"] for s in sections for v in s["verdicts"])
    expected = sum(v.get("status") == "expected failure" for s in sections for v in s["verdicts"])
    total = sum(len(s["verdicts"]) for s in sections)
    summary = f"{held} of {total} claims hold"
    summary += f"; {expected} fail as documented expected failures." if expected else "."
    lines += [summary, ""]
    for s in sections:
        prov = s.get("provenance", {})
        lines += [f"## {s['experiment']} — {s['title']}", "", f"*{s['paper']}*", ""]
        lines += [f"Mode `{prov.get('mode')}`, seed {prov.get('seed')}, {prov.get('trials')} trials, "
                  f"backend `{prov.get('backend')}`, dtype `{prov.get('dtype', 'float64')}`, code `{prov.get('code_version')}`, "
                  f"commit `{prov.get('git_commit')}`.", ""]
        if s.get("figure"):
            lines += [f"![{s['experiment']}]({s['figure']})", ""]
        if s.get("caption"):
            lines += [s["caption"], ""]
        warnings = solver_warnings(prov)
        if warnings:
            lines += ["**Solver warnings** (cvxpy statuses other than `optimal`): " + "; ".join(warnings), ""]
        lines += [markdown_table(s["verdicts"]), ""]
        lines.append("Fit details:")
        lines.append("")
        for v in s["verdicts"]:
            controls = "; ".join(c["detail"] for c in v["control"]["checks"])
            lines.append(f"- `{v['id']}` ({v['quantity']}): {v['detail']}; controls: {controls}")
        lines.append("")
        if prov.get("diverged"):
            lines += ["Diverged units (recorded, not plotted): " + ", ".join(
                f"{d['setting']} ({d['trials']} trials, first at step {d['first_at']})" for d in prov["diverged"]), ""]
    return "\n".join(lines)
