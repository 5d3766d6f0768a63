"""Task relations: building task graphs from what is known about the tasks.

A task graph is a symmetric, non-negative, zero-diagonal T x T adjacency matrix, the
``graph`` that :class:`mtreg.MultiTaskGraphRegressor` takes.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_array

__all__ = ["knn_graph"]

KNN_MODES = ("symmetric", "mutual")


def knn_graph(points, n_neighbors=10, *, mode="symmetric", metric="euclidean"):
    """k-nearest-neighbour graph over tasks described by points.

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
    n_tasks = points.shape[0]
    if not isinstance(n_neighbors, Integral) or isinstance(n_neighbors, bool):
        raise TypeError(f"n_neighbors must be an integer, got {n_neighbors!r}.")
    if not 1 <= n_neighbors <= n_tasks - 1:
        raise ValueError(
            f"n_neighbors must be between 1 and n_tasks - 1 = {n_tasks - 1}, got {n_neighbors}."
        )
    if mode not in KNN_MODES:
        raise ValueError(f"mode must be one of {KNN_MODES}, got {mode!r}.")
    nn = NearestNeighbors(n_neighbors=n_neighbors, metric=metric).fit(points)
    # kneighbors() without X leaves each point out of its own neighbours
    directed = nn.kneighbors_graph(mode="connectivity").tocsr()
    if mode == "symmetric":
        adjacency = directed.maximum(directed.T)
    else:
        adjacency = directed.minimum(directed.T)
    adjacency = sp.csr_matrix(adjacency, dtype=np.float64)
    # kneighbors() leaves a point out by index, so the diagonal is empty already; keep it so
    adjacency = (adjacency - sp.diags(adjacency.diagonal())).tocsr()
    adjacency.eliminate_zeros()
    adjacency.sort_indices()
    return adjacency
