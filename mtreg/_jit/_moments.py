"""Per-task sums, means and second moments, and the per-row prediction.

The row-wise passes over unsorted task ids that have no BLAS form: a counting sort by
task, per-task weighted means and centred Gram matrices (dense and CSR), and
``x_i . w_{t_i} + b_{t_i}`` for every row.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def group_rows(task_idx, n_tasks):
    """Counting sort by task: the rows of task t are ``order[start[t]:start[t + 1]]``."""
    start = np.zeros(n_tasks + 1, dtype=np.int64)
    for i in range(task_idx.shape[0]):
        start[task_idx[i] + 1] += 1
    for t in range(n_tasks):
        start[t + 1] += start[t]
    order = np.empty(task_idx.shape[0], dtype=np.int64)
    fill = start[:-1].copy()
    for i in range(task_idx.shape[0]):
        t = task_idx[i]
        order[fill[t]] = i
        fill[t] += 1
    return order, start


@njit(cache=True, nogil=True)
def task_means(X, task_idx, sample_weight, n_tasks):
    """Per-task weight sums and weighted column means of dense X (0 for empty tasks)."""
    n, d = X.shape
    weight_sum = np.zeros(n_tasks)
    x_mean = np.zeros((n_tasks, d))
    for i in range(n):
        t = task_idx[i]
        w = sample_weight[i]
        weight_sum[t] += w
        for j in range(d):
            x_mean[t, j] += w * X[i, j]
    for t in range(n_tasks):
        if weight_sum[t] > 0:
            for j in range(d):
                x_mean[t, j] /= weight_sum[t]
    return weight_sum, x_mean


@njit(cache=True, nogil=True)
def _task_y_means(y, task_idx, sample_weight, weight_sum, n_tasks):
    """Weighted mean of y in each task (0 for a task of no weight)."""
    y_mean = np.zeros(n_tasks)
    for i in range(y.shape[0]):
        y_mean[task_idx[i]] += sample_weight[i] * y[i]
    for t in range(n_tasks):
        if weight_sum[t] > 0:
            y_mean[t] /= weight_sum[t]
    return y_mean


@njit(cache=True, nogil=True)
def task_moments(X, y, task_idx, sample_weight, n_tasks, center):
    """Weighted per-task sums, means and centred second moments of dense X.

    Two passes (means first, then centred products) so that unscaled features do not
    lose digits to cancellation. Returns ``(weight_sum, x_mean, y_mean, gram, xty)``
    with ``gram[t] = sum_i s_i (x_i - m_t)(x_i - m_t)^T`` over the rows of task t and
    ``xty[t] = sum_i s_i (x_i - m_t)(y_i - ybar_t)``. With ``center=False`` the means are
    reported but not subtracted.
    """
    n, d = X.shape
    weight_sum, x_mean = task_means(X, task_idx, sample_weight, n_tasks)
    y_mean = _task_y_means(y, task_idx, sample_weight, weight_sum, n_tasks)

    # Rank-4 updates over the rows of one task at a time: one load and store of gram[t]
    # per four rows instead of per row, which is what bounds a rank-1 loop.
    order, start = group_rows(task_idx, n_tasks)
    gram = np.zeros((n_tasks, d, d))
    xty = np.zeros((n_tasks, d))
    for t in range(n_tasks):
        _rank4_rows(
            X,
            y,
            sample_weight,
            order,
            start[t],
            start[t + 1],
            t,
            x_mean,
            y_mean,
            center,
            gram[t],
            xty[t],
        )
    return weight_sum, x_mean, y_mean, gram, xty


@njit(cache=True, nogil=True)
def _rank4_rows(X, y, sample_weight, order, lo, hi, t, x_mean, y_mean, center, gt, xt):
    """Add the rows ``order[lo:hi]`` of task t to its moments ``gt``, ``xt``, four at a time."""
    d = X.shape[1]
    z = np.zeros((4, d))
    wz = np.zeros((4, d))
    yc = np.zeros(4)
    for p in range(lo, hi, 4):
        for b in range(4):
            if p + b < hi:
                i = order[p + b]
                w = sample_weight[i]
                yc[b] = y[i] - y_mean[t] if center else y[i]
                for j in range(d):
                    z[b, j] = X[i, j] - x_mean[t, j] if center else X[i, j]
                    wz[b, j] = w * z[b, j]
            else:  # padding rows contribute nothing
                yc[b] = 0.0
                for j in range(d):
                    z[b, j] = 0.0
                    wz[b, j] = 0.0
        for j in range(d):
            a0, a1, a2, a3 = wz[0, j], wz[1, j], wz[2, j], wz[3, j]
            xt[j] += a0 * yc[0] + a1 * yc[1] + a2 * yc[2] + a3 * yc[3]
            for k in range(d):
                gt[j, k] += a0 * z[0, k] + a1 * z[1, k] + a2 * z[2, k] + a3 * z[3, k]


@njit(cache=True, nogil=True)
def task_moments_blas(X, y, task_idx, sample_weight, n_tasks, center, block, min_rows):
    """:func:`task_moments` with the products on BLAS: the centred (and weighted) rows of
    each task, ``block`` at a time, are copied into contiguous buffers (Z, S Z, y - ybar)
    whose products ``(S Z)^T Z`` and ``(S Z)^T y`` are one gemm and one gemv each. The
    same terms as the rank-4 loop, summed in another order; faster from about d = 16.
    Tasks of fewer than ``min_rows`` rows take the rank-4 loop (the same sums as
    :func:`task_moments`)."""
    n, d = X.shape
    weight_sum, x_mean = task_means(X, task_idx, sample_weight, n_tasks)
    y_mean = _task_y_means(y, task_idx, sample_weight, weight_sum, n_tasks)
    order, start = group_rows(task_idx, n_tasks)
    gram = np.zeros((n_tasks, d, d))
    xty = np.zeros((n_tasks, d))
    buf_z = np.empty((block, d))
    buf_wz = np.empty((block, d))
    buf_yc = np.empty(block)
    for t in range(n_tasks):
        if start[t + 1] - start[t] < min_rows:  # a product call costs more than its rows
            _rank4_rows(
                X,
                y,
                sample_weight,
                order,
                start[t],
                start[t + 1],
                t,
                x_mean,
                y_mean,
                center,
                gram[t],
                xty[t],
            )
            continue
        for p in range(start[t], start[t + 1], block):
            m = min(block, start[t + 1] - p)
            z, wz, yc = buf_z[:m], buf_wz[:m], buf_yc[:m]
            for b in range(m):
                i = order[p + b]
                w = sample_weight[i]
                yc[b] = y[i] - y_mean[t] if center else y[i]
                for j in range(d):
                    v = X[i, j] - x_mean[t, j] if center else X[i, j]
                    z[b, j] = v
                    wz[b, j] = w * v
            gram[t] += np.dot(wz.T, z)
            xty[t] += np.dot(wz.T, yc)
    return weight_sum, x_mean, y_mean, gram, xty


@njit(cache=True, nogil=True)
def task_moments_csr(
    data, indices, indptr, n_features, y, task_idx, sample_weight, n_tasks, center
):
    """:func:`task_moments` for CSR X (data, indices, indptr).

    Accumulates raw products over the stored entries only, then centres each task's
    moments with ``G - S m m^T`` (sparse rows cannot be centred without densifying).
    """
    n = indptr.shape[0] - 1
    d = n_features
    weight_sum = np.zeros(n_tasks)
    x_mean = np.zeros((n_tasks, d))
    y_mean = np.zeros(n_tasks)
    gram = np.zeros((n_tasks, d, d))
    xty = np.zeros((n_tasks, d))
    for i in range(n):
        t = task_idx[i]
        w = sample_weight[i]
        weight_sum[t] += w
        y_mean[t] += w * y[i]
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            wv = w * data[p]
            x_mean[t, j] += wv
            xty[t, j] += wv * y[i]
            for q in range(indptr[i], indptr[i + 1]):
                gram[t, j, indices[q]] += wv * data[q]
    for t in range(n_tasks):
        s = weight_sum[t]
        if s > 0:
            y_mean[t] /= s
            for j in range(d):
                x_mean[t, j] /= s
        if center:
            for j in range(d):
                xty[t, j] -= s * x_mean[t, j] * y_mean[t]
                for k in range(d):
                    gram[t, j, k] -= s * x_mean[t, j] * x_mean[t, k]
    return weight_sum, x_mean, y_mean, gram, xty


@njit(cache=True, nogil=True)
def predict_rows(X, task_idx, coef, intercept):
    """``out[i] = X[i] . coef[task_idx[i]] + intercept[task_idx[i]]`` for dense X."""
    n, d = X.shape
    out = np.empty(n)
    for i in range(n):
        t = task_idx[i]
        acc = intercept[t]
        for j in range(d):
            acc += X[i, j] * coef[t, j]
        out[i] = acc
    return out


@njit(cache=True, nogil=True)
def predict_rows_csr(data, indices, indptr, task_idx, coef, intercept):
    """:func:`predict_rows` for CSR X."""
    n = indptr.shape[0] - 1
    out = np.empty(n)
    for i in range(n):
        t = task_idx[i]
        acc = intercept[t]
        for p in range(indptr[i], indptr[i + 1]):
            acc += data[p] * coef[t, indices[p]]
        out[i] = acc
    return out
