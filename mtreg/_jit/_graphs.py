"""Connected components of a task graph given as a dense adjacency matrix.

A breadth-first search over the rows of A: O(T^2), no sparse conversion (which costs more
than the search for the graphs of a few dozen tasks that a small fit has).
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def dense_components(A):
    """Component label of each node of the undirected graph ``A != 0`` (labels 0, 1, ...
    in order of each component's first node, as scipy's ``connected_components``)."""
    T = A.shape[0]
    labels = np.full(T, -1, dtype=np.int64)
    queue = np.empty(T, dtype=np.int64)
    count = 0
    for root in range(T):
        if labels[root] >= 0:
            continue
        labels[root] = count
        head, tail = 0, 1
        queue[0] = root
        while head < tail:
            u = queue[head]
            head += 1
            for v in range(T):
                if labels[v] < 0 and (A[u, v] != 0.0 or A[v, u] != 0.0):
                    labels[v] = count
                    queue[tail] = v
                    tail += 1
        count += 1
    return labels


@njit(cache=True, nogil=True)
def sparse_order_matmul(A, W):
    """``A @ W`` for a dense copy ``A`` of a sparse matrix, summed as scipy's CSR product
    sums (over the nonzero entries of each row in column order, from 0): the same bits,
    without scipy.sparse's cost per call."""
    T, k = A.shape[0], W.shape[1]
    out = np.zeros((T, k))
    for i in range(T):
        for j in range(A.shape[1]):
            a = A[i, j]
            if a != 0.0:
                for c in range(k):
                    out[i, c] += a * W[j, c]
    return out
