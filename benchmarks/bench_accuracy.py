"""Accuracy on real multi-task data: mtreg against independent and pooled models.

Scenarios (each skipped, with the reason printed, when its data files are absent):

a. School (ILEA), 139 schools, the 10 canonical 75/25 splits: explained variance under two
   definitions, for independent, pooled, graph-regularised, learned-relation and kernel
   models, beside published references.
b. Landmine, 29 fields: mean per-field ROC AUC over random stratified splits with 20 %
   of every field's rows (about 6 mines per field) for training.
c. Computer survey (Lenk et al. 1996), 190 respondents: RMSE on the 4 hold-out profiles.
d. Parkinson's telemonitoring, 42 patients: explained variance over random per-patient
   splits (25 % of every patient's recordings for training).
e. School learning curves: explained variance against training rows per school.

Hyper-parameters are chosen by cross-validation on the training part only, the
protocols are written into the report. Data: the folder named by MTREG_DATA, else
``../shared/data`` beside the checkout. Run from the repository root:

* ``python benchmarks/bench_accuracy.py`` (or ``--full``, or ``python -m benchmarks
  --full``): the full protocol, about 20-30 minutes on 2 cores; report
  results/accuracy.md, plot results/school_learning_curve.png.
* ``python benchmarks/bench_accuracy.py --quick`` (or ``python -m benchmarks``): every
  scenario and model on fewer splits with cheaper searches (MODES["quick"] and
  _accuracy_specs.quick_specs), about 2 minutes; report results/accuracy-quick.md, plot
  results/school_learning_curve-quick.png, so a quick run never overwrites the full one.
"""

import argparse
import os
import pathlib
import sys
import time

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmarks import _util as U  # noqa: E402
from benchmarks._accuracy_models import (  # noqa: E402
    explained_variance_pooled,
    explained_variance_tasks,
    fit_spec,
    mean_task_auc,
    rmse,
    task_auc_scorer,
    with_tasks,
)
from benchmarks._accuracy_report import curve_plot, report  # noqa: E402
from benchmarks._accuracy_specs import (  # noqa: E402
    curve_specs,
    landmine_specs,
    parkinsons_specs,
    quick_specs,
    school_specs,
    survey_specs,
)
from mtreg import datasets  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SCENARIOS = "abcde"

MODES = {
    "full": dict(
        school_splits=10,
        kernel_splits=10,
        landmine_reps=10,
        landmine_frac=0.2,
        parkinsons_reps=10,
        parkinsons_frac=0.25,
        curve_splits=10,
        curve_sizes=(5, 10, 20, 40, None),
        quick_specs=False,
        blas=0,  # the libraries' own threads
    ),
    # every scenario and model of the full protocol, on fewer splits and with the
    # cheaper searches of _accuracy_specs.quick_specs: about 2 minutes on 2 quiet cores
    "quick": dict(
        school_splits=2,
        kernel_splits=1,
        landmine_reps=2,
        landmine_frac=0.2,
        parkinsons_reps=2,
        parkinsons_frac=0.25,
        curve_splits=2,
        curve_sizes=(5, 10, 20, 40, None),
        quick_specs=True,
        blas=1,
    ),
}


def find_data_home():
    """(folder, None) or (None, why not): MTREG_DATA, else ../shared/data beside the
    checkout. A MTREG_DATA that names no folder is an error, not a reason to look
    elsewhere."""
    named = os.environ.get("MTREG_DATA")
    if named:
        if pathlib.Path(named).is_dir():
            return pathlib.Path(named), None
        return None, f"MTREG_DATA={named} is not a folder"
    beside = ROOT.parent / "shared" / "data"
    if beside.is_dir():
        return beside, None
    return None, f"MTREG_DATA is not set and {beside} does not exist"


def specs_for(cfg, specs):
    """The specs of a data set, thinned by quick_specs in quick mode."""
    return quick_specs(specs) if cfg["quick_specs"] else specs


def load(loader, home, **kw):
    """(Bunch, None), or (None, reason) when the files are missing or corrupt."""
    if home is None:
        return None, "no data folder (set MTREG_DATA, or put the data in ../shared/data)"
    try:
        return loader(data_home=str(home), **kw), None
    except (FileNotFoundError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"


class Table:
    """Scores of every Spec over repeated splits, and what each fit chose and cost."""

    def __init__(self, specs, metrics):
        self.specs, self.metrics = specs, metrics
        self.scores = {s.name: {m: [] for m in metrics} for s in specs}
        self.info = {s.name: [] for s in specs}

    def run(self, spec, X_train, y_train, X_test, y_test, t_test, *, scoring=None, seed=0):
        fitted, info = fit_spec(spec, X_train, y_train, scoring=scoring, seed=seed)
        self.info[spec.name].append(info)
        if "auc" in self.metrics:
            self.scores[spec.name]["auc"].append(
                mean_task_auc(y_test, fitted.decision_function(X_test), t_test)
            )
            return fitted
        pred = fitted.predict(X_test)
        values = {
            "ev_pooled": lambda: explained_variance_pooled(y_test, pred),
            "ev_tasks": lambda: explained_variance_tasks(y_test, pred, t_test),
            "rmse": lambda: rmse(y_test, pred),
        }
        for m in self.metrics:
            self.scores[spec.name][m].append(values[m]())
        return fitted


# --- scenarios -------------------------------------------------------------------------


def scenario_school(cfg, home):
    school, reason = load(datasets.load_school, home)
    if school is None:
        return dict(skipped=reason)
    X, y, t = school.data, school.target, school.task_ids
    Xa = with_tasks(X, t)
    specs = specs_for(cfg, school_specs(X.shape[1]))
    table = Table(specs, ("ev_pooled", "ev_tasks"))
    splits = school.splits[: cfg["school_splits"]]
    for k, (train, test) in enumerate(U.progress(splits, "a: school splits")):
        for spec in U.progress(specs, f"a: split {k + 1} models"):
            if spec.kind == "kernel" and k >= cfg["kernel_splits"]:
                continue
            table.run(spec, Xa[train], y[train], Xa[test], y[test], t[test], seed=k)
    return dict(
        table=table,
        n=len(y),
        d=X.shape[1],
        T=len(np.unique(t)),
        n_train=[len(tr) for tr, _ in splits],
    )


def stratified_split(y, task_ids, fraction, rng):
    """Training rows: ``fraction`` of every (task, class) cell, at least one row each."""
    train = []
    for t in np.unique(task_ids):
        for c in np.unique(y):
            idx = np.flatnonzero((task_ids == t) & (y == c))
            if idx.size:
                train.append(rng.choice(idx, max(1, round(fraction * idx.size)), replace=False))
    train = np.sort(np.concatenate(train))
    return train, np.setdiff1d(np.arange(len(y)), train)


def scenario_landmine(cfg, home):
    mines, reason = load(datasets.load_landmine, home)
    if mines is None:
        return dict(skipped=reason)
    X, y, t = mines.data, mines.target, mines.task_ids
    Xa = with_tasks(X, t)
    specs = specs_for(cfg, landmine_specs(X.shape[1], mines.task_groups))
    table = Table(specs, ("auc",))
    n_train = []
    for rep in U.progress(range(cfg["landmine_reps"]), "b: landmine splits"):
        train, test = stratified_split(y, t, cfg["landmine_frac"], np.random.default_rng(rep))
        n_train.append(len(train))
        for spec in specs:
            table.run(
                spec,
                Xa[train],
                y[train],
                Xa[test],
                y[test],
                t[test],
                scoring=task_auc_scorer,
                seed=rep,
            )
    pos = np.bincount(t[train], weights=y[train]).astype(int)
    return dict(
        table=table,
        n=len(y),
        d=X.shape[1],
        T=len(np.unique(t)),
        n_train=n_train,
        pos_range=(pos.min(), pos.max()),
    )


def scenario_survey(cfg, home):
    survey, reason = load(datasets.load_computer_survey, home)
    if survey is None:
        return dict(skipped=reason)
    X, y, t = survey.data, survey.target, survey.task_ids
    Xa = with_tasks(X, t)
    specs = specs_for(cfg, survey_specs(X.shape[1], survey.task_features))
    table = Table(specs, ("rmse",))
    ((train, test),) = survey.splits
    for spec in U.progress(specs, "c: computer survey models"):
        table.run(spec, Xa[train], y[train], Xa[test], y[test], t[test])
    return dict(
        table=table,
        n=len(y),
        d=X.shape[1],
        T=len(np.unique(t)),
        n_train=[len(train)],
        n_test=len(test),
    )


def per_task_split(task_ids, fraction, rng):
    train = [
        rng.choice(idx, round(fraction * idx.size), replace=False)
        for idx in (np.flatnonzero(task_ids == t) for t in np.unique(task_ids))
    ]
    train = np.sort(np.concatenate(train))
    return train, np.setdiff1d(np.arange(len(task_ids)), train)


def scenario_parkinsons(cfg, home):
    park, reason = load(datasets.load_parkinsons, home)
    if park is None:
        return dict(skipped=reason)
    X, y, t = park.data, park.target, park.task_ids
    Xa = with_tasks(X, t)
    specs = specs_for(cfg, parkinsons_specs(X.shape[1]))
    table = Table(specs, ("ev_pooled", "ev_tasks"))
    n_train = []
    for rep in U.progress(range(cfg["parkinsons_reps"]), "d: Parkinson's splits"):
        train, test = per_task_split(t, cfg["parkinsons_frac"], np.random.default_rng(rep))
        n_train.append(len(train))
        for spec in specs:
            table.run(spec, Xa[train], y[train], Xa[test], y[test], t[test], seed=rep)
    return dict(table=table, n=len(y), d=X.shape[1], T=len(np.unique(t)), n_train=n_train)


def first_rows_per_task(task_ids, m, rng):
    """At most m random rows of every task (all of them when m is None)."""
    if m is None:
        return np.arange(len(task_ids))
    keep = [rng.permutation(np.flatnonzero(task_ids == t))[:m] for t in np.unique(task_ids)]
    return np.sort(np.concatenate(keep))


def scenario_curves(cfg, home):
    school, reason = load(datasets.load_school, home)
    if school is None:
        return dict(skipped=reason)
    X, y, t = school.data, school.target, school.task_ids
    Xa = with_tasks(X, t)
    specs = specs_for(cfg, curve_specs(X.shape[1]))
    sizes = cfg["curve_sizes"]
    tables = {m: Table(specs, ("ev_pooled", "ev_tasks")) for m in sizes}
    rows = {m: [] for m in sizes}
    splits = school.splits[: cfg["curve_splits"]]
    jobs = [(k, m) for k in range(len(splits)) for m in sizes]
    for k, m in U.progress(jobs, "e: learning curves"):
        train, test = splits[k]
        sub = train[first_rows_per_task(t[train], m, np.random.default_rng(k))]
        rows[m].append(len(sub) / len(np.unique(t)))
        for spec in specs:
            tables[m].run(spec, Xa[sub], y[sub], Xa[test], y[test], t[test], seed=k)
    return dict(tables=tables, sizes=sizes, rows_per_task=rows, n_splits=len(splits))


def main(argv=None):
    """Run the real-data suite; the path of the report written, or None when the data folder is
    missing (skipped, with the reason on stderr)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--quick",
        action="store_true",
        help="fewer splits and cheaper searches, every model kept (about 2 minutes)",
    )
    group.add_argument("--full", action="store_true", help="the full protocol (default)")
    parser.add_argument(
        "--only",
        default=SCENARIOS,
        help="scenarios: a school, b landmine, c computer survey, d Parkinson's, e learning curves",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        help="BLAS/OpenMP threads (default: 1 with --quick, the libraries' own otherwise; "
        "0: the libraries' own)",
    )
    parser.add_argument("--output", type=pathlib.Path, help="Markdown file to write")
    # options of the other scripts of the suite (python -m benchmarks passes them on)
    parser.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--no-cold-start", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if set(args.only) - set(SCENARIOS):
        parser.error(f"--only takes letters among {SCENARIOS!r}, got {args.only!r}")
    mode = "quick" if args.quick else "full"
    # quick: one BLAS thread, because two OpenBLAS copies (NumPy's, SciPy's) of 2 threads
    # each on 2 shared cores made the kernel models' Cholesky factorisations 2-3x slower
    blas_threads = args.blas_threads if args.blas_threads is not None else MODES[mode]["blas"]
    if blas_threads:
        U.limit_blas_threads(blas_threads)
    cfg = dict(MODES[mode], blas=blas_threads)
    home, why_not = find_data_home()
    if home is None:
        print(
            f"bench_accuracy: real-data suite skipped: {why_not} (MTREG_DATA names the "
            "folder of the data sets; when it is unset, ../shared/data beside the checkout).",
            file=sys.stderr,
        )
        return None
    print(f"bench_accuracy: data folder found: {home}; {mode} mode", file=sys.stderr)
    start = time.perf_counter()
    info = U.machine_info()
    runs = {
        "a": scenario_school,
        "b": scenario_landmine,
        "c": scenario_survey,
        "d": scenario_parkinsons,
        "e": scenario_curves,
    }
    results = {}
    for letter in SCENARIOS:
        if letter in args.only:
            results[letter] = runs[letter](cfg, home)
            if "skipped" in results[letter]:
                print(
                    f"bench_accuracy: scenario {letter} skipped: {results[letter]['skipped']}",
                    file=sys.stderr,
                )
    suffix = "" if mode == "full" else "-quick"
    output = args.output or RESULTS / f"accuracy{suffix}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    plot = None
    if "e" in results and "skipped" not in results["e"]:
        plot = curve_plot(results["e"], output.parent / f"school_learning_curve{suffix}.png")
    text = report(mode, cfg, info, results, str(home), plot, time.perf_counter() - start)
    output.write_text(text)
    print(text)
    print(f"written to {output}", file=sys.stderr)
    return output


if __name__ == "__main__":
    main()
