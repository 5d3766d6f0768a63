"""``python -m benchmarks``: every suite in one command (options: benchmarks/README.md)."""

import argparse
import importlib
import os
import sys
import time

from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks import report, run

ORDER = ["regressor", "classifier", "scale", "cv", "speed", "threads", "accuracy", "mixed", "peers"]
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
SCENARIOS = dict(regressor="abcde", classifier="ab", scale="abc", cv="ab", speed="abc")


def run_suite(name, args):
    """One suite, then undo the BLAS limits and thread variables it set (each suite starts
    from the same state as alone)."""
    blas, variables = threadpool_info(), {v: os.environ.get(v) for v in THREAD_VARIABLES}
    try:
        if args.blas_threads:
            os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(args.blas_threads)))  # children
            threadpool_limits(args.blas_threads)
        start, info = time.perf_counter(), report.machine_info()
        mode = "full" if args.full else "quick"
        suite = run.SUITES.get(name) or importlib.import_module(f"benchmarks.{name}").run
        only = args.scenarios or SCENARIOS.get(name, "abcde")
        kw = dict(budget=args.budget, cold=not args.no_cold_start, blas_threads=args.blas_threads)
        if rows := suite(mode, only=only, **kw):
            path, text = report.write(name, rows, mode, info, time.perf_counter() - start)
            print(text)
            print(f"written to {path}", file=sys.stderr)
    finally:
        threadpool_limits(blas)
        for v in THREAD_VARIABLES:
            os.environ.pop(v, None)
        os.environ.update({v: value for v, value in variables.items() if value is not None})


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    add = parser.add_argument
    add("--full", action="store_true", help="full sizes and protocols (~45 min)")
    add("--no-real-data", action="store_true", help="leave the accuracy suite out")
    add("--only", help=f"comma-separated suites among {', '.join(ORDER)}")
    add("--scenarios", help="scenario letters of the chosen suites, e.g. 'ab'")
    add("--budget", type=float, help="time budget of the L-BFGS contenders (s)")
    add("--blas-threads", type=int, help="limit BLAS/OpenMP threads")
    add("--no-cold-start", action="store_true", help="skip the cold starts")
    args = parser.parse_args(argv)
    names = ORDER if args.only is None else args.only.split(",")
    if unknown := set(names) - set(ORDER):
        parser.error(f"--only takes suites among {ORDER}, got {sorted(unknown)}")
    if args.no_real_data and "accuracy" in names:
        print("benchmarks: real-data suite (accuracy) left out: --no-real-data", file=sys.stderr)
    for name in (n for n in names if not (args.no_real_data and n == "accuracy")):
        run_suite(name, args)


if __name__ == "__main__":
    main()
