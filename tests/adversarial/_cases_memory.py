"""Memory blow-ups (issue 12 section 2): memory follows the data, or a MemoryError names
the size and the way out before anything large is allocated."""

import tracemalloc

import numpy as np
import scipy.sparse as sp
from scipy.linalg import solve_banded
from sklearn.linear_model import Ridge

from adversarial import Case
from mtreg import MultiTaskGraphRegressor

PEAK_LIMIT = 300 * 2**20  # bytes a case may trace at its peak


def _wide_sparse():
    X = sp.random(200, 20_000, density=1e-3, random_state=0, format="csr")
    return X, np.random.default_rng(0).normal(size=200)


def _fit_wide_sparse():
    X, y = _wide_sparse()
    tracemalloc.start()
    try:
        # tol: the default 1e-10 is at the rounding floor of lbfgs here (it warns so)
        est = MultiTaskGraphRegressor(tol=1e-8).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return est, peak


def _matches_ridge(result):
    est, peak = result
    assert est.solver_ == "lbfgs", est.solver_
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB"
    X, y = _wide_sparse()
    ref = Ridge(alpha=1.0, solver="lsqr", tol=1e-12).fit(X, y)  # one task: plain ridge
    np.testing.assert_allclose(est.coef_[0], ref.coef_, atol=1e-6)
    np.testing.assert_allclose(est.intercept_[0], ref.intercept_, atol=1e-6)


def _multi_output_l1():
    X = np.random.default_rng(0).normal(size=(20_000, 300))  # 48 MB
    Y = np.zeros((20_000, 200))
    return MultiTaskGraphRegressor(l1=0.1).fit(X, Y)


CASES = [
    Case(
        "sparse-wide-X-auto-solver",
        _fit_wide_sparse,
        check=_matches_ridge,
        fails_on="numba 'Allocation failed' (the default solver formed d x d moments)",
    ),
    Case(
        "sparse-wide-X-cholesky-memory-error",
        lambda: MultiTaskGraphRegressor(solver="cholesky").fit(*_wide_sparse()),
        raises=MemoryError,
        match=r"6\.0 GiB.*solver='lbfgs'",
    ),
    Case(
        "multi-output-l1-tile-memory-error",
        _multi_output_l1,
        raises=MemoryError,
        match=r"GiB.*l1=0",
        fails_on="tiled X per task: 3.6 GB for 48 MB of data",
    ),
]


# --- graph="knn" and "similarity" over many tasks -------------------------------------------


def _rows_per_task(T, d=2, rows=3, seed=0):
    r = np.random.default_rng(seed)
    X = r.normal(size=(rows * T, d))
    t = np.repeat(np.arange(T), rows)
    y = X @ np.arange(1.0, d + 1) + r.normal(size=rows * T)
    return X, y, t


def _ridge_per_task(X, y, t, T, l2=1.0):
    """Independent per-task ridge with an intercept (the 'coef' descriptors), by hand."""
    count = np.bincount(t, minlength=T)[:, None]
    Xc = X - (np.add.at(z := np.zeros((T, X.shape[1])), t, X) or z / count)[t]
    yc = y - (np.bincount(t, weights=y, minlength=T) / count[:, 0])[t]
    G = np.zeros((T, X.shape[1], X.shape[1]))
    np.add.at(G, t, Xc[:, :, None] * Xc[:, None, :])
    r = np.zeros((T, X.shape[1]))
    np.add.at(r, t, Xc * yc[:, None])
    return np.linalg.solve(G + l2 * np.eye(X.shape[1]), r[:, :, None])[:, :, 0]


def _naive_knn(P, k, order_key):
    """Directed k nearest by (distance, index) from a full distance matrix."""
    D = order_key(P)
    np.fill_diagonal(D, np.inf)
    index = np.broadcast_to(np.arange(len(P)), D.shape)
    return np.lexsort((index, D), axis=1)[:, :k]


def _knn_dense_and_sparse():
    from mtreg.relations import graph_from_data, similarity_graph, task_similarity

    X, y, t = _rows_per_task(30, d=3)
    for a, b in [(5, 3), (7, 3), (12, 11)]:  # duplicated tasks: exact ties at distance 0
        X[t == a], y[t == a] = X[t == b], y[t == b]
    tasks = np.arange(34)  # tasks 30-33 have no rows
    out = []
    for mode in ("symmetric", "mutual"):
        for k in (1, 3, 5):
            sparse = graph_from_data("knn", X, y, t, tasks=tasks, n_neighbors=k, mode=mode)
            S = task_similarity(X, y, t, tasks=tasks)
            dense = similarity_graph(S, method="knn", n_neighbors=k, mode=mode)
            out.append((mode, k, sparse, dense))
    return out, (X, y, t)


def _knn_paths_agree(result):
    from scipy.spatial.distance import cdist

    graphs, (X, y, t) = result
    P = _ridge_per_task(X, y, t, 30)
    D = cdist(P, P)
    sigma = np.median(D[~np.eye(30, dtype=bool)])
    for mode, k, sparse, dense in graphs:
        assert sp.issparse(sparse)
        # exactly the dense path: same edges, same weights
        assert (sparse != dense).nnz == 0, (mode, k)
        # and an independent reference: k nearest by (distance, index), weights exp(-D^2/2s^2)
        near = _naive_knn(P, k, lambda P: cdist(P, P))
        C = np.zeros((34, 34))
        C[np.repeat(np.arange(30), k), near.ravel()] = 1
        C = np.maximum(C, C.T) if mode == "symmetric" else np.minimum(C, C.T)
        ref = C.copy()
        ref[:30, :30] *= np.exp(-(D**2) / (2 * sigma**2))
        np.testing.assert_array_equal(sparse.toarray() > 0, ref > 0)
        np.testing.assert_allclose(sparse.toarray(), ref, rtol=1e-8, atol=0)


def _knn_grid_ties():
    from mtreg.relations import knn_graph

    P = np.array([[i, j] for i in range(12) for j in range(9)], dtype=float)
    P = P[np.random.default_rng(0).permutation(len(P))]  # ties everywhere, in any order
    return P, [(k, knn_graph(P, n_neighbors=k, mode="mutual")) for k in (1, 2, 4, 7)]


def _grid_ties_by_index(result):
    P, graphs = result
    for k, A in graphs:
        # squared distances of integer points are exact integers: no rounding decides
        near = _naive_knn(P, k, lambda P: ((P[:, None] - P[None]) ** 2).sum(-1))
        C = np.zeros((len(P), len(P)))
        C[np.repeat(np.arange(len(P)), k), near.ravel()] = 1
        np.testing.assert_array_equal(A.toarray(), np.minimum(C, C.T), err_msg=f"k={k}")


def _knn_many_tasks():
    T, k = 10_000, 5
    X, y, t = _rows_per_task(T)
    tracemalloc.start()
    try:
        est = MultiTaskGraphRegressor(
            graph="knn", graph_params={"sigma": 1.0, "n_neighbors": k}, tol=1e-12
        ).fit(X, y, task_ids=t)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return est, peak, (X, y, t)


def _knn_many_tasks_sparse_and_right(result):
    est, peak, (X, y, t) = result
    T = len(est.tasks_)
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB"
    assert est.solver_ == "pcg", est.solver_
    A = est.adjacency_
    assert sp.issparse(A) and A.nnz <= 2 * 5 * T
    # the k nearest tasks of some tasks, by brute force over independent ridge coefficients
    P = _ridge_per_task(X, y, t, T)
    for s in np.random.default_rng(1).choice(T, 30, replace=False):
        d = np.sqrt(((P - P[s]) ** 2).sum(axis=1))
        d[s] = np.inf
        near = np.lexsort((np.arange(T), d))[:5]
        np.testing.assert_allclose(A[s, near].toarray().ravel(), np.exp(-(d[near] ** 2) / 2))
    # the fit is the optimum on that sparse graph: the gradient of J vanishes
    W, b = est.coef_, est.intercept_
    r = np.einsum("id,id->i", X, W[t]) + b[t] - y
    L = sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A
    grad = np.zeros_like(W)
    np.add.at(grad, t, X * r[:, None])
    grad = 2 * grad + 2 * est.alpha * (L @ W) + 2 * est.l2 * W
    assert np.abs(grad).max() < 1e-6 * max(np.abs(X).max() * np.abs(y).max(), 1), grad


# --- multitask kernels over many tasks ------------------------------------------------------


def _task_kernel_paths():
    from mtreg._graph_input import make_task_graph
    from mtreg._solvers._kernel import TaskKernel

    T, r = 40, np.random.default_rng(0)
    chain = sp.diags([np.ones(T - 1), np.ones(T - 1)], [-1, 1], format="csr")
    rand = sp.random(T, T, density=0.1, random_state=0, format="csr")
    rand = sp.csr_matrix(rand + rand.T - sp.diags((rand + rand.T).diagonal()))
    out = []
    for graph, lap in [(None, "unnormalized"), ("none", "unnormalized"), (chain, "unnormalized")]:
        out.append((graph, lap))
    out.append((rand, "normalized"))
    rows, cols = r.integers(0, T + 1, 25), r.integers(0, T, 15)  # row T: the population task
    results = []
    for graph, lap in out:
        g = make_task_graph(graph, np.arange(T), laplacian=lap)
        tk = TaskKernel(g, 0.7, 0.3, dense=False)
        results.append((graph, lap, tk.block(rows, cols, 0.5), tk._lu is None))
    return results, rows, cols


def _task_kernel_paths_exact(result):
    results, rows, cols = result
    T = 40
    for graph, lap, block, closed_form in results:
        if graph is None:
            A = (np.ones((T, T)) - np.eye(T)) / T
        elif isinstance(graph, str):
            A = np.zeros((T, T))
        else:
            A = graph.toarray()
        deg = A.sum(axis=1)
        L = np.diag(deg) - A
        if lap == "normalized":
            root = np.where(deg > 0, 1 / np.sqrt(np.where(deg > 0, deg, 1)), 0)
            L = np.diag((deg > 0) * 1.0) - root[:, None] * A * root
        inv = np.linalg.inv(0.7 * L + 0.3 * np.eye(T))
        ref = np.vstack([inv, 0.5 * inv.mean(axis=0)])[np.ix_(rows, cols)]
        np.testing.assert_allclose(block, ref, rtol=0, atol=1e-12 * np.abs(inv).max())
        assert closed_form == (not sp.issparse(graph))


def _named_tasks_kernel_ridge():
    from mtreg import MultiTaskKernelRidge, multitask_kernel

    T, r = 100_000, np.random.default_rng(0)
    X, t, y = r.normal(size=(20, 3)), r.choice(T, 20, replace=False), r.normal(size=20)
    chain = sp.diags([np.ones(T - 1), np.ones(T - 1)], [-1, 1], format="csr")
    new_tasks = np.array([0, 5, T - 1])
    out = []
    tracemalloc.start()
    try:
        for graph in (None, chain):
            est = MultiTaskKernelRidge(graph=graph, tasks=np.arange(T), kernel="linear")
            est.fit(X, y, task_ids=t)
            K = multitask_kernel(X, t, graph=graph, tasks=np.arange(T), kernel="linear")
            pred = est.predict(np.vstack([X, X[:3]]), task_ids=np.r_[t, new_tasks])
            out.append((graph, pred[:20], pred[20:], K))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return out, peak, (X, t, y, new_tasks)


def _kernel_ridge_is_graph_ridge(result):
    out, peak, (X, t, y, new_tasks) = result
    T = 100_000
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB"
    (graph, fitted, new, K) = out[0]
    # complete graph, weight 1/T: inv(E) = I / (alpha + l2) + alpha / (T (alpha + l2) l2) 11^T
    closed = np.eye(20) / 2.0 + 1.0 / (T * 2.0) * np.ones((20, 20))
    same = t[:, None] == t[None, :]
    np.testing.assert_allclose(K, (X @ X.T) * np.where(same, 0.5, 0) + (X @ X.T) / (2 * T))
    np.testing.assert_allclose(K, (X @ X.T) * closed, rtol=1e-12)
    # DESIGN section 1: with k linear, the primal model without intercept (Woodbury, not
    # the kernel code) predicts the same
    ref = MultiTaskGraphRegressor(tasks=np.arange(T), fit_intercept=False).fit(X, y, task_ids=t)
    np.testing.assert_allclose(fitted, ref.predict(X, task_ids=t), atol=1e-10)
    np.testing.assert_allclose(new, ref.predict(X[:3], task_ids=new_tasks), atol=1e-10)
    # chain graph: E = alpha L + l2 I is tridiagonal; its columns by a banded LAPACK solve
    graph, fitted, new, K = out[1]
    deg = np.full(T, 2.0)
    deg[[0, -1]] = 1.0
    bands = np.vstack([np.r_[0.0, -np.ones(T - 1)], deg + 1.0, np.r_[-np.ones(T - 1), 0.0]])
    cols = np.r_[t, new_tasks]
    rhs = np.zeros((T, len(cols)))
    rhs[cols, np.arange(len(cols))] = 1.0
    inv = solve_banded((1, 1), bands, rhs)[cols]  # inv(E)[cols][:, cols], alpha = l2 = 1
    Kx = X @ X.T
    np.testing.assert_allclose(K, Kx * inv[:20, :20], rtol=1e-12, atol=1e-15)
    c = np.linalg.solve(Kx * inv[:20, :20] + np.eye(20), y)
    np.testing.assert_allclose(fitted, (Kx * inv[:20, :20]) @ c, atol=1e-12)
    np.testing.assert_allclose(new, (X[:3] @ X.T * inv[20:, :20]) @ c, atol=1e-12)


def _multi_output_many_tasks_kernel():
    from mtreg import MultiTaskKernelRidge

    Y = np.random.default_rng(0).normal(size=(5, 20_000))
    return MultiTaskKernelRidge(kernel="linear").fit(np.eye(5), Y)


def _similarity_many_tasks():
    X, y, t = _rows_per_task(20_000)
    return MultiTaskGraphRegressor(graph="similarity").fit(X, y, task_ids=t)


CASES += [
    Case(
        "knn-sparse-path-equals-dense-path-with-ties",
        _knn_dense_and_sparse,
        check=_knn_paths_agree,
        fails_on="graph='knn' built the dense T x T similarity matrix",
    ),
    Case(
        "knn-ties-broken-by-index",
        _knn_grid_ties,
        check=_grid_ties_by_index,
        fails_on="ties broken as NearestNeighbors happened to order them",
    ),
    Case(
        "knn-10000-tasks-sparse-pcg",
        _knn_many_tasks,
        check=_knn_many_tasks_sparse_and_right,
        fails_on="a dense T x T similarity (74.5 GiB at 1e5 tasks)",
    ),
    Case(
        "similarity-graph-many-tasks-memory-error",
        _similarity_many_tasks,
        raises=MemoryError,
        match=r"20000 x 20000.*GiB.*graph='knn'",
        fails_on="allocated the dense T x T similarity",
    ),
    Case(
        "task-kernel-sparse-and-closed-forms-exact",
        _task_kernel_paths,
        check=_task_kernel_paths_exact,
    ),
    Case(
        "kernel-ridge-1e5-named-tasks-20-rows",
        _named_tasks_kernel_ridge,
        check=_kernel_ridge_is_graph_ridge,
        fails_on="inv(alpha L + l2 I) formed as a dense 1e5 x 1e5 array",
    ),
    Case(
        "kernel-ridge-multi-output-many-tasks-memory-error",
        _multi_output_many_tasks_kernel,
        raises=MemoryError,
        match=r"20000 x 20000.*GiB.*task_ids",
    ),
]
