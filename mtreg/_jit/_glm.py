"""The data term of J for the GLM losses, with its gradient and Hessian blocks.

One pass over the rows gives the loss value, the gradient in (W, b) and, for Newton's
method, the per-task Hessian blocks; dense and CSR versions. ``loss`` is one of the codes
``SQUARED``, ``LOGISTIC``, ``SQUARED_HINGE``.
"""

import numpy as np
from numba import njit

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
    updates of H_t as in :func:`task_moments_range`).
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
def loss_hessian_csr(data, indices, indptr, y, sample_weight, start, coef, intercept, loss):
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
def loss_gradient_csr(data, indices, indptr, y, task_idx, sample_weight, coef, intercept, loss):
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
