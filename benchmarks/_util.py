"""Timing, memory and reporting helpers shared by the benchmark scripts.

Timings on a shared machine are noisy, so every comparison is measured side by side:
the contenders run interleaved (A, B, A, B, ...) after one untimed warm-up each, and
the reported ratio is the median of the per-repeat ratios.
"""

import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

try:
    from tqdm.auto import tqdm
except ImportError:  # tqdm is optional (extra "bench")
    tqdm = None


def progress(iterable, desc, total=None):
    """tqdm progress bar on stderr when tqdm is installed; the bare iterable otherwise."""
    if tqdm is None:
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, file=sys.stderr)


def timed(func):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_blas_threads(n):
    """BLAS/OpenMP on ``n`` threads for the rest of the process (``--blas-threads``), and
    for the child processes it starts (cold-start runs) through the variables above."""
    from threadpoolctl import threadpool_limits

    for name in THREAD_VARIABLES:
        os.environ[name] = str(n)
    threadpool_limits(n)


def paired_timings(contenders, repeats, desc, shuffle=False):
    """Run the contenders interleaved ``repeats`` times after one warm-up call each.

    Parameters
    ----------
    contenders : dict of name -> callable
    repeats : int
    shuffle : bool
        Run them in a new random order (seeded) in every repeat, so that no contender
        always follows the same one: on a VM a call is measurably slower after a long
        single-threaded one or an idle spell, whatever it does itself.

    Returns
    -------
    times : dict of name -> ndarray of shape (repeats,)
    results : dict of name -> the value returned by the warm-up call
    """
    results = {name: func() for name, func in contenders.items()}
    times = {name: [] for name in contenders}
    names, rng = list(contenders), np.random.default_rng(0)
    for _ in progress(range(repeats), desc):
        for name in rng.permutation(names) if shuffle else names:
            times[name].append(timed(contenders[name])[0])
    return {name: np.array(t) for name, t in times.items()}, results


def scipy_lbfgs(value_and_grad, n_vars, gap, stop_gap, budget):
    """scipy's L-BFGS-B from zero, as a user would run it on J written in NumPy.

    ``value_and_grad(theta) -> (J, gradient)``, ``gap(J)`` the suboptimality. Its callback
    records (seconds, gap) at every iterate and stops the run at the first iterate with
    gap <= ``stop_gap``, or once ``budget`` seconds have passed. Returns (result, trace).
    """
    from scipy.optimize import minimize

    trace, start = [], time.perf_counter()

    def callback(intermediate_result):
        elapsed = time.perf_counter() - start
        trace.append((elapsed, gap(intermediate_result.fun)))
        if trace[-1][1] <= stop_gap or elapsed >= budget:
            raise StopIteration

    result = minimize(
        value_and_grad,
        np.zeros(n_vars),
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options=dict(maxiter=10**9, maxfun=10**9, ftol=0.0, gtol=0.0),
    )
    return result, trace


def median_ratio(numerator, denominator):
    """Median over repeats of the paired ratio numerator[k] / denominator[k]."""
    return float(np.median(np.asarray(numerator) / np.asarray(denominator)))


def traced_peak(func):
    """(peak bytes allocated through Python's allocators during func(), result).

    NumPy reports its buffers to tracemalloc, so this is the peak of the NumPy/SciPy
    working memory of the call above what was allocated before; memory that numba's
    runtime or BLAS allocate internally is not seen.
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = func()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - before, result


def _proc_status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"{field} not in /proc/self/status")


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0); False if unable."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes():
    """Peak resident set size of this process (since start, or since reset_peak_rss()).

    Read from /proc/self/status (VmHWM) where available: ``ru_maxrss`` is unreliable in
    a child process on Linux, where it can start at the RSS of the parent that forked it.
    """
    try:
        return _proc_status_bytes("VmHWM")
    except OSError:
        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def current_rss_bytes():
    try:
        return _proc_status_bytes("VmRSS")
    except OSError:
        return float("nan")


def run_python(code, env=None, timeout=1800):
    """Run ``code`` in a fresh interpreter; return the JSON object it prints last."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine_info():
    """Cores, CPU, library versions and the BLAS in use, as (label, value) rows."""
    import numba
    import scipy
    import sklearn
    from threadpoolctl import threadpool_info

    import mtreg

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    blas = "; ".join(
        f"{p['internal_api']} {p['version']} ({p.get('architecture', '?')}, "
        f"{p['num_threads']} threads, {p['prefix']})"
        for p in threadpool_info()
        if p["user_api"] == "blas"
    )
    return [
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
        ("cpu", f"{cpu}; {os.cpu_count()} logical cores, {usable} usable"),
        ("os", platform.platform()),
        ("python", platform.python_version()),
        ("mtreg source", git_revision()),
        (
            "versions",
            f"mtreg {mtreg.__version__}, numpy {np.__version__}, "
            f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
            f"numba {numba.__version__}",
        ),
        ("BLAS (threadpoolctl)", blas or "none found"),
        ("load average at start (1, 5, 15 min)", load_average()),
    ]


def git_revision():
    """Commit of the checkout the benchmark ran on, and whether it had local changes."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "mtreg"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"git {head}" + (" with uncommitted changes to mtreg/" if dirty else "")


def load_average():
    """Run queue length: above the core count, other processes share the cores."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def fmt_seconds(seconds):
    if not np.isfinite(seconds):
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_spread(times):
    """Median and min-max of repeated timings."""
    times = np.asarray(times)
    return (
        f"{fmt_seconds(np.median(times))} ({fmt_seconds(times.min())}–{fmt_seconds(times.max())})"
    )


def fmt_bytes(n):
    if not np.isfinite(n):
        return "n/a"
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f} {unit}" if unit == "GB" else f"{n / size:.0f} {unit}"
    return f"{n:.0f} B"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def cold_start_table(compiled, cached):
    """Markdown table of first fits in fresh interpreters, numba cache empty and filled.

    ``compiled`` and ``cached`` map "import mtreg" to seconds and each fit's name to a
    dict with "first" and "warm" seconds (and optionally the "solver" used).
    """
    rows = [
        [
            "import mtreg",
            fmt_seconds(compiled["import mtreg"]),
            fmt_seconds(cached["import mtreg"]),
            "",
            "",
        ]
    ]
    for name, first in compiled.items():
        if name == "import mtreg":
            continue
        label = f"first fit: {name}" + (f" ({first['solver']})" if "solver" in first else "")
        rows.append(
            [
                label,
                fmt_seconds(first["first"]),
                fmt_seconds(cached[name]["first"]),
                fmt_seconds(first["warm"]),
                fmt_seconds(max(first["first"] - first["warm"], 0.0)),
            ]
        )
    header = [
        "fresh interpreter",
        "empty numba cache",
        "numba cache filled",
        "warm fit (same process)",
        "compile ≈ first - warm",
    ]
    return markdown_table(header, rows)
