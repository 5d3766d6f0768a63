"""BLAS threads against problem size: where a direct solve starts to gain from threads.

Times ``MultiTaskGraphRegressor`` fits (cholesky on a chain graph, woodbury on the
default complete graph) at a range of sizes in three ways, side by side: with BLAS's
default threads for every solve, on one BLAS thread (``threadpool_limits(1)``), and with
mtreg's own rule (one BLAS thread below ``mtreg._solvers._threads.ONE_THREAD_WORK`` flops
in the largest call of the solve, the default threads above). Once on a quiet machine and
once with a competing busy process (``python -c "while True: pass"``, started and killed
here). The crossover is the smallest size at which the default threads beat one thread in
both; the rule must never be more than 1.5x slower than one thread.

Run ``python benchmarks/bench_threads.py`` from the repository root (under 3 minutes);
the Markdown report goes to benchmarks/results/threads.md.
"""

import argparse
import pathlib
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import ThreadpoolController

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmarks import _util as U  # noqa: E402
from mtreg import MultiTaskGraphRegressor  # noqa: E402
from mtreg._solvers import _threads as _common  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
# (solver, T, d): the case first (T=20, d=10, n=1,000), school-sized woodbury
SIZES = [
    ("cholesky", 20, 10),
    ("cholesky", 40, 10),
    ("cholesky", 40, 20),
    ("cholesky", 50, 20),
    ("cholesky", 60, 20),
    ("cholesky", 80, 20),
    ("cholesky", 100, 20),
    ("cholesky", 150, 20),
    ("woodbury", 139, 27),
    ("woodbury", 20, 200),
]
BUDGET = 2.0  # seconds of timed fits per size and machine state (at least 5 repeats)
CONTROLLER = ThreadpoolController()  # built once: threadpool_limits() costs 1 ms a call
MAX_SLOWDOWN = 1.5  # mtreg's rule against one thread


def problem(solver, T, d, seed=0):
    """Rows (50 per task, at least 2 d), and the estimator of the solver."""
    r = np.random.default_rng(seed)
    t = np.repeat(np.arange(T), max(50, 2 * d))
    X = r.normal(size=(len(t), d))
    y = np.einsum("ij,ij->i", X, r.normal(size=(T, d))[t]) + r.normal(size=len(t))
    A = np.diag(np.ones(T - 1), 1)
    graph = A + A.T if solver == "cholesky" else None
    return MultiTaskGraphRegressor(graph, solver=solver), (X, y, t)


def contenders(est, rows):
    X, y, t = rows
    rule = _common.ONE_THREAD_WORK

    def fit(limit):
        _common.ONE_THREAD_WORK = limit
        try:
            est.fit(X, y, task_ids=t)
        finally:
            _common.ONE_THREAD_WORK = rule

    def one_thread():
        with CONTROLLER.limit(limits=1, user_api="blas"):
            est.fit(X, y, task_ids=t)

    return {"threads": lambda: fit(0.0), "1 thread": one_thread, "mtreg": lambda: fit(rule)}


def measure(desc):
    """{(solver, T, d): {contender: median seconds}} for every size."""
    out = {}
    for size in U.progress(SIZES, desc):
        est, rows = problem(*size)
        cands = contenders(est, rows)
        once = sum(U.timed(fit)[0] for fit in cands.values())
        repeats = int(np.clip(BUDGET / max(once, 1e-4), 5, 60))
        times, _ = U.paired_timings(cands, repeats, desc=f"{desc} {size}", shuffle=True)
        out[size] = {name: float(np.median(t)) for name, t in times.items()}
    return out


def busy_process():
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def crossover(quiet, loaded):
    """The smallest largest-call flops from which on the default threads beat one thread
    at every size, quiet and loaded (inf if they lose at the largest)."""
    found = float("inf")
    for size in sorted(SIZES, key=lambda s: -_common.largest_call(*s)):
        if not all(m[size]["threads"] < m[size]["1 thread"] for m in (quiet, loaded)):
            break
        found = _common.largest_call(*size)
    return found


def report(info, quiet, loaded, seconds):
    rows = []
    for size in SIZES:
        solver, T, d = size
        row = [f"{solver}, T={T}, d={d}", f"{_common.largest_call(*size):.1e}"]
        for m in (quiet, loaded):
            times = m[size]
            row += [U.fmt_seconds(times[k]) for k in ("threads", "1 thread", "mtreg")]
            ratio = times["mtreg"] / times["1 thread"]
            row.append(f"{ratio:.2f}" + ("" if ratio <= MAX_SLOWDOWN else " **over 1.5**"))
        rows.append(row)
    header = ["fit", "largest call (flops)"]
    for state in ("quiet", "busy"):
        header += [f"{state}: BLAS threads", f"{state}: 1 thread", f"{state}: mtreg"]
        header += [f"{state}: mtreg / 1 thread"]
    found = crossover(quiet, loaded)
    lines = [
        "# BLAS threads against problem size (benchmarks/bench_threads.py)",
        "",
        *[f"- {label}: {value}" for label, value in info],
        f"- run time: {seconds:.0f} s",
        "",
        "Median fit times, the three ways run interleaved in random order. 'BLAS threads':",
        "the libraries' default threads for every solve; '1 thread': BLAS limited to one",
        "thread by threadpoolctl (one controller, reused);",
        f"'mtreg': one BLAS thread below ONE_THREAD_WORK = {_common.ONE_THREAD_WORK:.1e} flops",
        "in the largest call of the solve. 'busy': one `python -c 'while True: pass'` process",
        "competes for the cores. Below ONE_THREAD_WORK 'mtreg' and '1 thread' run the same",
        "code: their ratio there is the noise of the machine.",
        "",
        U.markdown_table(header, rows),
        "",
        f"Crossover measured here (the smallest largest-call size from which on the default "
        f"threads beat one thread at every size, quiet and busy): {found:.1e} flops.",
        "On a machine shared with other work these timings are noisy: rerun on a quiet one "
        "before changing ONE_THREAD_WORK.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=pathlib.Path, help="Markdown file to write")
    args = parser.parse_args(argv)
    start, info = time.perf_counter(), U.machine_info()
    quiet = measure("quiet")
    busy = busy_process()
    try:
        time.sleep(0.5)  # let it start spinning
        loaded = measure("busy")
    finally:
        busy.kill()
        busy.wait()
    text = report(info, quiet, loaded, time.perf_counter() - start)
    output = args.output or RESULTS / "threads.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)
    print(f"written to {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
