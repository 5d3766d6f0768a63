"""Each numba kernel against its naive NumPy twin."""

import numpy as np
import pytest
import scipy.sparse as sp

from mtreg import _jit


def naive_task_moments(X, y, task_idx, s, T, center):
    d = X.shape[1]
    wsum, xm, ym = np.zeros(T), np.zeros((T, d)), np.zeros(T)
    G, r = np.zeros((T, d, d)), np.zeros((T, d))
    for t in range(T):
        rows = task_idx == t
        Xt, yt, st = X[rows], y[rows], s[rows]
        wsum[t] = st.sum()
        if wsum[t] > 0:
            xm[t] = st @ Xt / wsum[t]
            ym[t] = st @ yt / wsum[t]
        Xc = Xt - xm[t] if center else Xt
        yc = yt - ym[t] if center else yt
        G[t] = Xc.T @ (st[:, None] * Xc)
        r[t] = Xc.T @ (st * yc)
    return wsum, xm, ym, G, r


def naive_predict_rows(X, task_idx, W, b):
    return np.array([X[i] @ W[t] + b[t] for i, t in enumerate(task_idx)])


def data(seed=0, n=50, d=4, T=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 10 + 100
    X[rng.random(X.shape) < 0.4] = 0.0
    y = rng.normal(size=n)
    task_idx = rng.integers(0, T - 1, size=n)  # task T-1 has no rows
    s = rng.uniform(0, 2, size=n)
    s[:5] = 0.0
    return X, y, task_idx.astype(np.int64), s, T


def moments_in_ranges(X, y, task_idx, s, T, center, bounds, block=128, min_rows=10**9):
    """_jit.task_moments_range over the task ranges ``bounds[k]:bounds[k + 1]``, into
    arrays full of NaN (every entry must be written)."""
    d = X.shape[1]
    order, start = _jit.group_rows(task_idx, T)
    out = tuple(np.full((T, *shape), np.nan) for shape in ((), (d,), (), (d, d), (d,)))
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        _jit.task_moments_range(X, y, s, order, start, lo, hi, center, block, min_rows, out)
    return out


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("bounds", [(0, 6), (0, 2, 5, 6), (0, 0, 3, 3, 6)])
def test_task_moments_range(center, bounds):
    """The rank-4 loop (every task below min_rows), over one or several task ranges, some
    empty; task 5 has no rows."""
    X, y, task_idx, s, T = data()
    got = moments_in_ranges(X, y, task_idx, s, T, center, bounds)
    for g, e in zip(got, naive_task_moments(X, y, task_idx, s, T, center), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize("center", [True, False])
def test_task_moments_csr(center):
    X, y, task_idx, s, T = data(1)
    Xs = sp.csr_matrix(X)
    got = _jit.task_moments_csr(
        Xs.data,
        Xs.indices.astype(np.int64),
        Xs.indptr.astype(np.int64),
        X.shape[1],
        y,
        task_idx,
        s,
        T,
        center,
    )
    for g, e in zip(got, naive_task_moments(X, y, task_idx, s, T, center), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-6)


def test_predict_rows_dense_and_csr():
    X, _, task_idx, _, T = data(2)
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(T, X.shape[1])), rng.normal(size=T)
    expected = naive_predict_rows(X, task_idx, W, b)
    np.testing.assert_allclose(_jit.predict_rows(X, task_idx, W, b), expected, rtol=1e-12)
    Xs = sp.csr_matrix(X)
    np.testing.assert_allclose(
        _jit.predict_rows_csr(
            Xs.data, Xs.indices.astype(np.int64), Xs.indptr.astype(np.int64), task_idx, W, b
        ),
        expected,
        rtol=1e-12,
    )


def naive_cholesky_solve(factor, B):
    return np.stack([np.linalg.solve(F @ F.T, b) for F, b in zip(factor, B, strict=True)])


@pytest.mark.parametrize("d", [1, 4, 9])
@pytest.mark.parametrize("k", [1, 2, 4, 5, 9])
def test_cholesky_solve(d, k):
    # d = 9: the updates four rows at a time and the rows left over; k = 1: the dot
    # products; k not a multiple of 4: the padded right-hand sides
    rng = np.random.default_rng(4)
    A = rng.normal(size=(7, d, d))
    M = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(d)
    B = rng.normal(size=(7, d, k))
    factor = np.linalg.cholesky(M)
    got = _jit.cholesky_solve(factor, B)
    assert got.shape == B.shape and got.flags.c_contiguous  # pcg multiplies by it
    np.testing.assert_allclose(got, naive_cholesky_solve(factor, B), rtol=1e-9)


def naive_mirror_upper(A):
    return np.triu(A) + np.triu(A, 1).T


@pytest.mark.parametrize("n", [1, 63, 64, 130])
def test_mirror_upper(n):
    # sizes around the 64 x 64 tiles: one tile, a full one, and partial tiles on both sides
    A = np.random.default_rng(6).normal(size=(n, n))
    expected = naive_mirror_upper(A)
    got = _jit.mirror_upper(A)
    assert got is A
    np.testing.assert_array_equal(got, expected)


def naive_largest_magnitude(values):
    return np.abs(values).max(initial=0.0)


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 11])
def test_largest_magnitude(n):
    # sizes around the four running maxima, with the largest at each position and NaN anywhere
    values = np.random.default_rng(8).normal(size=n)
    assert _jit.largest_magnitude(values) == naive_largest_magnitude(values)
    for k in range(n):
        for special in (-1e300, np.inf, -np.inf, np.nan):
            v = values.copy()
            v[k] = special
            np.testing.assert_array_equal(_jit.largest_magnitude(v), naive_largest_magnitude(v))


def naive_graph_system(G, L, alpha, l2):
    T, d, _ = G.shape
    return np.kron(L, np.diag(alpha)) + sp.block_diag(list(G)).toarray() + np.diag(np.tile(l2, T))


@pytest.mark.parametrize(("T", "d"), [(1, 1), (1, 4), (5, 1), (7, 3)])
def test_graph_system(T, d):
    rng = np.random.default_rng(7)
    A = rng.uniform(size=(T, T)) * (rng.uniform(size=(T, T)) < 0.5)
    A = A + A.T
    np.fill_diagonal(A, 0.0)
    L = np.diag(A.sum(axis=1)) - A
    X = rng.normal(size=(T, 2 * d, d))
    G = X.transpose(0, 2, 1) @ X
    G[:, 0, -1] += 0.5  # not symmetric: the kernel must take G_t itself, not its transpose
    alpha, l2 = rng.uniform(1, 2, size=d), rng.uniform(0, 1, size=d)
    got = _jit.graph_system(G, L, alpha, l2)
    assert got.flags.f_contiguous  # what potrf factorises in place
    np.testing.assert_allclose(got, naive_graph_system(G, L, alpha, l2), rtol=1e-14, atol=1e-14)


def naive_group_rows(task_idx, T):
    order = np.argsort(task_idx, kind="stable")
    return order, np.searchsorted(task_idx[order], np.arange(T + 1))


def test_group_rows():
    task_idx = np.random.default_rng(5).integers(0, 6, size=40)  # tasks 6, 7 have no rows
    for got, expected in zip(
        _jit.group_rows(task_idx, 8), naive_group_rows(task_idx, 8), strict=True
    ):
        np.testing.assert_array_equal(got, expected)


def naive_loss_gradient(X, y, task_idx, s, W, b, loss):
    f = np.einsum("ij,ij->i", X, W[task_idx]) + b[task_idx]
    if loss == _jit.SQUARED:
        value, deriv = (f - y) ** 2, 2 * (f - y)
    elif loss == _jit.LOGISTIC:
        value, deriv = np.log1p(np.exp(-y * f)), -y / (1 + np.exp(y * f))
    else:
        gap = np.maximum(1 - y * f, 0)
        value, deriv = gap**2, -2 * y * gap
    gW = np.zeros_like(W)
    np.add.at(gW, task_idx, (s * deriv)[:, None] * X)
    return s @ value, gW, np.bincount(task_idx, weights=s * deriv, minlength=len(b))


@pytest.mark.parametrize("loss", [_jit.SQUARED, _jit.LOGISTIC, _jit.SQUARED_HINGE])
def test_loss_gradient_dense_and_csr(loss):
    X, _, task_idx, s, T = data(6)
    X = X / 100
    rng = np.random.default_rng(7)
    y = np.sign(rng.normal(size=len(task_idx)))
    W, b = rng.normal(size=(T, X.shape[1])), rng.normal(size=T)
    expected = naive_loss_gradient(X, y, task_idx, s, W, b, loss)
    Xs = sp.csr_matrix(X)
    for got in [
        _jit.loss_gradient(X, y, task_idx, s, W, b, loss),
        _jit.loss_gradient_csr(
            Xs.data,
            Xs.indices.astype(np.int64),
            Xs.indptr.astype(np.int64),
            y,
            task_idx,
            s,
            W,
            b,
            loss,
        ),
    ]:
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def naive_task_means(X, task_idx, s, T):
    wsum = np.bincount(task_idx, weights=s, minlength=T)
    sums = np.array([s[task_idx == t] @ X[task_idx == t] for t in range(T)])
    return wsum, sums / np.where(wsum > 0, wsum, 1)[:, None]


def test_task_means():
    X, _, task_idx, s, T = data(3)
    for got, expected in zip(
        _jit.task_means(X, task_idx, s, T), naive_task_means(X, task_idx, s, T), strict=True
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def naive_loss_hessian(X, y, task_idx, s, W, b, shift, loss):
    """Value, gradient and Hessian blocks of sum_i s_i loss(y_i, (x_i - m_t) w_t + b_t),
    the second derivative written out per loss."""
    Z = X - shift[task_idx]
    f = np.einsum("ij,ij->i", Z, W[task_idx]) + b[task_idx]
    if loss == _jit.SQUARED:
        value, d1, d2 = (f - y) ** 2, 2 * (f - y), np.full_like(f, 2.0)
    elif loss == _jit.LOGISTIC:
        p = 1 / (1 + np.exp(-y * f))  # probability of the observed class
        value, d1, d2 = np.log1p(np.exp(-y * f)), -y * (1 - p), p * (1 - p)
    else:
        gap = np.maximum(1 - y * f, 0)
        value, d1, d2 = gap**2, -2 * y * gap, 2.0 * (gap > 0)
    T, d = W.shape
    gW, hz, H = np.zeros((T, d)), np.zeros((T, d)), np.zeros((T, d, d))
    np.add.at(gW, task_idx, (s * d1)[:, None] * Z)
    np.add.at(hz, task_idx, (s * d2)[:, None] * Z)
    np.add.at(H, task_idx, (s * d2)[:, None, None] * Z[:, :, None] * Z[:, None, :])
    return (
        s @ value,
        gW,
        np.bincount(task_idx, weights=s * d1, minlength=T),
        np.bincount(task_idx, weights=s * d2, minlength=T),
        hz,
        H,
    )


@pytest.mark.parametrize("loss", [_jit.SQUARED, _jit.LOGISTIC, _jit.SQUARED_HINGE])
def test_loss_hessian_dense_and_csr(loss):
    X, _, task_idx, s, T = data(8, n=61)  # tasks of 1 to 4 (mod 4) rows, one without rows
    X = X / 100
    rng = np.random.default_rng(9)
    y = np.sign(rng.normal(size=len(task_idx)))
    W, b = rng.normal(size=(T, X.shape[1])), rng.normal(size=T)
    shift = rng.normal(size=W.shape)
    order, start = _jit.group_rows(task_idx, T)
    Xo, yo, so = X[order], y[order], s[order]
    got = _jit.loss_hessian(Xo, yo, so, start, W, b, shift, loss)
    expected = naive_loss_hessian(X, y, task_idx, s, W, b, shift, loss)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    # CSR: the sums about zero, with the intercepts of the uncentred rows
    Xs = sp.csr_matrix(Xo)
    b_raw = b - np.einsum("td,td->t", shift, W)
    got = _jit.loss_hessian_csr(
        Xs.data,
        Xs.indices.astype(np.int64),
        Xs.indptr.astype(np.int64),
        yo,
        so,
        start,
        W,
        b_raw,
        loss,
    )
    expected = naive_loss_hessian(X, y, task_idx, s, W, b_raw, np.zeros_like(W), loss)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def naive_eigh_rows(A):
    values, vectors = np.linalg.eigh(A)  # reads the lower triangles
    return values, vectors.transpose(0, 2, 1)


def test_eigh_rows():
    rng = np.random.default_rng(8)
    scale = np.r_[np.ones(13), 100.0 * np.ones(14)]  # unscaled features, as in school
    Z = rng.normal(size=(6, 40, 27)) * scale
    A = Z.transpose(0, 2, 1) @ Z
    Z = rng.normal(size=(2, 9, 27)) * scale  # rank 9: a cluster of zero eigenvalues
    A = np.concatenate([A, Z.transpose(0, 2, 1) @ Z, np.zeros((1, 27, 27)), np.eye(27)[None] * 3.0])
    A[0][np.triu_indices(27, 1)] += 1.0  # only the lower triangle is read
    lower = np.tril(A) + np.tril(A, -1).transpose(0, 2, 1)
    values, vectors, failed = _jit.eigh_rows(A)
    expected, expected_vectors = naive_eigh_rows(A)
    assert failed == 0
    size = np.abs(expected).max(axis=1, keepdims=True) + 1.0
    np.testing.assert_allclose(values / size, expected / size, rtol=0, atol=1e-14)
    np.testing.assert_allclose(
        vectors @ vectors.transpose(0, 2, 1), np.broadcast_to(np.eye(27), A.shape), atol=1e-13
    )
    rebuilt = np.einsum("tki,tk,tkj->tij", vectors, values, vectors)
    np.testing.assert_allclose(rebuilt / size[:, :, None], lower / size[:, :, None], atol=1e-14)
    # well-separated eigenvalues: the same eigenvectors up to sign
    overlap = np.abs(np.einsum("tkd,tkd->tk", vectors[:6], expected_vectors[:6]))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-8)


def test_eigh_rows_small_and_non_finite():
    for d in (1, 2, 3):
        A = np.random.default_rng(d).normal(size=(4, d, d))
        A = A + A.transpose(0, 2, 1)
        values, vectors, failed = _jit.eigh_rows(A)
        assert failed == 0
        np.testing.assert_allclose(values, naive_eigh_rows(A)[0], atol=1e-14)
        np.testing.assert_allclose(
            np.einsum("tki,tk,tkj->tij", vectors, values, vectors), A, atol=1e-14
        )
    A = np.ones((3, 4, 4))
    A[1, 2, 1] = np.nan
    assert _jit.eigh_rows(A)[2] >= 1  # reported, not an endless loop


def naive_upper_outer_products(V, start, stop):
    i, j = np.triu_indices(V.shape[0])
    return V[i, start:stop] * V[j, start:stop]


def test_upper_outer_products():
    V = np.random.default_rng(9).normal(size=(5, 11))
    for start, stop in [(0, 11), (3, 8), (4, 4)]:
        np.testing.assert_array_equal(
            _jit.upper_outer_products(V, start, stop), naive_upper_outer_products(V, start, stop)
        )


def naive_shifted_inverses(g, r, shift, rho_shift):
    inv = 1.0 / (g + shift[:, None, None])
    return inv, r * inv, (g + rho_shift[:, None, None]) * inv


def test_shifted_inverses():
    rng = np.random.default_rng(11)
    g, r = rng.uniform(0, 5, size=(2, 4, 3))
    shift, rho_shift = rng.uniform(0.1, 2, size=(2, 5))
    for got, expected in zip(
        _jit.shifted_inverses(g, r, shift, rho_shift),
        naive_shifted_inverses(g, r, shift, rho_shift),
        strict=True,
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_the_package_reexports_every_kernel():
    # callers use ``_jit.name``: a kernel added to a submodule but not re-exported, or
    # re-exported from another submodule under the same name, would be missed
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(_jit.__path__):
        module = importlib.import_module(f"{_jit.__name__}.{info.name}")
        public = {
            name: obj
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and getattr(obj, "__module__", None) == module.__name__
            or name.isupper()
        }
        assert public, info.name
        for name, obj in public.items():
            assert name in _jit.__all__, f"{info.name}.{name} is not re-exported"
            assert getattr(_jit, name) is obj, name


def naive_sparse_order_matmul(A, W):
    return np.asarray(sp.csr_matrix(A) @ W)


@pytest.mark.parametrize("seed", range(4))
def test_sparse_order_matmul_equals_the_csr_product_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    T, k = int(rng.integers(1, 30)), int(rng.integers(1, 12))
    A = (rng.random((T, T)) < 0.3) * rng.uniform(1e-3, 1e3, (T, T))
    W = rng.normal(size=(T, k)) * 10.0 ** rng.integers(-8, 8, (T, k))
    got = _jit.sparse_order_matmul(A, W)
    np.testing.assert_array_equal(got, naive_sparse_order_matmul(A, W))
    assert got.shape == (T, k)


def test_combine_grams():
    """The merge (sign 1) and the downdate (sign -1) of centred Gram matrices."""
    rng = np.random.default_rng(10)
    ga, gb = rng.normal(size=(2, 5, 3, 3))
    factor, dx = rng.uniform(0, 3, size=5), rng.normal(size=(5, 3))
    factor[1] = 0.0  # a task without rows on one side
    outer = factor[:, None, None] * dx[:, :, None] * dx[:, None, :]
    for sign, expected in ((1.0, ga + gb + outer), (-1.0, ga - gb - outer)):
        got = _jit.combine_grams(ga, gb, sign, factor, dx, np.empty_like(ga))
        np.testing.assert_allclose(got, expected, rtol=1e-14)
        in_place = ga.copy()  # out may be gram_a itself
        _jit.combine_grams(in_place, gb, sign, factor, dx, in_place)
        np.testing.assert_array_equal(in_place, got)
