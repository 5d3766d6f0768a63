"""Fit time and memory of MultiTaskGraphRegressor against what a user would do otherwise.

Synthetic data (``mtreg.datasets.make_multitask_regression``), squared loss, alpha = 1,
l2 = 1, intercepts fitted; every answer is judged by the same J (``mtreg._objective``).

a. Side by side on two problems (school-sized with unscaled features and the default
   complete graph; a sparse kNN task graph with standardised features): mtreg against
   T separate sklearn ``Ridge`` models, scipy L-BFGS-B on J, cvxpy on J (optional extra)
   and sklearn ``KernelRidge(kernel="precomputed")`` on the multi-task Gram matrix;
   medians over interleaved repeats, ratios of pairs, peak memory, agreement of the
   solutions, and suboptimality-versus-time curves.
b. Scaling curves in n, T and d (kNN task graphs) for the same contenders, as PNG.
c. Cold start: numba compilation, measured in fresh interpreters, apart from the above
   (every timing in a and b follows an untimed warm-up fit).

Run ``python benchmarks/bench_speed.py [--quick]`` from the repository root (or
``python -m benchmarks [--full]``); report in benchmarks/results/speed.md, plots beside it.
"""

import argparse
import pathlib
import sys
import time

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmarks import _speed_contenders as C  # noqa: E402
from benchmarks import _util as U  # noqa: E402
from benchmarks._speed_report import report, scaling_plot, suboptimality_plot  # noqa: E402
from mtreg import MultiTaskGraphRegressor  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
REL_TOL = 1e-8  # L-BFGS stops at (J - J*) / J* <= REL_TOL
KRR_MAX_N = 6000  # beyond, the n x n Gram matrices of KernelRidge take > 0.5 GB each

# fmt: off
PROBLEMS = {  # scenario a
    "school-sized": dict(n_tasks=139, n_samples=(20, 200), n_features=27,
                         structure="complete", feature_scale="mixed"),
    "kNN graph": dict(n_tasks=100, n_samples=40, n_features=20, structure="knn",
                      n_neighbors=5),
}
MODES = {
    "full": dict(name="full", repeats=11, slow_repeats=5, budget=60.0, curve_budget=20.0,
                 slow_limit=2.0, cvxpy_limit=30.0, cvxpy_max_n=10**6,
                 axes={"n": dict(values=[20, 50, 100, 200, 500, 1000, 2000], T=50, d=20),
                       "T": dict(values=[10, 30, 100, 300, 1000, 3000], rows=50, d=20),
                       "d": dict(values=[5, 10, 20, 50, 100, 200], T=50, rows=100)}),
    "quick": dict(name="quick", repeats=5, slow_repeats=2, budget=3.0, curve_budget=3.0,
                  slow_limit=1.0, cvxpy_limit=3.0, cvxpy_max_n=5000,
                  axes={"n": dict(values=[20, 100, 500], T=50, d=20),
                        "T": dict(values=[10, 100, 1000], rows=50, d=20),
                        "d": dict(values=[5, 20, 100], T=50, rows=100)}),
}
# fmt: on


def relative_gradient(problem, W, b):
    """||grad J(W, b)|| / ||grad J(0, 0)||."""
    from mtreg._objective import gradient

    kw = dict(alpha=C.ALPHA, l2=C.L2)
    args = (problem.X, problem.y, problem.t, problem.laplacian)
    g = np.concatenate([v.ravel() for v in gradient(W, b, *args, **kw)])
    g0 = np.concatenate([v.ravel() for v in gradient(0 * W, 0 * b, *args, **kw)])
    return float(np.linalg.norm(g) / np.linalg.norm(g0))


# --- a: side by side ----------------------------------------------------------------------


def side_by_side(name, spec, cfg):
    """Every contender paired with the mtreg fit that solves its problem."""
    problem = C.Problem(**spec)
    est = C.mtreg_fit(problem)
    W, b = est.coef_, est.intercept_
    J_star = problem.J(W, b)
    rel_grad = relative_gradient(problem, W, b)
    assert rel_grad < 1e-8, rel_grad
    rows, notes = [], []
    fit = lambda **kw: lambda: C.mtreg_fit(problem, **kw)  # noqa: E731

    def pair(
        label,
        mtreg_label,
        mtreg_call,
        other,
        repeats,
        check,
        traced=True,
        timed_if=lambda result: True,
    ):
        """Untimed warm-ups (the contender's under tracemalloc when ``traced``: its peak
        memory), whose answer ``check`` judges; then ``repeats`` interleaved timed calls,
        unless ``timed_if(answer)`` is False (L-BFGS out of budget: its time is a bound)."""
        if traced:
            memory, result = U.traced_peak(other)
        else:
            memory, result = float("nan"), other()
        mtreg_call()
        times = {"mtreg": [], "other": []}
        for _ in U.progress(range(repeats if timed_if(result) else 0), f"a: {name}: {label}"):
            times["mtreg"].append(U.timed(mtreg_call)[0])
            times["other"].append(U.timed(other)[0])
        times = {k: np.array(v) for k, v in times.items()}
        ratio = U.median_ratio(times["other"], times["mtreg"]) if len(times["other"]) else None
        rows.append(
            dict(
                contender=label,
                mtreg=mtreg_label,
                times=times,
                memory=memory,
                check=check(result),
                result=result,
                ratio=ratio,
            )
        )
        return result

    auto = f"mtreg ({est.solver_})"
    base_times, _ = U.paired_timings({"mtreg": fit()}, cfg["repeats"], f"a: {name}: mtreg")
    base_memory, _ = U.traced_peak(fit())
    if problem.structure != "complete":
        pair(
            "mtreg, solver='pcg'",
            auto,
            fit(),
            fit(solver="pcg"),
            cfg["repeats"],
            lambda e: (
                f"(J - J*)/J* = {problem.gap(e.coef_, e.intercept_, J_star):.1e}; "
                f"{e.n_iter_} CG iterations"
            ),
        )
    alone = MultiTaskGraphRegressor("none", alpha=0.0, l2=C.L2).fit(
        problem.X, problem.y, task_ids=problem.t
    )

    def ridge_check(result):
        err = max(np.abs(result[0] - alone.coef_).max(), np.abs(result[1] - alone.intercept_).max())
        assert err < 1e-8, err
        return f"same answer as mtreg graph='none', alpha=0: max |diff| {err:.1e}"

    pair(
        "T sklearn Ridge(alpha=l2), one per task (no coupling)",
        auto,
        fit(),
        lambda: C.ridge_loop(problem),
        cfg["repeats"],
        ridge_check,
    )

    def lbfgs_check(lb):
        reached = "reached" if lb["time"] is not None else "NOT reached within the budget"
        return f"{reached}: gap {lb['gap']:.1e} after {lb['n_iter']} iterations"

    lb = pair(
        f"scipy L-BFGS-B on J until (J - J*)/J* <= {REL_TOL:g}",
        auto,
        fit(),
        lambda: C.lbfgs(problem, J_star, REL_TOL, cfg["budget"]),
        cfg["slow_repeats"],
        lbfgs_check,
        traced=False,
        timed_if=lambda r: r["time"] is not None,
    )
    cvx = None
    if not C.cvxpy_available():
        notes.append("cvxpy: not installed (`pip install cvxpy`, or the `bench` extra): skipped.")
    elif problem.n > cfg["cvxpy_max_n"]:
        notes.append(
            f"cvxpy: skipped on the {name} problem in {cfg['name']} mode "
            f"(n = {problem.n:,} > {cfg['cvxpy_max_n']:,})."
        )
    else:

        def cvxpy_check(r):
            r["gap"] = problem.gap(r["W"], r["b"], J_star)
            coef = np.abs(r["W"] - W).max() / np.abs(W).max()
            return (
                f"status {r['status']}; (J - J*)/J* = {r['gap']:.1e}; max coef diff "
                f"{coef:.1e} (relative); solver's own time {U.fmt_seconds(r['solve_time'])}"
            )

        cvx = pair(
            "cvxpy, build + solve",
            auto,
            fit(),
            lambda: C.cvxpy_solve(problem),
            cfg["slow_repeats"],
            cvxpy_check,
        )
        rows[-1]["contender"] = f"cvxpy ({cvx['solver']}), build + solve"
    if problem.n <= KRR_MAX_N:
        no_icpt = C.mtreg_fit(problem, fit_intercept=False)
        ref = no_icpt.predict(problem.X, task_ids=problem.t)

        def krr_check(pred):
            diff = np.abs(pred - ref).max() / np.abs(ref).max()
            assert diff < 1e-6, diff
            return f"same predictions as mtreg fit_intercept=False: max relative diff {diff:.1e}"

        pair(
            "sklearn KernelRidge(kernel='precomputed') on the multi-task Gram matrix "
            "(mtreg.multitask_kernel, linear; no intercepts)",
            f"mtreg ({no_icpt.solver_}), fit_intercept=False",
            fit(fit_intercept=False),
            lambda: C.kernel_ridge(problem),
            cfg["slow_repeats"],
            krr_check,
        )
    else:
        notes.append(
            f"KernelRidge: skipped on the {name} problem: each n x n Gram matrix would take "
            f"{U.fmt_bytes(C.gram_bytes(problem))} (limit n <= {KRR_MAX_N:,})."
        )
    return dict(
        name=name,
        label=problem.label(),
        solver=est.solver_,
        times=base_times,
        memory=base_memory,
        rel_grad=rel_grad,
        rows=rows,
        notes=notes,
        lbfgs=lb,
        cvxpy=cvx,
        J_star=J_star,
    )


# --- b: scaling curves ----------------------------------------------------------------------


def time_contender(call, repeats, time_limit):
    """Median wall time of up to ``repeats`` calls, stopping once they took ``time_limit``
    seconds in all (at least one call)."""
    times = []
    while len(times) < repeats and sum(times) < time_limit:
        times.append(U.timed(call)[0])
    return float(np.median(times))


def scaling_point(problem, cfg, dropped):
    """Times of every contender on one problem; ``dropped`` collects contenders that got
    too slow (they are not run at the larger sizes of the same axis)."""
    est = C.mtreg_fit(problem)  # warm-up (numba)
    J_star = problem.J(est.coef_, est.intercept_)
    out = dict(n=problem.n, T=problem.T, d=problem.d, solver=est.solver_, times={}, gaps={})
    reps, limit = cfg["repeats"], cfg["slow_limit"]
    out["times"]["mtreg (auto)"] = time_contender(lambda: C.mtreg_fit(problem), reps, limit)
    C.mtreg_fit(problem, solver="pcg")
    out["times"]["mtreg, solver='pcg'"] = time_contender(
        lambda: C.mtreg_fit(problem, solver="pcg"), reps, limit
    )
    out["times"]["T sklearn Ridge"] = time_contender(lambda: C.ridge_loop(problem), reps, limit)
    if "L-BFGS-B" not in dropped:
        lb = C.lbfgs(problem, J_star, REL_TOL, cfg["curve_budget"])
        if lb["time"] is None:
            dropped.add("L-BFGS-B")
            out["gaps"]["L-BFGS-B"] = lb["gap"]
        else:
            out["times"]["L-BFGS-B"] = lb["time"]
    if C.cvxpy_available() and "cvxpy" not in dropped:
        cvx = C.cvxpy_solve(problem)
        out["times"]["cvxpy"] = cvx["seconds"]
        out["gaps"]["cvxpy"] = problem.gap(cvx["W"], cvx["b"], J_star)
        if cvx["seconds"] > cfg["cvxpy_limit"]:
            dropped.add("cvxpy")
    if problem.n <= KRR_MAX_N and "KernelRidge" not in dropped:
        seconds = time_contender(lambda: C.kernel_ridge(problem), reps, limit)
        out["times"]["KernelRidge (precomputed)"] = seconds
        if seconds > cfg["cvxpy_limit"]:
            dropped.add("KernelRidge")
    return out


def scaling(cfg):
    curves = {}
    for axis, spec in cfg["axes"].items():
        dropped, points = set(), []
        for v in U.progress(spec["values"], f"b: scaling in {axis}"):
            T = v if axis == "T" else spec["T"]
            rows = v if axis == "n" else spec["rows"]
            d = v if axis == "d" else spec["d"]
            problem = C.Problem(T, rows, d, structure="knn", n_neighbors=5, seed=1)
            points.append(scaling_point(problem, cfg, dropped))
        curves[axis] = points
    return curves


def cold_start_times():
    from benchmarks.bench_regressor import cold_start

    return cold_start()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    group.add_argument("--full", action="store_true", help="the full sizes (default)")
    parser.add_argument("--only", default="abc", help="scenarios to run, e.g. 'ab'")
    parser.add_argument("--budget", type=float, help="L-BFGS time budget in seconds (a)")
    parser.add_argument("--no-cold-start", action="store_true", help="skip scenario c")
    parser.add_argument("--blas-threads", type=int, help="limit BLAS/OpenMP threads")
    parser.add_argument("--output", type=pathlib.Path, help="Markdown file to write")
    args = parser.parse_args(argv)
    if set(args.only) - set("abc"):
        parser.error(f"--only takes letters among 'abc', got {args.only!r}")
    if args.blas_threads:
        U.limit_blas_threads(args.blas_threads)
    mode = "quick" if args.quick else "full"
    cfg = dict(MODES[mode])
    if args.budget is not None:
        cfg["budget"] = args.budget
    start = time.perf_counter()
    info = U.machine_info()
    a = (
        [side_by_side(name, spec, cfg) for name, spec in PROBLEMS.items()]
        if ("a" in args.only)
        else None
    )
    b = scaling(cfg) if "b" in args.only else None
    c = cold_start_times() if "c" in args.only and not args.no_cold_start else None
    suffix = "" if mode == "full" else "-quick"
    output = args.output or RESULTS / f"speed{suffix}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    plots = []
    if a:
        plots.append(suboptimality_plot(a, output.parent / f"speed_suboptimality{suffix}.png"))
    if b:
        plots.append(scaling_plot(b, output.parent / f"speed_scaling{suffix}.png"))
    text = report(
        mode,
        cfg,
        info,
        a,
        b,
        c,
        plots,
        C.cvxpy_available(),
        REL_TOL,
        KRR_MAX_N,
        time.perf_counter() - start,
    )
    output.write_text(text)
    print(text)
    print(f"written to {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
