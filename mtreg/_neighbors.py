"""k-nearest-neighbour task graphs in O(T k) memory, with one tie rule.

The rule (every path follows it): the neighbours of task s are the ``k`` other tasks nearest
to it, equal distances broken by the smaller task index. Squared Euclidean distances are
summed feature by feature in a fixed order (:func:`sq_distances`), so a pair gets the same
bits whichever path or batch computes it: points at equal distances stay tied and the
index decides, never the rounding of a dot product.

Euclidean neighbours come from a k-d or ball tree (O(T log T) time), whose candidates are
re-measured exactly; a row whose k-th distance is not clear of the tree's last candidate by
more than the rounding of both is asked again with twice as many candidates, so that no tied
or nearer point is missed. Other metrics go through blocks of rows of the distance matrix.
"""

import numpy as np
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors

# Entries of a candidate or distance block held at once (8 bytes each, a few arrays of them)
BLOCK_ENTRIES = 2**21
# The median heuristic over more tasks than this uses the pairs of a fixed random sample of
# this many tasks (all pairs of 1e5 tasks would be 5e9 distances)
MEDIAN_TASKS = 2048
EPS = np.finfo(np.float64).eps


def sq_distances(PT, rows, cols):
    """Squared Euclidean distances of the pairs (rows[i], cols[i]); PT is the points
    transposed, shape (n_dims, n_points). Broadcasting index arrays give blocks."""
    d2 = np.zeros(np.broadcast_shapes(np.shape(rows), np.shape(cols)))
    for coord in PT:
        diff = coord[rows] - coord[cols]
        d2 += diff * diff
    return d2


def distance_block(P, rows, metric):
    """Distances from the points P[rows] to all points, shape (len(rows), len(P))."""
    if metric == "euclidean":
        PT = np.ascontiguousarray(P.T)
        return np.sqrt(sq_distances(PT, np.asarray(rows)[:, None], np.arange(len(P))[None, :]))
    return pairwise_distances(P[rows], P, metric=metric)


def median_sigma(off):
    """The median heuristic: the median of the finite distances between distinct tasks (1 if
    there are none or it is 0)."""
    off = off[np.isfinite(off)]
    median = float(np.median(off)) if off.size else 0.0
    return median if median > 0 else 1.0


def sampled_median_sigma(P, metric):
    """:func:`median_sigma` over the pairs of all tasks, or of MEDIAN_TASKS of them drawn
    with a fixed seed when there are more."""
    m = len(P)
    if m > MEDIAN_TASKS:
        P = P[np.sort(np.random.default_rng(0).choice(m, MEDIAN_TASKS, replace=False))]
    D = distance_block(P, np.arange(len(P)), metric)
    return median_sigma(D[~np.eye(len(P), dtype=bool)])


def _chunks(items, size):
    size = max(int(size), 1)
    return [items[i : i + size] for i in range(0, len(items), size)]


def nearest(P, k, metric="euclidean"):
    """For every point its ``k`` nearest others (the tie rule of the module).

    Returns (neighbours, distances), each of shape (n_points, k), in order of distance.
    """
    m = len(P)
    if k >= m - 1:  # every other point is a neighbour: one block does it
        return _nearest_brute(P, m - 1, metric)
    if metric == "euclidean":
        return _nearest_tree(P, k)
    return _nearest_brute(P, k, metric)


def _select(d, cand, k):
    """The first k candidates of each row by (distance, index)."""
    order = np.lexsort((cand, d), axis=1)[:, :k]
    return np.take_along_axis(cand, order, 1), np.take_along_axis(d, order, 1)


def _nearest_brute(P, k, metric):
    m = len(P)
    neigh, dist = np.empty((m, k), dtype=np.int64), np.empty((m, k))
    for rows in _chunks(np.arange(m), BLOCK_ENTRIES // m):
        D = distance_block(P, rows, metric)
        D[np.arange(len(rows)), rows] = np.inf  # not its own neighbour
        cand = np.broadcast_to(np.arange(m), D.shape)
        neigh[rows], dist[rows] = _select(D, cand, k)
    return neigh, dist


def _nearest_tree(P, k):
    m, p = P.shape
    PT = np.ascontiguousarray(P.T)
    centred = P - P.mean(axis=0)
    tree = NearestNeighbors(algorithm="kd_tree" if p <= 15 else "ball_tree").fit(centred)
    # the tree measures centred points, we the raw ones: both round within this much
    slack_abs = 16 * np.sqrt(p) * EPS * max(np.abs(centred).max(initial=0.0), 1e-300)
    slack_rel = 16 * (p + 4) * EPS
    neigh, dist = np.empty((m, k), dtype=np.int64), np.empty((m, k))
    todo, q = np.arange(m), min(2 * k + 1, m - 1)
    while todo.size:
        undecided = []
        for rows in _chunks(todo, BLOCK_ENTRIES // (q + 1)):
            tree_dist, cand = tree.kneighbors(centred[rows], n_neighbors=q + 1)
            d = np.sqrt(sq_distances(PT, rows[:, None], cand))
            d[cand == rows[:, None]] = np.inf  # itself (when the tree found it)
            n_rows, n_d = _select(d, cand, k)
            # a point the tree did not return is at least this far (exactly measured)
            beyond = tree_dist[:, -1] * (1 - slack_rel) - slack_abs
            clear = (beyond > n_d[:, -1] * (1 + slack_rel)) | (q >= m - 1)
            neigh[rows[clear]], dist[rows[clear]] = n_rows[clear], n_d[clear]
            undecided.append(rows[~clear])
        todo, q = np.concatenate(undecided), min(2 * q + 1, m - 1)
    return neigh, dist
