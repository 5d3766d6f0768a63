"""What every mtreg estimator shares: task labels, the task column, graph input, and
fits that leave no half-fitted state behind."""

import contextlib
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.utils.validation import check_array, validate_data

from . import _jit
from ._graph import LAPLACIANS, make_task_graph, sorted_labels
from ._tasks import encode_tasks

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

        A non-symmetric matrix or a DiGraph is symmetrised as ``(A + A^T) / 2``."""


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


def take_task_column(X, column):
    """Split X into (the other columns, the task labels in column ``column``)."""
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # a DataFrame
        name = column if isinstance(column, str) else X.columns[column]
        if name not in X.columns:
            raise ValueError(f"task_column {column!r} is not a column of X.")
        return X.drop(columns=[name]), np.asarray(X[name])
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
    if not -n_columns <= column < n_columns:
        raise ValueError(f"task_column={column} is out of range for X with {n_columns} columns.")
    if n_columns == 1:
        raise ValueError(
            f"X has one column, the task column (task_column={column}), and no feature: a "
            "tool that fits on column subsets (SequentialFeatureSelector, RFE) may leave the "
            "task column out; give task_ids through metadata routing instead."
        )
    k = column % n_columns
    keep = np.delete(np.arange(n_columns), k)
    labels = X[:, k].toarray().ravel() if sp.issparse(X) else X[:, k]
    return X[:, keep], labels


class MultiTaskMixin:
    """Task handling shared by the multi-task estimators."""

    _common_constraints = {
        "graph": "no_validation",  # every format is checked by make_task_graph
        "tasks": ["array-like", None],
        "task_column": [Integral, str, None],
    }

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
        from .relations import graph_from_data  # relations fits models: import it late

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

    def _task_graph(self, y, task_ids, X=None):
        """(TaskGraph, integer task index per row or None for multi-output data)."""
        if y.ndim == 2:
            if task_ids is not None:
                raise ValueError(
                    "y must be 1-D when task_ids are given; a 2-D y means one task per column."
                )
            tasks = np.arange(y.shape[1]) if self.tasks is None else np.asarray(self.tasks)
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
                else (np.repeat(np.asarray(self.tasks), y.shape[0]))
            )
        task_ids = np.asarray(task_ids)
        if task_ids.shape != (y.shape[0],):
            raise ValueError(
                f"task_ids has shape {task_ids.shape} but X and y have {y.shape[0]} rows."
            )
        observed, inverse = sorted_labels(task_ids, return_inverse=True)
        graph = make_task_graph(
            self._graph_input(X, y, task_ids, self.tasks),
            observed,
            tasks=self.tasks,
            laplacian=self.laplacian,
        )
        return graph, encode_tasks(observed, graph.tasks)[inverse.ravel()]

    def _predict_task_index(self, X, task_ids):
        """Task positions of the rows of X, or None to predict every task (multi-output)."""
        if task_ids is None:
            if self._multi_output:
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
        task_ids = np.asarray(task_ids)
        if task_ids.shape != (X.shape[0],):
            raise ValueError(f"task_ids has shape {task_ids.shape} but X has {X.shape[0]} rows.")
        return encode_tasks(task_ids, self.tasks_)

    def _linear_predict(self, X, task_idx, coef, intercept):
        """x_i . w_{t_i} + b_{t_i} per row, or X W^T + b for every task when task_idx is None."""
        if task_idx is None:
            return np.asarray(X @ coef.T) + intercept
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=np.float64)
            return _jit.predict_rows_csr(
                X.data,
                X.indices.astype(np.int64),
                X.indptr.astype(np.int64),
                task_idx,
                coef,
                intercept,
            )
        return _jit.predict_rows(
            np.ascontiguousarray(X, dtype=np.float64), task_idx, coef, intercept
        )

    @property
    def adjacency_(self):
        """The symmetrised task adjacency used in the fit, shape (n_tasks, n_tasks)."""
        return self.graph_.adjacency_matrix()

    @property
    def laplacian_(self):
        """The Laplacian L used in the penalty, shape (n_tasks, n_tasks)."""
        return self.graph_.laplacian()


__all__ = ["GRAPH_DOC", "LAPLACIANS", "MultiTaskMixin", "restored_on_error", "take_task_column"]
