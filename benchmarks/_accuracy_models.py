"""Models, metrics and model selection of the accuracy benchmark (bench_accuracy.py).

Every model sees the same arrays: the features, then the task label as the LAST column.
Pipelines standardise the features on the rows they are fitted on (so inside every
cross-validation fold) and pass the task column through to estimators built with
``task_column=-1``; the splitter :class:`mtreg.TaskStratifiedKFold` reads the same column.
"""

import time
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from mtreg import TaskStratifiedKFold

TASK = -1  # position of the task label in every array given to the models


def with_tasks(X, task_ids):
    """The model input: features, then the task label as the last column."""
    return np.column_stack([X, task_ids]).astype(np.float64)


# --- metrics ---------------------------------------------------------------------------


def explained_variance_pooled(y, pred):
    """1 - SSE / SST over all test rows (SST around the mean of all test targets)."""
    return 1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)


def explained_variance_tasks(y, pred, task_ids):
    """1 - mean_t MSE_t / mean_t Var_t, both over the test rows of each task."""
    tasks = np.unique(task_ids)
    mse = [np.mean((y[task_ids == t] - pred[task_ids == t]) ** 2) for t in tasks]
    var = [np.var(y[task_ids == t]) for t in tasks]
    return 1.0 - np.mean(mse) / np.mean(var)


def rmse(y, pred):
    return float(np.sqrt(np.mean((y - pred) ** 2)))


def mean_task_auc(y, scores, task_ids):
    """ROC AUC of each task, averaged over the tasks whose rows show both classes."""
    from sklearn.metrics import roc_auc_score

    # a task seen with one class only gets an infinite intercept: its scores are all equal
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), posinf=1e300, neginf=-1e300)
    aucs = [
        roc_auc_score(y[task_ids == t], scores[task_ids == t])
        for t in np.unique(task_ids)
        if np.unique(y[task_ids == t]).size == 2
    ]
    return float(np.mean(aucs))


def task_auc_scorer(estimator, X, y):
    """Scorer for the searches: mean per-task AUC, the task label read from X."""
    return mean_task_auc(y, estimator.decision_function(X), X[:, TASK])


# --- building blocks -------------------------------------------------------------------


def _ones(X):
    return np.ones((X.shape[0], 1))


def scaled(estimator, n_features, *, tasks="pass", bias=False):
    """Pipeline: standardise the n_features features, then ``estimator``.

    tasks: "pass" (task column last, for mtreg estimators), "drop" (one pooled model)
    or "onehot" (task indicators as extra features of a pooled model). bias: append a
    column of ones (a penalised, graph-coupled intercept for ``fit_intercept=False``).
    """
    features = list(range(n_features))
    parts = [("scale", StandardScaler(), features)]
    if bias:
        parts.append(("bias", FunctionTransformer(_ones), [0]))
    if tasks == "onehot":
        parts.append(
            ("task", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [n_features])
        )
    remainder = "passthrough" if tasks == "pass" else "drop"
    columns = ColumnTransformer(parts, remainder=remainder, sparse_threshold=0.0)
    return Pipeline([("columns", columns), ("model", estimator)])


class TaskCentred(RegressorMixin, BaseEstimator):
    """Fit ``estimator`` to y minus each task's training mean; add the mean back.

    The kernel models have no intercept: this gives them an unpenalised per-task offset
    (a task without training rows gets the overall mean).
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        tasks = X[:, TASK]
        self.tasks_, idx = np.unique(tasks, return_inverse=True)
        self.means_ = np.bincount(idx, weights=y) / np.bincount(idx)
        self.mean_ = float(np.mean(y))
        self.estimator_ = clone(self.estimator).fit(X, y - self.means_[idx])
        return self

    def _offsets(self, tasks):
        pos = np.searchsorted(self.tasks_, tasks).clip(0, len(self.tasks_) - 1)
        return np.where(self.tasks_[pos] == tasks, self.means_[pos], self.mean_)

    def predict(self, X):
        return self.estimator_.predict(X) + self._offsets(X[:, TASK])


# --- model specifications and their fit ------------------------------------------------


@dataclass
class Spec:
    """One row of a results table: an estimator and how its hyper-parameters are chosen.

    grid None: the estimator selects its own (an mtreg ``*CV`` estimator) or has none.
    Otherwise ``GridSearchCV`` with ``folds`` task-stratified folds on the training rows,
    or, with ``subsample``, on that fraction of each task's training rows, followed by a
    refit at the selected point on all training rows (``refit_all``) or on the subsample.
    """

    name: str
    estimator: object
    grid: dict = None
    folds: int = 5
    subsample: float = None
    note: str = ""
    kind: str = "mtreg"  # "mtreg", "baseline" or "kernel": for the report
    refit_all: bool = True
    reduced: str = ""  # what the quick protocol cut from this model's search, for the report


def task_subsample(task_ids, fraction, rng):
    """Row indices: a random ``fraction`` of every task's rows (at least 6 per task)."""
    rows = []
    for t in np.unique(task_ids):
        idx = np.flatnonzero(task_ids == t)
        rows.append(rng.choice(idx, min(len(idx), max(6, int(fraction * len(idx)))), False))
    return np.sort(np.concatenate(rows))


def _cv_choice(estimator):
    """The (alpha, l2) an mtreg *CV estimator (last step of a pipeline) selected."""
    model = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if hasattr(model, "alpha_"):
        return {"alpha": model.alpha_, "l2": model.l2_}
    return {}


def fit_spec(spec, X, y, *, scoring=None, seed=0):
    """Fit one Spec on the training rows. Returns (fitted estimator, info dict)."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if spec.grid is None:
            fitted = clone(spec.estimator).fit(X, y)
            chosen = _cv_choice(fitted)
        else:
            rng = np.random.default_rng(seed)
            rows = (
                np.arange(len(y))
                if spec.subsample is None
                else task_subsample(X[:, TASK], spec.subsample, rng)
            )
            folds = TaskStratifiedKFold(
                spec.folds, shuffle=True, random_state=seed, task_column=TASK
            )
            refit_here = spec.subsample is None or not spec.refit_all
            search = GridSearchCV(
                clone(spec.estimator),
                spec.grid,
                cv=folds,
                scoring=scoring,
                refit=refit_here,
                error_score="raise",
            )
            search.fit(X[rows], y[rows])
            chosen = {k.rsplit("__", 1)[-1]: v for k, v in search.best_params_.items()}
            if refit_here:
                fitted = search.best_estimator_
            else:
                fitted = clone(spec.estimator).set_params(**search.best_params_).fit(X, y)
    n_warn = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return fitted, dict(seconds=time.perf_counter() - start, chosen=chosen, warnings=n_warn)


def describe_choices(choices):
    """The most frequent selected hyper-parameters, e.g. 'alpha=100, l2=0.1 (7/10)'."""
    keys = [", ".join(f"{k}={_short(v)}" for k, v in sorted(c.items())) for c in choices]
    keys = [k for k in keys if k]
    if not keys:
        return "none to choose"
    ((top, count),) = Counter(keys).most_common(1)
    return top if count == len(keys) else f"{top} ({count}/{len(keys)})"


def _short(value):
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
