"""From the task labels of the rows to task positions, and the model of a task never seen.

In fit, :func:`fit_task_graph` turns the graph parameter, the ``tasks`` parameter and the
rows' labels (``task_ids``, or one column of y per task) into the validated
:class:`~mtreg._graph.TaskGraph` and the integer task position of every row, building the
graphs that come from the training rows ("knn", "similarity") on those rows only. In
predict, :func:`predict_task_index` encodes new rows against the fitted tasks; position T
(one past the last task) is the population model of :func:`with_population`, which
:func:`predict_linear` uses for tasks never seen (``unseen_tasks="population"``).
"""

import numpy as np

from ._graph_input import make_task_graph
from ._labels import PREDICT_HINT, as_labels, encode_tasks, unique_labels
from ._tasks import predict_rows
from .relations import graph_from_data

# graphs built inside fit from the training rows (see mtreg.relations)
DATA_GRAPHS = ("knn", "similarity", "learn")

CHUNK_HINT = (
    " The tasks of partial_fit are fixed by its first call: name the tasks of later chunks "
    "in graph or tasks."
)


def graph_input(graph, X, y, task_ids, tasks, *, loss, graph_params, owner):
    """The graph parameter, with the graphs made from the training rows built here.

    "knn" and "similarity" are computed from the rows passed to fit only, so that no
    information crosses cross-validation folds; "learn" starts from no links. ``owner``
    names the estimator in the error for a data graph without rows (X None).
    """
    if not (isinstance(graph, str) and graph in DATA_GRAPHS):
        return graph
    if graph == "learn":
        return "none"
    if X is None:
        raise ValueError(f"graph={graph!r} is not available for {owner}.")
    return graph_from_data(graph, X, y, task_ids, tasks=tasks, loss=loss, **(graph_params or {}))


def fit_task_graph(
    graph,
    y,
    task_ids,
    *,
    tasks=None,
    laplacian="unnormalized",
    X=None,
    columns=None,
    loss="squared",
    graph_params=None,
    owner="this estimator",
):
    """(TaskGraph, integer task index per row, or None for multi-output data) of a fit.

    A 2-D y is one task per column (named by ``columns``, the column names of a y data
    frame, unless ``tasks`` names them); a 1-D y has one task label per row in
    ``task_ids`` (all rows one task when None). With ``tasks`` given, its order is the
    task order; otherwise the sorted labels.
    """
    if y.ndim == 2:
        if task_ids is not None:
            raise ValueError(
                "y must be 1-D when task_ids are given; a 2-D y means one task per column."
            )
        labels = np.arange(y.shape[1]) if columns is None else columns
        labels = labels if tasks is None else as_labels(tasks, "tasks")
        if len(labels) != y.shape[1]:
            raise ValueError(f"tasks names {len(labels)} tasks but y has {y.shape[1]} columns.")
        given = graph_input(
            graph, X, y, None, None, loss=loss, graph_params=graph_params, owner=owner
        )
        return make_task_graph(given, labels, tasks=labels, laplacian=laplacian), None
    if task_ids is None:
        if tasks is not None and len(tasks) != 1:
            raise ValueError(
                f"tasks names {len(tasks)} tasks: pass task_ids to say which rows "
                "belong to which task."
            )
        task_ids = (
            np.zeros(y.shape[0], dtype=np.int64)
            if tasks is None
            else (np.repeat(as_labels(tasks, "tasks"), y.shape[0]))
        )
    task_ids = as_labels(task_ids)
    if task_ids.shape != (y.shape[0],):
        raise ValueError(f"task_ids has shape {task_ids.shape} but X and y have {y.shape[0]} rows.")
    # with tasks given, their order is the order: labels of mixed types need no sorting
    observed, inverse = unique_labels(task_ids, sort=tasks is None)
    given = graph_input(
        graph, X, y, task_ids, tasks, loss=loss, graph_params=graph_params, owner=owner
    )
    task_graph = make_task_graph(given, observed, tasks=tasks, laplacian=laplacian)
    if task_graph.tasks is observed:  # the tasks are the observed labels, in their order
        return task_graph, inverse.astype(np.int64, copy=False)
    return task_graph, encode_tasks(observed, task_graph.tasks)[inverse]


def predict_task_index(task_ids, tasks, n_rows, *, shared_X, unseen="error", chunk=False):
    """Task positions of ``n_rows`` new rows, or None to predict every task (multi-output).

    Tasks never seen get position T with ``unseen="population"``, except in a chunk of
    partial_fit (``chunk``), where they are an error."""
    if task_ids is None:
        if shared_X:
            return None
        if len(tasks) != 1:
            raise ValueError(
                f"this model has {len(tasks)} tasks: pass task_ids to say which "
                "task each row belongs to. scikit-learn's scorers (and tools such as "
                "cross_val_predict) call predict without them: with metadata routing, "
                "score with mtreg.metrics.task_scorer(scoring), which passes the routed "
                "task_ids on; otherwise fit with task_column (the task labels in a "
                "column of X)."
            )
        return np.zeros(n_rows, dtype=np.int64)
    task_ids = as_labels(task_ids)
    if task_ids.shape != (n_rows,):
        raise ValueError(f"task_ids has shape {task_ids.shape} but X has {n_rows} rows.")
    if chunk:
        return encode_tasks(task_ids, tasks, hint=CHUNK_HINT)
    return encode_tasks(task_ids, tasks, unseen=unseen, hint=PREDICT_HINT)


def population_weight(alpha, l2):
    """alpha / (alpha + l2): the population model over the mean of the task models
    (see ``unseen_tasks``); 1 when alpha = l2 = 0; feature by feature for per-feature
    penalties (an array of shape (n_features,))."""
    if np.ndim(alpha) or np.ndim(l2):  # per-feature penalties: feature by feature
        alpha, l2 = np.asarray(alpha, dtype=float), np.asarray(l2, dtype=float)
        total = alpha + l2
        return np.where(total > 0, alpha / np.where(total > 0, total, 1.0), 1.0)
    return alpha / (alpha + l2) if alpha + l2 > 0 else 1.0


def with_population(coef, intercept, weight):
    """(coef, intercept) of shapes (T, d), (T,) with the population model as row T:
    ``weight`` times the mean of the task models, and the mean of the finite intercepts
    (a one-class task's intercept may be +-inf). ``intercept`` None: coef alone."""
    w = weight * coef.mean(axis=0)
    if intercept is None:
        return np.vstack([coef, w])
    finite = np.isfinite(intercept)
    b = intercept[finite].mean() if finite.any() else 0.0
    return np.vstack([coef, w]), np.append(intercept, b)


def predict_linear(X, task_idx, coef, intercept, weight):
    """x_i . w_{t_i} + b_{t_i} per row, or X W^T + b for every task when task_idx is None.

    Computed in float64 (the kernels compile once); the result has the dtype of
    ``X @ coef``, float32 for float32 X and a model fitted on float32 (as in sklearn).
    Position T (one past the last task) is the population model of weight ``weight``.
    A coef of shape (n_classes, T, d) (one-vs-rest) gives one column per class.
    """
    if coef.ndim == 3:
        return np.column_stack(
            [
                predict_linear(X, task_idx, W, b, weight)
                for W, b in zip(coef, intercept, strict=True)
            ]
        )
    dtype = np.result_type(X.dtype, coef.dtype)
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    if task_idx is not None and task_idx.size and task_idx.max() == coef.shape[0]:
        coef, intercept = with_population(coef, intercept, weight)
    return predict_rows(X, task_idx, coef, intercept).astype(dtype, copy=False)
