"""``python -m benchmarks``: every suite in one command; ``--full`` for the full sizes.

Run from the repository root; nothing is downloaded. Quick mode (the default) writes
``results/NAME-quick.md`` (git-ignored); ``--full`` writes ``results/NAME.md`` and copies
the "Results" section of each report into the README between ``<!-- results: NAME -->``
and ``<!-- /results -->``. Every suite also writes its tidy rows, ``results/NAME*.jsonl``.
The real-data suite (accuracy) runs when the data folder is found (``MTREG_DATA``, else
``../shared/data`` beside the checkout); ``--no-real-data`` leaves it out.

    python -m benchmarks [--full] [--no-real-data] [--only NAME[,NAME]] [--scenarios ab]
                         [--budget S] [--blas-threads N] [--no-cold-start]
"""

import argparse
import importlib
import os
import sys
import time

from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks import report, run

ORDER = ["regressor", "classifier", "scale", "cv", "speed", "threads", "accuracy"]
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
SCENARIOS = dict(regressor="abc", classifier="ab", scale="abc", cv="ab", speed="abc")


def suite_runner(name):
    """The function that runs suite ``name`` and returns its tidy rows."""
    if name in report.MODULES:
        return importlib.import_module(f"benchmarks.{name}").run
    return run.SUITES[name]


def run_suite(name, args):
    """One suite, then undo the BLAS limits and thread variables it set: each suite starts
    from the same state as when it runs on its own. The report path, or None (no rows)."""
    blas = threadpool_info()
    variables = {v: os.environ.get(v) for v in THREAD_VARIABLES}
    try:
        if args.blas_threads:
            for v in THREAD_VARIABLES:  # here and in the child processes (cold starts)
                os.environ[v] = str(args.blas_threads)
            threadpool_limits(args.blas_threads)
        mode = "full" if args.full else "quick"
        start, info = time.perf_counter(), report.machine_info()
        kw = dict(budget=args.budget, cold=not args.no_cold_start)
        only = args.scenarios or SCENARIOS.get(name, "abcde")
        if name == "accuracy":
            kw["blas_threads"] = args.blas_threads
        rows = suite_runner(name)(mode, only=only, **kw)
        if not rows:
            return None
        path, text = report.write(name, rows, mode, info, time.perf_counter() - start)
        print(text)
        print(f"written to {path}", file=sys.stderr)
        return path
    finally:
        threadpool_limits(blas)
        for v, value in variables.items():
            if value is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = value


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--full", action="store_true", help="full sizes and protocols (~45 min)")
    parser.add_argument("--no-real-data", action="store_true", help="leave the accuracy suite out")
    parser.add_argument("--only", help=f"comma-separated suites among {', '.join(ORDER)}")
    parser.add_argument("--scenarios", help="scenario letters of the chosen suites, e.g. 'ab'")
    parser.add_argument("--budget", type=float, help="time budget of the L-BFGS contenders (s)")
    parser.add_argument("--blas-threads", type=int, help="limit BLAS/OpenMP threads")
    parser.add_argument("--no-cold-start", action="store_true", help="skip the cold starts")
    args = parser.parse_args(argv)
    names = ORDER if args.only is None else args.only.split(",")
    if unknown := set(names) - set(ORDER):
        parser.error(f"--only takes suites among {ORDER}, got {sorted(unknown)}")
    if args.no_real_data and "accuracy" in names:
        names = [n for n in names if n != "accuracy"]
        print("benchmarks: real-data suite (accuracy) left out: --no-real-data", file=sys.stderr)
    written = {name: run_suite(name, args) for name in names}
    if args.full and args.only is None and args.scenarios is None:
        for name, path in written.items():
            if path is not None and name != "threads":  # threads has no README block
                report.update_readme(name)


if __name__ == "__main__":
    main()
