"""theorycheck: run papers' experiments, check their claims, regenerate the figures.

Exit status: 0 every claim holds (documented expected failures excepted), 1 a claim fails,
2 bad input (nothing is written then).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
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


DEFAULTS = {"seed": 0, "trials": None, "backend": "numpy", "dtype": "float64", "threads": 1}


def _common(p: argparse.ArgumentParser, *, default_mode="quick"):
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="small configuration: seconds to a minute on 2 cores" +
                           (" (default)" if default_mode == "quick" else ""))
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="paper-scale configuration" + (" (default)" if default_mode == "full" else ""))
    p.set_defaults(mode=None, default_mode=default_mode)
    p.add_argument("--config", default=None, metavar="FILE",
                   help="TOML or JSON file setting params/seed/trials/dtype/backend/threads/mode (a run's "
                        "provenance.json replays it); options given on the command line win")
    p.add_argument("--seed", type=int, default=None, help="base seed; every (config, trial) derives its own stream (default 0)")
    p.add_argument("--trials", type=int, default=None, metavar="R",
                   help="trials per configuration, run in lockstep as an array axis (default: the experiment's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter (repeatable; lists comma-separated); see 'theorycheck list -v'")
    p.add_argument("--backend", default=None, choices=["numpy", "cupy"],
                   help="array backend for the iterations (default numpy)")
    p.add_argument("--dtype", default=None, choices=["float64", "float32"],
                   help="floating-point type of the iterations (default float64)")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="BLAS threads per configuration (default 1; the table depends on it, so it is in the cache key)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="configurations run in parallel (default 1; -1 = all cores)")
    p.add_argument("--parallel", default="loky", choices=PARALLEL,
                   help="joblib backend for --jobs: loky (local processes) or dask (a dask.distributed cluster)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="dask scheduler address, with --parallel dask")
    p.add_argument("--connect-timeout", type=float, default=5.0, metavar="S",
                   help="seconds to wait for the dask scheduler before giving up (default 5)")
    p.add_argument("--out", default="results", metavar="DIR", help="output folder (default results/)")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="run cache (default: $THEORYCHECK_CACHE_DIR or ~/.cache/theorycheck), independent of --out")
    p.add_argument("--no-cache", action="store_true", help="recompute every configuration")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="theorycheck", description="Executable, falsifiable checks of the theorems of "
        "optimization and learning-theory papers.", epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"theorycheck {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
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

    p_cache = sub.add_parser("cache", help="list or clear cached runs")
    p_cache.add_argument("action", choices=["list", "clear"], help="list entries per experiment, or delete them")
    p_cache.add_argument("experiments", nargs="*", metavar="EXPERIMENT", help="experiment ids (default: all)")
    p_cache.add_argument("--cache-dir", default=None, metavar="DIR", help="the cache folder (default: the user cache)")
    return parser


class _OneLineParser(argparse.ArgumentParser):
    """argparse errors as one line naming what is valid (no usage dump), exit 2."""

    def error(self, message):
        raise ParamError(message)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("theorycheck")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def main(argv=None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # `theorycheck list | head`: the reader went away; exit quietly like other Unix tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "list":
            return cmd_list(args)
        if args.command == "cache":
            return cmd_cache(args)
        plan = _plan(args)
        check_outputs(args, plan[1])
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


def _apply_config(args) -> dict:
    """Fill the options left unset on the command line from --config, then from the defaults;
    return the config's parameters (command-line --set wins over them)."""
    config = load_config(args.config) if args.config else {}
    for key, default in DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, config.get(key, default))
    if args.mode is None:
        args.mode = config.get("mode", args.default_mode)
    names = config.get("experiments") or ([config["experiment"]] if config.get("experiment") else [])
    if args.command == "verify" and not args.experiments and names:
        args.experiments = list(names)
    return dict(config.get("params") or {})


def load_config(path) -> dict:
    """A TOML or JSON run configuration; a run's provenance.json is one."""
    import json

    f = Path(path)
    try:
        text = f.read_text()
    except OSError as exc:
        raise ParamError(f"--config {path}: {exc.strerror}") from None
    try:
        if f.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except Exception as exc:
        raise ParamError(f"--config {path} is not valid {'TOML' if f.suffix == '.toml' else 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise ParamError(f"--config {path} must hold a table of settings")
    known = {"experiment", "experiments", "mode", "params", *DEFAULTS}
    return {k: v for k, v in data.items() if k in known}


def _plan(args):
    """Validate everything before anything is written: experiments, parameters, options."""
    config_params = _apply_config(args)
    names = [args.experiment] if args.command == "run" else (args.experiments or registry.available())
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ParamError(f"experiment {', '.join(twice)} named twice")
    overrides = {}
    for item in args.overrides:
        if "=" not in item:
            raise ParamError(f"--set {item!r} must look like KEY=VALUE")
        key, value = (t.strip() for t in item.split("=", 1))
        if key in overrides:
            raise ParamError(f"--set {key} given twice ({overrides[key]!r} and {value!r}): give it once")
        overrides[key] = value
    if not args.out.strip():
        raise ParamError("--out '' is empty: give an output folder")
    if args.scheduler and args.parallel != "dask":
        raise ParamError("--scheduler is only used with --parallel dask")
    from theorycheck.api import default_cache_dir

    opts = RunOptions(seed=args.seed, trials=args.trials, backend=args.backend, dtype=args.dtype,
                      threads=args.threads, jobs=args.jobs, parallel=args.parallel, scheduler=args.scheduler,
                      cache_dir=None if args.no_cache else Path(args.cache_dir or default_cache_dir()),
                      progress=not args.no_progress and sys.stderr.isatty())
    opts.validate()
    if opts.parallel == "dask":
        check_scheduler(opts.scheduler, args.connect_timeout)
    plan = []
    for name in names:
        exp = registry.get(name)
        known = {k: v for k, v in config_params.items() if k in exp.params and k not in overrides}
        p = exp.resolve_values(args.mode, known)
        plan.append((exp, exp.resolve(args.mode, overrides, base=p)))
    for exp, p in plan:
        check_memory(exp, p, opts.trials or exp.trials[args.mode])
    if opts.trials is not None:
        need = max(c.min_trials for exp, p in plan for c in exp.claims(p))
        if opts.trials < need:
            print(f"theorycheck: warning: --trials {opts.trials} is below {need}, the fewest trials a claim "
                  "needs for an interval: those claims will report 'not enough trials'", file=sys.stderr)
    return plan, opts


def check_memory(exp, p: dict, trials: int) -> None:
    """Refuse, before any work, a configuration whose estimated memory exceeds this machine's."""
    need = exp.memory_bytes(p, trials)
    if need is None:
        return
    try:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    if need > 0.8 * have:
        raise ParamError(f"{exp.name}: this configuration needs about {need / 2**30:.3g} GiB for its largest unit "
                         f"({trials} trials), this machine has {have / 2**30:.3g} GiB: use smaller sizes or fewer trials")


def check_scheduler(address: str, timeout: float) -> None:
    """A cluster that is not there is reported within ``timeout`` seconds, before any work."""
    import socket
    from urllib.parse import urlparse

    if timeout <= 0:
        raise ParamError(f"--connect-timeout {timeout} is out of range: a positive number of seconds")
    url = urlparse(address if "://" in address else f"tcp://{address}")
    if not url.hostname or not url.port:
        raise ParamError(f"--scheduler {address!r} must look like tcp://HOST:PORT")
    try:
        socket.create_connection((url.hostname, url.port), timeout=timeout).close()
    except OSError as exc:
        raise ParamError(f"no dask scheduler at {address} ({exc.strerror or exc}) "
                         f"within {timeout:g} s") from None


def check_outputs(args, opts) -> None:
    """Every output path is checked before the first unit runs: --out (and the cache in it) must
    be a writable folder or creatable, --json a writable file path."""
    if args.command == "list":
        return
    out = Path(args.out)
    _writable_dir(out, "--out")
    if opts.cache_dir is not None:
        _writable_dir(Path(opts.cache_dir), "--cache-dir")
    if getattr(args, "figures_dir", None):
        _writable_dir(Path(args.figures_dir), "--figures-dir")
    if getattr(args, "json", None):
        j = Path(args.json)
        if j.is_dir():
            raise ParamError(f"--json {args.json} is a folder: give a file path")
        if j.exists() and not os.access(j, os.W_OK):
            raise ParamError(f"--json {args.json} is not writable")
        _writable_dir(j.parent if str(j.parent) else Path("."), "--json's folder", create=False)


def _writable_dir(path: Path, what: str, create: bool = True) -> None:
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ParamError(f"{what} {path} is not a folder ({existing} is a file)")
    if not create and not path.exists():
        raise ParamError(f"{what} {path} does not exist")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ParamError(f"{what} {path} is not writable")
    # an immutable or read-only-mounted folder passes os.access as root: try a real write
    try:
        probe = tempfile.NamedTemporaryFile(dir=existing, prefix=".theorycheck-probe-", delete=True)
        probe.close()
    except OSError as exc:
        raise ParamError(f"{what} {path} is not writable ({exc.strerror})") from None


def cmd_cache(args) -> int:
    from theorycheck.api import default_cache_dir

    folder = Path(args.cache_dir or default_cache_dir())
    names = args.experiments or registry.available()
    for name in names:
        if name not in registry.MODULES:
            raise ParamError(f"unknown experiment {name!r}: valid experiments are {', '.join(registry.available())}")
    for name in names:
        entries = sorted((folder / name).glob("*.npz")) if (folder / name).is_dir() else []
        size = sum(e.stat().st_size for e in entries)
        if args.action == "clear":
            for e in entries:
                e.unlink()
            print(f"{name}: removed {len(entries)} entries ({size / 1e6:.1f} MB)")
        else:
            print(f"{name}: {len(entries)} entries, {size / 1e6:.1f} MB in {folder / name}")
    return 0


def cmd_list(args) -> int:
    for name in registry.available():
        exp = registry.get(name)
        print(f"{name}: {exp.title}")
        print(f"  {exp.paper}")
        for claim in exp.claims(exp.defaults("quick")):
            xfail = " (expected failure)" if claim.expected_failure else ""
            print(f"  - {claim.id} [{claim.kind}]{xfail} {claim.statement}")
        if args.verbose:
            print("  parameters (quick / full):")
            for key, prm in exp.params.items():
                print(f"    {key} = {prm.quick!r} / {prm.full!r}: {prm.help} ({prm.range_text()})")
            print(f"    trials = {exp.trials['quick']} / {exp.trials['full']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
