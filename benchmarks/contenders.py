"""The contenders: what a user would do without mtreg, one function each."""

import dataclasses
import importlib
import math
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from mtreg import (
    BayesianMultiTaskGraphRegressor,
    MultiTaskGraphClassifier,
    MultiTaskGraphRegressor,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidge,
    MultiTaskSVR,
    TaskStratifiedKFold,
    multitask_kernel,
)
from mtreg.relations import knn_graph

from .objective import ALPHA, L2

try:
    import cvxpy as cp
except ImportError:  # optional (extra "bench")
    cp = None

KRR_MAX_N = 6000  # beyond, KernelRidge's n x n Gram matrices take > 0.5 GB each


def task_slices(t, n_tasks):
    """(order, bounds): the rows sorted by task, and each task's slice of them."""
    order = np.argsort(t, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(t, minlength=n_tasks))])
    return order, list(zip(bounds[:-1], bounds[1:], strict=True))


def numpy_grams(p):
    """The data pass of any exact method: sort the rows by task, X_t^T X_t per task."""
    order, slices = task_slices(p.t, p.T)
    Xs = p.X[order]
    return [Xs[s:e].T @ Xs[s:e] for s, e in slices]


def ridge_loop(p):
    """One sklearn Ridge(alpha=l2) per task, on its rows (the sort timed too): the
    independent models of mtreg with graph='none', alpha=0."""
    order, slices = task_slices(p.t, p.T)
    W, b = np.zeros((p.T, p.d)), np.zeros(p.T)
    for k, (s, e) in enumerate(slices):
        model = Ridge(alpha=L2).fit(p.X[order[s:e]], p.y[order[s:e]])
        W[k], b[k] = model.coef_, model.intercept_
    return W, b


def cvxpy_solve(p):
    """J for cvxpy, vectorised (sparse block design, weighted incidence matrix B of the
    graph: alpha ||(B kron I) vec W||^2), by cvxpy's default solver; build + solve timed."""
    start = time.perf_counter()
    X, y, t, T, d, n = p.X, p.y, p.t, p.T, p.d, p.n
    cols = (t[:, None] * d + np.arange(d)[None, :]).ravel()
    design = sp.csr_matrix((X.ravel(), (np.repeat(np.arange(n), d), cols)), shape=(n, T * d))
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), t)), shape=(n, T))
    A = sp.triu(p.adjacency, k=1).tocoo()
    w, m = np.sqrt(A.data), A.nnz
    ends = (np.tile(np.arange(m), 2), np.concatenate([A.row, A.col]))
    B = sp.csr_matrix((np.concatenate([w, -w]), ends), shape=(m, T))
    wv, b = cp.Variable(T * d), cp.Variable(T)
    coupling = sp.kron(B, sp.identity(d), format="csr") @ wv
    J = cp.sum_squares(design @ wv + onehot @ b - y) + ALPHA * cp.sum_squares(coupling)
    prob = cp.Problem(cp.Minimize(J + L2 * cp.sum_squares(wv)))
    prob.solve()
    out, stats = dict(W=np.asarray(wv.value).reshape(T, d), b=b.value), prob.solver_stats
    out |= dict(seconds=time.perf_counter() - start, solve_time=stats.solve_time)
    return out | dict(solver=stats.solver_name, status=prob.status)


def kernel_ridge(p):
    """KernelRidge(alpha=1, kernel="precomputed") on K = (x . z) inv(alpha L + l2 I)[s, t]
    (J without intercepts); returns the fitted values at the training rows."""
    K = multitask_kernel(p.X, p.t, graph=p.estimator_graph, alpha=ALPHA, l2=L2, kernel="linear")
    return KernelRidge(alpha=1.0, kernel="precomputed").fit(K, p.y).predict(K)


def grid_search(grid, cv, routed=False, scoring=None):
    """GridSearchCV over alpha, task_ids routed as metadata (``routed``: needs metadata routing
    enabled) or else the task labels in column 0 of X (``with_task_column``)."""
    est = MultiTaskGraphRegressor(task_column=None if routed else 0)
    if routed:
        est = est.set_fit_request(task_ids=True).set_score_request(task_ids=True)
    return GridSearchCV(est, {"alpha": grid}, cv=cv, scoring=scoring)


def with_task_column(p):
    return np.column_stack([p.t.astype(float), p.X])


# --- the accuracy suite: every model sees the features, then the task label as the LAST column;
# pipelines standardise inside every fit. Grids were set once, wide enough that the selected
# values fall inside them (the report lists them).
TASK = -1


def scaled(estimator, n_features, *, tasks="pass", bias=False):
    """Pipeline: standardise the features, then ``estimator``. tasks: "pass" (task column
    last, for mtreg), "drop" (one pooled model) or "onehot" (task indicators as features);
    bias: a column of ones (a penalised, graph-coupled intercept, ``fit_intercept=False``)."""
    parts = [("scale", StandardScaler(), list(range(n_features)))]
    parts += [("bias", FunctionTransformer(np.ones_like), [0])] if bias else []
    if tasks == "onehot":
        onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        parts.append(("task", onehot, [n_features]))
    remainder = "passthrough" if tasks == "pass" else "drop"
    columns = ColumnTransformer(parts, remainder=remainder, sparse_threshold=0.0)
    return Pipeline([("columns", columns), ("model", estimator)])


def seen_tasks(tasks, t):
    """(position of each label t in the sorted ``tasks``, whether it is there)."""
    pos = np.searchsorted(tasks, t).clip(0, len(tasks) - 1)
    return pos, tasks[pos] == t


class TaskCentred(RegressorMixin, BaseEstimator):
    """Fit ``estimator`` to y minus each task's training mean; add the mean back: an
    unpenalised per-task offset for the kernel models (an unseen task gets the overall mean)."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        self.tasks_, idx = np.unique(X[:, TASK], return_inverse=True)
        self.means_, self.mean_ = np.bincount(idx, weights=y) / np.bincount(idx), float(np.mean(y))
        self.estimator_ = clone(self.estimator).fit(X, y - self.means_[idx])
        return self

    def predict(self, X):
        pos, seen = seen_tasks(self.tasks_, X[:, TASK])
        return self.estimator_.predict(X) + np.where(seen, self.means_[pos], self.mean_)


class Interactions(TransformerMixin, BaseEstimator):
    """[x, one-hot task, one-hot task x x] (sparse) from [x, task]: one big linear model with
    a shared part and per-task deviations; an unseen task gets the shared part only."""

    def fit(self, X, y=None):
        self.tasks_ = np.unique(X[:, TASK])
        return self

    def transform(self, X):
        (k, seen), x, T = seen_tasks(self.tasks_, X[:, TASK]), X[:, :TASK], len(self.tasks_)
        (n, d), vals = x.shape, np.column_stack([np.ones(len(x)), x]) * seen[:, None]
        at = (np.repeat(np.arange(n), d + 1), (k[:, None] * (d + 1) + np.arange(d + 1)).ravel())
        inter = sp.csr_matrix((vals.ravel(), at), shape=(n, T * (d + 1)))
        return sp.hstack([sp.csr_matrix(x), inter], format="csr")


class MixedLM(RegressorMixin, BaseEstimator):
    """statsmodels' MixedLM, REML (L-BFGS, 100 iterations at most): fixed [1, x] (x reference-
    coded), a random intercept and independent random slopes per task; predicts with the BLUPs
    (an unseen task: the fixed part). statsmodels' convergence warnings become sklearn's."""

    def fit(self, X, y):
        import statsmodels.regression.mixed_linear_model as sm

        x, t, self.keep_, Z = X[:, :TASK], X[:, TASK], [], np.ones((len(y), 1))
        for j in range(x.shape[1]):
            if np.linalg.matrix_rank(Zj := np.column_stack([Z, x[:, j]])) > Z.shape[1]:
                self.keep_, Z = [*self.keep_, j], Zj
        self.tasks_ = np.unique(t)
        rows, names = [t == g for g in self.tasks_], [f"x{j:03d}" for j in self.keep_]
        cols = [[x[r][:, [j]] for r in rows] for j in self.keep_]
        vc = sm.VCSpec(names, [[[v] for _ in rows] for v in names], cols)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = sm.MixedLM(y, Z, groups=t, exog_re=Z[:, :1], exog_vc=vc)
            fit = model.fit(reml=True, method="lbfgs", maxiter=100)
        for w in (w for w in caught if w.category.__name__ == "ConvergenceWarning"):
            warnings.warn(str(w.message), ConvergenceWarning, stacklevel=2)
        self.fe_ = np.asarray(fit.fe_params)
        self.re_ = np.array([np.asarray(fit.random_effects[g]) for g in self.tasks_])
        return self

    def predict(self, X):
        (pos, seen), x = seen_tasks(self.tasks_, X[:, TASK]), X[:, self.keep_]
        re = self.re_[pos] * seen[:, None]  # an unseen task: no random effect
        return self.fe_[0] + re[:, 0] + np.einsum("ij,ij->i", x, self.fe_[1:] + re[:, 1:])


@dataclasses.dataclass
class Spec:
    """One model of a results table. grid None: no search, or the estimator's own (an mtreg
    ``*CV``); else GridSearchCV with ``folds`` task-stratified folds on the training rows or on
    a ``subsample`` of each task's, then a refit on all (``refit_all``) or none."""

    name: str
    estimator: object
    grid: dict = None
    folds: int = 5
    subsample: float = None
    note: str = ""
    kind: str = "mtreg"  # "mtreg", "baseline" or "kernel"
    refit_all: bool = True
    reduced: str = ""


def fit_spec(spec, X, y, *, scoring=None, seed=0):
    """Fit one Spec on the training rows: (fitted, dict(seconds, chosen, warnings))."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if spec.grid is None:
            fitted = clone(spec.estimator).fit(X, y)
            model = fitted.steps[-1][1] if isinstance(fitted, Pipeline) else fitted
            scalar = np.ndim(getattr(model, "alpha_", None)) == 0 and hasattr(model, "alpha_")
            chosen = {"alpha": model.alpha_, "l2": model.l2_} if scalar else {}
        else:
            rows = np.arange(len(y))
            if spec.subsample is not None:  # a random fraction of every task's rows, >= 6
                rng, tasks = np.random.default_rng(seed), X[:, TASK]
                rows = [np.flatnonzero(tasks == t) for t in np.unique(tasks)]
                rows = [rng.choice(i, min(len(i), max(6, int(spec.subsample * len(i)))), False)
                        for i in rows]  # fmt: skip
                rows = np.sort(np.concatenate(rows))
            folds = TaskStratifiedKFold(spec.folds, shuffle=True, random_state=seed,
                                        task_column=TASK)  # fmt: skip
            refit_here = spec.subsample is None or not spec.refit_all
            kw = dict(cv=folds, scoring=scoring, refit=refit_here, error_score="raise")
            search = GridSearchCV(clone(spec.estimator), spec.grid, **kw).fit(X[rows], y[rows])
            chosen = {k.rsplit("__", 1)[-1]: v for k, v in search.best_params_.items()}
            fitted = search.best_estimator_ if refit_here else clone(spec.estimator)
            fitted = fitted if refit_here else fitted.set_params(**search.best_params_).fit(X, y)
    n_warn = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return fitted, dict(seconds=time.perf_counter() - start, chosen=chosen, warnings=n_warn)


ALPHAS = np.logspace(-1, 4, 11)  # graph coupling, default (complete) graph
L2S = (0.001, 0.01, 0.1, 1.0, 10.0)
# graph="learn": the alternation stops at a relative decrease of 1e-4 or 30 steps
LEARN = dict(max_iter=30, tol=1e-4, epsilon=0.1)
REFIT_NOTE = ", then refit"  # on all training rows, after a search on a subsample
NAMES = {"knn": "kNN task graph (graph='knn')", "learn": "learned task covariance (graph='learn')",
         "similarity": "similarity graph (graph='similarity')"}  # fmt: skip


def _cv(graph, folds, **kw):
    cv = TaskStratifiedKFold(folds, shuffle=True, random_state=0, task_column=TASK)
    return MultiTaskGraphRegressorCV(graph, cv=cv, task_column=TASK, **kw)


def _grid(prefix="model__", **params):
    return {f"{prefix}{k}": list(v) for k, v in params.items()}


def _searched(graph, d, folds, alphas, l2s, note=""):
    """An mtreg regressor (pcg) searched by GridSearchCV over alpha x l2."""
    kw = dict(graph_params=LEARN) if graph == "learn" else {}
    est = scaled(MultiTaskGraphRegressor(graph, task_column=TASK, solver="pcg", **kw), d)
    return Spec(NAMES[graph], est, _grid(alpha=alphas, l2=l2s), folds=folds, note=note)


def mean_regularised(d, folds, coupled=False, note=""):
    name = "mean-regularised MTL" + (", coupled intercepts" if coupled else " (default graph)")
    est = _cv(None, folds, alphas=ALPHAS, l2s=L2S, fit_intercept=not coupled)
    return Spec(name, scaled(est, d, bias=coupled), note=note)


def regression_baselines(d, folds, what):
    """Independent per-task ridge and the two pooled sklearn Ridge models."""
    alone = scaled(_cv("none", folds, alphas=[0.0], l2s=np.logspace(-2, 3, 11)), d)
    note = "MultiTaskGraphRegressorCV, alpha=0: one ridge per task, l2 by CV"
    pooled = dict(folds=folds, kind="baseline")
    return [
        Spec("independent ridge per task (mtreg, graph='none')", alone, kind="baseline", note=note),
        Spec(f"pooled sklearn Ridge, one model for all {what}", scaled(Ridge(), d, tasks="drop"),
             _grid(alpha=np.logspace(-1, 4, 6)), note="no task term at all", **pooled),
        Spec(f"pooled sklearn Ridge + one-hot {what[:-1]} indicators",
             scaled(Ridge(), d, tasks="onehot"), _grid(alpha=np.logspace(-2, 3, 6)),
             note="shared slopes, penalised per-task intercepts", **pooled),
    ]  # fmt: skip


def kernel_specs(d, subsample, folds, svr,
                 gammas=(0.01, 0.03), l2s=(1e-3, 0.01, 0.1), svr_g=(0.03,)):  # fmt: skip
    """Multi-task kernel ridge (linear, rbf; exact) and SVR, fitted to per-task centred y."""
    how = f"y centred per task; {folds}-fold CV"
    if subsample is not None:
        how += f" on a random {subsample:.0%} of each task's training rows{REFIT_NOTE}"

    def centred(name, model, note=how, **grid):
        fixed = {k: v for k, v in grid.items() if not isinstance(v, list | tuple)}
        grid = _grid("model__estimator__", **{k: v for k, v in grid.items() if k not in fixed})
        est = scaled(TaskCentred(model(task_column=TASK, **fixed)), d)
        return Spec(name, est, grid, folds=folds, subsample=subsample, kind="kernel", note=note)

    specs = [
        centred("MultiTaskKernelRidge, linear kernel", MultiTaskKernelRidge, kernel="linear",
                alpha=[10, 100, 1000], l2=[0.1, 1]),
        centred("MultiTaskKernelRidge, rbf kernel", MultiTaskKernelRidge, kernel="rbf",
                gamma=gammas, alpha=[10, 100], l2=l2s),
    ]  # fmt: skip
    if svr:
        note = f"l2=0.1, epsilon=1; {how}"
        svr_grid = dict(alpha=[10, 100], C=[10, 100], gamma=svr_g)
        specs.append(centred("MultiTaskSVR, rbf kernel", MultiTaskSVR, note, kernel="rbf",
                             l2=0.1, epsilon=1.0, **svr_grid))  # fmt: skip
    return specs


def school_specs(d):
    mean_note = "MultiTaskGraphRegressorCV, complete graph A=1/T (Evgeniou & Pontil)"
    ones_note = "column of ones in place of free intercepts: shrunk towards their mean"
    knn_note = "5-NN graph from per-task ridge coefficients, rebuilt per fit"
    sim_note = "full graph, Gaussian weights of per-task coefficient distances"
    learn_note = "Zhang & Yeung (2010), alternating; 3-fold CV"
    return [
        *regression_baselines(d, 5, "schools"),
        mean_regularised(d, 5, note=mean_note),
        mean_regularised(d, 5, True, ones_note),
        _searched("knn", d, 5, [10, 100, 1000], [0.1, 1], knn_note),
        _searched("similarity", d, 5, [1, 10, 100], [0.1, 1], sim_note),
        _searched("learn", d, 3, [1, 3, 10, 30], [0.1], learn_note),
        *kernel_specs(d, 1 / 3, 3, svr=True),
        *practitioners(d, 5),
    ]


def landmine_specs(d, task_groups):
    groups = (task_groups[:, None] == task_groups).astype(np.float64) - np.eye(len(task_groups))
    grid = _grid(alpha=[0.03, 0.3, 3, 30, 300], l2=[0.001, 0.01, 0.1, 1, 10])

    def clf(name, graph, grid=grid, note="", kind="mtreg", **kw):
        est = scaled(MultiTaskGraphClassifier(graph, task_column=TASK, **kw), d)
        return Spec(name, est, grid, folds=3, note=note, kind=kind)

    pooled = scaled(LogisticRegression(), d, tasks="drop")
    alone_note = "= LogisticRegression(C=1/(2 l2)) per field"
    return [
        clf("independent logistic per field (mtreg, graph='none')", "none",
            _grid(l2=[0.03, 0.1, 0.3, 1, 3, 10]), alone_note, "baseline", alpha=0.0),
        Spec("pooled sklearn LogisticRegression, one model", pooled, _grid(C=[0.01, 0.1, 1, 10]),
             folds=3, kind="baseline"),
        clf("mean-regularised (default graph)", None, note="complete graph A=1/T"),
        clf("field-type graph (task_groups: foliated / bare)", groups,
            note="A_st=1 within each group of fields, 0 across"),
        clf(NAMES["knn"], "knn", note="5-NN graph from per-field logistic coefficients"),
        clf(NAMES["learn"], "learn", _grid(alpha=[0.01, 0.1, 1], l2=[0.1, 1]), graph_params=LEARN),
        *practitioners(d, 3, classify=True),
    ]  # fmt: skip


def survey_specs(d, task_features):
    respondents = knn_graph(StandardScaler().fit_transform(task_features), n_neighbors=10)
    covariates = scaled(_cv(respondents, 4, alphas=np.logspace(-2, 3, 11), l2s=L2S), d)
    note = "10-NN graph of the 6 standardised respondent covariates"
    grid = (0.01, 0.03, 0.1)
    return [
        *regression_baselines(d, 4, "respondents"),
        mean_regularised(d, 4),
        Spec("respondent-covariate graph (10-NN)", covariates, note=note),
        _searched("knn", d, 4, [1, 10, 100], [0.1, 1]),
        _searched("learn", d, 4, [0.1, 1, 10], [0.1, 1]),
        *kernel_specs(d, None, 4, True, gammas=grid, l2s=(1e-4, 1e-3, 1e-2), svr_g=grid),
        *practitioners(d, 4),
    ]


def parkinsons_specs(d):
    return [
        *regression_baselines(d, 5, "patients"),
        mean_regularised(d, 5),
        _searched("knn", d, 5, [0.1, 1, 10], [0.1, 1]),
        _searched("learn", d, 5, [0.1, 1, 10], [0.1, 1]),
        *kernel_specs(d, None, 5, False, gammas=(0.05, 0.2, 1.0), l2s=(1e-4, 1e-3, 1e-2)),
        *practitioners(d, 5),
    ]


BAYES = "BayesianMultiTaskGraphRegressor (defaults, no CV)"
LIBS, NO = ("lightgbm", "statsmodels"), "none (no search)"


def optional(package):
    """(module, None), or (None, why a contender that needs it is skipped)."""
    try:
        return importlib.import_module(package), None
    except ImportError as exc:
        return None, f"skipped: {package} not importable ({exc})"


def one_thread(base, **fit_kw):
    """``base`` fitted with ``fit_kw`` on one OpenMP thread (spinning threads on 2 loaded cores
    made sklearn's gradient boosting up to 100x slower)."""

    class OneThread(base):
        def fit(self, X, y, **kw):
            with threadpool_limits(1, user_api="openmp"):
                return super().fit(X, y, **fit_kw, **kw)

        def decision_function(self, X):  # sklearn's, else LightGBM's raw score
            own = getattr(super(), "decision_function", None)
            return own(X) if own else self.predict(X, raw_score=True)

    return OneThread


def practitioners(d, folds, classify=False):
    """What practitioners fit instead: one big ridge (logistic) with task interactions, gradient
    boosting with the task categorical, MixedLM; estimator None: its package is missing."""
    kw, (lgb, no_lgb), (sm, no_sm) = dict(folds=folds, kind="baseline"), *map(optional, LIBS)
    linear, key = (LogisticRegression(max_iter=2000), "C") if classify else (Ridge(), "alpha")
    big = scaled(Pipeline([("inter", Interactions()), ("linear", linear)]), d)
    hgb = one_thread(HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor)
    hgb = hgb(categorical_features=[d], early_stopping=True, max_iter=500, random_state=0)
    gbm = lgb and one_thread(lgb.LGBMClassifier if classify else lgb.LGBMRegressor,
                             categorical_feature=[d])  # fmt: skip
    gbm = gbm and gbm(n_estimators=200, learning_rate=0.05, n_jobs=1, verbose=-1, random_state=0)
    specs = [
        Spec(f"one big {'logistic' if classify else 'ridge'}, task x feature interactions", big,
             _grid("model__linear__", **{key: np.logspace(-2, 3, 6)}), **kw,
             note="sparse [x, task one-hot, task one-hot x x], one penalty by CV"),
        Spec("HistGradientBoosting, task categorical", hgb, _grid("", max_leaf_nodes=(7, 31)),
             note="early stopping on 10 % of the rows, 500 iterations at most, 1 thread", **kw),
        Spec("LightGBM, task categorical", gbm, _grid("", num_leaves=(7, 31)), **kw,
             note=no_lgb or "200 trees, learning_rate=0.05, one thread"),
    ]  # fmt: skip
    mixed = sm and scaled(MixedLM(), d)
    note = no_sm or "REML, random intercept + independent slopes; 100 L-BFGS iterations at most"
    bayes = scaled(BayesianMultiTaskGraphRegressor(task_column=TASK), d)
    return specs if classify else [
        Spec(BAYES, bayes, note="alpha, l2 per feature and the noise by REML", reduced=NO), *specs,
        Spec("statsmodels MixedLM, BLUPs", mixed, note=note, kind="baseline", reduced=NO),
    ]  # fmt: skip


QUICK_MAX_FOLDS = 3  # folds of every GridSearchCV in quick mode
QUICK_THIN_ABOVE = 3  # hyper-parameter lists longer than this keep every other value


def quick_specs(specs):
    """Cheaper searches by one rule that looks at no result: lists of more than 3 values thinned
    to every other, at most 3 folds, no refit after a subsample; mtreg's ``*CV`` unchanged."""
    quick = []
    for spec in specs:
        if spec.grid is None:
            quick.append(spec)
            continue
        grid = {k: v[::2] if len(v) > QUICK_THIN_ABOVE else v for k, v in spec.grid.items()}
        points, full = (math.prod(len(v) for v in g.values()) for g in (grid, spec.grid))
        folds = min(spec.folds, QUICK_MAX_FOLDS)
        cuts = [f"{points} of the {full} grid points"] if points < full else []
        cuts += [f"{folds} folds, not {spec.folds}"] if folds < spec.folds else []
        if spec.subsample is not None:
            cuts.append("fitted on the search's subsample (no refit on all training rows)")
        note = spec.note.replace(REFIT_NOTE, "")
        note = note.replace(f"{spec.folds}-fold CV", f"{folds}-fold CV")
        cut = dict(grid=grid, folds=folds, refit_all=False, note=note)
        quick.append(dataclasses.replace(spec, **cut, reduced="; ".join(cuts) or "none"))
    return quick
