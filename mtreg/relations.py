"""Task relations: building task graphs from what is known about the tasks.

A task graph is a symmetric, non-negative, zero-diagonal T x T adjacency matrix, the
``graph`` that :class:`mtreg.MultiTaskGraphRegressor` takes.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_array

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


def knn_graph(points, n_neighbors=10, *, mode="symmetric", metric="euclidean"):
    """Build the k-nearest-neighbour graph over tasks described by points.

    Task s and task t are linked when t is among the ``n_neighbors`` nearest points of s
    (or s among those of t), the point itself excluded. Ties between equally distant
    points are broken as :class:`sklearn.neighbors.NearestNeighbors` breaks them.

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
        Any metric :class:`sklearn.neighbors.NearestNeighbors` accepts.

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
    nn = NearestNeighbors(n_neighbors=n_neighbors, metric=metric).fit(points)
    # kneighbors() without X leaves each point out of its own neighbours
    return _symmetrise(nn.kneighbors_graph(mode="connectivity"), mode)


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
    X,
    y,
    task_ids=None,
    *,
    method="coef",
    metric="euclidean",
    sigma=None,
    loss="squared",
    l2=1.0,
    tasks=None,
    return_distances=False,
):
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
    points, has_rows, tasks = _task_points(X, y, task_ids, method, loss, l2, tasks)
    T = len(tasks)
    D = np.full((T, T), np.nan)
    idx = np.flatnonzero(has_rows)
    if method == "coef":
        sub = pairwise_distances(points, metric=metric)
    else:
        sub = _gaussian_wasserstein(*points)
    D[np.ix_(idx, idx)] = sub
    S = gaussian_similarity(D, sigma=sigma)
    return (S, D) if return_distances else S


def _task_points(X, y, task_ids, method, loss, l2, tasks):
    """What is compared for each task with rows: coefficients, or (means, covariances)."""
    from .linear import MultiTaskGraphClassifier, MultiTaskGraphRegressor  # no import cycle

    y = np.asarray(y)
    if method == "coef":
        model = MultiTaskGraphClassifier if loss == "logistic" else MultiTaskGraphRegressor
        est = model(graph="none", alpha=0.0, l2=l2).fit(X, y, task_ids=task_ids)
        labels = est.tasks_
        coef = est.coef_ if est.coef_.ndim == 2 else np.concatenate(list(est.coef_), axis=1)
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


def _gaussian_wasserstein(means, covs):
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


def gaussian_similarity(D, sigma=None):
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
    off = off[np.isfinite(off)]
    if np.any(off < 0):
        raise ValueError("distances must be non-negative.")
    if sigma is None:
        sigma = float(np.median(off)) if off.size and np.median(off) > 0 else 1.0
    elif not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}.")
    with np.errstate(invalid="ignore"):
        S = np.exp(-(D**2) / (2.0 * sigma**2))
    S = np.where(np.isfinite(D), S, 0.0)
    np.fill_diagonal(S, 1.0)
    return S


def similarity_graph(
    S, *, method="knn", n_neighbors=5, mode="symmetric", threshold=None, weighted=True
):
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


def graph_from_data(kind, X, y, task_ids, *, tasks=None, loss="squared", **params):
    """Build the graph of ``graph="knn"`` or ``graph="similarity"``, from training rows only.

    ``params`` (an estimator's ``graph_params``) go to :func:`task_similarity` (method,
    metric, sigma, l2) and :func:`similarity_graph` (n_neighbors, default min(5, T - 1);
    mode; threshold; weighted). "knn" links each task to its most similar ones; "similarity"
    is the full graph weighted by S.

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
    S = task_similarity(
        X,
        y,
        task_ids,
        tasks=tasks,
        loss=loss,
        **{k: v for k, v in params.items() if k in SIMILARITY_PARAMS},
    )
    build = {k: v for k, v in params.items() if k in GRAPH_PARAMS}
    if kind == "similarity":
        return similarity_graph(S, method="full", **build)
    build.setdefault("n_neighbors", min(5, len(S) - 1))
    return similarity_graph(S, method="knn", **build)


def task_covariance_step(W, epsilon=1e-6):
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
