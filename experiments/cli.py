"""theorycheck: run papers' experiments, check their claims, regenerate the figures.

Exit status: 0 every claim holds (documented expected failures excepted), 1 a claim fails,
2 bad input (nothing is written then).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import registry
from .params import ParamError
from .runner import PARALLEL, RunOptions

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = """examples:
  theorycheck list
  theorycheck verify --quick                       # every experiment, quick configuration
  theorycheck run matrix-sensing --set k=8 --set alpha=0.01 --trials 4
  theorycheck verify matrix-sensing --seed 3 --json verdicts.json
  theorycheck figures                              # regenerate figures/ (full configurations)
"""


def _common(p: argparse.ArgumentParser, *, default_mode="quick"):
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="small configuration: seconds to a minute on 2 cores" +
                           (" (default)" if default_mode == "quick" else ""))
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="paper-scale configuration" + (" (default)" if default_mode == "full" else ""))
    p.set_defaults(mode=default_mode)
    p.add_argument("--seed", type=int, default=0, help="base seed; every (config, trial) derives its own stream (default 0)")
    p.add_argument("--trials", type=int, default=None, metavar="R",
                   help="trials per configuration, run in lockstep as an array axis (default: the experiment's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter (repeatable; lists comma-separated); see 'theorycheck list -v'")
    p.add_argument("--backend", default="numpy", choices=["numpy", "cupy"],
                   help="array backend for the iterations (default numpy)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="configurations run in parallel (default 1; -1 = all cores)")
    p.add_argument("--parallel", default="loky", choices=PARALLEL,
                   help="joblib backend for --jobs: loky (local processes) or dask (a dask.distributed cluster)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="dask scheduler address, with --parallel dask")
    p.add_argument("--out", default="results", metavar="DIR", help="output folder (default results/); cache in DIR/cache")
    p.add_argument("--no-cache", action="store_true", help="recompute every configuration")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="theorycheck", description="Executable, falsifiable checks of the theorems of "
        "optimization and learning-theory papers.", epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p_list = sub.add_parser("list", help="experiments, their claims and parameters")
    p_list.add_argument("-v", "--verbose", action="store_true", help="also list parameters (quick / full values)")

    p_run = sub.add_parser("run", help="run one experiment: results table, provenance, figure, verdicts")
    p_run.add_argument("experiment", help="experiment id (see 'theorycheck list')")
    _common(p_run)

    p_verify = sub.add_parser("verify", help="run and check the claims; exit 0 iff they hold")
    p_verify.add_argument("experiments", nargs="*", metavar="EXPERIMENT", help="experiment ids (default: all)")
    _common(p_verify)
    p_verify.add_argument("--json", default=None, metavar="FILE", help="write the verdicts as JSON")

    p_fig = sub.add_parser("figures", help="regenerate figures/ and figures/REPORT.md (full configurations)")
    p_fig.add_argument("experiments", nargs="*", metavar="EXPERIMENT", help="experiment ids (default: all)")
    _common(p_fig, default_mode="full")
    p_fig.add_argument("--figures-dir", default=str(REPO / "figures"), metavar="DIR",
                       help="where the committed figures live (default: the repository's figures/)")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return cmd_list(args)
        plan = _plan(args)
    except ParamError as exc:
        print(f"theorycheck: error: {exc}", file=sys.stderr)
        return 2
    from .commands import do_figures, do_run, do_verify

    try:
        if args.command == "run":
            return do_run(plan, args)
        if args.command == "verify":
            return do_verify(plan, args)
        return do_figures(plan, args)
    except KeyboardInterrupt:
        print("\ninterrupted: finished configurations are cached; run the same command again to resume",
              file=sys.stderr)
        return 130


def _plan(args):
    """Validate everything before anything is written: experiments, parameters, options."""
    names = [args.experiment] if args.command == "run" else (args.experiments or registry.available())
    overrides = {}
    for item in args.overrides:
        if "=" not in item:
            raise ParamError(f"--set {item!r} must look like KEY=VALUE")
        key, value = item.split("=", 1)
        overrides[key.strip()] = value.strip()
    opts = RunOptions(seed=args.seed, trials=args.trials, backend=args.backend, jobs=args.jobs,
                      parallel=args.parallel, scheduler=args.scheduler,
                      cache_dir=None if args.no_cache else Path(args.out) / "cache",
                      progress=not args.no_progress and sys.stderr.isatty())
    opts.validate()
    plan = []
    for name in names:
        exp = registry.get(name)
        plan.append((exp, exp.resolve(args.mode, overrides)))
    return plan, opts


def cmd_list(args) -> int:
    for name in registry.available():
        exp = registry.get(name)
        print(f"{name}: {exp.title}")
        print(f"  {exp.paper}")
        for claim in exp.claims(exp.defaults("quick")):
            print(f"  - {claim.id} [{claim.kind}] {claim.statement}")
        if args.verbose:
            print("  parameters (quick / full):")
            for key, prm in exp.params.items():
                print(f"    {key} = {prm.quick!r} / {prm.full!r}: {prm.help} ({prm.range_text()})")
            print(f"    trials = {exp.trials['quick']} / {exp.trials['full']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
