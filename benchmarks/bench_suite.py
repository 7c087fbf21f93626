"""The whole suite's quick configuration, timed per paper, then where the time goes (hot paths).

Run: python benchmarks/bench_suite.py [PAPER ...] [--no-hot-paths] [--trials R]
(prints tables; asserts nothing; writes nothing: the run cache is off, so every unit is computed)

1. For every registered experiment (experiments.registry.available()), its quick configuration
   is run once without cache (experiments.runner.run_experiment, one process, BLAS threads as
   the runner sets them: 1 by default) and its claims are judged (experiments.runner.verify).
   Printed per paper: units, wall seconds, CPU seconds (this process and its finished children,
   resource.getrusage: the figure to trust on a shared machine), claims held / total and claims
   passed (held, or a documented expected failure that failed as expected); then the total.
2. Unless --no-hot-paths: the hot-path benchmarks of all nine papers (bench_matrix_sensing,
   bench_halpern_vr, bench_sea_omd, bench_robust_recovery, bench_bilevel for bilevel-unbounded
   and penalty-bilevel, bench_networks for xor-grokking, softmax-collapse and hessian-spectrum),
   each timing one iteration of the real quick-configuration hot path against its numeric floor
   and against a naive loop over 32 one-trial calls, all measured in the same run.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def time_paper(name: str, trials: int | None = None) -> dict:
    """Run one paper's quick configuration without cache and judge its claims."""
    from experiments import registry
    from experiments.runner import RunOptions, run_experiment, verify

    exp = registry.get(name)
    p = exp.resolve("quick", {})
    opts = RunOptions(cache_dir=None, progress=False, trials=trials)
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    results = run_experiment(exp, p, opts, mode="quick")
    verdicts = verify(exp, results, p)
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    return {"paper": name, "units": len(exp.sweep(p)), "wall": wall, "cpu": cpu,
            "held": sum(v.holds for v in verdicts), "passed": sum(v.passed for v in verdicts),
            "total": len(verdicts),
            "not_passed": [f"{v.claim.id} ({v.status})" for v in verdicts if not v.passed]}


def suite_table(rows: list[dict]) -> str:
    head = f"| {'paper':<18} | {'units':>5} | {'wall s':>7} | {'CPU s':>7} | {'held/total':>10} | {'passed':>6} |"
    rule = "|" + "|".join("-" * (len(c) + 0) for c in head.split("|")[1:-1]) + "|"
    lines = [head, rule]
    for r in rows:
        lines.append(f"| {r['paper']:<18} | {r['units']:>5} | {r['wall']:>7.1f} | {r['cpu']:>7.1f} | "
                     f"{str(r['held']) + '/' + str(r['total']):>10} | {r['passed']:>6} |")
    tot = {k: sum(r[k] for r in rows) for k in ("units", "wall", "cpu", "held", "passed", "total")}
    lines.append(f"| {'total':<18} | {tot['units']:>5} | {tot['wall']:>7.1f} | {tot['cpu']:>7.1f} | "
                 f"{str(tot['held']) + '/' + str(tot['total']):>10} | {tot['passed']:>6} |")
    return "\n".join(lines)


def main():
    from experiments import registry

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("papers", nargs="*", help="experiments to time (default: every registered one)")
    ap.add_argument("--no-hot-paths", action="store_true", help="only the suite table")
    ap.add_argument("--trials", type=int, default=None, help="trials per configuration (default: the quick one)")
    args = ap.parse_args()
    papers = args.papers or registry.available()
    import numpy as np
    import threadpoolctl

    blas = [f"{i['internal_api']} {i['num_threads']} threads" for i in threadpoolctl.threadpool_info()]
    print(f"# quick verify, no cache, one process; NumPy {np.__version__}; BLAS {', '.join(blas) or 'n/a'}; "
          f"{os.cpu_count()} CPUs visible; load average {os.getloadavg()[0]:.2f}")
    rows = []
    for name in papers:
        row = time_paper(name, args.trials)
        rows.append(row)
        extra = f"  not passed: {', '.join(row['not_passed'])}" if row["not_passed"] else ""
        print(f"  {name}: {row['wall']:.1f} s wall, {row['cpu']:.1f} CPU-s{extra}", flush=True)
    print()
    print(suite_table(rows))
    print("held: the claim holds (check passes, every control rejected); passed: held, or a documented "
          "expected failure that failed as expected.")
    if not args.no_hot_paths:
        import bench_bilevel
        import bench_halpern_vr
        import bench_matrix_sensing
        import bench_networks
        import bench_robust_recovery
        import bench_sea_omd

        for mod in (bench_matrix_sensing, bench_halpern_vr, bench_sea_omd, bench_robust_recovery, bench_bilevel,
                    bench_networks):
            print()
            mod.main([])


if __name__ == "__main__":
    main()
