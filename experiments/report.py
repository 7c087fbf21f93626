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
    if v["holds"]:
        return "holds"
    if v.get("expected_failure"):
        return "expected failure"
    if not v["control"]["rejected"] and v.get("check_holds"):
        return "FAILS (control not rejected)"
    return "FAILS"


def predicted_text(v: dict) -> str:
    op = {"eq": "=", "ge": ">=", "le": "<="}[v["relation"]]
    tol = v.get("tolerance") or 0
    tol_text = (f" ± {fmt(tol)}" if v["relation"] == "eq" else f" (tol {fmt(tol)})") if tol else ""
    what = "ratio " if v["kind"] == "bound" else ""
    return f"{what}{op} {fmt(v['predicted'])}{tol_text}"


def measured_text(measured, interval) -> str:
    lo, hi = interval if interval else (None, None)
    if lo is not None and hi is not None and lo != hi:
        return f"{fmt(measured)} [{fmt(lo)}, {fmt(hi)}]"
    return fmt(measured)


def control_text(v: dict) -> str:
    c = v["control"]
    return f"{measured_text(c['measured'], c['interval'])} {'rejected' if c['rejected'] else 'NOT rejected'}"


def console_table(verdicts: list[dict]) -> str:
    rows = [("claim", "predicted", "measured [95% CI]", "control", "verdict")]
    for v in verdicts:
        rows.append((v["id"], predicted_text(v), measured_text(v["measured"], v["interval"]),
                     control_text(v), status(v)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(verdicts: list[dict]) -> str:
    out = ["| claim | statement (source) | predicted | measured [95% CI] | negative control | verdict |",
           "|---|---|---|---|---|---|"]
    for v in verdicts:
        c = v["control"]
        ctrl = (f"{c['description']}: {measured_text(c['measured'], c['interval'])} — "
                f"{'rejected' if c['rejected'] else '**not rejected**'}")
        verdict = status(v)
        if v.get("expected_failure") and not v["holds"]:
            verdict += f": {v['expected_failure']}"
        out.append(f"| `{v['id']}` | {v['statement']} ({v['source']}) | {predicted_text(v)} "
                   f"| {measured_text(v['measured'], v['interval'])} | {ctrl} | {verdict} |")
    return "\n".join(out)


def report_markdown(sections: list[dict], *, title="theorycheck report", intro="") -> str:
    """sections: dicts with experiment, title, paper, verdicts (dicts), figure (relative path or
    None), provenance (dict)."""
    lines = [f"# {title}", ""]
    if intro:
        lines += [intro, ""]
    held = sum(v["holds"] for s in sections for v in s["verdicts"])
    expected = sum((not v["holds"]) and bool(v.get("expected_failure")) for s in sections for v in s["verdicts"])
    total = sum(len(s["verdicts"]) for s in sections)
    summary = f"{held} of {total} claims hold"
    summary += f"; {expected} fail as documented expected failures." if expected else "."
    lines += [summary, ""]
    for s in sections:
        prov = s.get("provenance", {})
        lines += [f"## {s['experiment']} — {s['title']}", "", f"*{s['paper']}*", ""]
        lines += [f"Mode `{prov.get('mode')}`, seed {prov.get('seed')}, {prov.get('trials')} trials, "
                  f"backend `{prov.get('backend')}`, code `{prov.get('code_version')}`, "
                  f"commit `{prov.get('git_commit')}`.", ""]
        if s.get("figure"):
            lines += [f"![{s['experiment']}]({s['figure']})", ""]
        lines += [markdown_table(s["verdicts"]), ""]
        lines.append("Fit details:")
        lines.append("")
        for v in s["verdicts"]:
            lines.append(f"- `{v['id']}` ({v['quantity']}): {v['detail']}; control: {v['control']['detail']}")
        lines.append("")
        if prov.get("diverged"):
            lines += ["Diverged units (recorded, not plotted): " + ", ".join(
                f"{d['setting']} ({d['trials']} trials, first at step {d['first_at']})" for d in prov["diverged"]), ""]
    return "\n".join(lines)
