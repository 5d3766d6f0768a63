"""Time to 1e-6 relative suboptimality of MultiTaskGraphClassifier's solvers (issue 3, 4).

Logistic loss, alpha=1, l2=1, l1=0, intercepts fitted, on data of
:func:`mtreg.datasets.make_multitask_classification`:

a. landmine-sized: T=29 tasks, 400..630 rows each (n ~ 15,000), d=9, default complete graph.
b. larger: T=1,000 tasks x 200 rows (n = 200,000), d=50, symmetric 10-NN task graph.

mtreg's row solvers ("newton", "lbfgs", "fista") against scipy's L-BFGS-B minimising the
same J through the plain NumPy objective and gradient of :mod:`mtreg.core`. Every
contender is judged by that NumPy J: suboptimality (J - J*) / J* with J* from a tight
Newton run. Results: suboptimality-against-time curves (PNG) and a table of the time to
reach 1e-6, benchopt style; numba compilation is measured apart in fresh interpreters.

Run ``python benchmarks/bench_classifier.py [--quick]`` from the repository root (or
``python -m benchmarks [--full]``); the report goes to benchmarks/results/.
"""

import argparse
import cProfile
import pathlib
import pstats
import sys
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import ThreadpoolController

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmarks import _util as U  # noqa: E402
from benchmarks._classifier_report import ONE_THREAD, plot_curves, report  # noqa: E402
from mtreg import MultiTaskGraphClassifier  # noqa: E402
from mtreg.core import gradient, objective  # noqa: E402
from mtreg.datasets import make_multitask_classification  # noqa: E402

ALPHA, L2 = 1.0, 1.0
TARGET_GAP = 1e-6  # (J - J*) / J* to reach
CURVE_FLOOR = 1e-10  # curves go on until this gap (or a budget runs out)
TARGET_SPEEDUP = 5.0
TOL_OFF = 1e-15  # tol of the ladder fits: max_iter alone stops them
RESULTS = pathlib.Path(__file__).resolve().parent / "results"
SOLVERS = ("newton", "lbfgs", "fista")

_A = dict(n_tasks=29, n_samples=(400, 630), n_features=9, structure="complete")
_B = dict(n_tasks=1_000, n_samples=200, n_features=50, structure="knn", n_neighbors=10)
MODES = {
    "full": {
        "a": dict(_A, repeats=21, curve_repeats=5, budget=60.0),
        "b": dict(_B, repeats=5, curve_repeats=3, budget=300.0),
    },
    "quick": {
        "a": dict(_A, repeats=11, curve_repeats=1, budget=20.0),
        "b": dict(_B, n_samples=40, repeats=3, curve_repeats=1, budget=20.0),
    },
}
# Iteration caps of the ladders (a fit per rung): far above what each solver needs here.
MAX_ITER = {"newton": 50, "lbfgs": 2000, "fista": 5000}


class Problem:
    """The data of one scenario and J written from DESIGN.md section 1 in plain NumPy."""

    def __init__(self, cfg):
        gen = {k: cfg[k] for k in ("n_tasks", "n_samples", "n_features", "structure")}
        if "n_neighbors" in cfg:
            gen["n_neighbors"] = cfg["n_neighbors"]
        self.X, self.labels, self.task_ids, adjacency = make_multitask_classification(
            **gen, random_state=0
        )
        self.y = np.where(self.labels == 1, 1.0, -1.0)  # classes_[1] is the positive class
        A = sp.csr_matrix(adjacency)
        self.L = (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()
        # the default graph of the estimator is the complete one with weight 1/T: pass None
        self.graph = None if cfg["structure"] == "complete" else adjacency
        self.shape = (cfg["n_tasks"], self.X.shape[1])
        self.J_star = None

    def J(self, W, b):
        return objective(
            W, b, self.X, self.y, self.task_ids, self.L, alpha=ALPHA, l2=L2, loss="logistic"
        )

    def grad(self, W, b):
        return gradient(
            W, b, self.X, self.y, self.task_ids, self.L, alpha=ALPHA, l2=L2, loss="logistic"
        )

    def gap(self, value):
        return (value - self.J_star) / self.J_star

    def estimator(self, solver, **kw):
        return MultiTaskGraphClassifier(
            self.graph, loss="logistic", alpha=ALPHA, l2=L2, solver=solver, **kw
        )

    def fit(self, solver, max_iter, tol=TOL_OFF):
        est = self.estimator(solver, tol=tol, max_iter=max_iter)
        return est.fit(self.X, self.labels, task_ids=self.task_ids)


# --- J* and its checks --------------------------------------------------------------------


def optimum(problem):
    """J* from a tight Newton run, checked against the NumPy objective and gradient.

    Newton converges quadratically; the step cap only matters when tol lies below the
    residual that rounding allows, and then its warning is reported.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est = problem.fit("newton", max_iter=12, tol=1e-12)
    W, b = est.coef_, est.intercept_
    T, d = problem.shape
    assert np.array_equal(est.classes_, [0, 1]) and np.array_equal(est.tasks_, np.arange(T))
    L_est = est.laplacian_
    L_est = L_est.toarray() if sp.issparse(L_est) else np.asarray(L_est)
    laplacian_err = float(np.abs(L_est - problem.L.toarray()).max())
    g = np.concatenate([part.ravel() for part in problem.grad(W, b)])
    g0 = np.concatenate([part.ravel() for part in problem.grad(np.zeros((T, d)), np.zeros(T))])
    rel_grad = float(np.linalg.norm(g) / np.linalg.norm(g0))
    problem.J_star = problem.J(W, b)
    assert laplacian_err < 1e-12 and rel_grad < 1e-9, (laplacian_err, rel_grad)
    balance = np.bincount(problem.task_ids, weights=problem.labels) / np.bincount(problem.task_ids)
    return dict(
        J_star=problem.J_star,
        n_iter=int(est.n_iter_[0]),
        rel_grad=rel_grad,
        laplacian_err=laplacian_err,
        balance=(float(balance.min()), float(balance.max())),
        positives=float(problem.labels.mean()),
        warning="; ".join(str(w.message) for w in caught),
    )


# --- mtreg: whole fits along a ladder of max_iter -----------------------------------------


def ladder(problem, solver, cfg):
    """(max_iter, seconds, gap) of whole fits with max_iter = 1, 2, 3, 4, 6, 8, 11, ...

    Each point is a complete ``fit`` from scratch (validation, encoding, centring, the
    iterations, the returned coefficients), timed as the median of ``curve_repeats`` runs;
    its J is evaluated afterwards by the NumPy objective. Stops below CURVE_FLOOR, when the
    solver stops before max_iter by itself, at the iteration cap, or after ``budget``
    seconds of fitting.
    """
    points, spent, k = [], 0.0, 1
    problem.fit(solver, max_iter=2)  # warm-up: JIT and caches out of the timings
    while k <= MAX_ITER[solver]:
        times = []
        for _ in range(cfg["curve_repeats"]):
            seconds, est = U.timed(lambda k=k: problem.fit(solver, max_iter=k))
            times.append(seconds)
        spent += sum(times)
        gap = problem.gap(problem.J(est.coef_, est.intercept_))
        points.append((k, float(np.median(times)), gap, int(est.n_iter_[0])))
        if gap <= CURVE_FLOOR or est.n_iter_[0] < k or spent > cfg["budget"]:
            break
        k = max(k + 1, int(round(k * 1.4)))
    return points


def first_iterate_at_target(problem, solver, points):
    """Smallest max_iter whose fit reaches TARGET_GAP: bisection between two rungs."""
    hits = [p for p in points if p[2] <= TARGET_GAP]
    if not hits:
        return None, None
    hi = hits[0][0]
    below = [p[0] for p in points if p[0] < hi]
    lo = below[-1] if below else 0
    gap_hi = hits[0][2]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        est = problem.fit(solver, max_iter=mid)
        gap = problem.gap(problem.J(est.coef_, est.intercept_))
        if gap <= TARGET_GAP:
            hi, gap_hi = mid, gap
        else:
            lo = mid
    return hi, gap_hi


def default_fit(problem, solver, repeats):
    """What a user gets: the estimator's default tol (1e-6 on the relative gradient)."""
    est = problem.estimator(solver)
    times = [
        U.timed(lambda: est.fit(problem.X, problem.labels, task_ids=problem.task_ids))[0]
        for _ in range(repeats + 1)
    ][1:]
    gap = problem.gap(problem.J(est.coef_, est.intercept_))
    return dict(
        time=float(np.median(times)),
        gap=gap,
        n_iter=int(est.n_iter_[0]),
        tol=est.tol,
        solver=est.solver_,
    )


# --- the NumPy route: scipy L-BFGS-B on the NumPy J ---------------------------------------


CONTROLLER = ThreadpoolController()  # built once: threadpool_limits() inspects every library


def on_one_thread(func):
    """``func`` with every BLAS/OpenMP library, and so mtreg's row passes, on one thread."""

    def run():
        with CONTROLLER.limit(limits=1):
            return func()

    return run


def numpy_lbfgs(problem, stop_gap, budget, trace=None):
    """scipy L-BFGS-B from zero on J by mtreg.core, until the gap <= stop_gap.

    Stopped by its callback (which sees J of each iterate for free) at the first iterate
    whose gap is at most ``stop_gap``, or after ``budget`` seconds; (time, gap) of every
    iterate goes to ``trace`` when given. Returns the number of iterations. Runs with one
    BLAS thread, its fastest setting on this kind of machine (see the protocol).
    """
    T, d = problem.shape

    def fun(theta):
        W, b = theta[: T * d].reshape(T, d), theta[T * d :]
        gW, gb = problem.grad(W, b)
        return problem.J(W, b), np.concatenate([gW.ravel(), gb])

    with CONTROLLER.limit(limits=1):
        res, steps = U.scipy_lbfgs(fun, T * (d + 1), problem.gap, stop_gap, budget)
    if trace is not None:
        trace.extend(steps)
    return dict(n_iter=int(res.nit), gap=problem.gap(res.fun), message=str(res.message))


# --- one scenario ---------------------------------------------------------------------------


def scenario(name, cfg):
    problem = Problem(cfg)
    print(f"{name}: J* by newton (tol=1e-12) ...", file=sys.stderr)
    check = optimum(problem)
    curves, targets, defaults = {}, {}, {}
    for solver in U.progress(SOLVERS, f"{name}: ladders of max_iter"):
        curves[solver] = ladder(problem, solver, cfg)
        targets[solver] = first_iterate_at_target(problem, solver, curves[solver])
        defaults[solver] = default_fit(problem, solver, cfg["curve_repeats"])
    defaults["auto"] = default_fit(problem, "auto", cfg["curve_repeats"])
    numpy_lbfgs(problem, 1e-2, cfg["budget"])  # warm-up, as for the ladders
    numpy_trace = []
    numpy_lbfgs(problem, CURVE_FLOOR, cfg["budget"], trace=numpy_trace)
    numpy_hit = next((t for t, gap in numpy_trace if gap <= TARGET_GAP), None)

    # time to target, side by side: mtreg fits at their k*, the NumPy route stopped at 1e-6
    contenders = {
        solver: (lambda s=solver, k=k: problem.fit(s, max_iter=k))
        for solver, (k, _) in targets.items()
        if k is not None
    }
    for solver in list(contenders):  # the same fits with every library on one thread
        contenders[solver + ONE_THREAD] = on_one_thread(contenders[solver])
    if numpy_hit is not None:
        contenders["numpy"] = lambda: numpy_lbfgs(problem, TARGET_GAP, cfg["budget"])
    times, results = U.paired_timings(
        contenders, cfg["repeats"], f"{name}: time to 1e-6", shuffle=True
    )
    gaps = {
        s: problem.gap(problem.J(est.coef_, est.intercept_))
        for s, est in results.items()
        if s != "numpy"
    }
    if "numpy" in results:
        gaps["numpy"] = results["numpy"]["gap"]
    assert all(g <= TARGET_GAP for g in gaps.values()), gaps
    lowest = min([p[2] for c in curves.values() for p in c] + [g for _, g in numpy_trace])
    profiles = {s: profile(contenders[s]) for s in contenders if not s.endswith(ONE_THREAD)}
    T, d = problem.shape
    return dict(
        n=problem.X.shape[0],
        T=T,
        d=d,
        structure=cfg["structure"],
        nnz=None if problem.graph is None else int(problem.graph.nnz),
        check=check,
        curves=curves,
        targets=targets,
        defaults=defaults,
        numpy_trace=numpy_trace,
        numpy_hit=numpy_hit,
        numpy_n_iter=results.get("numpy", {}).get("n_iter"),
        times=times,
        gaps=gaps,
        lowest_gap=lowest,
        profiles=profiles,
        budget=cfg["budget"],
        cfg=cfg,
    )


def profile(func, top=8):
    """Top functions by own time in one cProfile'd call: [(share, calls, name)]."""
    prof = cProfile.Profile()
    prof.runcall(func)
    stats = pstats.Stats(prof).stats
    total = sum(v[2] for v in stats.values())
    rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    return dict(total=total, rows=[(v[2] / total, v[1], _where(k)) for k, v in rows])


def _where(key):
    filename, line, func = key
    if filename == "~":
        return func
    path = pathlib.Path(filename)
    short = "/".join(path.parts[-2:]) if "site-packages" not in path.parts else path.name
    return f"{func} ({short}:{line})"


# --- cold start: numba compilation in fresh interpreters -------------------------------------

COLD_CHILD = """
import json, time, warnings
start = time.perf_counter()
from mtreg import MultiTaskGraphClassifier
from mtreg.datasets import make_multitask_classification as make
out = {"import mtreg": time.perf_counter() - start}
warnings.simplefilter("ignore")
small = make(29, (400, 630), 9, structure="complete", random_state=0)
knn = make(500, 20, 10, structure="knn", random_state=0)
cases = {
    "newton, complete graph (a)": (small, None, "newton"),
    "lbfgs, complete graph (a)": (small, None, "lbfgs"),
    "fista, complete graph (a)": (small, None, "fista"),
    "newton, kNN graph, T d = 5,000 (pcg inside)": (knn, knn[3], "newton"),
}
for name, ((X, y, t, _), graph, solver) in cases.items():
    est = MultiTaskGraphClassifier(graph, solver=solver)
    times = []
    for _ in range(4):
        start = time.perf_counter()
        est.fit(X, y, task_ids=t)
        times.append(time.perf_counter() - start)
    out[name] = dict(first=times[0], warm=min(times[1:]))
print(json.dumps(out))
"""


def cold_start():
    """First fits in fresh interpreters: empty numba cache (compile), then cache filled."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(NUMBA_CACHE_DIR=cache, PYTHONPATH=str(pathlib.Path(__file__).parents[1]))
        compiled = U.run_python(COLD_CHILD, env=env)
        cached = U.run_python(COLD_CHILD, env=env)
    return compiled, cached


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="smaller b, fewer repeats")
    group.add_argument("--full", action="store_true", help="the full sizes (default)")
    parser.add_argument("--only", default="ab", help="scenarios to run, e.g. 'a'")
    parser.add_argument("--budget", type=float, help="seconds of fitting per curve")
    parser.add_argument("--no-cold-start", action="store_true")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=0,
        help="BLAS/OpenMP threads for every contender (default 0: the libraries' own; the "
        "NumPy route always runs on one)",
    )
    parser.add_argument("--output", type=pathlib.Path, help="Markdown file to write")
    args = parser.parse_args(argv)
    chosen = [s for s in "ab" if s in args.only]
    if not chosen:  # the suite passes --only to every script: letters of the others
        print(f"bench_classifier: no scenario among 'ab' in --only {args.only!r}", file=sys.stderr)
        return
    if args.blas_threads:
        U.limit_blas_threads(args.blas_threads)
    warnings.simplefilter("ignore", ConvergenceWarning)  # the ladders stop at max_iter
    mode = "quick" if args.quick else "full"
    cfg = {k: dict(v) for k, v in MODES[mode].items()}
    if args.budget is not None:
        for c in cfg.values():
            c["budget"] = args.budget
    start = time.perf_counter()
    info = U.machine_info()
    cold = None if args.no_cold_start else cold_start()
    results = {s: scenario(s, cfg[s]) for s in chosen}
    output = args.output or RESULTS / ("classifier.md" if mode == "full" else "classifier-quick.md")
    figure = output.with_suffix(".png")
    output.parent.mkdir(parents=True, exist_ok=True)
    plot_curves(results, figure)
    text = report(
        mode, info, results, cold, figure.name, args.blas_threads, time.perf_counter() - start
    )
    output.write_text(text)
    print(text)
    print(f"written to {output} and {figure}", file=sys.stderr)


if __name__ == "__main__":
    main()
