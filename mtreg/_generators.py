"""The planted models of the synthetic generators of :mod:`mtreg.datasets`: task structures
(clusters, chain, grid, kNN, complete, none), features and row-wise predictions."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .relations import knn_graph

_LATENT_DIM = 2
_LENGTH_SCALE = 0.25
_N_FOURIER = 64


def planted_linear_model(
    rng,
    T,
    n_samples,
    d,
    *,
    structure,
    n_clusters,
    n_neighbors,
    spread,
    intercept,
    feature_scale,
    shared_X,
    shuffle,
):
    """(X, noise-free x . w_t + b_t, task_ids, graph, W, b) of the generators."""
    counts = _task_counts(n_samples, T, shared_X, rng)
    if structure == "clusters" and n_clusters > T:
        raise ValueError(f"n_clusters={n_clusters} is larger than n_tasks={T}.")

    W, graph = _STRUCTURES[structure](
        T, d, spread, rng, n_clusters=n_clusters, n_neighbors=n_neighbors
    )
    b = intercept * rng.standard_normal(T)
    n_rows = counts if shared_X else int(counts.sum())
    X, column_std = _features(n_rows, d, feature_scale, rng)
    W /= column_std
    if shared_X:
        return X, X @ W.T + b, None, graph, W, b
    task_ids = np.repeat(np.arange(T, dtype=np.int64), counts)
    if shuffle:  # the rows of X are exchangeable: permuting the labels is enough
        task_ids = rng.permutation(task_ids)
    return X, _rowwise_predictions(X, W, b, task_ids), task_ids, graph, W, b


def generator(random_state):
    """A numpy Generator; ints seed it directly, a RandomState seeds it from its stream."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, Integral):
        return np.random.default_rng(random_state)
    state = check_random_state(random_state)
    return np.random.default_rng(state.randint(np.iinfo(np.int64).max, dtype=np.int64))


def _task_counts(n_samples, n_tasks, shared_X, rng):
    if isinstance(n_samples, Integral):
        return int(n_samples) if shared_X else np.full(n_tasks, int(n_samples), dtype=np.int64)
    if shared_X:
        raise ValueError("with shared_X=True, n_samples must be an int (the rows of X).")
    if len(n_samples) != 2 or not all(isinstance(v, Integral) for v in n_samples):
        raise ValueError(f"n_samples must be an int or a pair (low, high), got {n_samples!r}.")
    low, high = int(n_samples[0]), int(n_samples[1])
    if not 1 <= low <= high:
        raise ValueError(f"n_samples=(low, high) needs 1 <= low <= high, got {n_samples!r}.")
    return rng.integers(low, high + 1, size=n_tasks, dtype=np.int64)


def _features(n_rows, d, feature_scale, rng):
    """(X, standard deviation of each column)."""
    if isinstance(feature_scale, str):  # "mixed"
        percent = np.arange(d) % 5 == 0
        freq = rng.uniform(0.1, 0.9, size=d)
        X = (rng.random((n_rows, d)) < freq).astype(np.float64)
        X[:, percent] = rng.integers(0, 101, size=(n_rows, int(percent.sum())))
        std = np.sqrt(freq * (1.0 - freq))
        std[percent] = np.sqrt((101.0**2 - 1.0) / 12.0)  # discrete uniform on 0..100
        return X, std
    X = rng.standard_normal((n_rows, d))
    if feature_scale is None:
        return X, np.ones(d)
    scale = np.asarray(feature_scale, dtype=np.float64)
    if scale.ndim > 1 or scale.size not in (1, d):
        raise ValueError(f"feature_scale must be a float or {d} values, got shape {scale.shape}.")
    scale = np.broadcast_to(scale, (d,))
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        raise ValueError("feature_scale must be positive and finite, one value per feature.")
    X *= scale
    return X, scale.copy()


def _rowwise_predictions(X, W, b, task_ids, chunk=1 << 16):
    """x_i . w_{t_i} + b_{t_i}, in chunks so that W[task_ids] never fills memory."""
    y = np.empty(X.shape[0])
    for start in range(0, X.shape[0], chunk):
        rows = slice(start, start + chunk)
        t = task_ids[rows]
        y[rows] = np.einsum("ij,ij->i", X[rows], W[t]) + b[t]
    return y


def _clusters(T, d, spread, rng, *, n_clusters, **_):
    labels = rng.permutation(np.arange(T) % n_clusters)
    centres = rng.standard_normal((n_clusters, d))
    W = centres[labels] + spread * rng.standard_normal((T, d))
    return W, _clique_graph(labels, n_clusters)


def _clique_graph(labels, n_groups):
    """Every group a clique with weight 1/size of the group, built straight into CSR.

    Row t lists the other members of its group in increasing order: the members of each
    group, sorted, are one slice of the stable argsort of the labels.
    """
    T = labels.size
    sizes = np.bincount(labels, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    members = np.argsort(labels, kind="stable")
    row_len = sizes[labels]  # with the task itself, removed below
    row_start = np.concatenate([[0], np.cumsum(row_len)[:-1]])
    within = np.arange(int(row_len.sum())) - np.repeat(row_start, row_len)
    indices = members[np.repeat(starts[labels], row_len) + within]
    keep = indices != np.repeat(np.arange(T), row_len)
    indptr = np.concatenate([[0], np.cumsum(row_len - 1)])
    data = np.repeat(1.0 / sizes[labels], row_len - 1)
    return sp.csr_matrix((data, indices[keep], indptr), shape=(T, T))


def _chain(T, d, spread, rng, **_):
    steps = spread * rng.standard_normal((T, d))
    steps[0] = rng.standard_normal(d)
    W = np.cumsum(steps, axis=0)
    first = np.arange(T - 1)
    rows = np.concatenate([first, first + 1])
    cols = np.concatenate([first + 1, first])
    return W, _csr(np.ones(rows.size), rows, cols, T)


def _grid(T, d, spread, rng, **_):
    n_cols = int(np.ceil(np.sqrt(T)))
    row, col = np.divmod(np.arange(T), n_cols)
    walk_rows = np.cumsum(spread * rng.standard_normal((row.max() + 1, d)), axis=0)
    walk_cols = np.cumsum(spread * rng.standard_normal((n_cols, d)), axis=0)
    W = rng.standard_normal(d) + walk_rows[row] + walk_cols[col]
    right = np.flatnonzero((col < n_cols - 1) & (np.arange(T) + 1 < T))
    below = np.flatnonzero(np.arange(T) + n_cols < T)
    first = np.concatenate([right, below])
    second = np.concatenate([right + 1, below + n_cols])
    rows = np.concatenate([first, second])
    cols = np.concatenate([second, first])
    return W, _csr(np.ones(rows.size), rows, cols, T)


def _knn(T, d, spread, rng, *, n_neighbors, **_):
    positions = rng.random((T, _LATENT_DIM))
    # random Fourier features: each coefficient is a draw of a GP with an RBF kernel
    freq = rng.standard_normal((_LATENT_DIM, _N_FOURIER)) / _LENGTH_SCALE
    phase = rng.uniform(0.0, 2.0 * np.pi, size=_N_FOURIER)
    features = np.sqrt(2.0 / _N_FOURIER) * np.cos(positions @ freq + phase)
    W = features @ rng.standard_normal((_N_FOURIER, d)) + spread * rng.standard_normal((T, d))
    if T == 1:
        return W, sp.csr_matrix((1, 1))
    return W, knn_graph(positions, min(n_neighbors, T - 1))


def _complete(T, d, spread, rng, **_):
    W = rng.standard_normal(d) + spread * rng.standard_normal((T, d))
    return W, _clique_graph(np.zeros(T, dtype=np.int64), 1)


def _none(T, d, spread, rng, **_):
    return rng.standard_normal((T, d)), sp.csr_matrix((T, T))


def _csr(weights, rows, cols, T):
    graph = sp.csr_matrix((weights, (rows, cols)), shape=(T, T))
    graph.sort_indices()
    return graph


_STRUCTURES = {
    "clusters": _clusters,
    "chain": _chain,
    "grid": _grid,
    "knn": _knn,
    "complete": _complete,
    "none": _none,
}
