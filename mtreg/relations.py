"""Task relations: building task graphs from what is known about the tasks.

A task graph is a symmetric, non-negative, zero-diagonal T x T adjacency matrix, the
``graph`` that :class:`mtreg.MultiTaskGraphRegressor` takes.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array

from ._neighbors import distance_block, median_sigma, nearest, sampled_median_sigma
from ._similarity import check_dense_tasks, gaussian_wasserstein, task_points
from ._typing import ArrayLike, MatrixLike, OptArray

__all__ = [
    "gaussian_similarity",
    "graph_from_data",
    "knn_graph",
    "similarity_graph",
    "task_covariance_step",
    "task_similarity",
]
SIMILARITY_METHODS = ("coef", "distribution")
GRAPH_METHODS = ("knn", "epsilon", "full")

KNN_MODES = ("symmetric", "mutual")


def knn_graph(
    points: ArrayLike,
    n_neighbors: int = 10,
    *,
    mode: str = "symmetric",
    metric: str | Callable = "euclidean",
) -> sp.csr_matrix:
    """Build the k-nearest-neighbour graph over tasks described by points.

    Task s and task t are linked when t is among the ``n_neighbors`` nearest points of s
    (or s among those of t), the point itself excluded. Equally distant points are taken
    in the order of their index (the smaller first); Euclidean distances are measured
    exactly enough that equal distances stay equal. Memory is O(n_tasks * n_neighbors).

    Parameters
    ----------
    points : array-like of shape (n_tasks, n_dims)
        One point per task: latent positions, task descriptors, or fitted coefficients.
    n_neighbors : int, default=10
        Neighbours sought for every task; at most ``n_tasks - 1``.
    mode : {"symmetric", "mutual"}, default="symmetric"
        - "symmetric": an edge when either task is among the other's nearest neighbours
          (every task has at least ``n_neighbors`` edges).
        - "mutual": an edge only when both are (every task has at most
          ``n_neighbors`` edges; some tasks may have none).
    metric : str or callable, default="euclidean"
        Any metric of :func:`sklearn.metrics.pairwise_distances`.

    Returns
    -------
    adjacency : scipy.sparse.csr_matrix of shape (n_tasks, n_tasks)
        Symmetric 0/1 (float64) adjacency with zero diagonal and sorted indices.

    See Also
    --------
    similarity_graph : A graph from a task similarity matrix instead of points.
    sklearn.neighbors.kneighbors_graph : The directed neighbour graph of the points.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg.relations import knn_graph
    >>> points = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> knn_graph(points, n_neighbors=1).toarray()
    array([[0., 1., 0., 0.],
           [1., 0., 1., 0.],
           [0., 1., 0., 1.],
           [0., 0., 1., 0.]])
    >>> knn_graph(points, n_neighbors=1, mode="mutual").toarray()
    array([[0., 1., 0., 0.],
           [1., 0., 0., 0.],
           [0., 0., 0., 0.],
           [0., 0., 0., 0.]])
    """
    points = check_array(points, dtype=np.float64, input_name="points", ensure_min_samples=2)
    _check_knn(n_neighbors, points.shape[0], mode)
    T = points.shape[0]
    neigh = nearest(points, n_neighbors, metric)[0]
    directed = sp.csr_matrix(
        (np.ones(neigh.size), (np.repeat(np.arange(T), n_neighbors), neigh.ravel())),
        shape=(T, T),
    )
    return _symmetrise(directed, mode)


def _check_knn(n_neighbors, n_tasks, mode):
    if not isinstance(n_neighbors, Integral) or isinstance(n_neighbors, bool):
        raise TypeError(f"n_neighbors must be an integer, got {n_neighbors!r}.")
    if not 1 <= n_neighbors <= n_tasks - 1:
        raise ValueError(
            f"n_neighbors must be between 1 and n_tasks - 1 = {n_tasks - 1}, got {n_neighbors}."
        )
    if mode not in KNN_MODES:
        raise ValueError(f"mode must be one of {KNN_MODES}, got {mode!r}.")


def _symmetrise(directed, mode):
    """Undirected CSR adjacency from directed neighbour links: either way, or both ways."""
    directed = sp.csr_matrix(directed, dtype=np.float64)
    adjacency = (
        directed.maximum(directed.T) if mode == "symmetric" else (directed.minimum(directed.T))
    )
    adjacency = sp.csr_matrix(adjacency - sp.diags(adjacency.diagonal()))
    adjacency.eliminate_zeros()
    adjacency.sort_indices()
    return adjacency


def task_similarity(
    X: MatrixLike,
    y: ArrayLike,
    task_ids: OptArray = None,
    *,
    method: str = "coef",
    metric: str | Callable = "euclidean",
    sigma: float | None = None,
    loss: str = "squared",
    l2: float = 1.0,
    tasks: OptArray = None,
    return_distances: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Similarity of tasks, S_st = exp(-d_st^2 / (2 sigma^2)), from their training rows.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The training rows of every task.
    y : array-like of shape (n_samples,), or (n_samples, n_tasks) for multi-output data
        Targets (class labels with ``loss="logistic"``); 2-D: each column a task at the
        same X, and then ``task_ids`` is None.
    task_ids : array-like of shape (n_samples,), default=None
        Task label of each row.
    method : {"coef", "distribution"}, default="coef"
        - "coef": d_st = distance between independently fitted per-task models: ridge
          (``loss="squared"``) or logistic regression (``loss="logistic"``, y labels),
          each with penalty ``l2`` and an intercept; the coefficient vectors are compared.
        - "distribution": d_st = 2-Wasserstein distance between the Gaussians with the
          per-task means and covariances of X (how differently the tasks' inputs are
          spread); ``metric`` is not used.
    metric : str or callable, default="euclidean"
        Distance between coefficient vectors, any metric of
        :func:`sklearn.metrics.pairwise_distances`.
    sigma : float, default=None
        Bandwidth. None: the median heuristic, the median of the distances between
        distinct tasks (with rows).
    loss : {"squared", "logistic"}, default="squared"
        The per-task models of ``method="coef"``: ridge regression or logistic
        regression.
    l2 : float, default=1.0
        Ridge penalty of the per-task models of ``method="coef"``.
    tasks : array-like of shape (n_tasks,), default=None
        Task labels and their order (default: sorted labels of ``task_ids``). Tasks
        without rows have similarity 0 to every other task (and 1 to themselves).
    return_distances : bool, default=False
        Also return the distance matrix (NaN for tasks without rows).

    Returns
    -------
    S : ndarray of shape (n_tasks, n_tasks)
        Symmetric, in [0, 1], ones on the diagonal.
    D : ndarray of shape (n_tasks, n_tasks)
        The distances d_st; only with ``return_distances=True``.

    Raises
    ------
    MemoryError
        When a few T x T arrays would exceed ``mtreg._solvers.MEMORY_LIMIT`` (about 8000
        tasks): :func:`knn_graph`, or an estimator's ``graph="knn"``, needs O(T k) memory.

    See Also
    --------
    gaussian_similarity : The similarity of given distances.
    similarity_graph : A task graph from the similarities.
    mtreg.plotting.plot_task_matrix : Draw the similarity matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg.relations import task_similarity
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(90, 2))
    >>> t = np.repeat([0, 1, 2], 30)
    >>> y = X @ [1.0, 1.0] * (t < 2) + X @ [-1.0, 1.0] * (t == 2)
    >>> S = task_similarity(X, y, t, l2=1e-3)
    >>> bool(S[0, 1] > S[0, 2])
    True
    """
    if method not in SIMILARITY_METHODS:
        raise ValueError(f"method must be one of {SIMILARITY_METHODS}, got {method!r}.")
    points, has_rows, tasks = task_points(X, y, task_ids, method, loss, l2, tasks)
    T = len(tasks)
    check_dense_tasks(T, "task_similarity")
    D = np.full((T, T), np.nan)
    idx = np.flatnonzero(has_rows)
    if method == "coef":
        sub = distance_block(points, np.arange(len(points)), metric)
    else:
        sub = gaussian_wasserstein(*points)
    D[np.ix_(idx, idx)] = sub
    S = gaussian_similarity(D, sigma=sigma)
    return (S, D) if return_distances else S


# T x T float arrays that task_similarity and a full graph hold at once (D, S, masks, copies)
def gaussian_similarity(D: ArrayLike, sigma: float | None = None) -> np.ndarray:
    """Compute S = exp(-D^2 / (2 sigma^2)), with the median heuristic for sigma by default.

    Parameters
    ----------
    D : array-like of shape (n_tasks, n_tasks)
        Symmetric distances; NaN marks pairs with no distance (similarity 0).
    sigma : float, default=None
        None: the median of the finite off-diagonal distances (1 if they are all 0).

    Returns
    -------
    S : ndarray of shape (n_tasks, n_tasks)
        Similarities in [0, 1], with ones on the diagonal and 0 where D is NaN.

    See Also
    --------
    task_similarity : Distances and similarities of tasks from their training rows.
    """
    D = np.asarray(D, dtype=np.float64)
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ValueError(f"D must be a square matrix, got shape {D.shape}.")
    off = D[~np.eye(len(D), dtype=bool)]
    if np.any(off[np.isfinite(off)] < 0):
        raise ValueError("distances must be non-negative.")
    if sigma is None:
        sigma = median_sigma(off)
    elif not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}.")
    with np.errstate(invalid="ignore"):
        S = np.exp(-(D**2) / (2.0 * sigma**2))
    S = np.where(np.isfinite(D), S, 0.0)
    np.fill_diagonal(S, 1.0)
    return S


def similarity_graph(
    S: ArrayLike,
    *,
    method: str = "knn",
    n_neighbors: int = 5,
    mode: str = "symmetric",
    threshold: float | None = None,
    weighted: bool = True,
) -> np.ndarray | sp.csr_matrix:
    """Build a task graph from a similarity matrix.

    Parameters
    ----------
    S : array-like of shape (n_tasks, n_tasks)
        Symmetric, non-negative similarities (e.g. from :func:`task_similarity`).
    method : {"knn", "epsilon", "full"}, default="knn"
        - "knn": link each task to its ``n_neighbors`` most similar others, ``mode``
          "symmetric" (either way) or "mutual" (both ways).
        - "epsilon": link tasks whose similarity is at least ``threshold``.
        - "full": every pair, weighted by its similarity.
    n_neighbors : int, default=5
        Neighbours of each task for "knn"; at most ``n_tasks - 1``.
    mode : {"symmetric", "mutual"}, default="symmetric"
        For "knn": an edge when either task is among the other's ``n_neighbors`` most
        similar ("symmetric"), or only when both are ("mutual").
    threshold : float, default=None
        For "epsilon" (where it is required): the least similarity of an edge.
    weighted : bool, default=True
        Edge weights S_st; else 1.

    Returns
    -------
    adjacency : ndarray ("full") or scipy.sparse.csr_matrix of shape (n_tasks, n_tasks)
        Symmetric, non-negative, zero diagonal: a ``graph`` every estimator accepts.

    See Also
    --------
    task_similarity : The similarity matrix of tasks, from their training rows.
    knn_graph : A k-nearest-neighbour graph from task descriptors.
    """
    S = check_array(S, dtype=np.float64, input_name="S")
    T = S.shape[0]
    if S.shape != (T, T) or not np.allclose(S, S.T) or np.any(S < 0):
        raise ValueError("S must be a symmetric, non-negative square matrix.")
    if method not in GRAPH_METHODS:
        raise ValueError(f"method must be one of {GRAPH_METHODS}, got {method!r}.")
    off = S - np.diag(np.diag(S))
    if method == "full":
        return off if weighted else (off > 0).astype(float)
    if method == "epsilon":
        if threshold is None:
            raise ValueError("method='epsilon' needs a threshold.")
        A = sp.csr_matrix(np.where(off >= threshold, off if weighted else 1.0, 0.0))
        A.eliminate_zeros()
        return A
    _check_knn(n_neighbors, T, mode)
    ranked = np.where(np.eye(T, dtype=bool), -np.inf, S)
    nearest = np.argsort(-ranked, axis=1, kind="stable")[:, :n_neighbors]
    directed = sp.csr_matrix(
        (np.ones(T * n_neighbors), (np.repeat(np.arange(T), n_neighbors), nearest.ravel())),
        shape=(T, T),
    )
    A = _symmetrise(directed, mode)
    if weighted:
        A = A.multiply(off).tocsr()
        A.eliminate_zeros()
    return A


SIMILARITY_PARAMS = ("method", "metric", "sigma", "l2")
GRAPH_PARAMS = ("n_neighbors", "mode", "threshold", "weighted")


def graph_from_data(
    kind: str,
    X: MatrixLike,
    y: ArrayLike,
    task_ids: ArrayLike,
    *,
    tasks: OptArray = None,
    loss: str = "squared",
    **params: Any,
) -> np.ndarray | sp.csr_matrix:
    """Build the graph of ``graph="knn"`` or ``graph="similarity"``, from training rows only.

    ``params`` (an estimator's ``graph_params``) go to :func:`task_similarity` (method,
    metric, sigma, l2) and :func:`similarity_graph` (n_neighbors, default min(5, T - 1);
    mode; threshold; weighted). "knn" links each task to its most similar ones; "similarity"
    is the full graph weighted by S, and raises a MemoryError naming the size when its
    T x T matrices would exceed MEMORY_LIMIT.

    With the default method="coef", "knn" never forms the T x T similarities: each task's
    nearest tasks come from a tree over the fitted coefficients (O(T k) memory). A task is
    linked to the tasks nearest in distance, ties broken by the smaller task index; tasks
    without rows are linked to none. With ``weighted=True`` this is the graph of
    :func:`similarity_graph` on :func:`task_similarity` (two distances that differ only in
    their last bits may give equal similarities, which that function orders by index);
    links whose similarity underflows to 0 are no links. Beyond 2048 tasks the median
    heuristic for ``sigma`` is the median over the pairs of 2048 tasks drawn with a fixed
    seed.

    Parameters
    ----------
    kind : {"knn", "similarity"}
        The estimator's ``graph`` string.
    X : array-like of shape (n_samples, n_features)
        The training rows of every task.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Targets, as for :func:`task_similarity`.
    task_ids : array-like of shape (n_samples,) or None
        Task label of each row (None for multi-output y).
    tasks : array-like of shape (n_tasks,), default=None
        Task labels and their order; tasks without rows get no edges.
    loss : {"squared", "logistic"}, default="squared"
        The per-task models compared by ``method="coef"``.
    **params : dict
        The ``graph_params``: keys of :func:`task_similarity` and
        :func:`similarity_graph`; an unknown key raises a ValueError that lists the
        known ones.

    Returns
    -------
    adjacency : ndarray or scipy.sparse.csr_matrix of shape (n_tasks, n_tasks)
        The task graph, in the order of ``tasks`` (or of the sorted labels).

    See Also
    --------
    task_similarity : The similarities the graph is built from.
    similarity_graph : The graph built from them.
    """
    unknown = set(params) - set(SIMILARITY_PARAMS) - set(GRAPH_PARAMS)
    if unknown:
        raise ValueError(
            f"graph_params has unknown keys {sorted(unknown)}; known: "
            f"{sorted(SIMILARITY_PARAMS + GRAPH_PARAMS)}."
        )
    similar = {k: v for k, v in params.items() if k in SIMILARITY_PARAMS}
    build = {k: v for k, v in params.items() if k in GRAPH_PARAMS}
    if kind == "knn" and similar.get("method", "coef") == "coef":
        points, has_rows, tasks = task_points(
            X, y, task_ids, "coef", loss, similar.get("l2", 1.0), tasks
        )
        build.setdefault("n_neighbors", min(5, len(tasks) - 1))
        build.pop("threshold", None)
        return _knn_of_points(
            points,
            has_rows,
            metric=similar.get("metric", "euclidean"),
            sigma=similar.get("sigma"),
            **build,
        )
    S = task_similarity(X, y, task_ids, tasks=tasks, loss=loss, **similar)
    if kind == "similarity":
        return similarity_graph(S, method="full", **build)
    build.setdefault("n_neighbors", min(5, len(S) - 1))
    return similarity_graph(S, method="knn", **build)


def _knn_of_points(
    points, has_rows, *, n_neighbors, mode="symmetric", weighted=True, metric, sigma
):
    """The kNN graph over all tasks, from the points of the tasks with rows (sparse)."""
    T, idx = len(has_rows), np.flatnonzero(has_rows)
    _check_knn(n_neighbors, T, mode)
    if sigma is not None and not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}.")
    if len(idx) < 2:
        return sp.csr_matrix((T, T))
    k = min(n_neighbors, len(idx) - 1)
    neigh, dist = nearest(points, k, metric)
    rows, cols = np.repeat(idx, k), idx[neigh.ravel()]
    A = _symmetrise(sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(T, T)), mode)
    if not weighted:
        return A
    sigma = sampled_median_sigma(points, metric) if sigma is None else sigma
    S = np.exp(-(dist.ravel() ** 2) / (2.0 * sigma**2))  # as gaussian_similarity does
    S = sp.csr_matrix((S, (rows, cols)), shape=(T, T))
    A = sp.csr_matrix(A.multiply(S.maximum(S.T)))
    A.eliminate_zeros()
    A.sort_indices()
    return A


def task_covariance_step(W: ArrayLike, epsilon: float = 1e-6) -> np.ndarray:
    """Return the task covariance minimising tr(Omega^-1 (W W^T + eps I)) at tr(Omega) = 1.

    Omega = (W W^T + eps I)^1/2 / tr((W W^T + eps I)^1/2): the closed-form step of
    Zhang & Yeung (2010), with eps > 0 keeping Omega invertible.

    Parameters
    ----------
    W : ndarray of shape (n_tasks, n_features)
        The task coefficients, one row per task.
    epsilon : float, default=1e-6
        The smoothing eps; also the least eigenvalue kept in the square root.

    Returns
    -------
    omega : ndarray of shape (n_tasks, n_tasks)
        The symmetric positive definite task covariance, of trace 1.

    See Also
    --------
    mtreg.MultiTaskGraphRegressor : Alternates this step with a fit for ``graph="learn"``.
    """
    vals, vecs = np.linalg.eigh(W @ W.T + epsilon * np.eye(W.shape[0]))
    root = np.sqrt(np.clip(vals, epsilon, None))
    omega = (vecs * root) @ vecs.T
    return omega / root.sum()
