"""What every mtreg estimator shares: the task parameters and their validation, the shared
docstring entries, and fits that leave no half-fitted state behind. The task handling
itself (task column, graph and task positions of the rows) is in the core modules
:mod:`mtreg._task_column` and :mod:`mtreg._task_index`."""

from __future__ import annotations

import contextlib
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin, is_classifier
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, validate_data

from ._graph import LAPLACIANS, check_graph_string
from ._task_column import take_task_column
from ._task_index import (
    fit_task_graph,
    population_weight,
    predict_linear,
    predict_task_index,
)
from ._typing import ArrayLike, MatrixLike, OptArray

_GRAPH_DOC = """\
graph : None, str, array-like, sparse matrix, networkx graph, dict or list, default=None
        The task-relation matrix A (symmetric, non-negative; the diagonal is ignored).

        - None or ``"complete"``: every pair of tasks linked with weight 1/T, so that the
          penalty is ``alpha * sum_t ||w_t - mean(w)||^2`` (Evgeniou & Pontil, 2004).
        - ``"none"``: no links; tasks are fitted independently.
{data_graphs}
        - array or sparse matrix of shape (T, T): rows follow ``tasks`` if given, else
          the sorted task labels.
        - networkx ``Graph``/``DiGraph`` (edge attribute ``"weight"``, default 1), dict of
          neighbour lists ``{"a": ["b", "c"], "b": [], "c": []}`` or of
          ``{neighbour: weight}``, list of ``(s, t)`` or ``(s, t, w)`` tuples: read as
          networkx reads them into an undirected graph (a pair listed on one side or on
          both is one edge). Every task of the data must be a node.
        - pandas DataFrame: a matrix whose index and columns name the tasks (the same
          labels, in any order); a frame with the default index and columns 0, ..., T - 1
          on both axes is a plain array.

        Which list is which is decided by type: a list of tuples is an edge list; a list
        of lists is an edge list when its rows are pairs or triples of task labels (and
        weight) and do not form a square, and a matrix when they form a square of
        numbers. A square 2 x 2 or 3 x 3 list of numbers whose rows start with two task
        labels (``[[0, 1, 1.0], [1, 2, 1.0], [0, 2, 0.5]]`` for tasks 0, 1, 2) reads both
        ways: it is an error unless both readings give the same graph (pass an array or
        a list of tuples). A non-symmetric matrix, DataFrame or DiGraph is symmetrised as
        ``(A + A^T) / 2``."""

# the graphs built from the data in fit, which MultiTaskGraphRegressor and
# MultiTaskGraphClassifier take; the others need a fixed graph (check_fixed_graph)
_DATA_GRAPHS = """\
        - ``"knn"``, ``"similarity"``: built in fit from the training rows alone (no
          leakage across CV folds) by :func:`mtreg.relations.task_similarity`: the
          k-nearest-neighbour graph of the tasks, or the full graph weighted by the
          similarity (see ``graph_params``).
        - ``"learn"``: learn a task covariance jointly with the models (Zhang & Yeung
          2010); ``alpha`` then weighs ``tr(W^T Omega^-1 W)``."""

_NO_DATA_GRAPHS = """\
        - ``"knn"``, ``"similarity"`` and ``"learn"`` (graphs built from the data in fit)
          are not available: this estimator needs a fixed graph (a ValueError says so).
          Build one first, e.g. with :func:`mtreg.relations.graph_from_data` on the
          training rows, and pass the matrix."""

GRAPH_DOC = _GRAPH_DOC.replace("{data_graphs}", _DATA_GRAPHS)
FIXED_GRAPH_DOC = _GRAPH_DOC.replace("{data_graphs}", _NO_DATA_GRAPHS)

_UNSEEN_DOC = """\
unseen_tasks : {{"error", "population"}}, default="error"
        What prediction does with the rows of a task that the model never saw (not in
        the training data, the graph or ``tasks``), such as a task that a
        cross-validation split holds out whole:

        - "error": a ValueError that names the tasks.
        - "population": the population model, the model of a new task joined to every
          fitted task by an edge of weight 1/T (as the default complete graph joins
          tasks), the fitted models held fixed. It minimises the penalty of the new
          task, ``alpha / T * sum_t ||w - w_t||^2 + l2 * ||w||^2``, so that
          {rule}
          The same rule holds whatever the graph (any ``graph`` above, either
          Laplacian): the graph relates the tasks that were fitted, not a task never
          seen. On the default
          complete graph this is the common model w_0 of Evgeniou & Pontil (2004), in
          ``w_t = w_0 + v_t``; with ``l2 = 0`` (linear models) it is also exactly the
          model that a task named in ``tasks`` without training rows gets. With
          ``alpha = 0`` (and ``l2 > 0``) the population model is w = 0 (with the
          intercept above); with ``alpha = l2 = 0``, the mean of the task models."""

UNSEEN_DOC_LINEAR = _UNSEEN_DOC.format(
    rule="""``w = alpha / (alpha + l2) * mean_t w_t`` (the plain mean when ``l2 = 0``;
          feature by feature for per-feature alpha or l2), with the mean intercept
          ``mean_t b_t`` (over the finite intercepts, for a classifier with one-class
          tasks; for more than two classes, per class)."""
)

UNSEEN_DOC_KERNEL = _UNSEEN_DOC.format(
    rule="""``f(x, new) = alpha / (alpha + l2) * mean_t f(x, t)``: the new task's row
          of the task kernel ``inv(E)`` is ``alpha / (alpha + l2)`` times the mean of
          its rows (the SVMs add their shared intercept b, as for every task)."""
)


def require_y(estimator, y):
    if y is None:
        raise ValueError(
            f"This {type(estimator).__name__} estimator requires y to be passed, but the "
            "target y is None."
        )


def _plain_finite(a, dtypes, ndims):
    """Whether ``a`` is a NumPy array (no subclass) of one of ``dtypes`` and ``ndims``, not
    empty, and finite: then sklearn's check_array returns it as it is, and the checks can
    be skipped (anything else goes through check_array, which also words the errors). The
    sum is finite only if every entry is, as sklearn's own first test has it (a sum that
    overflows sends finite data the long way, without a warning)."""
    if not (type(a) is np.ndarray and a.dtype in dtypes and a.ndim in ndims and a.size > 0):
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(a.sum()))


def check_targets(y, X):
    """y as a float array of 1 or 2 dimensions with one row per row of X."""
    if not _plain_finite(y, (np.float64,), (1, 2)):  # else check_array would change nothing
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y", ensure_min_samples=0)
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y has shape {y.shape} but X has {X.shape[0]} rows; y must be 1-D or 2-D with "
            "one row per row of X."
        )
    return y


def check_fixed_graph(estimator):
    """The graphs built from the data in fit ("knn", "similarity", "learn") are not for
    these estimators: their kernels and search paths need a fixed graph."""
    graph = estimator.graph
    check_graph_string(graph)
    if isinstance(graph, str) and graph not in ("complete", "none"):
        raise ValueError(
            f"graph={graph!r} is not available for {type(estimator).__name__}, which takes a "
            "fixed task graph (None, 'complete', 'none', a matrix, a networkx graph, a dict or "
            "an edge list); build one first, e.g. with mtreg.relations."
        )


@contextlib.contextmanager
def restored_on_error(estimator):
    """Put back the estimator's previous state if the block raises: no half-fitted model."""
    previous = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(previous)
        raise


class IntInterval(Interval):
    """``Interval(Integral, ...)`` that refuses booleans: True is no column or count."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)

    def __str__(self):
        if self.left is None and self.right is None:
            return "an int (not a bool)"
        return super().__str__() + " (not a bool)"


def refuse_bools(constraints):
    """Parameter constraints in which every integer constraint refuses booleans."""

    def convert(c):
        if c is Integral:
            return IntInterval(Integral, None, None, closed="neither")
        if type(c) is Interval and c.type is Integral:
            return IntInterval(Integral, c.left, c.right, closed=c.closed)
        return c

    return {
        name: [convert(c) for c in options] if isinstance(options, list) else options
        for name, options in constraints.items()
    }


class TaskRegressorMixin(RegressorMixin):
    """RegressorMixin whose ``score`` takes the tasks of the rows."""

    def score(
        self, X: MatrixLike, y: ArrayLike, task_ids: OptArray = None, sample_weight: OptArray = None
    ) -> float:
        """Return R^2 of the predictions over all rows (averaged over columns for 2-D y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test rows (for a precomputed kernel, k(X, X_fit)).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True targets, shaped as in ``fit``.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row, as in ``predict``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the R^2.

        Returns
        -------
        score : float
            ``sklearn.metrics.r2_score`` of ``predict(X, task_ids)`` against y: one R^2
            over the rows of all tasks, not a mean of per-task scores (for those, see
            :func:`mtreg.metrics.task_scorer`).
        """
        return r2_score(y, self.predict(X, task_ids=task_ids), sample_weight=sample_weight)


_X_DTYPES = (np.float64, np.float32)  # kept as they are by validate_data

# parameter values of these types are immutable, so a validation of them holds for good
_PLAIN_TYPES = (bool, int, float, str, type(None))
_VALIDATED = set()  # (class, (name, type, value), ...) that passed sklearn's validation
_PARAM_NAMES = {}  # class: its constructor's parameter names


class MultiTaskMixin:
    """Task handling shared by the multi-task estimators."""

    _common_constraints = {
        "graph": "no_validation",  # every format is checked by make_task_graph
        "tasks": ["array-like", None],
        "task_column": [Integral, str, None],
        "unseen_tasks": [StrOptions({"error", "population"})],
    }

    def _validate_params(self):
        """sklearn's parameter validation, remembered for parameters of plain types: the
        same class and the same values (and types) pass again without the checks, which
        cost more than a small fit. Arrays, dicts and other objects are checked every time
        (they may have changed in place); a failure is never remembered."""
        names = _PARAM_NAMES.get(type(self))
        if names is None:  # get_params(deep=False) reads these (inspect.signature, slow)
            names = _PARAM_NAMES[type(self)] = type(self)._get_param_names()
        constraints = self._parameter_constraints
        key = [type(self)]
        for name in names:
            value = getattr(self, name)
            if constraints.get(name) == "no_validation":
                continue
            if type(value) not in _PLAIN_TYPES:
                key = None
                break
            key.append((name, type(value), value))
        key = None if key is None else tuple(key)
        if key is not None and key in _VALIDATED:
            return
        super()._validate_params()
        if key is not None:
            if len(_VALIDATED) >= 1024:
                _VALIDATED.clear()
            _VALIDATED.add(key)

    def __init_subclass__(cls, **kwargs):
        # every estimator: an int parameter given True or False is an error, not 1 or 0
        super().__init_subclass__(**kwargs)
        if "_parameter_constraints" in cls.__dict__:
            cls._parameter_constraints = refuse_bools(cls._parameter_constraints)

    def _validate_X(self, X, task_ids, *, reset, accept_sparse=("csr", "csc", "coo")):
        """(numeric X, task_ids) with the task column taken out when there is one."""
        check = dict(accept_sparse=list(accept_sparse), dtype=[np.float64, np.float32])
        if self.task_column is None and _plain_finite(X, _X_DTYPES, (2,)):
            # what validate_data does with such an X (no feature names): set the width in
            # fit; later, the same width and a model fitted without names pass as they are
            if reset:
                self.__dict__.pop("feature_names_in_", None)
                self.n_features_in_ = X.shape[1]
                return X, task_ids
            known = self.__dict__.get("n_features_in_")
            if known == X.shape[1] and "feature_names_in_" not in self.__dict__:
                return X, task_ids
        if self.task_column is None:
            return validate_data(self, X, reset=reset, **check), task_ids
        if task_ids is not None:
            raise ValueError(
                "task labels were given twice: in task_ids and in task_column="
                f"{self.task_column!r}; pass only one."
            )
        validate_data(self, X, reset=reset, skip_check_array=True)
        X, task_ids = take_task_column(X, self.task_column)
        return check_array(X, input_name="X", estimator=self, **check), task_ids

    def _task_graph(self, y, task_ids, X=None, columns=None):
        """(TaskGraph, integer task index per row or None for multi-output data); see
        :func:`mtreg._task_index.fit_task_graph`."""
        return fit_task_graph(
            self.graph,
            y,
            task_ids,
            tasks=self.tasks,
            laplacian=self.laplacian,
            X=X,
            columns=columns,
            loss="logistic" if is_classifier(self) else "squared",
            graph_params=getattr(self, "graph_params", None),
            owner=type(self).__name__,
        )

    def _predict_task_index(self, X, task_ids, *, chunk=False):
        """Task positions of the rows of X, or None to predict every task (multi-output)."""
        unseen = getattr(self, "unseen_tasks", "error")
        shared_X = self._shared_X
        return predict_task_index(
            task_ids, self.tasks_, X.shape[0], shared_X=shared_X, unseen=unseen, chunk=chunk
        )

    def _population_weight(self):
        """alpha / (alpha + l2) of the population model (see ``unseen_tasks``)."""
        alpha, l2 = getattr(self, "alpha_", None), getattr(self, "l2_", None)
        if alpha is None:  # the search estimators keep the chosen values in alpha_, l2_
            alpha, l2 = self.alpha, self.l2
        return population_weight(alpha, l2)

    def _linear_predict(self, X, task_idx, coef, intercept):
        """x_i . w_{t_i} + b_{t_i} per row (see :func:`mtreg._task_index.predict_linear`)."""
        return predict_linear(X, task_idx, coef, intercept, self._population_weight())

    @property
    def adjacency_(self) -> np.ndarray | sp.csr_matrix:
        """The symmetrised task adjacency used in the fit, shape (n_tasks, n_tasks)."""
        return self.graph_.adjacency_matrix()

    @property
    def laplacian_(self) -> np.ndarray | sp.csr_matrix:
        """The Laplacian L used in the penalty, shape (n_tasks, n_tasks)."""
        return self.graph_.laplacian()


__all__ = [
    "FIXED_GRAPH_DOC",
    "GRAPH_DOC",
    "LAPLACIANS",
    "IntInterval",
    "UNSEEN_DOC_KERNEL",
    "UNSEEN_DOC_LINEAR",
    "MultiTaskMixin",
    "refuse_bools",
    "restored_on_error",
]
