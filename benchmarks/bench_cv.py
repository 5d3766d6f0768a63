"""Speed of MultiTaskGraphRegressorCV against GridSearchCV over the plain estimator.

a. school-sized (T=139, ~110 rows per task, d=27, unscaled 0/1 and 0..100 features, default
   complete graph, as bench_regressor scenario a), a 30-point alpha grid, 5 task-stratified
   folds: ``MultiTaskGraphRegressorCV(alphas=grid, cv=folds)`` against
   ``GridSearchCV(MultiTaskGraphRegressor(), {"alpha": grid}, cv=folds)`` with the task
   labels routed as metadata, and with them in a task column. Same folds, same scores,
   same selected alpha (asserted). Also with every library limited to one thread.
b. exact leave-one-out (``cv=None``) over the same grid: on a subset (the first 25 rows of
   each of the first 8 tasks) against ``GridSearchCV(..., cv=LeaveOneOut(),
   scoring="neg_mean_squared_error")`` (same scores, asserted), and at full size against one
   plain fit.

Run ``python benchmarks/bench_cv.py [--quick]`` from the repository root (or
``python -m benchmarks [--full]``); the Markdown report goes to benchmarks/results/.
"""

import argparse
import pathlib
import sys
import time

import numpy as np
import sklearn
from sklearn.model_selection import GridSearchCV, LeaveOneOut
from threadpoolctl import threadpool_limits

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmarks import _util as U  # noqa: E402
from mtreg import (  # noqa: E402
    MultiTaskGraphRegressor,
    MultiTaskGraphRegressorCV,
    TaskStratifiedKFold,
)
from mtreg.datasets import make_multitask_regression  # noqa: E402

GRID = np.logspace(-2, 4, 30)
RESULTS = pathlib.Path(__file__).resolve().parent / "results"
MODES = {
    "full": {"a": dict(repeats=9, serial_repeats=5), "b": dict(repeats=3, subset=(8, 25))},
    "quick": {"a": dict(repeats=3, serial_repeats=2), "b": dict(repeats=2, subset=(4, 15))},
}
TARGET = 20.0  # GridSearchCV time / CV estimator time


def school_sized(n_tasks=139):
    return make_multitask_regression(
        n_tasks, (20, 200), 27, structure="complete", feature_scale="mixed", random_state=0
    )[:3]


def routed_search(cv):
    est = MultiTaskGraphRegressor().set_fit_request(task_ids=True).set_score_request(task_ids=True)
    return GridSearchCV(est, {"alpha": GRID}, cv=cv)


def scenario_a(cfg):
    X, y, t = school_sized()
    folds = list(TaskStratifiedKFold(5, shuffle=True, random_state=0).split(X, groups=t))
    codes = np.unique(t, return_inverse=True)[1].astype(float)
    Xt = np.column_stack([codes, X])
    ours = MultiTaskGraphRegressorCV(alphas=GRID, cv=folds)
    by_column = GridSearchCV(MultiTaskGraphRegressor(task_column=0), {"alpha": GRID}, cv=folds)
    with sklearn.config_context(enable_metadata_routing=True):
        by_routing = routed_search(folds)
        contenders = {
            "mtreg": lambda: ours.fit(X, y, task_ids=t),
            "routing": lambda: by_routing.fit(X, y, task_ids=t),
            "column": lambda: by_column.fit(Xt, y),
        }
        times, _ = U.paired_timings(contenders, cfg["repeats"], "a: CV vs GridSearchCV")
        with threadpool_limits(1):
            serial, _ = U.paired_timings(
                {"mtreg": contenders["mtreg"], "routing": contenders["routing"]},
                cfg["serial_repeats"],
                "a: one thread",
            )
    mean_ours = ours.cv_results_["mean_test_score"]
    score_diff = max(
        np.abs(mean_ours - s.cv_results_["mean_test_score"]).max() for s in (by_routing, by_column)
    )
    best = {by_routing.best_params_["alpha"], by_column.best_params_["alpha"]}
    assert best == {ours.alpha_}, (best, ours.alpha_)
    assert score_diff < 1e-9, score_diff
    coef_diff = float(
        np.abs(ours.coef_ - by_routing.best_estimator_.coef_).max() / np.abs(ours.coef_).max()
    )
    return dict(
        X=X,
        times=times,
        serial=serial,
        alpha=ours.alpha_,
        score_diff=score_diff,
        coef_diff=coef_diff,
        solver=ours.solver_,
        scores=mean_ours,
    )


def scenario_b(cfg):
    X, y, t = school_sized()
    n_tasks, n_rows = cfg["subset"]
    keep = np.concatenate([np.flatnonzero(t == k)[:n_rows] for k in range(n_tasks)])
    Xs, ys, ts = X[keep], y[keep], t[keep]
    ours = MultiTaskGraphRegressorCV(alphas=GRID)  # cv=None: exact leave-one-out
    # the task labels in a column: a string scorer then needs no metadata routing
    brute = GridSearchCV(
        MultiTaskGraphRegressor(task_column=0),
        {"alpha": GRID},
        cv=LeaveOneOut(),
        scoring="neg_mean_squared_error",
    )
    Xts = np.column_stack([ts, Xs])
    times, _ = U.paired_timings(
        {"mtreg": lambda: ours.fit(Xs, ys, task_ids=ts), "brute": lambda: brute.fit(Xts, ys)},
        cfg["repeats"],
        "b: LOO vs GridSearchCV(LeaveOneOut)",
    )
    score_diff = float(
        np.max(
            np.abs(ours.cv_results_["mean_test_score"] - brute.cv_results_["mean_test_score"])
            / np.abs(brute.cv_results_["mean_test_score"])
        )
    )
    assert score_diff < 1e-8 and ours.alpha_ == brute.best_params_["alpha"], score_diff
    full = MultiTaskGraphRegressorCV(alphas=GRID)
    plain = MultiTaskGraphRegressor()
    full_times, _ = U.paired_timings(
        {"loo": lambda: full.fit(X, y, task_ids=t), "fit": lambda: plain.fit(X, y, task_ids=t)},
        cfg["repeats"],
        "b: LOO at full size vs one fit",
    )
    return dict(
        n_subset=len(ys),
        times=times,
        score_diff=score_diff,
        alpha=ours.alpha_,
        full_times=full_times,
        n=len(y),
        full_alpha=full.alpha_,
    )


def verdict(ok):
    return "yes" if ok else "**MISSED**"


def results_table(a, b):
    rows = []
    if a:
        n, d = a["X"].shape
        problem = f"a. T=139, n={n:,}, d={d}, 30 alphas, 5 folds ({a['solver']} refit)"
        for key, what in (
            ("routing", "task_ids routed as metadata"),
            ("column", "task labels in a task column"),
        ):
            ratio = U.median_ratio(a["times"][key], a["times"]["mtreg"])
            rows.append(
                [
                    problem,
                    U.fmt_spread(a["times"]["mtreg"]),
                    f"GridSearchCV, {what}",
                    U.fmt_spread(a["times"][key]),
                    f"{ratio:.1f}x",
                    ">= 20x",
                    verdict(ratio >= TARGET),
                ]
            )
        ratio = U.median_ratio(a["serial"]["routing"], a["serial"]["mtreg"])
        rows.append(
            [
                problem + ", every library on one thread",
                U.fmt_spread(a["serial"]["mtreg"]),
                "GridSearchCV, task_ids routed",
                U.fmt_spread(a["serial"]["routing"]),
                f"{ratio:.1f}x",
                "(reported)",
                "",
            ]
        )
    if b:
        ratio = U.median_ratio(b["times"]["brute"], b["times"]["mtreg"])
        rows.append(
            [
                f"b. leave-one-out, subset n={b['n_subset']}, 30 alphas",
                U.fmt_spread(b["times"]["mtreg"]),
                f"GridSearchCV(cv=LeaveOneOut()): {30 * b['n_subset']:,} fits",
                U.fmt_spread(b["times"]["brute"]),
                f"{ratio:.0f}x",
                "(reported)",
                "",
            ]
        )
        ratio = U.median_ratio(b["full_times"]["loo"], b["full_times"]["fit"])
        rows.append(
            [
                f"b. leave-one-out, full size n={b['n']:,}, 30 alphas",
                U.fmt_spread(b["full_times"]["loo"]),
                "one plain fit (one alpha)",
                U.fmt_spread(b["full_times"]["fit"]),
                f"{ratio:.1f} fits",
                "(reported)",
                "",
            ]
        )
    header = [
        "problem",
        "mtreg: median (min–max)",
        "compared with",
        "its time",
        "speed-up (median of pairs)",
        "target",
        "met",
    ]
    return U.markdown_table(header, rows)


PROTOCOL = """\
- Data: `mtreg.datasets.make_multitask_regression(139, (20, 200), 27,
  structure="complete", feature_scale="mixed", random_state=0)`, the default complete graph,
  l2 = 1, intercepts fitted; alphas `np.logspace(-2, 4, 30)`.
- a: the folds are computed once, `TaskStratifiedKFold(5, shuffle=True, random_state=0)`,
  and the same list of (train, test) indices is given to every contender. GridSearchCV
  runs with its defaults (n_jobs=None, scoring = the estimator's R^2, refit=True), under
  `sklearn.config_context(enable_metadata_routing=True)` for the routed variant; the
  task-column variant gets X with the task codes as column 0.
  MultiTaskGraphRegressorCV: per-fold moments from one pass over the data, one
  eigendecomposition per task Gram matrix per fold, then every alpha in closed form, and
  its held-out R^2 from the moments of the test set; the folds run on as many threads as
  BLAS uses (one BLAS thread each). The one-thread row repeats the comparison under
  `threadpoolctl.threadpool_limits(1)`: no BLAS threads, and the folds in turn.
- b: leave-one-out by `cv=None` (e_i / (1 - h_ii) from the same eigendecompositions)
  against GridSearchCV with `LeaveOneOut()` and `scoring="neg_mean_squared_error"` (the
  same number as the mean squared leave-one-out error; task labels in a task column), on
  the first rows of the first tasks.
- Each comparison runs side by side in one process: one untimed warm-up call of each
  contender, then R interleaved repeats. Times are medians (min–max) over the repeats;
  the speed-up is the median of the R per-repeat ratios. `time.perf_counter`, wall clock.
- The machine matters, and so does its load: ratios are what to compare, and the min–max
  columns show the spread.
"""


def report(mode, info, a, b, total):
    parts = [
        f"# MultiTaskGraphRegressorCV: model selection speed ({mode} mode)",
        "Generated by `python -m benchmarks"
        + (" --full" if mode == "full" else "")
        + f"` (`benchmarks/bench_cv.py`) in {total / 60:.1f} min; load average at the end: "
        f"{U.load_average()}.",
        "## Machine",
        U.markdown_table(["", ""], info),
        "## Protocol",
        PROTOCOL,
        "## Results",
        results_table(a, b),
        "### Correctness of what was timed",
    ]
    lines = []
    if a:
        lines.append(
            f"- a: selected alpha {a['alpha']:.4g} by all three (asserted); max |mean score "
            f"difference| over the grid {a['score_diff']:.1e} (assert < 1e-9); refitted "
            f"coef_ against GridSearchCV's best_estimator_: max relative difference "
            f"{a['coef_diff']:.1e}."
        )
    if b:
        lines.append(
            f"- b: leave-one-out mean squared errors against GridSearchCV(LeaveOneOut): max "
            f"relative difference {b['score_diff']:.1e} (assert < 1e-8), same alpha "
            f"{b['alpha']:.4g}; at full size the selected alpha is {b['full_alpha']:.4g}."
        )
    parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="fewer repeats, smaller subset")
    group.add_argument("--full", action="store_true", help="the full protocol (default)")
    parser.add_argument("--only", default="ab", help="scenarios to run, e.g. 'a'")
    parser.add_argument("--blas-threads", type=int, help="limit BLAS/OpenMP threads")
    parser.add_argument("--output", type=pathlib.Path, help="Markdown file to write")
    # options of the other scripts of the suite (python -m benchmarks passes them on)
    parser.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--no-cold-start", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if set(args.only) - set("abc"):
        parser.error(f"--only takes letters among 'ab', got {args.only!r}")
    if args.blas_threads:
        U.limit_blas_threads(args.blas_threads)
    mode = "quick" if args.quick else "full"
    cfg = MODES[mode]
    start = time.perf_counter()
    info = U.machine_info()
    a = scenario_a(cfg["a"]) if "a" in args.only else None
    b = scenario_b(cfg["b"]) if "b" in args.only else None
    if a is None and b is None:
        return
    text = report(mode, info, a, b, time.perf_counter() - start)
    output = args.output or RESULTS / ("cv.md" if mode == "full" else "cv-quick.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)
    print(f"written to {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
