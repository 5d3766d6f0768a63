"""The one objective (J of ``mtreg.core.objective``, (J - J*) / J*, the relative gradient)
and the timing protocol (``race``, ``child``); see benchmarks/README.md."""

import contextlib
import json
import os
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp

from mtreg import core

ALPHA, L2 = 1.0, 1.0

try:
    from tqdm.auto import tqdm
except ImportError:  # optional (extra "bench")
    tqdm = None


class Problem:
    """Rows (X, y, task positions t), the T x T ``adjacency`` of the task graph (the complete
    graph of weight 1/T when ``default_graph``, i.e. ``graph=None``), and J of any (W, b)."""

    def __init__(self, X, y, t, adjacency, *, loss="squared", default_graph=False):
        self.X, self.y, self.t = X, y, np.asarray(t)
        self.adjacency = sp.csr_matrix(adjacency)
        self.adjacency.eliminate_zeros()
        self.loss, self.default_graph = loss, default_graph
        self.T, self.d, self.n = self.adjacency.shape[0], X.shape[1], len(y)
        self.graph = core.task_graph(self.adjacency)
        self.signed_y = y if loss == "squared" else np.where(y > 0, 1.0, -1.0)

    @property
    def estimator_graph(self):
        """What an estimator is given: None (its default) for the default graph."""
        return None if self.default_graph else self.adjacency

    def J(self, W, b, f=core.objective):  # f=core.gradient: its gradient
        data = (self.X, self.signed_y, self.t, self.graph)
        return f(W, b, *data, alpha=ALPHA, l2=L2, loss=self.loss)

    def gap(self, W, b, J_star):
        """Suboptimality (J - J*) / J*."""
        return float((self.J(W, b) - J_star) / abs(J_star))

    def relative_gradient(self, W, b):
        """||grad J(W, b)|| / ||grad J(0, 0)||: 0 at the optimum, 1 at the start."""
        flat = lambda W, b: np.concatenate([v.ravel() for v in self.J(W, b, core.gradient)])  # noqa: E731
        return float(np.linalg.norm(flat(W, b)) / np.linalg.norm(flat(0 * W, 0 * b)))


class _Stop(Exception):  # raised by the L-BFGS-B callback to end the run
    pass


def lbfgs(problem, J_star, rel_tol, budget):
    """scipy L-BFGS-B from zero on J (NumPy value and gradient), as a user would run it; its
    callback records (seconds, gap) at every iterate and stops at (J - J*) / J* <= ``rel_tol``
    or after ``budget`` seconds. A dict: time (to rel_tol, or None), elapsed, gap, n_iter,
    message, trace, W, b."""
    from scipy.optimize import minimize

    T, d = problem.T, problem.d
    split = lambda theta: (theta[: T * d].reshape(T, d), theta[T * d :])  # noqa: E731

    def fun(theta):
        W, b = split(theta)
        gW, gb = problem.J(W, b, core.gradient)
        return problem.J(W, b), np.concatenate([gW.ravel(), gb])

    trace, start, last = [], time.perf_counter(), {}

    def callback(intermediate_result):
        elapsed = time.perf_counter() - start
        # scipy >= 1.11 passes the iterate's OptimizeResult, older scipy the iterate alone
        x = getattr(intermediate_result, "x", intermediate_result)
        value = getattr(intermediate_result, "fun", None)
        value = problem.J(*split(x)) if value is None else value
        last["x"] = np.copy(x)
        trace.append((elapsed, float((value - J_star) / abs(J_star))))
        if trace[-1][1] <= rel_tol or elapsed >= budget:
            raise _Stop  # not StopIteration: scipy < 1.11 would not catch it either

    options = dict(maxiter=10**9, maxfun=10**9, ftol=0.0, gtol=0.0)
    try:
        x0 = np.zeros(T * (d + 1))
        res = minimize(fun, x0, jac=True, method="L-BFGS-B", callback=callback, options=options)
        x, n_iter, message = res.x, int(res.nit), str(res.message).rstrip(".")
    except _Stop:
        x, n_iter, message = last["x"], len(trace), "stopped at the target gap or the budget"
    W, b = split(x)
    hit = next((s for s, gap in trace if gap <= rel_tol), None)
    out = dict(time=hit, elapsed=time.perf_counter() - start, gap=problem.gap(W, b, J_star))
    return out | dict(n_iter=n_iter, message=message, trace=trace, W=W, b=b)


# --- the timing protocol ------------------------------------------------------------------


def progress(iterable, desc):
    """tqdm progress bar on stderr when tqdm is installed; the bare iterable otherwise."""
    return iterable if tqdm is None else tqdm(iterable, desc=desc, leave=False, file=sys.stderr)


def timed(func):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def race(contenders, repeats, desc="", shuffle=False):
    """The one timing loop of every suite: the contenders interleaved ``repeats`` times after
    one untimed warm-up each (``shuffle``: a new seeded random order in every repeat). Returns
    (times: name -> list of seconds, results: name -> what the warm-up call returned)."""
    results = {name: func() for name, func in contenders.items()}
    times, rng = {name: [] for name in contenders}, np.random.default_rng(0)
    for _ in progress(range(repeats), desc):
        for name in rng.permutation(list(contenders)) if shuffle else contenders:
            times[name].append(timed(contenders[name])[0])
    return times, results


def median_ratio(numerator, denominator):
    """Median over repeats of the paired ratio numerator[k] / denominator[k]."""
    return float(np.median(np.asarray(numerator) / np.asarray(denominator)))


def traced_peak(func):
    """(peak bytes allocated through Python's allocators during func(), result). NumPy
    reports its buffers to tracemalloc; what numba's runtime or BLAS allocate is not seen."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()  # in case tracing was on already
        before, result = tracemalloc.get_traced_memory()[0], func()
        return tracemalloc.get_traced_memory()[1] - before, result
    finally:
        tracemalloc.stop()


CHILD = """
import time
start = time.perf_counter()
import mtreg  # timed first: the cold-start rows report it
imported = time.perf_counter() - start
import importlib, json, os
module, name = os.environ["BENCH_RUN"].rsplit(".", 1)
cfg = dict(json.loads(os.environ["BENCH_CFG"]), imported=imported)
print(json.dumps(getattr(importlib.import_module(module), name)(cfg)))
"""


def child(func, cfg, **env):
    """``func(cfg)``, a function of a benchmarks module, in a fresh interpreter (``env`` added
    to its environment): the one launcher of every fresh-process run. Its JSON result."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = dict(BENCH_RUN=f"{func.__module__}.{func.__name__}", BENCH_CFG=json.dumps(cfg))
    full_env = dict(os.environ, PYTHONPATH=root, **run, **env)
    cmd = [sys.executable, "-c", CHILD]
    out = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- memory and profiles --------------------------------------------------------------------


def rss(field="VmRSS"):
    """Bytes of /proc/self/status ``field`` (VmRSS now, VmHWM the peak); nan without /proc."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return float("nan")


def reset_peak_rss():
    """Reset the peak-RSS mark (VmHWM) of this process where /proc allows; the RSS then."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return rss()


def profile(func, top=10):
    """One cProfile'd call: dict(total own seconds, rows [(function, own s, cumulative s,
    calls)] of the ``top`` functions by own time)."""
    import cProfile
    import pstats

    prof, rows = cProfile.Profile(), []
    prof.runcall(func)
    for (path, line, name), (_, calls, own, cum, _) in pstats.Stats(prof).stats.items():
        short = path.split("site-packages/")[-1].split("/mtreg/")[-1].split("/benchmarks/")[-1]
        rows.append((name if path == "~" else f"{name} ({short}:{line})", own, cum, calls))
    rows.sort(key=lambda r: -r[1])
    return dict(total=sum(r[1] for r in rows), rows=rows[:top])
