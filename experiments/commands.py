"""What run, verify and figures do once their input has been validated."""
from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from .report import console_table, report_markdown
from .results import Results
from .runner import provenance, run_experiment, verify
from .storage import atomic_write_json, atomic_write_text


class Clock:
    """Wall and CPU seconds since creation (CPU of this process and its finished workers)."""

    def __init__(self):
        import time

        self._wall, self._cpu = time.perf_counter(), self._cpu_now()

    @staticmethod
    def _cpu_now() -> float:
        import resource

        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def __str__(self) -> str:
        import time

        return f"{time.perf_counter() - self._wall:.1f} s wall, {self._cpu_now() - self._cpu:.1f} CPU-s"


@contextlib.contextmanager
def out_lock(out: Path):
    """One run at a time writes into a folder: a second run into the same --out waits for the
    first, so a folder never mixes one run's table with another's verdicts."""
    import fcntl

    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"theorycheck: waiting for another run writing into {out}", file=sys.stderr)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_and_store(exp, p, opts, mode, out: Path):
    """Public name of :func:`_run_one` (the Python API writes through it too)."""
    return _run_one(exp, p, opts, mode, out)


def _run_one(exp, p, opts, mode, out: Path):
    """Run, write the table + provenance, and re-read the stored table: figures and verdicts are
    computed from what was written, never from state that is not on disk."""
    results = run_experiment(exp, p, opts, mode=mode)
    prov = provenance(exp, mode, p, opts, results)
    folder = out / exp.name
    results.write(folder / "results.csv")
    atomic_write_json(folder / "provenance.json", prov)
    stored = Results.read(folder / "results.csv", prov["units"])
    return stored, prov, folder


def _draw(exp, results, p, stem: Path):
    import warnings

    from .plotting import save

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)  # diverged/unreached trials
        fig = exp.figure(results, p)
    save(fig, stem)


def _verdicts(exp, results, p):
    return [v.to_json() for v in verify(exp, results, p)]


def do_run(plan, args) -> int:
    with out_lock(Path(args.out)):
        return _do_run(plan, args)


def _do_run(plan, args) -> int:
    entries, opts = plan
    out = Path(args.out)
    for exp, p in entries:
        results, prov, folder = _run_one(exp, p, opts, args.mode, out)
        _draw(exp, results, p, folder / "figure")
        verdicts = _verdicts(exp, results, p)
        atomic_write_json(folder / "verdicts.json", {"claims": verdicts, "provenance": prov})
        print(f"{exp.name}: {len(results.units)} configurations -> {folder}/results.csv, figure.png, verdicts.json")
        print(console_table(verdicts))
    return 0


def do_verify(plan, args) -> int:
    with out_lock(Path(args.out)):
        return _do_verify(plan, args)


def _do_verify(plan, args) -> int:
    entries, opts = plan
    out = Path(args.out)
    all_verdicts, provs = [], {}
    for exp, p in entries:
        clock = Clock()
        results, prov, folder = _run_one(exp, p, opts, args.mode, out)
        _draw(exp, results, p, folder / "figure")
        verdicts = _verdicts(exp, results, p)
        atomic_write_json(folder / "verdicts.json", {"claims": verdicts, "provenance": prov})
        all_verdicts += verdicts
        provs[exp.name] = prov
        print(f"\n{exp.name} ({args.mode}, seed {opts.seed}): {clock}")
        print(console_table(verdicts))
    atomic_write_text(out / "REPORT.md", report_markdown(stored_sections(out)))
    if args.json:
        atomic_write_json(args.json, {"claims": all_verdicts, "provenance": provs})
    failing = [f"{v['id']} ({v['status']})" for v in all_verdicts if not v["passed"]]
    held = sum(v["holds"] for v in all_verdicts)
    expected = sum(v["status"] == "expected failure" for v in all_verdicts)
    print(f"\n{held}/{len(all_verdicts)} claims hold, {expected} expected failures"
          + (f"; failing: {', '.join(failing)}" if failing else "") + f"; report: {out / 'REPORT.md'}")
    return 1 if failing else 0


BANDS = ("Lines are medians over trials and shaded bands the 10–90% range over trials; dashed lines "
         "are the theorem's reference slopes; diverged runs are never drawn.")


def caption(exp) -> str:
    """The figure module's CAPTION (what each panel shows, which claim it illustrates; kept in
    figure.py, outside the cache key) and what the bands are."""
    import importlib

    text = exp.caption or (getattr(importlib.import_module(exp.figure_module), "CAPTION", "")
                           if exp.figure_module else "")
    return f"*Figure.* {text} {BANDS}".replace("  ", " ") if text else f"*Figure.* {BANDS}"


def stored_sections(out: Path) -> list[dict]:
    """Report sections of every experiment with verdicts in ``out``: verifying one paper updates
    its part of REPORT.md and keeps the others'."""
    from . import registry

    sections = []
    for name in registry.available():
        f = out / name / "verdicts.json"
        if not f.exists():
            continue
        data = json.loads(f.read_text())
        exp = registry.get(name)
        sections.append({"experiment": name, "title": exp.title, "paper": exp.paper, "verdicts": data["claims"],
                         "figure": f"{name}/figure.png", "provenance": data["provenance"], "caption": caption(exp)})
    return sections


def do_figures(plan, args) -> int:
    with out_lock(Path(args.out)):
        return _do_figures(plan, args)


def _do_figures(plan, args) -> int:
    entries, opts = plan
    out = Path(args.out)
    figdir = Path(args.figures_dir)
    for exp, p in entries:
        results, prov, _ = _run_one(exp, p, opts, args.mode, out)
        _draw(exp, results, p, figdir / exp.name)
        (figdir / f"{exp.name}.pdf").unlink(missing_ok=True)  # commit PNGs only; PDFs live in results/
        rows = exp.figure_data(results, p)
        atomic_write_text(figdir / f"{exp.name}.csv", _csv(rows))
        verdicts = _verdicts(exp, results, p)
        slim = {k: prov[k] for k in ("experiment", "mode", "seed", "trials", "backend", "dtype", "code_version",
                                     "git_commit", "packages", "params")}
        atomic_write_json(figdir / f"{exp.name}.json", {"claims": verdicts, "provenance": slim,
                                                         "title": exp.title, "paper": exp.paper})
        print(f"{exp.name}: {figdir / (exp.name + '.png')}")
        print(console_table(verdicts))
    write_figures_report(figdir)
    print(f"report: {figdir / 'REPORT.md'}")
    return 0


def write_figures_report(figdir: Path) -> None:
    from . import registry

    sections = []
    for name in registry.MODULES:
        f = figdir / f"{name}.json"
        if not f.exists():
            continue
        data = json.loads(f.read_text())
        sections.append({"experiment": name, "title": data["title"], "paper": data["paper"],
                         "caption": caption(registry.get(name)) if name in registry.available() else "",
                         "verdicts": data["claims"], "figure": f"{name}.png", "provenance": data["provenance"]})
    intro = ("Regenerated by `theorycheck figures` from the stored results of the full configurations. "
             "Each claim is checked on its own evidence and on a negative control that the same check "
             "must reject.")
    atomic_write_text(figdir / "REPORT.md", report_markdown(sections, title="theorycheck — figures and claims",
                                                            intro=intro))
    readme = figdir.resolve().parent / "README.md"
    if readme.exists():
        update_gallery(readme, sections, figdir.resolve().relative_to(readme.parent))


GALLERY_START, GALLERY_END = "<!-- gallery:start -->", "<!-- gallery:end -->"


def update_gallery(readme: Path, sections: list[dict], figrel: Path) -> None:
    """Rewrite the README's claims table and figure gallery between its markers."""
    from .report import control_text, measured_text, predicted_text, status

    text = readme.read_text()
    if GALLERY_START not in text or GALLERY_END not in text:
        return
    lines = [GALLERY_START, "",
             f"Full configurations; details, fit windows and provenance in [{figrel}/REPORT.md]({figrel}/REPORT.md).", "",
             "| claim | predicted | measured: mean [95% CI], or worst ratio for a bound | negative controls | verdict |",
             "|---|---|---|---|---|"]
    for s in sections:
        for v in s["verdicts"]:
            lines.append(f"| `{v['id']}` | {predicted_text(v)} | {measured_text(v['measured'], v['interval'], v['kind'])} "
                         f"| {control_text(v)} | {status(v)} |")
    lines.append("")
    for s in sections:
        lines += [f"**{s['experiment']}** — {s['title']} ({s['paper']})", "",
                  f"![{s['experiment']}]({figrel}/{s['experiment']}.png)", ""]
    lines.append(GALLERY_END)
    head, rest = text.split(GALLERY_START, 1)
    _, tail = rest.split(GALLERY_END, 1)
    atomic_write_text(readme, head + "\n".join(lines) + tail)


def _csv(rows: list[dict]) -> str:
    import csv
    import io

    if not rows:
        return ""
    keys = []
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()
