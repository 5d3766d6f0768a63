"""The threads suite: BLAS threads against problem size, three ways side by side (default
threads, one thread, mtreg's rule), quiet and with one busy process."""

import subprocess
import sys
import time

import numpy as np
from threadpoolctl import ThreadpoolController

from . import datasets as D
from . import report as R
from .objective import progress, race, timed

CHOLESKY = [(20, 10), (40, 10), (40, 20), (50, 20), (60, 20), (80, 20), (100, 20), (150, 20)]
SIZES = [("cholesky", *s) for s in CHOLESKY] + [("woodbury", 139, 27), ("woodbury", 20, 200)]
MODES = {"full": dict(budget=2.0, min_repeats=5), "quick": dict(budget=0.3, min_repeats=3)}
CONTROLLER = ThreadpoolController()  # built once: threadpool_limits() costs 1 ms a call
MAX_SLOWDOWN = 1.5  # mtreg's rule against one thread


def largest_call(solver, T, d):
    """Flops of the largest single BLAS/LAPACK call of a direct solve (mtreg's estimate)."""
    return (T * d) ** 3 / 3 if solver == "cholesky" else d**3 / 3


def rule():
    """mtreg's one-thread crossover. The one private access of the benchmarks: the column
    "BLAS threads" sets it to 0 (threads for every solve), which no public API offers."""
    from mtreg._solvers import _threads

    return _threads


def contenders(est, rows):
    X, y, t = rows
    module, fit = rule(), lambda: est.fit(X, y, task_ids=t)

    def threads():
        own, module.ONE_THREAD_WORK = module.ONE_THREAD_WORK, 0.0
        try:
            fit()
        finally:
            module.ONE_THREAD_WORK = own

    one_thread = CONTROLLER.wrap(limits=1, user_api="blas")(fit)
    return {"threads": threads, "1 thread": one_thread, "mtreg": fit}


def measure(state, cfg):
    """A "threads" row per size: the median seconds of each contender."""
    rows = []
    for size in progress(SIZES, state):
        fits = contenders(*D.threads_problem(*size))
        once = sum(timed(f)[0] for f in fits.values())
        repeats = int(np.clip(cfg["budget"] / max(once, 1e-4), cfg["min_repeats"], 60))
        times, _ = race(fits, repeats, f"{state} {size}", shuffle=True)
        medians = {k: float(np.median(v)) for k, v in times.items()}
        rows.append(dict(kind="threads", suite="threads", state=state, size=size, times=medians))
    return rows


def run(mode, only=None, **_):
    cfg = MODES[mode]
    rows = measure("quiet", cfg)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # let it start spinning
        rows += measure("busy", cfg)
    finally:
        busy.kill()
        busy.wait()
    return rows + [dict(kind="note", suite="threads", rule=rule().ONE_THREAD_WORK)]


def crossover(by):
    """The smallest largest-call flops from which on the default threads beat one thread
    at every size, quiet and busy (inf if they lose at the largest)."""
    found = float("inf")
    for size in sorted(SIZES, key=lambda s: -largest_call(*s)):
        if not all(by[s, size]["threads"] < by[s, size]["1 thread"] for s in ("quiet", "busy")):
            break
        found = largest_call(*size)
    return found


def sections(rows, mode, folder):
    by = {(r["state"], tuple(r["size"])): r["times"] for r in R.of(rows, "threads")}
    own, out, header = R.of(rows, "note")[0]["rule"], [], ["fit", "largest call (flops)"]
    ways = ("BLAS threads", "1 thread", "mtreg", "mtreg / 1 thread")
    header += [f"{state}: {k}" for state in ("quiet", "busy") for k in ways]
    for size in SIZES:
        row = [f"{size[0]}, T={size[1]}, d={size[2]}", f"{largest_call(*size):.1e}"]
        for state in ("quiet", "busy"):
            times = by[state, size]
            ratio = times["mtreg"] / times["1 thread"]
            row += [R.fmt_seconds(times[k]) for k in ("threads", "1 thread", "mtreg")]
            over = not R.met(ratio, MAX_SLOWDOWN, at_most=True)
            row.append(f"{ratio:.2f}" + f" **over {MAX_SLOWDOWN:g}**" * over)
        out.append(row)
    protocol = (
        "Median fit times, interleaved in random order. 'BLAS threads': the default threads; "
        "'1 thread': threadpoolctl's limit; 'mtreg': one thread below ONE_THREAD_WORK = "
        f"{own:.1e} flops in the solve's largest call (there its ratio to '1 thread' is noise). "
        "'busy': a `while True: pass` process competes for the cores."
    )
    found = (
        "Crossover measured here (from which largest-call size on the default threads beat one "
        f"thread at every size, quiet and busy): {crossover(by):.1e} flops; rerun on a quiet "
        "machine before changing ONE_THREAD_WORK."
    )
    return protocol, R.table(header, out), [found]
