"""Squared-loss fits of dask arrays: per-chunk moments, a tree reduction, a local solve.

The per-task moments are additive over rows (:meth:`mtreg._tasks.TaskStats.merge`), so each
row chunk is reduced where it lives by the same numba kernels as a NumPy fit, the partial
moments are merged pairwise in a tree, and only the O(T d^2) result reaches the client.
Runs on whatever scheduler dask uses: threads by default, or a ``dask.distributed`` cluster
when a ``Client`` is active. dask is an optional dependency, imported only here.
"""

import numpy as np
from sklearn.utils.validation import check_array

from ._graph_input import make_task_graph
from ._solvers._rows import long_format
from ._task_index import fit_task_graph
from ._tasks import encode_tasks, shared_stats, task_stats


def is_dask(*arrays):
    return any(type(a).__module__.partition(".")[0] == "dask" for a in arrays if a is not None)


def _as_dask(array, row_chunks, name):
    import dask.array as da

    if array is None:
        return None
    array = da.asarray(array)
    if array.shape[0] != sum(row_chunks):
        raise ValueError(f"{name} has {array.shape[0]} rows but X has {sum(row_chunks)}.")
    return array.rechunk({0: row_chunks, **{k: -1 for k in range(1, array.ndim)}})


def dask_labels(task_ids):
    """The sorted distinct task labels of a dask array (one pass)."""
    import dask.array as da

    return np.asarray(da.unique(da.asarray(task_ids)).compute())


def dask_rows(X, y):
    """X and y as dask arrays, X 2-D and y 1-D or 2-D with as many rows."""
    import dask.array as da

    X, y = da.asarray(X), da.asarray(y)
    if X.ndim != 2 or y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X must be 2-D and y 1-D or 2-D with as many rows; got X of "
            f"shape {X.shape} and y of shape {y.shape}."
        )
    return X, y


def dask_observed_tasks(task_ids, tasks):
    """The task labels of a fit on 1-D dask y: ``tasks`` when given (every chunk checks its
    labels against them), else one task without task_ids, else the labels in task_ids."""
    if task_ids is None:
        observed = np.asarray([0] if tasks is None else tasks)
        if len(observed) != 1:
            raise ValueError("tasks names several tasks: pass task_ids.")
        return observed
    if tasks is not None:
        return np.asarray(tasks)
    return dask_labels(task_ids)


def dask_task_graph(graph, y, task_ids, *, tasks, laplacian):
    """The TaskGraph of a fit on dask arrays (``y`` of 1 or 2 dimensions, rows unread)."""
    if y.ndim == 2:
        return fit_task_graph(graph, y, task_ids, tasks=tasks, laplacian=laplacian)[0]
    observed = dask_observed_tasks(task_ids, tasks)
    return make_task_graph(graph, observed, tasks=tasks, laplacian=laplacian)


def _chunk_moments(X, y, task_ids, sample_weight, tasks, n_features, fit_intercept, moments):
    """Moments of one chunk, after the checks a NumPy fit makes of the same rows; by
    ``moments(X, y, task_idx, s, n_tasks, centred)`` of the rows in long format if given."""
    X = check_array(X, dtype=np.float64, input_name="X", ensure_min_samples=0)
    if X.shape[1] != n_features:
        raise ValueError(f"a chunk of X has {X.shape[1]} features, expected {n_features}.")
    y = check_array(y, dtype=np.float64, ensure_2d=False, input_name="y", ensure_min_samples=0)
    s = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    if y.ndim == 2 and moments is None:
        return shared_stats(X, y, s, fit_intercept)
    if y.ndim == 2:
        X, y, idx, s = long_format(X, y, s)
    else:
        idx = np.zeros(len(X), np.int64) if task_ids is None else encode_tasks(task_ids, tasks)
    return (moments or task_stats)(X, y, idx, s, len(tasks), fit_intercept)


def _merge(a, b):
    return a.merge(b)


def dask_moments(X, y, task_ids, sample_weight, *, tasks, fit_intercept, moments=None):
    """TaskStats of dask arrays (X, y[, task_ids][, sample_weight]), computed by dask; or
    the merge-able moments that ``moments`` computes (see :func:`_chunk_moments`)."""
    import dask

    X = X.rechunk({1: -1})
    rows = X.chunks[0]

    def chunks_of(array, name):
        if array is None:
            return [None] * len(rows)
        return list(_as_dask(array, rows, name).to_delayed().ravel())

    columns = [
        list(X.to_delayed().ravel()),
        chunks_of(y, "y"),
        chunks_of(task_ids, "task_ids"),
        chunks_of(sample_weight, "sample_weight"),
    ]
    stats = [
        dask.delayed(_chunk_moments)(*chunk, tasks, X.shape[1], fit_intercept, moments)
        for chunk in zip(*columns, strict=True)
    ]
    while len(stats) > 1:  # a tree of pairwise merges
        pairs = [dask.delayed(_merge)(a, b) for a, b in zip(stats[::2], stats[1::2], strict=False)]
        stats = pairs + ([stats[-1]] if len(stats) % 2 else [])
    return stats[0].compute()
