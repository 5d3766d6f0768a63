"""Every numba kernel of mtreg.

The kernels do the row-wise passes that have no BLAS form: per-task segment sums and
Gram matrices from unsorted task ids, the per-row prediction ``x_i . w_{t_i} + b_{t_i}``,
and the loss, gradient and Hessian blocks of J in one pass. Matrix products and
factorisations stay in NumPy/SciPy, with two exceptions where a stack of many small
matrices made LAPACK's per-call cost dominate (measured): triangular solves on a stack
of Cholesky factors, and the eigendecompositions of the per-task Gram matrices of a
cross-validation path (``eigh_rows``, 2x faster than ``np.linalg.eigh`` on 139 27 x 27).

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


@njit(cache=True, inline="always")
def _hypot(a, b):
    """sqrt(a^2 + b^2): the plain formula where it cannot overflow or underflow (a libm
    hypot call per plane rotation costs the eigensolver below a sixth of its time)."""
    s = abs(a) + abs(b)
    if 1e-150 < s < 1e150:
        return np.sqrt(a * a + b * b)
    return np.hypot(a, b)


@njit(cache=True, nogil=True)
def _eigh_rows(A, values, vectors):
    """Eigendecomposition of one symmetric matrix, eigenvectors as the rows of ``vectors``.

    Householder tridiagonalisation with the transformations accumulated, then the
    implicit QL iteration (EISPACK tred2/tql2, as in JAMA), written on the transposed
    array so that every inner loop runs along a contiguous row. Eigenvalues ascending.
    Returns False if some eigenvalue did not converge in 30 n iterations or is not finite.
    """
    n = A.shape[0]
    d = values
    V = vectors  # V[j, k] is JAMA's V[k][j]
    for i in range(n):
        for j in range(n):
            V[i, j] = A[i, j]
    e = np.zeros(n)
    for j in range(n):
        d[j] = V[j, n - 1]
    for i in range(n - 1, 0, -1):  # Householder reduction to tridiagonal form
        scale = 0.0
        h = 0.0
        for k in range(i):
            scale += abs(d[k])
        if scale == 0.0:
            e[i] = d[i - 1]
            for j in range(i):
                d[j] = V[j, i - 1]
                V[j, i] = 0.0
                V[i, j] = 0.0
        else:
            for k in range(i):
                d[k] /= scale
                h += d[k] * d[k]
            f = d[i - 1]
            g = np.sqrt(h)
            if f > 0:
                g = -g
            e[i] = scale * g
            h = h - f * g
            d[i - 1] = f - g
            for j in range(i):
                e[j] = 0.0
            for j in range(i):
                f = d[j]
                V[i, j] = f
                g = e[j] + V[j, j] * f
                for k in range(j + 1, i):
                    g += V[j, k] * d[k]
                    e[k] += V[j, k] * f
                e[j] = g
            f = 0.0
            for j in range(i):
                e[j] /= h
                f += e[j] * d[j]
            hh = f / (h + h)
            for j in range(i):
                e[j] -= hh * d[j]
            for j in range(i):
                f = d[j]
                g = e[j]
                for k in range(j, i):
                    V[j, k] -= f * e[k] + g * d[k]
                d[j] = V[j, i - 1]
                V[j, i] = 0.0
        d[i] = h
    for i in range(n - 1):  # accumulate the transformations
        V[i, n - 1] = V[i, i]
        V[i, i] = 1.0
        h = d[i + 1]
        if h != 0.0:
            for k in range(i + 1):
                d[k] = V[i + 1, k] / h
            for j in range(i + 1):
                g = 0.0
                for k in range(i + 1):
                    g += V[i + 1, k] * V[j, k]
                for k in range(i + 1):
                    V[j, k] -= g * d[k]
        for k in range(i + 1):
            V[i + 1, k] = 0.0
    for j in range(n):
        d[j] = V[j, n - 1]
        V[j, n - 1] = 0.0
    V[n - 1, n - 1] = 1.0
    for i in range(1, n):  # implicit QL on the tridiagonal matrix (d, e)
        e[i - 1] = e[i]
    e[n - 1] = 0.0
    f = 0.0
    tst1 = 0.0
    eps = 2.0**-52
    for lo in range(n):
        tst1 = max(tst1, abs(d[lo]) + abs(e[lo]))
        m = lo
        while m < n - 1 and not abs(e[m]) <= eps * tst1:
            m += 1
        if m > lo:
            for _ in range(30 * n):
                g = d[lo]
                p = (d[lo + 1] - g) / (2.0 * e[lo])
                r = _hypot(p, 1.0)
                if p < 0:
                    r = -r
                d[lo] = e[lo] / (p + r)
                d[lo + 1] = e[lo] * (p + r)
                dl1 = d[lo + 1]
                h = g - d[lo]
                for i in range(lo + 2, n):
                    d[i] -= h
                f += h
                p = d[m]
                c = 1.0
                c2 = c
                c3 = c
                el1 = e[lo + 1]
                s = 0.0
                s2 = 0.0
                for i in range(m - 1, lo - 1, -1):
                    c3 = c2
                    c2 = c
                    s2 = s
                    g = c * e[i]
                    h = c * p
                    r = _hypot(p, e[i])
                    e[i + 1] = s * r
                    s = e[i] / r
                    c = p / r
                    p = c * d[i] - s * g
                    d[i + 1] = h + s * (c * g + s * d[i])
                    for k in range(n):  # rotate eigenvector rows i and i + 1
                        h = V[i + 1, k]
                        V[i + 1, k] = s * V[i, k] + c * h
                        V[i, k] = c * V[i, k] - s * h
                p = -s * s2 * c3 * el1 * e[lo] / dl1
                e[lo] = s * p
                d[lo] = c * p
                if not abs(e[lo]) > eps * tst1:
                    break
            else:
                return False
        d[lo] = d[lo] + f
        e[lo] = 0.0
    for i in range(n):
        if not np.isfinite(d[i]):
            return False
    for i in range(n - 1):  # sort ascending
        k = i
        p = d[i]
        for j in range(i + 1, n):
            if d[j] < p:
                k = j
                p = d[j]
        if k != i:
            d[k] = d[i]
            d[i] = p
            for j in range(n):
                p = V[i, j]
                V[i, j] = V[k, j]
                V[k, j] = p
    return True


@njit(cache=True, nogil=True)
def eigh_rows(A):
    """Eigendecompositions of a stack of symmetric matrices (only the lower triangles are
    read): ``values`` of shape (T, d), ascending, and ``vectors`` of shape (T, d, d) with
    ``vectors[t, k]`` the eigenvector of ``values[t, k]`` (the rows, not the columns as
    ``np.linalg.eigh`` returns them), and the number of matrices that did not converge.

    For many small matrices (the per-task Gram matrices of the regularisation paths) this
    loop is about twice as fast as LAPACK's dsyevd through ``np.linalg.eigh`` (139 matrices
    of d = 27: 3 ms against 7 ms), whose blocked steps do not pay off at that size; it is
    what a k-fold search on the complete graph spends most of its time on.
    """
    T, n, _ = A.shape
    values = np.empty((T, n))
    vectors = np.empty((T, n, n))
    failed = 0
    for t in range(T):
        # the lower triangle of A is the upper triangle of its transpose
        if not _eigh_rows(A[t].T, values[t], vectors[t]):
            failed += 1
    return values, vectors, failed


@njit(cache=True, nogil=True)
def upper_outer_products(V, start, stop):
    """``out[p, k - start] = V[i, k] V[j, k]`` for the pairs p = (i, j), i <= j, in the
    order of ``np.triu_indices``, and the columns start <= k < stop: column k of the result
    is the upper triangle of the outer product of column k of V with itself."""
    d = V.shape[0]
    out = np.empty((d * (d + 1) // 2, stop - start))
    p = 0
    for i in range(d):
        for j in range(i, d):
            for k in range(start, stop):
                out[p, k - start] = V[i, k] * V[j, k]
            p += 1
    return out


@njit(cache=True, nogil=True)
def downdate_grams(full, part, factor, dm):
    """``out[t] = full[t] - part[t] - factor[t] dm[t] dm[t]^T``: Gram matrices of the data
    without a part of it (the pairwise merge of centred moments run backwards, see
    ``_Parts.without``), in one pass."""
    T, d, _ = part.shape
    out = np.empty((T, d, d))
    for t in range(T):
        f = factor[t]
        for i in range(d):
            fi = f * dm[t, i]
            for j in range(d):
                out[t, i, j] = full[t, i, j] - part[t, i, j] - fi * dm[t, j]
    return out


@njit(cache=True, nogil=True)
def shifted_inverses(g, r, shift, rho_shift):
    """For eigenvalues g (T, d), ``r`` (T, d) and shifts (A,), in one pass:
    ``inv[a] = 1 / (g + shift[a])``, ``v[a] = r * inv[a]`` and
    ``rho[a] = (g + rho_shift[a]) * inv[a]``, each of shape (A, T, d)."""
    A = shift.shape[0]
    T, d = g.shape
    inv = np.empty((A, T, d))
    v = np.empty((A, T, d))
    rho = np.empty((A, T, d))
    for a in range(A):
        s, q = shift[a], rho_shift[a]
        for t in range(T):
            for k in range(d):
                iv = 1.0 / (g[t, k] + s)
                inv[a, t, k] = iv
                v[a, t, k] = r[t, k] * iv
                rho[a, t, k] = (g[t, k] + q) * iv
    return inv, v, rho
