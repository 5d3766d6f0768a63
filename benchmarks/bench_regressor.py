"""Speed and memory of MultiTaskGraphRegressor against what a user would do otherwise.

Three scenarios, all at alpha=1, l2=1, on data of :func:`mtreg.datasets.make_multitask_regression`:

a. school-sized (T=139, ~110 rows per task, d=27, unscaled 0/1 and 0..100 features,
   default complete graph): the fit against (i) the NumPy data pass any exact method
   needs (argsort rows by task, X_t^T X_t per task) and (ii) L-BFGS-B on the same J
   (``mtreg._objective``) run until its objective is within 1e-8 of the optimum.
b. many tasks (T=10,000, 50 rows each, d=20, symmetric 10-NN task graph): the fit
   against a loop of sklearn ``Ridge(alpha=l2)``, one per task; peak memory of the fit.
c. multi-output (n=20,000, d=200, T=500 columns of Y, 10-NN task graph): the fit against
   sklearn ``Ridge(alpha=l2).fit(X, Y)``.

Run ``python benchmarks/bench_regressor.py [--quick]`` from the repository root (or
``python -m benchmarks [--full]``); the Markdown report goes to benchmarks/results/.
"""

import argparse
import pathlib
import sys
import tempfile
import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from sklearn.linear_model import Ridge

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmarks import _util as U  # noqa: E402
from benchmarks._regressor_report import report  # noqa: E402
from mtreg import MultiTaskGraphRegressor  # noqa: E402
from mtreg._objective import gradient, objective  # noqa: E402
from mtreg.datasets import make_multitask_regression  # noqa: E402

ALPHA, L2 = 1.0, 1.0
REL_TOL = 1e-8  # L-BFGS target: (J - J*) / J* <= REL_TOL
RESULTS = pathlib.Path(__file__).resolve().parent / "results"

MODES = {
    "full": {
        "a": dict(n_tasks=139, n_samples=(20, 200), n_features=27, repeats=31, budget=60.0),
        "b": dict(n_tasks=10_000, n_samples=50, n_features=20, n_neighbors=10, repeats=5),
        "c": dict(n_samples=20_000, n_features=200, n_tasks=500, n_neighbors=10, repeats=9),
    },
    "quick": {
        "a": dict(n_tasks=139, n_samples=(20, 200), n_features=27, repeats=11, budget=10.0),
        "b": dict(n_tasks=2_000, n_samples=50, n_features=20, n_neighbors=10, repeats=3),
        "c": dict(n_samples=5_000, n_features=100, n_tasks=200, n_neighbors=10, repeats=5),
    },
}
TARGETS = {"a_gram": 3.0, "a_lbfgs": 100.0, "b": 0.5, "b_memory": 2 * 1024**3, "c": 2.0}


# --- references, written from DESIGN.md section 1 without mtreg's solvers --------------


def laplacian(adjacency):
    A = sp.csr_matrix(adjacency)
    return (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()


def numpy_task_grams(X, task_ids):
    """The data pass of any exact method: sort the rows by task, X_t^T X_t per task."""
    order = np.argsort(task_ids, kind="stable")
    Xs = X[order]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(task_ids))])
    return [Xs[s:e].T @ Xs[s:e] for s, e in zip(bounds[:-1], bounds[1:], strict=True)]


def ridge_loop(X, y, task_ids):
    """What a user does without mtreg: one sklearn Ridge per task, on the task's rows."""
    order = np.argsort(task_ids, kind="stable")
    Xs, ys = X[order], y[order]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(task_ids))])
    coef = np.empty((len(bounds) - 1, X.shape[1]))
    for t, (s, e) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        coef[t] = Ridge(alpha=L2).fit(Xs[s:e], ys[s:e]).coef_
    return coef


def dense_task_solution(X, y, task_ids, L):
    """Exact minimiser of J by one dense solve of the centred normal equations."""
    T, d = L.shape[0], X.shape[1]
    counts = np.bincount(task_ids, minlength=T)
    x_mean = np.zeros((T, d))
    np.add.at(x_mean, task_ids, X)
    x_mean /= counts[:, None]
    y_mean = np.bincount(task_ids, weights=y, minlength=T) / counts
    Xc, yc = X - x_mean[task_ids], y - y_mean[task_ids]
    M = ALPHA * np.kron(np.asarray(L.todense()), np.eye(d)) + L2 * np.eye(T * d)
    rhs = np.zeros((T, d))
    for t, rows in enumerate(np.split(np.argsort(task_ids, kind="stable"), np.cumsum(counts)[:-1])):
        M[t * d : (t + 1) * d, t * d : (t + 1) * d] += Xc[rows].T @ Xc[rows]
        rhs[t] = Xc[rows].T @ yc[rows]
    W = sla.solve(M, rhs.ravel(), assume_a="pos").reshape(T, d)
    return W, y_mean - np.einsum("td,td->t", x_mean, W)


def relative_gradient(W, b, X, y, task_ids, L):
    """||grad J(W, b)|| / ||grad J(0, 0)||: 0 at the optimum, 1 at the start."""
    kw = dict(alpha=ALPHA, l2=L2)
    g = np.concatenate([part.ravel() for part in gradient(W, b, X, y, task_ids, L, **kw)])
    g0 = np.concatenate([part.ravel() for part in gradient(0 * W, 0 * b, X, y, task_ids, L, **kw)])
    return float(np.linalg.norm(g) / np.linalg.norm(g0))


def lbfgs_until(X, y, task_ids, L, J_star, budget):
    """L-BFGS-B on J from zero until (J - J*) / J* <= REL_TOL or ``budget`` seconds pass."""
    T, d = L.shape[0], X.shape[1]
    kw = dict(alpha=ALPHA, l2=L2)

    def fun(theta):
        W, b = theta[: T * d].reshape(T, d), theta[T * d :]
        gW, gb = gradient(W, b, X, y, task_ids, L, **kw)
        return objective(W, b, X, y, task_ids, L, **kw), np.concatenate([gW.ravel(), gb])

    start = time.perf_counter()
    res, trace = U.scipy_lbfgs(
        fun, T * (d + 1), lambda J: (J - J_star) / abs(J_star), REL_TOL, budget
    )
    elapsed = time.perf_counter() - start
    reached = next((t for t, gap in trace if gap <= REL_TOL), None)
    final_gap = (res.fun - J_star) / abs(J_star)
    return dict(
        time=reached,
        elapsed=elapsed,
        gap=final_gap,
        n_iter=res.nit,
        message=str(res.message).rstrip("."),
        trace=trace,
    )


# --- scenarios --------------------------------------------------------------------------


def scenario_a(cfg):
    T, d = cfg["n_tasks"], cfg["n_features"]
    X, y, t, graph = make_multitask_regression(
        T, cfg["n_samples"], d, structure="complete", feature_scale="mixed", random_state=0
    )
    est = MultiTaskGraphRegressor(alpha=ALPHA, l2=L2)
    times, results = U.paired_timings(
        {"mtreg": lambda: est.fit(X, y, task_ids=t), "grams": lambda: numpy_task_grams(X, t)},
        cfg["repeats"],
        "a: mtreg vs NumPy Grams",
    )
    W, b = est.coef_, est.intercept_
    L = laplacian(graph)  # complete graph, weight 1/T: the estimator's default
    W_ref, b_ref = dense_task_solution(X, y, t, L)
    dense_err = float(np.abs(W - W_ref).max() / np.abs(W_ref).max())
    rel_grad = relative_gradient(W, b, X, y, t, L)
    J_star = min(
        objective(W, b, X, y, t, L, alpha=ALPHA, l2=L2),
        objective(W_ref, b_ref, X, y, t, L, alpha=ALPHA, l2=L2),
    )
    assert dense_err < 1e-6 and rel_grad < 1e-8, (dense_err, rel_grad)
    memory, _ = U.traced_peak(lambda: est.fit(X, y, task_ids=t))
    print(f"a: L-BFGS-B, budget {cfg['budget']:.0f} s ...", file=sys.stderr)
    lbfgs = lbfgs_until(X, y, t, L, J_star, cfg["budget"])
    return dict(
        X=X,
        times=times,
        solver=est.solver_,
        dense_err=dense_err,
        rel_grad=rel_grad,
        memory=memory,
        lbfgs=lbfgs,
    )


def scenario_b(cfg):
    X, y, t, graph = make_multitask_regression(
        cfg["n_tasks"],
        cfg["n_samples"],
        cfg["n_features"],
        structure="knn",
        n_neighbors=cfg["n_neighbors"],
        random_state=0,
    )
    est = MultiTaskGraphRegressor(graph, alpha=ALPHA, l2=L2)
    times, _ = U.paired_timings(
        {"mtreg": lambda: est.fit(X, y, task_ids=t), "ridge": lambda: ridge_loop(X, y, t)},
        cfg["repeats"],
        "b: mtreg vs Ridge loop",
    )
    rel_grad = relative_gradient(est.coef_, est.intercept_, X, y, t, laplacian(graph))
    assert rel_grad < 1e-8, rel_grad
    # the Ridge loop solves mtreg's problem without a graph: check they agree there
    alone = MultiTaskGraphRegressor("none", alpha=0.0, l2=L2)
    t_alone, _ = U.timed(lambda: alone.fit(X, y, task_ids=t))
    ridge_err = float(np.abs(alone.coef_ - ridge_loop(X, y, t)).max())
    assert ridge_err < 1e-8, ridge_err
    memory, _ = U.traced_peak(lambda: est.fit(X, y, task_ids=t))
    rss = fit_rss_in_subprocess(X, y, t, graph)
    return dict(
        X=X,
        times=times,
        solver=est.solver_,
        n_iter=est.n_iter_,
        rel_grad=rel_grad,
        ridge_err=ridge_err,
        t_alone=t_alone,
        memory=memory,
        rss=rss,
        nnz=graph.nnz,
    )


def scenario_c(cfg):
    X, Y, _, graph = make_multitask_regression(
        cfg["n_tasks"],
        cfg["n_samples"],
        cfg["n_features"],
        structure="knn",
        n_neighbors=cfg["n_neighbors"],
        shared_X=True,
        random_state=0,
    )
    est = MultiTaskGraphRegressor(graph, alpha=ALPHA, l2=L2)
    times, _ = U.paired_timings(
        {"mtreg": lambda: est.fit(X, Y), "ridge": lambda: Ridge(alpha=L2).fit(X, Y)},
        cfg["repeats"],
        "c: mtreg vs Ridge(X, Y)",
    )
    L = laplacian(graph)
    # full size: residual of the optimality (Sylvester) equation W G + alpha L W + l2 W = R
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    R = Yc.T @ Xc
    W = est.coef_
    residual = W @ (Xc.T @ Xc) + ALPHA * (L @ W) + L2 * W - R
    sylvester = float(np.linalg.norm(residual) / np.linalg.norm(R))
    # subset: one dense solve of the (T d) x (T d) normal equations
    n_sub, d_sub, T_sub = 2000, min(30, X.shape[1]), min(60, Y.shape[1])
    Xs, Ys, A_sub = X[:n_sub, :d_sub], Y[:n_sub, :T_sub], graph[:T_sub, :T_sub]
    sub = MultiTaskGraphRegressor(A_sub, alpha=ALPHA, l2=L2).fit(Xs, Ys)
    Xsc, Ysc = Xs - Xs.mean(axis=0), Ys - Ys.mean(axis=0)
    M = np.kron(np.eye(T_sub), Xsc.T @ Xsc) + ALPHA * np.kron(
        laplacian(A_sub).toarray(), np.eye(d_sub)
    )
    M += L2 * np.eye(T_sub * d_sub)
    W_ref = np.linalg.solve(M, (Ysc.T @ Xsc).ravel()).reshape(T_sub, d_sub)
    subset_err = float(np.abs(sub.coef_ - W_ref).max() / np.abs(W_ref).max())
    assert sylvester < 1e-10 and subset_err < 1e-8, (sylvester, subset_err)
    memory, _ = U.traced_peak(lambda: est.fit(X, Y))
    return dict(
        X=X,
        Y=Y,
        times=times,
        solver=est.solver_,
        sylvester=sylvester,
        subset_err=subset_err,
        memory=memory,
    )


# --- fresh processes: peak RSS of one fit, cold start -----------------------------------

RSS_CHILD = """
import json, os, sys, time
import numpy as np, scipy.sparse as sp
sys.path.insert(0, os.environ["BENCH_ROOT"])
from benchmarks._util import current_rss_bytes, peak_rss_bytes, reset_peak_rss
from mtreg import MultiTaskGraphRegressor, _jit
from mtreg.datasets import make_multitask_regression

def n_compiled():
    return sum(len(getattr(k, "signatures", ())) for k in vars(_jit).values())

# warm the same code path on a tiny problem, so that no JIT work is in the measurement
Xw, yw, tw, gw = make_multitask_regression(300, 5, 20, structure="knn", random_state=1)
MultiTaskGraphRegressor(gw).fit(Xw, yw, task_ids=tw)
folder = os.environ["BENCH_DATA"]
X, y, t = (np.load(os.path.join(folder, name + ".npy")) for name in ("X", "y", "t"))
graph = sp.load_npz(os.path.join(folder, "graph.npz"))
reset = reset_peak_rss()
before, compiled = current_rss_bytes(), n_compiled()
start = time.perf_counter()
MultiTaskGraphRegressor(graph, alpha=1.0, l2=1.0).fit(X, y, task_ids=t)
print(json.dumps(dict(rss_before=before, peak=peak_rss_bytes(), reset=reset,
                      seconds=time.perf_counter() - start,
                      compiled_in_fit=n_compiled() - compiled)))
"""


def fit_rss_in_subprocess(X, y, t, graph):
    with tempfile.TemporaryDirectory() as folder:
        for name, value in (("X", X), ("y", y), ("t", t)):
            np.save(pathlib.Path(folder) / f"{name}.npy", value)
        sp.save_npz(pathlib.Path(folder) / "graph.npz", graph)
        return U.run_python(RSS_CHILD, env=dict(BENCH_DATA=folder, BENCH_ROOT=_root()))


COLD_CHILD = """
import json, time
start = time.perf_counter()
from mtreg import MultiTaskGraphRegressor
from mtreg.datasets import make_multitask_regression as make
out = {"import mtreg": time.perf_counter() - start}
problems = {
    "task_ids, default complete graph": make(
        139, (20, 200), 27, structure="complete", feature_scale="mixed", random_state=0),
    "task_ids, sparse kNN graph": make(400, 20, 20, structure="knn", random_state=0),
    "multi-output, kNN graph": make(
        100, 1000, 50, structure="knn", shared_X=True, random_state=0),
}
for name, (X, y, t, graph) in problems.items():
    est = MultiTaskGraphRegressor(None if name.endswith("complete graph") else graph)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        est.fit(X, y, task_ids=t)
        times.append(time.perf_counter() - start)
    out[name] = dict(first=times[0], warm=min(times[1:]), solver=est.solver_)
print(json.dumps(out))
"""


def cold_start():
    """First fits in fresh interpreters: empty numba cache (compile), then cache filled."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(NUMBA_CACHE_DIR=cache, PYTHONPATH=_root())
        compiled = U.run_python(COLD_CHILD, env=env)
        cached = U.run_python(COLD_CHILD, env=env)
    return compiled, cached


def _root():
    return str(pathlib.Path(__file__).resolve().parents[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    group.add_argument("--full", action="store_true", help="the full sizes (default)")
    parser.add_argument("--only", default="abc", help="scenarios to run, e.g. 'ac'")
    parser.add_argument("--budget", type=float, help="L-BFGS time budget in seconds")
    parser.add_argument("--no-cold-start", action="store_true")
    parser.add_argument(
        "--blas-threads", type=int, help="limit BLAS/OpenMP threads (default: the library's own)"
    )
    parser.add_argument("--output", type=pathlib.Path, help="Markdown file to write")
    args = parser.parse_args(argv)
    if not args.only or set(args.only) - set("abc"):
        parser.error(f"--only takes letters among 'abc', got {args.only!r}")
    if args.blas_threads:
        U.limit_blas_threads(args.blas_threads)
    mode = "quick" if args.quick else "full"
    cfg = {k: dict(v) for k, v in MODES[mode].items()}
    if args.budget is not None:
        cfg["a"]["budget"] = args.budget
    start = time.perf_counter()
    info = U.machine_info()
    cold = None if args.no_cold_start else cold_start()
    a = scenario_a(cfg["a"]) if "a" in args.only else None
    b = scenario_b(cfg["b"]) if "b" in args.only else None
    c = scenario_c(cfg["c"]) if "c" in args.only else None
    text = report(mode, cfg, TARGETS, info, a, b, c, cold, time.perf_counter() - start)
    output = args.output or RESULTS / ("regressor.md" if mode == "full" else "regressor-quick.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)
    print(f"written to {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
