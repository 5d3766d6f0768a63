"""Every numba kernel of mtreg.

The kernels do the row-wise passes that have no BLAS form: per-task segment sums and
Gram matrices from unsorted task ids, and the per-row prediction ``x_i . w_{t_i} + b_{t_i}``.
Matrix products, factorisations and eigendecompositions stay in NumPy/SciPy.

Conventions: float64 values, C-contiguous 2-D arrays, int64 task indices, so each kernel
compiles once (``cache=True`` keeps the machine code across sessions). The kernels
release the GIL (``nogil=True``), so that dask's threads can reduce several chunks at
once. Each kernel has a ``naive_`` NumPy twin in ``tests/test_jit.py``.
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
    y_mean = np.zeros(n_tasks)
    for i in range(n):
        y_mean[task_idx[i]] += sample_weight[i] * y[i]
    for t in range(n_tasks):
        if weight_sum[t] > 0:
            y_mean[t] /= weight_sum[t]

    # Rank-4 updates over the rows of one task at a time: one load and store of gram[t]
    # per four rows instead of per row, which is what bounds a rank-1 loop.
    order, start = group_rows(task_idx, n_tasks)
    gram = np.zeros((n_tasks, d, d))
    xty = np.zeros((n_tasks, d))
    z = np.zeros((4, d))
    wz = np.zeros((4, d))
    yc = np.zeros(4)
    for t in range(n_tasks):
        gt = gram[t]
        for p in range(start[t], start[t + 1], 4):
            for b in range(4):
                if p + b < start[t + 1]:
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
                xty[t, j] += a0 * yc[0] + a1 * yc[1] + a2 * yc[2] + a3 * yc[3]
                for k in range(d):
                    gt[j, k] += a0 * z[0, k] + a1 * z[1, k] + a2 * z[2, k] + a3 * z[3, k]
    return weight_sum, x_mean, y_mean, gram, xty


@njit(cache=True, nogil=True)
def task_moments_csr(data, indices, indptr, n_features, y, task_idx, sample_weight,
                     n_tasks, center):
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


@njit(cache=True, nogil=True)
def cholesky_solve(factor, B):
    """Solve ``M_t X_t = B_t`` for a stack of Cholesky factors (lower, ``M_t = F_t F_t^T``).

    ``factor`` has shape (T, d, d) and ``B`` shape (T, d, k). NumPy factorises a stack of
    small matrices quickly but has no stacked triangular solve; this is that loop.
    """
    T, d, k = B.shape
    out = B.copy()
    for t in range(T):
        F = factor[t]
        Z = out[t]
        for i in range(d):  # forward: F z = b
            for j in range(i):
                f = F[i, j]
                for c in range(k):
                    Z[i, c] -= f * Z[j, c]
            inv = 1.0 / F[i, i]
            for c in range(k):
                Z[i, c] *= inv
        for i in range(d - 1, -1, -1):  # backward: F^T x = z
            for j in range(i + 1, d):
                f = F[j, i]
                for c in range(k):
                    Z[i, c] -= f * Z[j, c]
            inv = 1.0 / F[i, i]
            for c in range(k):
                Z[i, c] *= inv
    return out


SQUARED, LOGISTIC, SQUARED_HINGE = 0, 1, 2  # loss codes of loss_gradient


@njit(cache=True, inline="always")
def _loss_derivative(loss, y, f):
    """(loss(y, f), d loss / d f, d^2 loss / d f^2) for one row."""
    if loss == SQUARED:
        r = f - y
        return r * r, 2.0 * r, 2.0
    if loss == LOGISTIC:
        m = y * f
        e = np.exp(-abs(m))
        c = 1.0 / (1.0 + e)
        h = e * c * c  # sigmoid(m) sigmoid(-m), without cancellation
        if m > 0:
            return np.log1p(e), -y * e * c, h
        return -m + np.log1p(e), -y * c, h
    gap = 1.0 - y * f  # squared hinge
    if gap <= 0.0:
        return 0.0, 0.0, 0.0
    return gap * gap, -2.0 * y * gap, 2.0


@njit(cache=True, nogil=True)
def loss_gradient(X, y, task_idx, sample_weight, coef, intercept, loss):
    """Data term of J and its gradient in one pass over dense X.

    Returns ``(sum_i s_i loss(y_i, f_i), dW, db)`` with ``f_i = x_i . w_{t_i} + b_{t_i}``,
    accumulated per task without building ``coef[t_i]`` for every row.
    """
    n, d = X.shape
    grad_coef = np.zeros(coef.shape)
    grad_intercept = np.zeros(intercept.shape[0])
    value = 0.0
    for i in range(n):
        s = sample_weight[i]
        if s == 0.0:
            continue
        t = task_idx[i]
        f = intercept[t]
        for j in range(d):
            f += X[i, j] * coef[t, j]
        v, g, _ = _loss_derivative(loss, y[i], f)
        value += s * v
        g *= s
        grad_intercept[t] += g
        for j in range(d):
            grad_coef[t, j] += g * X[i, j]
    return value, grad_coef, grad_intercept


@njit(cache=True, nogil=True)
def loss_hessian(X, y, sample_weight, start, coef, intercept, shift, loss):
    """:func:`loss_gradient` on rows grouped by task and centred, with the Hessian blocks.

    The rows of task t are ``start[t]:start[t + 1]`` (see :func:`group_rows`). With
    ``z_i = x_i - shift_t`` and ``f_i = z_i . w_t + b_t``, returns
    ``(value, dW, db, h, hz, H)``: the data term, its gradient, and per task the blocks of
    its Hessian, ``h_t = sum_i s_i l''_i``, ``hz_t = sum_i s_i l''_i z_i`` and
    ``H_t = sum_i s_i l''_i z_i z_i^T`` (what Newton's method needs, in one pass; rank-4
    updates of H_t as in :func:`task_moments`).
    """
    d = X.shape[1]
    n_tasks = coef.shape[0]
    grad_coef = np.zeros((n_tasks, d))
    grad_intercept = np.zeros(n_tasks)
    h_sum = np.zeros(n_tasks)
    hz = np.zeros((n_tasks, d))
    H = np.zeros((n_tasks, d, d))
    z = np.zeros((4, d))
    f, g, h = np.zeros(4), np.zeros(4), np.zeros(4)
    value = 0.0
    for t in range(n_tasks):
        Ht = H[t]
        stop = start[t + 1]
        for p in range(start[t], stop, 4):  # four rows at a time (padding rows are zero)
            for q in range(4):
                f[q] = intercept[t]
                for j in range(d):
                    z[q, j] = X[p + q, j] - shift[t, j] if p + q < stop else 0.0
            for j in range(d):  # four independent dot products
                c = coef[t, j]
                f[0] += z[0, j] * c
                f[1] += z[1, j] * c
                f[2] += z[2, j] * c
                f[3] += z[3, j] * c
            for q in range(4):
                g[q], h[q] = 0.0, 0.0
                if p + q < stop and sample_weight[p + q] != 0.0:
                    s = sample_weight[p + q]
                    v, g[q], h[q] = _loss_derivative(loss, y[p + q], f[q])
                    value += s * v
                    g[q] *= s
                    h[q] *= s
            g0, g1, g2, g3 = g[0], g[1], g[2], g[3]
            h0, h1, h2, h3 = h[0], h[1], h[2], h[3]
            grad_intercept[t] += g0 + g1 + g2 + g3
            h_sum[t] += h0 + h1 + h2 + h3
            for j in range(d):
                z0, z1, z2, z3 = z[0, j], z[1, j], z[2, j], z[3, j]
                grad_coef[t, j] += g0 * z0 + g1 * z1 + g2 * z2 + g3 * z3
                a0, a1, a2, a3 = h0 * z0, h1 * z1, h2 * z2, h3 * z3
                hz[t, j] += a0 + a1 + a2 + a3
                for k in range(d):
                    Ht[j, k] += a0 * z[0, k] + a1 * z[1, k] + a2 * z[2, k] + a3 * z[3, k]
    return value, grad_coef, grad_intercept, h_sum, hz, H


@njit(cache=True, nogil=True)
def loss_hessian_csr(data, indices, indptr, y, sample_weight, start, coef, intercept,
                     loss):
    """:func:`loss_hessian` for CSR X, about zero (``shift`` = 0: sparse rows are not
    centred; the caller moves the sums)."""
    n_tasks, d = coef.shape
    grad_coef = np.zeros((n_tasks, d))
    grad_intercept = np.zeros(n_tasks)
    h_sum = np.zeros(n_tasks)
    hz = np.zeros((n_tasks, d))
    H = np.zeros((n_tasks, d, d))
    value = 0.0
    for t in range(n_tasks):
        for i in range(start[t], start[t + 1]):
            if sample_weight[i] == 0.0:
                continue
            f = intercept[t]
            for p in range(indptr[i], indptr[i + 1]):
                f += data[p] * coef[t, indices[p]]
            v, g, h = _loss_derivative(loss, y[i], f)
            s = sample_weight[i]
            value += s * v
            g *= s
            h *= s
            grad_intercept[t] += g
            h_sum[t] += h
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                grad_coef[t, j] += g * data[p]
                hz[t, j] += h * data[p]
                for q in range(indptr[i], indptr[i + 1]):
                    H[t, j, indices[q]] += h * data[p] * data[q]
    return value, grad_coef, grad_intercept, h_sum, hz, H


@njit(cache=True, nogil=True)
def loss_gradient_csr(data, indices, indptr, y, task_idx, sample_weight, coef, intercept,
                      loss):
    """:func:`loss_gradient` for CSR X."""
    n = indptr.shape[0] - 1
    grad_coef = np.zeros(coef.shape)
    grad_intercept = np.zeros(intercept.shape[0])
    value = 0.0
    for i in range(n):
        s = sample_weight[i]
        if s == 0.0:
            continue
        t = task_idx[i]
        f = intercept[t]
        for p in range(indptr[i], indptr[i + 1]):
            f += data[p] * coef[t, indices[p]]
        v, g, _ = _loss_derivative(loss, y[i], f)
        value += s * v
        g *= s
        grad_intercept[t] += g
        for p in range(indptr[i], indptr[i + 1]):
            grad_coef[t, indices[p]] += g * data[p]
    return value, grad_coef, grad_intercept
