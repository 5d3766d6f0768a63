"""What every mtreg estimator shares: task labels, the task column, graph input, and
fits that leave no half-fitted state behind."""

import contextlib
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, validate_data

from ._graph import LAPLACIANS, check_graph_string
from ._graph_input import make_task_graph
from ._labels import PREDICT_HINT, as_labels, encode_tasks, unique_labels
from ._tasks import predict_rows
from .relations import graph_from_data

CHUNK_HINT = (
    " The tasks of partial_fit are fixed by its first call: name the tasks of later chunks "
    "in graph or tasks."
)

# graphs built inside fit from the training rows (see mtreg.relations)
DATA_GRAPHS = ("knn", "similarity", "learn")

GRAPH_DOC = """\
graph : None, str, array-like, sparse matrix, networkx graph, dict or list, default=None
        The task-relation matrix A (symmetric, non-negative; the diagonal is ignored).

        - None or ``"complete"``: every pair of tasks linked with weight 1/T, so that the
          penalty is ``alpha * sum_t ||w_t - mean(w)||^2`` (Evgeniou & Pontil, 2004).
        - ``"none"``: no links; tasks are fitted independently.
        - ``"knn"``, ``"similarity"``: built in fit from the training rows alone (no
          leakage across CV folds) by :func:`mtreg.relations.task_similarity`: the
          k-nearest-neighbour graph of the tasks, or the full graph weighted by the
          similarity (see ``graph_params``).
        - ``"learn"``: learn a task covariance jointly with the models (Zhang & Yeung
          2010); ``alpha`` then weighs ``tr(W^T Omega^-1 W)``.
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
          The same rule holds whatever the graph ("complete", "none", a matrix or
          labelled graph, "knn", "similarity", "learn", either Laplacian): the graph
          relates the tasks that were fitted, not a task never seen. On the default
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


def _column_names(X):
    """The column names of a pandas or polars DataFrame or a pyarrow Table, else None."""
    if hasattr(X, "column_names") and hasattr(X, "num_columns"):  # pyarrow.Table
        return list(X.column_names)
    if hasattr(X, "columns") and (hasattr(X, "iloc") or hasattr(X, "get_column")):
        return list(X.columns)  # pandas or polars
    return None


def _split_frame(X, name):
    """(X without the column ``name``, that column as an array) of a data frame."""
    if hasattr(X, "iloc"):  # pandas
        return X.drop(columns=[name]), np.asarray(X[name])
    if hasattr(X, "get_column"):  # polars
        return X.drop(name), X.get_column(name).to_numpy()
    return X.drop_columns([name]), X.column(name).to_numpy()  # pyarrow


def take_task_column(X, column):
    """Split X into (the other columns, the task labels in column ``column``).

    X may be an array, a sparse matrix, a pandas or polars DataFrame or a pyarrow Table;
    ``column`` is a position, or a name for the data frames.
    """
    names = _column_names(X)
    if names is not None:
        if isinstance(column, str) and column not in names:
            shown = names if len(names) <= 20 else names[:20] + ["..."]
            raise ValueError(
                f"task_column {column!r} is not a column of X, which has the columns "
                f"{shown}. If X comes out of a ColumnTransformer, its columns are renamed "
                "'<transformer>__<column>' unless it is built with "
                "verbose_feature_names_out=False; pass that, or the new name."
            )
        if not isinstance(column, str):
            _check_position(column, len(names))
            column = names[column]
        return _split_frame(X, column)
    if isinstance(column, str):
        raise ValueError(
            f"task_column={column!r} names a column, but X has no column names (a tool that "
            "passes X on as an array, such as RFE or SequentialFeatureSelector, drops them): "
            "give task_ids through metadata routing instead."
        )
    if sp.issparse(X):
        X = sp.csc_matrix(X)
    else:
        X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D X with a task column, got shape {X.shape}.")
    n_columns = X.shape[1]
    _check_position(column, n_columns)
    if n_columns == 1:
        raise ValueError(
            f"X has one column, the task column (task_column={column}), and no feature: a "
            "tool that fits on column subsets (SequentialFeatureSelector, RFE) may leave the "
            "task column out; give task_ids through metadata routing instead."
        )
    k = column % n_columns
    keep = np.delete(np.arange(n_columns), k)
    labels = X[:, k].toarray().ravel() if sp.issparse(X) else X[:, k]
    _check_not_a_feature(labels, column)
    return X[:, keep], labels


def _check_not_a_feature(labels, column):
    """Task labels read from a float column must be whole numbers: fractions mean the
    column is a feature, as when a tool that drops columns (RFE) moved the task column."""
    values = labels
    if values.dtype == object:  # an object array (a task column of mixed types)
        floats = [v for v in values.tolist() if isinstance(v, (float, np.floating))]
        values = np.asarray(floats, dtype=np.float64)
    if values.dtype.kind == "f" and values.size:
        finite = values[np.isfinite(values)]
        fraction = finite[finite != np.round(finite)]
        if fraction.size:
            raise ValueError(
                f"task_column={column} holds fractional numbers (such as {fraction[0]:g}), "
                "which look like a feature, not task labels. A tool that fits on column "
                "subsets (RFE, SelectFromModel, SequentialFeatureSelector) moves the task "
                "column: keep it last (task_column=-1) or give task_ids through metadata "
                "routing; for real task labels, use integers or strings."
            )


def _check_position(column, n_columns):
    if isinstance(column, (bool, np.bool_)) or not isinstance(column, Integral):
        raise ValueError(f"task_column must be an int, a str or None, got {column!r}.")
    if not -n_columns <= column < n_columns:
        raise ValueError(f"task_column={column} is out of range for X with {n_columns} columns.")


def frame_columns(y):
    """The column names of a 2-D y given as a data frame (the task labels), else None."""
    names = _column_names(y)
    return None if names is None else np.asarray(names)


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


class MultiTaskMixin:
    """Task handling shared by the multi-task estimators."""

    _common_constraints = {
        "graph": "no_validation",  # every format is checked by make_task_graph
        "tasks": ["array-like", None],
        "task_column": [Integral, str, None],
        "unseen_tasks": [StrOptions({"error", "population"})],
    }

    def __init_subclass__(cls, **kwargs):
        # every estimator: an int parameter given True or False is an error, not 1 or 0
        super().__init_subclass__(**kwargs)
        if "_parameter_constraints" in cls.__dict__:
            cls._parameter_constraints = refuse_bools(cls._parameter_constraints)

    def _validate_X(self, X, task_ids, *, reset, accept_sparse=("csr", "csc", "coo")):
        """(numeric X, task_ids) with the task column taken out when there is one."""
        check = dict(accept_sparse=list(accept_sparse), dtype=[np.float64, np.float32])
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

    def _graph_input(self, X, y, task_ids, tasks):
        """The graph parameter, with the graphs made from the training rows built here.

        "knn" and "similarity" are computed from the rows passed to fit only, so that no
        information crosses cross-validation folds; "learn" starts from no links.
        """
        graph = self.graph
        if not (isinstance(graph, str) and graph in DATA_GRAPHS):
            return graph
        if graph == "learn":
            return "none"
        if X is None:
            raise ValueError(f"graph={graph!r} is not available for {type(self).__name__}.")
        loss = "logistic" if is_classifier(self) else "squared"
        return graph_from_data(
            graph,
            X,
            y,
            task_ids,
            tasks=tasks,
            loss=loss,
            **(getattr(self, "graph_params", None) or {}),
        )

    def _task_graph(self, y, task_ids, X=None, columns=None):
        """(TaskGraph, integer task index per row or None for multi-output data).

        ``columns``: the column names of a 2-D y given as a data frame, the task labels
        unless ``tasks`` is set.
        """
        if y.ndim == 2:
            if task_ids is not None:
                raise ValueError(
                    "y must be 1-D when task_ids are given; a 2-D y means one task per column."
                )
            tasks = np.arange(y.shape[1]) if columns is None else columns
            tasks = tasks if self.tasks is None else as_labels(self.tasks, "tasks")
            if len(tasks) != y.shape[1]:
                raise ValueError(f"tasks names {len(tasks)} tasks but y has {y.shape[1]} columns.")
            graph = make_task_graph(
                self._graph_input(X, y, None, None), tasks, tasks=tasks, laplacian=self.laplacian
            )
            return graph, None
        if task_ids is None:
            if self.tasks is not None and len(self.tasks) != 1:
                raise ValueError(
                    f"tasks names {len(self.tasks)} tasks: pass task_ids to say which rows "
                    "belong to which task."
                )
            task_ids = (
                np.zeros(y.shape[0], dtype=np.int64)
                if self.tasks is None
                else (np.repeat(as_labels(self.tasks, "tasks"), y.shape[0]))
            )
        task_ids = as_labels(task_ids)
        if task_ids.shape != (y.shape[0],):
            raise ValueError(
                f"task_ids has shape {task_ids.shape} but X and y have {y.shape[0]} rows."
            )
        # with tasks given, their order is the order: labels of mixed types need no sorting
        observed, inverse = unique_labels(task_ids, sort=self.tasks is None)
        graph = make_task_graph(
            self._graph_input(X, y, task_ids, self.tasks),
            observed,
            tasks=self.tasks,
            laplacian=self.laplacian,
        )
        return graph, encode_tasks(observed, graph.tasks)[inverse]

    def _predict_task_index(self, X, task_ids, *, chunk=False):
        """Task positions of the rows of X, or None to predict every task (multi-output).

        Tasks never seen get position T with ``unseen_tasks="population"``, except in a
        chunk of partial_fit (``chunk``), where they are an error."""
        if task_ids is None:
            if self._shared_X:
                return None
            if len(self.tasks_) != 1:
                raise ValueError(
                    f"this model has {len(self.tasks_)} tasks: pass task_ids to say which "
                    "task each row belongs to. scikit-learn's scorers (and tools such as "
                    "cross_val_predict) call predict without them: with metadata routing, "
                    "score with mtreg.metrics.task_scorer(scoring), which passes the routed "
                    "task_ids on; otherwise fit with task_column (the task labels in a "
                    "column of X)."
                )
            return np.zeros(X.shape[0], dtype=np.int64)
        task_ids = as_labels(task_ids)
        if task_ids.shape != (X.shape[0],):
            raise ValueError(f"task_ids has shape {task_ids.shape} but X has {X.shape[0]} rows.")
        if chunk:
            return encode_tasks(task_ids, self.tasks_, hint=CHUNK_HINT)
        unseen = getattr(self, "unseen_tasks", "error")
        return encode_tasks(task_ids, self.tasks_, unseen=unseen, hint=PREDICT_HINT)

    def _population_weight(self):
        """alpha / (alpha + l2): the population model over the mean of the task models
        (see ``unseen_tasks``); 1 when alpha = l2 = 0."""
        alpha, l2 = getattr(self, "alpha_", None), getattr(self, "l2_", None)
        if alpha is None:  # the search estimators keep the chosen values in alpha_, l2_
            alpha, l2 = self.alpha, self.l2
        if np.ndim(alpha) or np.ndim(l2):  # per-feature penalties: feature by feature
            alpha, l2 = np.asarray(alpha, dtype=float), np.asarray(l2, dtype=float)
            total = alpha + l2
            return np.where(total > 0, alpha / np.where(total > 0, total, 1.0), 1.0)
        return alpha / (alpha + l2) if alpha + l2 > 0 else 1.0

    def _with_population(self, coef, intercept):
        """(coef, intercept) of shapes (T, d), (T,) with the population model as row T."""
        finite = np.isfinite(intercept)  # a one-class task's intercept may be +-inf
        b = intercept[finite].mean() if finite.any() else 0.0
        w = self._population_weight() * coef.mean(axis=0)
        return np.vstack([coef, w]), np.append(intercept, b)

    def _linear_predict(self, X, task_idx, coef, intercept):
        """x_i . w_{t_i} + b_{t_i} per row, or X W^T + b for every task when task_idx is None.

        Computed in float64 (the kernels compile once); the result has the dtype of
        ``X @ coef``, float32 for float32 X and a model fitted on float32 (as in sklearn).
        Position T (one past the last task) is the population model (``unseen_tasks``).
        """
        dtype = np.result_type(X.dtype, coef.dtype)
        coef = np.asarray(coef, dtype=np.float64)
        intercept = np.asarray(intercept, dtype=np.float64)
        if task_idx is not None and task_idx.size and task_idx.max() == coef.shape[0]:
            coef, intercept = self._with_population(coef, intercept)
        return predict_rows(X, task_idx, coef, intercept).astype(dtype, copy=False)

    @property
    def adjacency_(self):
        """The symmetrised task adjacency used in the fit, shape (n_tasks, n_tasks)."""
        return self.graph_.adjacency_matrix()

    @property
    def laplacian_(self):
        """The Laplacian L used in the penalty, shape (n_tasks, n_tasks)."""
        return self.graph_.laplacian()


__all__ = [
    "GRAPH_DOC",
    "LAPLACIANS",
    "IntInterval",
    "UNSEEN_DOC_KERNEL",
    "UNSEEN_DOC_LINEAR",
    "MultiTaskMixin",
    "frame_columns",
    "refuse_bools",
    "restored_on_error",
    "take_task_column",
]
