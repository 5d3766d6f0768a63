"""What task similarities compare (see :func:`mtreg.relations.task_similarity`): per-task
models fitted independently by the functional core, or the tasks' input distributions."""

import numpy as np
from sklearn.utils.validation import check_array

from ._labels import as_labels, unique_labels
from ._solvers import MEMORY_LIMIT
from .core import graph_glm, graph_ridge, task_graph, task_stats

DENSE_COPIES = 4


def check_dense_tasks(n_tasks, what):
    """A MemoryError naming the size when the T x T similarities of ``what`` do not fit."""
    size = DENSE_COPIES * 8.0 * n_tasks**2
    if size > MEMORY_LIMIT:
        raise MemoryError(
            f"{what} compares every pair of the {n_tasks} tasks: its {n_tasks} x {n_tasks} "
            f"similarity matrices would take about {size / 2**30:.1f} GiB (more than "
            f"MEMORY_LIMIT = {MEMORY_LIMIT / 2**30:.0f} GiB). Use graph='knn' (or "
            "mtreg.relations.knn_graph on task descriptors) with the default method='coef': "
            "it keeps n_neighbors links per task in O(n_tasks * n_neighbors) memory."
        )


def independent_coefs(X, y, task_ids, loss, l2):
    """(task labels, one row of coefficients per task): a ridge or logistic model per task,
    alpha = 0, fitted by the functional core (one block of columns per class beyond two)."""
    X = check_array(X, accept_sparse="csr", dtype=np.float64)
    if task_ids is None and y.ndim == 2:  # multi-output: every column a task at the same X
        labels = np.arange(y.shape[1])
        fit = graph_ridge(task_stats(X, y), task_graph("none", tasks=labels), 0.0, l2)
        return labels, fit.coef
    ids = np.zeros(len(y), dtype=np.int64) if task_ids is None else task_ids
    labels, task_idx = unique_labels(as_labels(ids))
    graph = task_graph("none", tasks=labels)
    if loss != "logistic":
        stats = task_stats(X, y, task_idx, n_tasks=len(labels))
        return labels, graph_ridge(stats, graph, 0.0, l2).coef
    classes = np.unique(y)
    positives = classes[1:] if len(classes) == 2 else classes  # one-vs-rest beyond two
    blocks = [
        graph_glm(X, np.where(y == c, 1.0, -1.0), task_idx, graph, alpha=0.0, l2=l2).coef
        for c in positives
    ]
    return labels, np.concatenate(blocks, axis=1)


def task_points(X, y, task_ids, method, loss, l2, tasks):
    """What is compared for each task with rows: coefficients, or (means, covariances)."""
    y = np.asarray(y)
    if method == "coef":
        labels, coef = independent_coefs(X, y, task_ids, loss, l2)
        points = dict(zip(labels.tolist(), coef, strict=True))
    else:
        if task_ids is None:
            raise ValueError(
                "method='distribution' compares the inputs of the tasks, so it "
                "needs task_ids (with multi-output y every task has the same X)."
            )
        X = check_array(X, dtype=np.float64)
        task_ids = np.asarray(task_ids)
        labels = np.unique(task_ids)
        points = {}
        for label in labels.tolist():
            Xt = X[task_ids == label]
            points[label] = (Xt.mean(axis=0), np.atleast_2d(np.cov(Xt.T, bias=True)))
    tasks = labels if tasks is None else np.asarray(tasks)
    missing = set(labels.tolist()) - set(tasks.tolist())
    if missing:
        raise ValueError(f"task labels {sorted(missing, key=repr)[:10]} are not in tasks.")
    has_rows = np.array([t in points for t in tasks.tolist()])
    kept = [points[t] for t in tasks.tolist() if t in points]
    if method == "coef":
        return np.array(kept), has_rows, tasks
    return (np.array([m for m, _ in kept]), np.array([c for _, c in kept])), has_rows, tasks


def gaussian_wasserstein(means, covs):
    """2-Wasserstein distances between N(m_s, C_s):
    ||m_s - m_t||^2 + tr(C_s + C_t - 2 (C_s^1/2 C_t C_s^1/2)^1/2)."""
    vals, vecs = np.linalg.eigh(covs)
    roots = np.einsum("tij,tj,tkj->tik", vecs, np.sqrt(np.clip(vals, 0, None)), vecs)
    traces = np.trace(covs, axis1=1, axis2=2)
    T = len(means)
    D2 = np.zeros((T, T))
    for s in range(T):
        inner = np.linalg.eigvalsh(roots[s] @ covs[s:] @ roots[s])  # tasks s..T-1
        cross = np.sqrt(np.clip(inner, 0, None)).sum(axis=1)
        D2[s, s:] = (
            np.sum((means[s:] - means[s]) ** 2, axis=1) + traces[s] + traces[s:] - (2 * cross)
        )
    D2 = np.triu(D2, 1)
    return np.sqrt(np.clip(D2 + D2.T, 0, None))
