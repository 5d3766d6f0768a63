"""Stacked small linear algebra where LAPACK's per-call cost dominates (measured).

Triangular solves on a stack of Cholesky factors, the eigendecompositions of the per-task
Gram matrices of a cross-validation path (``eigh_rows``, 2x faster than
``np.linalg.eigh`` on 139 27 x 27), the elementwise passes of the regularisation
paths (outer products of eigenvectors, shifted inverses), the copy of one triangle
of a symmetric matrix onto the other that LAPACK's potri leaves to its caller, and the
assembly of the dense graph system that LAPACK's potrf factorises.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def cholesky_solve(factor, B):
    """Solve ``M_t X_t = B_t`` for a stack of Cholesky factors (lower, ``M_t = F_t F_t^T``).

    ``factor`` has shape (T, d, d) and ``B`` shape (T, d, k). NumPy factorises a stack of
    small matrices quickly but has no stacked triangular solve; this is that loop. Each
    row of the solution is updated by four rows at a time, along the right-hand sides
    (0.97 -> 0.46 ms for 139 blocks of 27 x 27 with 28 of them); a single right-hand
    side takes dot products and column updates instead (0.32 -> 0.09 ms).
    """
    T, d, k = B.shape
    if k == 1:
        return _solve_one(factor, B)
    # the right-hand sides padded to a multiple of 4, so that the inner loops have no
    # scalar tail, where the solves run from cache (139 blocks of 27 x 27 and 27 columns:
    # 0.48 -> 0.38 ms); beyond 8 MB the copies cost more (100,000 of 10: 84 -> 128 ms)
    width = -(-k // 4) * 4 if T * d * k <= 2**20 else k
    if width == k:
        out = B.copy()
    else:
        out = np.zeros((T, d, width))
        out[:, :, :k] = B
    for t in range(T):
        F = factor[t]
        Z = out[t]
        for i in range(d):  # forward: F z = b, row i from the rows before it
            _subtract_rows(Z[i], Z, F[i], 0, i)
            inv = 1.0 / F[i, i]
            for c in range(width):
                Z[i, c] *= inv
        Ft = F.T
        for i in range(d - 1, -1, -1):  # backward: F^T x = z, row i from the rows after it
            _subtract_rows(Z[i], Z, Ft[i], i + 1, d)
            inv = 1.0 / F[i, i]
            for c in range(width):
                Z[i, c] *= inv
    return out if width == k else out[:, :, :k].copy()  # C-ordered, as B


@njit(cache=True, inline="always")
def _subtract_rows(row, Z, f, lo, hi):
    """row -= sum_{j in [lo, hi)} f[j] Z[j], four rows of Z per pass over row."""
    j = lo
    while j + 4 <= hi:
        f0, f1, f2, f3 = f[j], f[j + 1], f[j + 2], f[j + 3]
        Z0, Z1, Z2, Z3 = Z[j], Z[j + 1], Z[j + 2], Z[j + 3]
        for c in range(row.shape[0]):
            row[c] -= f0 * Z0[c] + f1 * Z1[c] + f2 * Z2[c] + f3 * Z3[c]
        j += 4
    while j < hi:
        fj, Zj = f[j], Z[j]
        for c in range(row.shape[0]):
            row[c] -= fj * Zj[c]
        j += 1


@njit(cache=True, nogil=True)
def _solve_one(factor, B):
    """cholesky_solve for one right-hand side: forward by dot products with the rows of
    F (four partial sums), backward by updates along them."""
    T, d, _ = B.shape
    out = B.copy()
    for t in range(T):
        F, z = factor[t], out[t, :, 0]
        for i in range(d):
            Fi = F[i]
            s0, s1, s2, s3 = z[i], 0.0, 0.0, 0.0
            j = 0
            while j + 4 <= i:
                s0 -= Fi[j] * z[j]
                s1 -= Fi[j + 1] * z[j + 1]
                s2 -= Fi[j + 2] * z[j + 2]
                s3 -= Fi[j + 3] * z[j + 3]
                j += 4
            while j < i:
                s0 -= Fi[j] * z[j]
                j += 1
            z[i] = ((s0 + s1) + (s2 + s3)) / Fi[i]
        for j in range(d - 1, -1, -1):
            Fj = F[j]
            zj = z[j] / Fj[j]
            z[j] = zj
            for i in range(j):
                z[i] -= Fj[i] * zj
    return out


@njit(cache=True, nogil=True)
def mirror_upper(A):
    """Copy the upper triangle of the square C-ordered ``A`` onto its lower one, in place,
    and return A: LAPACK's potri fills one triangle only (tiles of 64 x 64: 8 ms for
    2660 x 2660, against 50 ms for NumPy's two ``tril``)."""
    n = A.shape[0]
    for i0 in range(0, n, 64):
        for j0 in range(0, i0 + 1, 64):
            for i in range(i0, min(i0 + 64, n)):
                for j in range(j0, min(j0 + 64, i)):
                    A[i, j] = A[j, i]
    return A


@njit(cache=True, nogil=True)
def graph_system(G, L, alpha, l2):
    """The (T d) x (T d) matrix blockdiag(G_t) + L kron diag(alpha) + diag(l2) repeated
    (``alpha``, ``l2``: shape (d,)), Fortran-ordered (what potrf factorises in place):
    the transpose of the C-ordered array written row by row, each entry summed in the
    order (L_ts alpha_j + G_t[k, j]) + l2_j (33 us for T = 20, d = 10 by NumPy's
    strided views, against 7 us here)."""
    T, d, _ = G.shape
    n = T * d
    Mt = np.zeros((n, n))  # Mt[(s, j), (t, k)] = M[(t, k), (s, j)]
    for s in range(T):
        for t in range(T):
            c = L[t, s]
            if c != 0.0:
                for j in range(d):
                    Mt[s * d + j, t * d + j] = c * alpha[j]
        for i in range(d):
            for k in range(d):
                Mt[s * d + i, s * d + k] += G[s, k, i]
        for j in range(d):
            Mt[s * d + j, s * d + j] += l2[j]
    return Mt.T


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
