"""The models of each data set of bench_accuracy.py and their hyper-parameter grids.

Grids were set once, wide enough that the selected values fall inside them (the report
lists what was selected), and small enough for the full run to take about 20 minutes on
2 cores. The searches see the training part of each split only.

The quick protocol (``python -m benchmarks``, ``bench_accuracy.py --quick``) keeps every
model and thins the same specs by one rule, :func:`quick_specs`, that looks at no result.
"""

import dataclasses
import math

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from benchmarks._accuracy_models import TASK, Spec, TaskCentred, scaled
from mtreg import (
    MultiTaskGraphClassifier,
    MultiTaskGraphRegressor,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidge,
    MultiTaskSVR,
    TaskStratifiedKFold,
)
from mtreg.relations import knn_graph

ALPHAS = np.logspace(-1, 4, 11)  # graph coupling, default (complete) graph
L2S = (0.001, 0.01, 0.1, 1.0, 10.0)
INDEPENDENT_L2S = np.logspace(-2, 3, 11)
# graph="learn": the alternation stops at a relative decrease of 1e-4 or 30 steps; "pcg"
# because the learned coupling inv(Omega) is dense (see the report's notes on solvers)
LEARN = dict(max_iter=30, tol=1e-4, epsilon=0.1)
REFIT_NOTE = ", then refit"  # on all training rows, after a search on a subsample


def _cv(graph, folds, **kw):
    cv = TaskStratifiedKFold(folds, shuffle=True, random_state=0, task_column=TASK)
    return MultiTaskGraphRegressorCV(graph, cv=cv, task_column=TASK, **kw)


def _reg(graph, **kw):
    return MultiTaskGraphRegressor(graph, task_column=TASK, **kw)


def _grid(**params):
    return {f"model__{k}": list(v) for k, v in params.items()}


def _kernel_grid(**params):
    return {f"model__estimator__{k}": list(v) for k, v in params.items()}


def regression_baselines(d, folds, what):
    """Independent per-task ridge and the two pooled sklearn Ridge models."""
    return [
        Spec(
            "independent ridge per task (mtreg, graph='none')",
            scaled(_cv("none", folds, alphas=[0.0], l2s=INDEPENDENT_L2S), d),
            kind="baseline",
            note="MultiTaskGraphRegressorCV, alpha=0: one ridge per task, l2 by CV",
        ),
        Spec(
            f"pooled sklearn Ridge, one model for all {what}",
            scaled(Ridge(), d, tasks="drop"),
            _grid(alpha=np.logspace(-1, 4, 6)),
            folds=folds,
            kind="baseline",
            note="no task term at all",
        ),
        Spec(
            f"pooled sklearn Ridge + one-hot {what[:-1]} indicators",
            scaled(Ridge(), d, tasks="onehot"),
            _grid(alpha=np.logspace(-2, 3, 6)),
            folds=folds,
            kind="baseline",
            note="shared slopes, penalised per-task intercepts",
        ),
    ]


def school_specs(d):
    folds = 5
    return (
        regression_baselines(d, folds, "schools")
        + [
            Spec(
                "mean-regularised MTL (default graph)",
                scaled(_cv(None, folds, alphas=ALPHAS, l2s=L2S), d),
                note="MultiTaskGraphRegressorCV, complete graph A=1/T (Evgeniou & Pontil)",
            ),
            Spec(
                "mean-regularised MTL, coupled intercepts",
                scaled(_cv(None, folds, alphas=ALPHAS, l2s=L2S, fit_intercept=False), d, bias=True),
                note="column of ones in place of free intercepts: shrunk towards their mean",
            ),
            Spec(
                "kNN task graph (graph='knn')",
                scaled(_reg("knn", solver="pcg"), d),
                _grid(alpha=[10, 100, 1000], l2=[0.1, 1]),
                folds=folds,
                note="5-NN graph from per-task ridge coefficients, rebuilt per fit",
            ),
            Spec(
                "similarity graph (graph='similarity')",
                scaled(_reg("similarity", solver="pcg"), d),
                _grid(alpha=[1, 10, 100], l2=[0.1, 1]),
                folds=folds,
                note="full graph, Gaussian weights of per-task coefficient distances",
            ),
            Spec(
                "learned task covariance (graph='learn')",
                scaled(_reg("learn", solver="pcg", graph_params=LEARN), d),
                _grid(alpha=[1, 3, 10, 30], l2=[0.1]),
                folds=3,
                note="Zhang & Yeung (2010), alternating; 3-fold CV",
            ),
        ]
        + kernel_specs(d, subsample=1 / 3, folds=3, svr=True)
    )


def kernel_specs(
    d, *, subsample, folds, svr, gammas=(0.01, 0.03), l2s=(0.001, 0.01, 0.1), svr_gammas=(0.03,)
):
    """Multi-task kernel ridge (linear, rbf) and SVR, fitted to per-task centred targets;
    kernel ridge solved exactly (Cholesky of the n x n multi-task Gram matrix)."""
    how = f"y centred per task; {folds}-fold CV"
    if subsample is not None:
        how += f" on a random {subsample:.0%} of each task's training rows{REFIT_NOTE}"
    common = dict(folds=folds, subsample=subsample, kind="kernel")

    def centred(model, **params):
        return scaled(TaskCentred(model(task_column=TASK, **params)), d)

    specs = [
        Spec(
            "MultiTaskKernelRidge, linear kernel",
            centred(MultiTaskKernelRidge, kernel="linear"),
            _kernel_grid(alpha=[10, 100, 1000], l2=[0.1, 1]),
            note=how,
            **common,
        ),
        Spec(
            "MultiTaskKernelRidge, rbf kernel",
            centred(MultiTaskKernelRidge, kernel="rbf"),
            _kernel_grid(gamma=gammas, alpha=[10, 100], l2=l2s),
            note=how,
            **common,
        ),
    ]
    if svr:
        svr_params = dict(kernel="rbf", l2=0.1, epsilon=1.0)
        specs.append(
            Spec(
                "MultiTaskSVR, rbf kernel",
                centred(MultiTaskSVR, **svr_params),
                _kernel_grid(alpha=[10, 100], C=[10, 100], gamma=svr_gammas),
                note=f"l2=0.1, epsilon=1; {how}",
                **common,
            )
        )
    return specs


def curve_specs(d):
    """Learning curves: independent, pooled and mean-regularised (free and coupled
    intercepts); the 5-fold searches need at least 5 rows per task."""
    return regression_baselines(d, 5, "schools")[:2] + [
        Spec(
            "mean-regularised MTL (default graph)", scaled(_cv(None, 5, alphas=ALPHAS, l2s=L2S), d)
        ),
        Spec(
            "mean-regularised MTL, coupled intercepts",
            scaled(_cv(None, 5, alphas=ALPHAS, l2s=L2S, fit_intercept=False), d, bias=True),
        ),
    ]


def landmine_specs(d, task_groups):
    groups = (task_groups[:, None] == task_groups[None, :]).astype(np.float64)
    np.fill_diagonal(groups, 0.0)
    grid = _grid(alpha=[0.03, 0.3, 3, 30, 300], l2=[0.001, 0.01, 0.1, 1, 10])
    folds = 3

    def clf(graph, **kw):
        return scaled(MultiTaskGraphClassifier(graph, task_column=TASK, **kw), d)

    return [
        Spec(
            "independent logistic per field (mtreg, graph='none')",
            clf("none", alpha=0.0),
            _grid(l2=[0.03, 0.1, 0.3, 1, 3, 10]),
            folds=folds,
            kind="baseline",
            note="= LogisticRegression(C=1/(2 l2)) per field",
        ),
        Spec(
            "pooled sklearn LogisticRegression, one model",
            scaled(LogisticRegression(), d, tasks="drop"),
            _grid(C=[0.01, 0.1, 1, 10]),
            folds=folds,
            kind="baseline",
        ),
        Spec(
            "mean-regularised (default graph)",
            clf(None),
            grid,
            folds=folds,
            note="complete graph A=1/T",
        ),
        Spec(
            "field-type graph (task_groups: foliated / bare)",
            clf(groups),
            grid,
            folds=folds,
            note="A_st=1 within each group of fields, 0 across",
        ),
        Spec(
            "kNN task graph (graph='knn')",
            clf("knn"),
            grid,
            folds=folds,
            note="5-NN graph from per-field logistic coefficients",
        ),
        Spec(
            "learned task covariance (graph='learn')",
            clf("learn", graph_params=LEARN),
            _grid(alpha=[0.01, 0.1, 1], l2=[0.1, 1]),
            folds=folds,
        ),
    ]


def survey_specs(d, task_features):
    folds = 4
    covariates = StandardScaler().fit_transform(task_features)
    respondents = knn_graph(covariates, n_neighbors=10)
    return (
        regression_baselines(d, folds, "respondents")
        + [
            Spec(
                "mean-regularised MTL (default graph)",
                scaled(_cv(None, folds, alphas=ALPHAS, l2s=L2S), d),
            ),
            Spec(
                "respondent-covariate graph (10-NN)",
                scaled(_cv(respondents, folds, alphas=np.logspace(-2, 3, 11), l2s=L2S), d),
                note="10-NN graph of the 6 standardised respondent covariates",
            ),
            Spec(
                "kNN task graph (graph='knn')",
                scaled(_reg("knn", solver="pcg"), d),
                _grid(alpha=[1, 10, 100], l2=[0.1, 1]),
                folds=folds,
            ),
            Spec(
                "learned task covariance (graph='learn')",
                scaled(_reg("learn", solver="pcg", graph_params=LEARN), d),
                _grid(alpha=[0.1, 1, 10], l2=[0.1, 1]),
                folds=folds,
            ),
        ]
        + kernel_specs(
            d,
            subsample=None,
            folds=folds,
            svr=True,
            gammas=(0.01, 0.03, 0.1),
            l2s=(1e-4, 1e-3, 1e-2),
            svr_gammas=(0.01, 0.03, 0.1),
        )
    )


def parkinsons_specs(d):
    folds = 5
    return (
        regression_baselines(d, folds, "patients")
        + [
            Spec(
                "mean-regularised MTL (default graph)",
                scaled(_cv(None, folds, alphas=ALPHAS, l2s=L2S), d),
            ),
            Spec(
                "kNN task graph (graph='knn')",
                scaled(_reg("knn", solver="pcg"), d),
                _grid(alpha=[0.1, 1, 10], l2=[0.1, 1]),
                folds=folds,
            ),
            Spec(
                "learned task covariance (graph='learn')",
                scaled(_reg("learn", solver="pcg", graph_params=LEARN), d),
                _grid(alpha=[0.1, 1, 10], l2=[0.1, 1]),
                folds=folds,
            ),
        ]
        + kernel_specs(
            d,
            subsample=None,
            folds=folds,
            svr=False,
            gammas=(0.05, 0.2, 1.0),
            l2s=(1e-4, 1e-3, 1e-2),
        )
    )


# --- the quick protocol ----------------------------------------------------------------

QUICK_MAX_FOLDS = 3  # folds of every GridSearchCV in quick mode
QUICK_THIN_ABOVE = 3  # hyper-parameter lists longer than this keep every other value


def _thin(values):
    return values[::2] if len(values) > QUICK_THIN_ABOVE else values


def quick_specs(specs):
    """The same models with cheaper searches: lists of more than 3 values of a grid keep
    every other value (both ends of odd-length lists), grid searches use at most 3 folds,
    and models searched on a subsample of rows are also fitted on it (no refit on all
    training rows). mtreg's ``*CV`` estimators (a whole grid for one factorisation per
    fold) are left as they are. Each spec's ``reduced`` says what was cut."""
    quick = []
    for spec in specs:
        if spec.grid is None:
            quick.append(spec)
            continue
        grid = {k: _thin(v) for k, v in spec.grid.items()}
        points = math.prod(len(v) for v in grid.values())
        full_points = math.prod(len(v) for v in spec.grid.values())
        folds = min(spec.folds, QUICK_MAX_FOLDS)
        cuts = []
        if points < full_points:
            cuts.append(f"{points} of the {full_points} grid points")
        if folds < spec.folds:
            cuts.append(f"{folds} folds, not {spec.folds}")
        if spec.subsample is not None:
            cuts.append("fitted on the search's subsample (no refit on all training rows)")
        quick.append(
            dataclasses.replace(
                spec,
                grid=grid,
                folds=folds,
                refit_all=False,
                note=spec.note.replace(REFIT_NOTE, "").replace(
                    f"{spec.folds}-fold CV", f"{folds}-fold CV"
                ),
                reduced="; ".join(cuts) or "none",
            )
        )
    return quick
