"""The regressor, cv and speed suites: each returns tidy rows, flat dicts with ``kind``
("compare", "check", "memory", "curve", "scaling", "cold", "note"), ``suite``, ``scenario``."""

import itertools
import tempfile
from functools import partial

import numpy as np
import sklearn
from sklearn.linear_model import Ridge
from sklearn.model_selection import LeaveOneOut
from threadpoolctl import threadpool_limits

from mtreg import MultiTaskGraphRegressor, MultiTaskGraphRegressorCV, TaskStratifiedKFold, core

from . import contenders as C
from . import datasets as D
from . import report as R
from . import scale
from .datasets import cold_row
from .objective import ALPHA, L2, child, lbfgs, median_ratio, profile, race, timed, traced_peak

MODES = {
    "regressor": {
        "full": dict(a=dict(repeats=31, budget=60.0), b=dict(T=10_000, repeats=5),
                     c=dict(n=20_000, d=200, T=500, repeats=9), e=dict(repeats=301),
                     d=dict(n=100_000, features=(20, 50, 100), rows=(10, 100, 1000), repeats=11)),
        "quick": dict(a=dict(repeats=11, budget=10.0), b=dict(T=2_000, repeats=3),
                      c=dict(n=5_000, d=100, T=200, repeats=5), e=dict(repeats=51),
                      d=dict(n=20_000, features=(20, 50), rows=(10, 100, 1000), repeats=5)),
    },
    "cv": {
        "full": dict(repeats=9, serial_repeats=5, loo_repeats=3, subset=(8, 25)),
        "quick": dict(repeats=3, serial_repeats=2, loo_repeats=2, subset=(4, 15)),
    },
    "speed": {
        "full": dict(repeats=11, slow_repeats=5, budget=60.0, curve_budget=20.0, slow_limit=2.0,
                     cvxpy_limit=30.0, cvxpy_max_n=10**6, axes={
            "n": dict(values=[20, 50, 100, 200, 500, 1000, 2000], T=50, d=20),
            "T": dict(values=[10, 30, 100, 300, 1000, 3000], rows=50, d=20),
            "d": dict(values=[5, 10, 20, 50, 100, 200], T=50, rows=100)}),
        "quick": dict(repeats=5, slow_repeats=2, budget=3.0, curve_budget=3.0, slow_limit=1.0,
                      cvxpy_limit=3.0, cvxpy_max_n=5000, axes={
            "n": dict(values=[20, 100, 500], T=50, d=20),
            "T": dict(values=[10, 100, 1000], rows=50, d=20),
            "d": dict(values=[5, 20, 100], T=50, rows=100)}),
    },
}  # fmt: skip
# (goal, how the report writes it); "b_memory" in bytes
TARGETS = {
    "a_gram": (3.0, "<= 3"), "a_lbfgs": (100.0, ">= 100x faster"), "b": (0.5, "<= 0.5"),
    "b_memory": (2 * 1024**3, "<= 2 GB"), "c": (2.0, "<= 2"), "cv": (20.0, ">= 20x"),
    "classifier": (5.0, ">= 5x"), "d": (2.0, "<= 2 (>= 50 % of its rate)"),
    "small": (0.5e-3, "<= 0.5 ms"), "school": (1.5e-3, "<= 1.5 ms"),
}  # fmt: skip
REL_TOL = 1e-8  # L-BFGS-B on the squared loss stops at (J - J*) / J* <= REL_TOL
GRID = np.logspace(-2, 4, 30)


def compare(at, contender, times, mtreg_times, *, mtreg="mtreg", target=None, over=False,
            bound=None, fmt=None, **extra):  # fmt: skip
    """A "compare" row at ``at`` (suite, scenario, problem): ``ratio`` the median of the paired
    ratios contender / mtreg (mtreg / contender when ``over``), or for a contender stopped by
    its budget (no times) the lower bound ``bound`` / median(mtreg); ``target`` a TARGETS key."""
    num, den = (mtreg_times, times) if over else (times, mtreg_times)
    ratio = median_ratio(num, den) if len(times) else bound and bound / np.median(mtreg_times)
    goal, text = TARGETS.get(target, (None, "(reported)"))
    fmt = fmt or ("{:.3g}" if over else "{:.0f}x")
    row = dict(at, kind="compare", mtreg=mtreg, mtreg_times=list(mtreg_times), contender=contender)
    row |= dict(times=list(times), ratio=ratio, mtreg_over=over, bound=bound, fmt=fmt)
    return row | dict(target=text, met=R.met(ratio, goal, over)) | extra


def check(suite, scenario, text):
    return dict(kind="check", suite=suite, scenario=scenario, text=text)


def fit_rows(est, p):
    return lambda: est.fit(p.X, p.y, task_ids=p.t)


# --- regressor -----------------------------------------------------------------------------


def regressor(mode, only="abcde", budget=None, cold=True, **_):
    """MultiTaskGraphRegressor against a data pass, L-BFGS-B on J, a Ridge loop, Ridge(X, Y)."""
    cfg, rows = MODES["regressor"][mode], []

    def versus(s, fit, contender, call, label, data, target):
        """mtreg's ``fit`` and ``call`` interleaved: the "compare" row (ratio mtreg / contender),
        the "memory" row (tracemalloc peak of one fit); ``label()`` names the fitted problem."""
        times, _ = race({"mtreg": fit, "other": call}, cfg[s]["repeats"], f"{s}: vs {contender}")
        at = dict(suite="regressor", scenario=s, problem=label())
        memory, _ = traced_peak(fit)
        row = compare(at, contender, times["other"], times["mtreg"], target=target, over=True)
        rows.extend([row, dict(at, kind="memory", traced=memory, data=data)])
        return at, times["mtreg"]

    if "a" in only:
        p = D.school_sized()
        est = D.regressor(p)
        label = lambda: f"a. T={p.T}, n={p.n:,}, d={p.d}, complete graph ({est.solver_})"  # noqa: E731
        grams = "NumPy per-task Grams (argsort + X_t^T X_t)"
        a, mine = versus("a", fit_rows(est, p), grams, lambda: C.numpy_grams(p), label, p.X.nbytes,
                         "a_gram")  # fmt: skip
        rel_grad = p.relative_gradient(est.coef_, est.intercept_)
        assert rel_grad < 1e-8, rel_grad
        lb = lbfgs(p, p.J(est.coef_, est.intercept_), REL_TOL, budget or cfg["a"]["budget"])
        lb_times = [lb["time"]] if lb["time"] is not None else []
        rows.append(compare(a, "scipy L-BFGS-B on J to 1e-8 relative", lb_times, mine,
                            target="a_lbfgs", bound=lb["elapsed"], gap=lb["gap"], single=True,
                            stopped=f"gap {lb['gap']:.1e} reached"))  # fmt: skip
        curve = dict(kind="curve", contender="scipy L-BFGS-B", points=lb["trace"])
        rows.append(a | curve | dict(n_iter=lb["n_iter"], message=lb["message"]))
        text = f"||grad J|| / ||grad J(0)|| = {rel_grad:.1e} (assert < 1e-8)"
        rows.append(check("regressor", "a", text))
    if "b" in only:
        p = D.knn_tasks(cfg["b"]["T"], 50, 20)
        est = D.regressor(p)
        label = lambda: (f"b. T={p.T:,}, n={p.n:,}, d={p.d}, 10-NN graph ({est.solver_}, "  # noqa: E731
                         f"{est.n_iter_} it.)")  # fmt: skip
        ridge = "loop of sklearn Ridge per task"
        versus("b", fit_rows(est, p), ridge, lambda: C.ridge_loop(p), label, p.X.nbytes, "b")
        rel_grad = p.relative_gradient(est.coef_, est.intercept_)
        assert rel_grad < 1e-8, rel_grad
        alone = MultiTaskGraphRegressor("none", alpha=0.0, l2=L2)
        seconds, _ = timed(fit_rows(alone, p))
        ridge_err = float(np.abs(alone.coef_ - C.ridge_loop(p)[0]).max())
        assert ridge_err < 1e-8, ridge_err
        # peak RSS (VmHWM, reset before the fit) of a fresh process that loads the data, warms
        # up on a tiny problem and runs only the fit (``scale.many_tasks_run``); None without /proc
        try:
            with tempfile.TemporaryDirectory() as folder:
                scale.save(folder, p.X, p.y, p.t, p.adjacency)
                cfg_b = dict(folder=folder, n_features=p.d, repeats=1, profile=False)
                out = child(scale.many_tasks_run, cfg_b)
            rss = dict(rss_before=out["before"], peak=out["peak"], seconds=out["times"][0])
        except (RuntimeError, OSError):
            rss = None
        goal, text = TARGETS["b_memory"]
        worst = max(rows[-1]["traced"], rss["peak"] if rss else 0)
        rows[-1] |= dict(rss=rss, goal=goal, target=text, met=R.met(worst, goal, at_most=True))
        rows.append(check("regressor", "b", f"||grad J|| / ||grad J(0)|| = {rel_grad:.1e} "
            "(assert < 1e-8); with graph='none', alpha=0 mtreg solves the Ridge loop's problem: "
            f"max |coef difference| = {ridge_err:.1e} (assert < 1e-8); that fit took "
            f"{seconds * 1e3:.1f} ms (one run)."))  # fmt: skip
    if "c" in only:
        c = cfg["c"]
        X, Y, A = D.multi_output(c["n"], c["d"], c["T"])
        est = MultiTaskGraphRegressor(A, alpha=ALPHA, l2=L2)
        size = f"n={c['n']:,}, d={c['d']}, T={c['T']}"
        label = lambda: f"c. multi-output {size}, 10-NN graph ({est.solver_})"  # noqa: E731
        ridge, fit = "sklearn Ridge(alpha=l2).fit(X, Y)", lambda: est.fit(X, Y)
        versus("c", fit, ridge, lambda: Ridge(alpha=L2).fit(X, Y), label, X.nbytes, "c")
        # the optimality equation W G + alpha L W + l2 W = R (G = Xc^T Xc, R = Yc^T Xc)
        Xc, Yc, W = X - X.mean(axis=0), Y - Y.mean(axis=0), est.coef_
        G, R_, LW = Xc.T @ Xc, Yc.T @ Xc, np.asarray(A.sum(axis=1)).reshape(-1, 1) * W - A @ W
        residual = float(np.linalg.norm(W @ G + ALPHA * LW + L2 * W - R_) / np.linalg.norm(R_))
        assert residual < 1e-10, residual
        rows.append(check("regressor", "c", "||W G + alpha L W + l2 W - R|| / ||R|| = "
            f"{residual:.1e} (G, R from centred X, Y by NumPy; assert < 1e-10)"))  # fmt: skip
    if "d" in only:  # the data pass of every exact fit against the machine's own GEMM rate
        rows += data_pass(cfg["d"])
    if "e" in only:  # small fits: their time and where it goes
        for name, p in (("small", D.knn_tasks(20, 50, 10, 5)), ("school", D.school_sized())):
            est = D.regressor(p)
            times, _ = race({"mtreg": fit_rows(est, p)}, cfg["e"]["repeats"], f"e: {name}")
            goal, text = TARGETS[name]
            edges = "complete graph" if p.default_graph else f"{p.adjacency.nnz // 2} edges, CSR"
            problem = f"e. T={p.T}, n={p.n:,}, d={p.d}, {edges} ({est.solver_})"
            at = dict(suite="regressor", scenario="e", problem=problem, kind="latency")
            seconds = float(np.median(times["mtreg"]))
            rows.append(at | dict(times=times["mtreg"], target=text, met=R.met(seconds, goal, True),
                                  profile=profile(fit_rows(est, p), 10)))  # fmt: skip
    return rows + ([cold_row("regressor")] if cold else [])


def data_pass(cfg):
    """Per-task moments (``mtreg.core.task_stats``) against X^T X of the same rows, one GEMM:
    tasks of equal size, rows sorted by task or shuffled; standard normal X and y."""
    rows, rng = [], np.random.default_rng(0)
    for d, m, shuffled in itertools.product(cfg["features"], cfg["rows"], (False, True)):
        n = cfg["n"] - cfg["n"] % m
        X, y, t = rng.standard_normal((n, d)), rng.standard_normal(n), np.arange(n) // m
        t = rng.permutation(t) if shuffled else t
        T = n // m
        calls = dict(
            mtreg=partial(core.task_stats, X, y, t, n_tasks=T),
            gemm=partial(np.dot, X.T, X),
            ones=partial(np.ones, (T, d, d)),
        )
        times, _ = race(calls, cfg["repeats"], f"d: d={d}, {m} rows")
        order, write = "shuffled" if shuffled else "sorted", R.fmt_seconds(np.median(times["ones"]))
        problem = f"d. n={n:,}, d={d}, {T:,} tasks of {m} rows, {order}: per-task moments"
        at = dict(suite="regressor", scenario="d", problem=f"{problem} (T d^2 ones: {write})")
        gemm = "NumPy X.T @ X (one GEMM)"
        rows.append(compare(at, gemm, times["gemm"], times["mtreg"], target="d", over=True))
    return rows


# --- cv --------------------------------------------------------------------------------------


def cv(mode, only="ab", **_):
    """MultiTaskGraphRegressorCV against GridSearchCV on the same folds; exact leave-one-out."""
    cfg, rows, p = MODES["cv"][mode], [], D.school_sized()
    at = lambda s, problem: dict(suite="cv", scenario=s, problem=problem)  # noqa: E731
    if "a" in only:
        folds = list(TaskStratifiedKFold(5, shuffle=True, random_state=0).split(p.X, groups=p.t))
        ours = MultiTaskGraphRegressorCV(alphas=GRID, cv=folds)
        by_column, Xt = C.grid_search(GRID, folds), C.with_task_column(p)
        with sklearn.config_context(enable_metadata_routing=True):
            by_routing = C.grid_search(GRID, folds, routed=True)
            calls = {
                "mtreg": fit_rows(ours, p),
                "routing": lambda: by_routing.fit(p.X, p.y, task_ids=p.t),
                "column": lambda: by_column.fit(Xt, p.y),
            }
            times, _ = race(calls, cfg["repeats"], "a: CV vs GridSearchCV")
            with threadpool_limits(1):
                two = {k: calls[k] for k in ("mtreg", "routing")}
                serial, _ = race(two, cfg["serial_repeats"], "a: one thread")
        mean = ours.cv_results_["mean_test_score"]
        searches = (by_routing, by_column)
        diff = max(np.abs(mean - s.cv_results_["mean_test_score"]).max() for s in searches)
        best = {s.best_params_["alpha"] for s in searches}
        assert best == {ours.alpha_} and diff < 1e-9, (best, ours.alpha_, diff)
        coef = by_routing.best_estimator_.coef_
        coef_diff = float(np.abs(ours.coef_ - coef).max() / np.abs(ours.coef_).max())
        a = at("a", f"a. T={p.T}, n={p.n:,}, d={p.d}, 30 alphas, 5 folds ({ours.solver_} refit)")
        ways = dict(routing="task_ids routed as metadata", column="task labels in a task column")
        for key, what in ways.items():
            name = f"GridSearchCV, {what}"
            rows.append(compare(a, name, times[key], times["mtreg"], target="cv", fmt="{:.1f}x"))
        a1 = dict(a, problem=a["problem"] + ", every library on one thread")
        name = "GridSearchCV, task_ids routed"
        rows.append(compare(a1, name, serial["routing"], serial["mtreg"], fmt="{:.1f}x"))
        rows.append(check("cv", "a", f"selected alpha {ours.alpha_:.3g} by all three (asserted);"
            f" max |mean score difference| over the grid {diff:.1e} (assert < 1e-9); refitted "
            "coef_ against GridSearchCV's best_estimator_: max relative difference "
            f"{coef_diff:.1e}."))  # fmt: skip
    if "b" in only:
        n_tasks, n_rows = cfg["subset"]
        keep = np.concatenate([np.flatnonzero(p.t == k)[:n_rows] for k in range(n_tasks)])
        s = D.Problem(p.X[keep], p.y[keep], p.t[keep], p.adjacency[:n_tasks, :n_tasks])
        ours = MultiTaskGraphRegressorCV(alphas=GRID)
        brute = C.grid_search(GRID, LeaveOneOut(), scoring="neg_mean_squared_error")
        Xts = C.with_task_column(s)
        calls = {"mtreg": fit_rows(ours, s), "brute": lambda: brute.fit(Xts, s.y)}
        times, _ = race(calls, cfg["loo_repeats"], "b: LOO vs GridSearchCV(LeaveOneOut)")
        ref = brute.cv_results_["mean_test_score"]
        diff = float(np.max(np.abs(ours.cv_results_["mean_test_score"] - ref) / np.abs(ref)))
        assert diff < 1e-8 and ours.alpha_ == brute.best_params_["alpha"], diff
        full, plain = MultiTaskGraphRegressorCV(alphas=GRID), MultiTaskGraphRegressor()
        calls = {"loo": fit_rows(full, p), "fit": fit_rows(plain, p)}
        full_times, _ = race(calls, cfg["loo_repeats"], "b: LOO at full size vs one fit")
        b = at("b", f"b. leave-one-out, subset n={s.n}, 30 alphas")
        name = f"GridSearchCV(cv=LeaveOneOut()): {30 * s.n:,} fits"
        rows.append(compare(b, name, times["brute"], times["mtreg"], fmt="{:.0f}x"))
        b = at("b", f"b. leave-one-out, full size n={p.n:,}, 30 alphas")
        name, fits = "one plain fit (one alpha)", "{:.1f} fits"
        rows.append(compare(b, name, full_times["fit"], full_times["loo"], fmt=fits, over=True))
        rows.append(check("cv", "b", "leave-one-out mean squared errors against GridSearchCV("
            f"LeaveOneOut): max relative difference {diff:.1e} (assert < 1e-8), same alpha "
            f"{ours.alpha_:.3g}; at full size the selected alpha is {full.alpha_:.4g}."
        ))  # fmt: skip
    return rows


# --- speed -----------------------------------------------------------------------------------


SPEED_PROBLEMS = {
    "school-sized": D.school_sized,
    "kNN graph": lambda: D.knn_tasks(100, 40, 20, n_neighbors=5),
}


def speed(mode, only="abc", budget=None, cold=True, **_):
    """Every contender side by side with the mtreg fit of its problem (a); scaling curves (b)."""
    cfg, rows = MODES["speed"][mode], []
    if "a" in only:
        for name, make in SPEED_PROBLEMS.items():
            rows += side_by_side(name, make(), cfg, budget or cfg["budget"], mode)
    if "b" in only:
        for axis, spec in cfg["axes"].items():
            dropped = set()
            for v in spec["values"]:
                T, d = (v if axis == k else spec[k] for k in "Td")
                p = D.knn_tasks(T, v if axis == "n" else spec["rows"], d, n_neighbors=5, seed=1)
                rows.append(scaling_point(p, axis, cfg, dropped))
    if "c" in only and cold:
        rows.append(cold_row("regressor") | dict(suite="speed"))
    return rows


def side_by_side(name, p, cfg, budget, mode):
    """mtreg (its auto solver) against each contender, each pair interleaved by ``race``; each
    judge checks a contender's answer and returns its text; ``ok``: whether it is timed."""
    est = D.regressor(p)
    times, _ = race({"mtreg": fit_rows(est, p)}, cfg["repeats"], f"a: {name}")
    W, b, auto = est.coef_, est.intercept_, f"mtreg ({est.solver_})"
    J_star, rel_grad = p.J(W, b), p.relative_gradient(W, b)
    assert rel_grad < 1e-8, rel_grad
    graph = f"knn graph, {p.adjacency.nnz // 2:,} edges"
    graph = "complete graph (default)" if p.default_graph else graph
    problem = f"{name}: T={p.T:,}, n={p.n:,}, d={p.d}, {graph}"
    at = dict(suite="speed", scenario="a", problem=problem)
    memory, _ = traced_peak(fit_rows(est, p))
    check = f"‖∇J‖/‖∇J(0)‖ = {rel_grad:.1e}"
    rows = [compare(at, "", [], times["mtreg"], mtreg=auto, base=True, memory=memory, check=check)]
    note = lambda text: rows.append(dict(at, kind="note", text=text))  # noqa: E731

    def pair(contender, call, repeats, judge, mtreg=auto, mtreg_call=None, traced=True, ok=None):
        mem, answer = traced_peak(call) if traced else (float("nan"), call())
        text, timed_ok = judge(answer), ok is None or ok(answer)
        t, _ = race({"mtreg": mtreg_call or fit_rows(est, p), "other": call}, repeats * timed_ok)
        t["mtreg"] = t["mtreg"] or times["mtreg"]  # out of budget: one bound, the base times
        bound = dict(bound=None if timed_ok else budget, fmt="{:.3g}", stopped="budget spent")
        row = compare(at, contender, t["other"], t["mtreg"], mtreg=mtreg, memory=mem, **bound)
        rows.append(row | dict(check=text))
        return answer

    def ridge_judge(answer):
        err = max(np.abs(answer[0] - alone.coef_).max(), np.abs(answer[1] - alone.intercept_).max())
        assert err < 1e-8, err
        return f"same answer as mtreg graph='none', alpha=0: max |diff| {err:.1e}"

    def lbfgs_judge(lb):
        reached = "reached" if lb["time"] is not None else "NOT reached within the budget"
        return f"{reached}: gap {lb['gap']:.1e} after {lb['n_iter']} iterations"

    def cvxpy_judge(r):
        gap, coef = p.gap(r["W"], r["b"], J_star), np.abs(r["W"] - W).max() / np.abs(W).max()
        return (f"status {r['status']}; (J - J*)/J* = {gap:.1e}; max coef diff {coef:.1e} "
                f"(relative); solver's own time {r['solve_time']:.3g} s")  # fmt: skip

    def krr_judge(pred):
        diff = np.abs(pred - ref).max() / np.abs(ref).max()
        assert diff < 1e-6, diff
        return f"same predictions as mtreg fit_intercept=False: max relative diff {diff:.1e}"

    if not p.default_graph:
        gap = lambda e: f"(J - J*)/J* = {p.gap(e.coef_, e.intercept_, J_star):.1e}"  # noqa: E731
        pcg_judge = lambda e: f"{gap(e)}; {e.n_iter_} CG iterations"  # noqa: E731
        pcg = fit_rows(D.regressor(p, solver="pcg"), p)
        pair("mtreg, solver='pcg'", pcg, cfg["repeats"], pcg_judge)
    alone = MultiTaskGraphRegressor("none", alpha=0.0, l2=L2).fit(p.X, p.y, task_ids=p.t)
    ridge = "T sklearn Ridge(alpha=l2), one per task (no coupling)"
    pair(ridge, lambda: C.ridge_loop(p), cfg["repeats"], ridge_judge)
    lb = pair(f"scipy L-BFGS-B on J until (J - J*)/J* <= {REL_TOL:g}",
              lambda: lbfgs(p, J_star, REL_TOL, budget), cfg["slow_repeats"], lbfgs_judge,
              traced=False, ok=lambda lb: lb["time"] is not None)  # fmt: skip
    if lb["trace"]:
        curve = dict(kind="curve", contender="scipy L-BFGS-B", points=lb["trace"])
        rows.append(dict(at, **curve, mtreg_time=float(np.median(times["mtreg"]))))
    if C.cp is None:
        note("cvxpy: not installed (`pip install cvxpy`, or the `bench` extra): skipped.")
    elif p.n > cfg["cvxpy_max_n"]:
        limit = f"(n = {p.n:,} > {cfg['cvxpy_max_n']:,})"
        note(f"cvxpy: skipped on the {name} problem in {mode} mode {limit}.")
    else:
        r = pair("cvxpy, build + solve", lambda: C.cvxpy_solve(p), cfg["slow_repeats"], cvxpy_judge)
        rows[-1]["contender"] = f"cvxpy ({r['solver']}), build + solve"
    if p.n > C.KRR_MAX_N:
        note(f"KernelRidge: skipped on the {name} problem: each n x n Gram matrix would take "
             f"{8 * p.n**2 / 2**30:.2f} GB (limit n <= {C.KRR_MAX_N:,}).")  # fmt: skip
        return rows
    no_icpt = D.regressor(p, fit_intercept=False)
    ref = no_icpt.fit(p.X, p.y, task_ids=p.t).predict(p.X, task_ids=p.t)
    krr = ("sklearn KernelRidge(kernel='precomputed') on the multi-task Gram matrix "
           "(mtreg.multitask_kernel, linear; no intercepts)")  # fmt: skip
    pair(krr, lambda: C.kernel_ridge(p), cfg["slow_repeats"], krr_judge,
         f"mtreg ({no_icpt.solver_}), fit_intercept=False", fit_rows(no_icpt, p))  # fmt: skip
    return rows


def scaling_point(p, axis, cfg, dropped):
    """Every contender on one size: the median of up to ``repeats`` calls, stopped once they
    took ``slow_limit`` seconds; ``dropped`` collects the ones grown too slow."""
    est, pcg = D.regressor(p).fit(p.X, p.y, task_ids=p.t), D.regressor(p, solver="pcg")
    fit_rows(pcg, p)()  # warm-ups (numba)
    J_star, times, gaps = p.J(est.coef_, est.intercept_), {}, {}

    def median(call):
        runs = []
        while len(runs) < cfg["repeats"] and sum(runs) < cfg["slow_limit"]:
            runs.append(timed(call)[0])
        return float(np.median(runs))

    times["mtreg (auto)"] = median(fit_rows(est, p))
    times["mtreg, solver='pcg'"] = median(fit_rows(pcg, p))
    times["T sklearn Ridge"] = median(lambda: C.ridge_loop(p))
    if "L-BFGS-B" not in dropped:
        lb = lbfgs(p, J_star, REL_TOL, cfg["curve_budget"])
        if lb["time"] is None:
            dropped.add("L-BFGS-B")
            gaps["L-BFGS-B"] = lb["gap"]
        else:
            times["L-BFGS-B"] = lb["time"]
    if C.cp is not None and "cvxpy" not in dropped:
        r = C.cvxpy_solve(p)
        times["cvxpy"], gaps["cvxpy"] = r["seconds"], p.gap(r["W"], r["b"], J_star)
        if r["seconds"] > cfg["cvxpy_limit"]:
            dropped.add("cvxpy")
    if p.n <= C.KRR_MAX_N and "KernelRidge" not in dropped:
        times["KernelRidge (precomputed)"] = median(lambda: C.kernel_ridge(p))
        if times["KernelRidge (precomputed)"] > cfg["cvxpy_limit"]:
            dropped.add("KernelRidge")
    size = dict(axis=axis, n=p.n, T=p.T, d=p.d, solver=est.solver_, times=times, gaps=gaps)
    return dict(kind="scaling", suite="speed", scenario="b", **size)


SUITES = {"regressor": regressor, "cv": cv, "speed": speed}
