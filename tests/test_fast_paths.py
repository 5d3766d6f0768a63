"""The fast paths of small fits (issue 16) give the answers and the errors of the general
paths: integer task ids by counting, plain finite arrays past check_array, parameter
validation remembered, the graph's components once, LAPACK called directly, the per-task
moments on BLAS."""

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import dense_solve
from scipy.sparse.csgraph import connected_components
from test_jit import data, moments_in_ranges, naive_task_moments

from mtreg import MultiTaskGraphRegressor, _jit
from mtreg._graph import TaskGraph
from mtreg._labels import _small_int_labels, unique_labels
from mtreg._tasks import BLAS_MOMENT_FEATURES, task_stats


def _problem(seed=0, n=120, d=3, T=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    t = rng.integers(0, T, n)
    y = X @ rng.normal(size=d) + t + rng.normal(size=n)
    A = np.zeros((T, T))
    for a in range(T - 1):
        A[a, a + 1] = A[a + 1, a] = 1.0
    return X, y, t, A


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64])
@pytest.mark.parametrize("offset", ["zero", "low", "high"])
def test_small_int_labels_equal_np_unique(dtype, offset):
    info = np.iinfo(dtype)
    base = {"zero": 0, "low": int(info.min), "high": int(info.max) - 30}[offset]
    rng = np.random.default_rng(3)
    labels = np.array([base + int(v) for v in rng.integers(0, 31, 200)]).astype(dtype)
    uniq, inverse = _small_int_labels(labels)
    ref_uniq, ref_inverse = np.unique(labels, return_inverse=True)
    assert uniq.dtype == ref_uniq.dtype and inverse.dtype == ref_inverse.dtype
    np.testing.assert_array_equal(uniq, ref_uniq)
    np.testing.assert_array_equal(inverse, ref_inverse)


def test_spread_int_labels_take_the_general_path():
    labels = np.array([0, 10**12, 5, 0])
    assert _small_int_labels(labels) is None
    uniq, inverse = unique_labels(labels)
    np.testing.assert_array_equal(uniq, [0, 5, 10**12])
    np.testing.assert_array_equal(inverse, [0, 2, 1, 0])


@pytest.mark.parametrize(
    "labels",
    [
        lambda t: t,  # 0..T-1, the fast path
        lambda t: t + 7,  # offset labels
        lambda t: 3 - 2 * t,  # negative, unsorted order
        lambda t: t.astype(np.uint8),
        lambda t: t * 10**12,  # spread: sorting
        lambda t: np.array([f"task{k}" for k in t]),  # strings
        lambda t: list(t),  # a list of ints
    ],
)
def test_labels_of_any_kind_give_the_dense_solution(labels):
    X, y, t, A = _problem()
    ids = labels(t)
    est = MultiTaskGraphRegressor(A, alpha=1.0, l2=0.5).fit(X, y, task_ids=ids)
    # the rows of A follow the sorted labels: task position k is the k-th smallest label
    positions = np.searchsorted(est.tasks_, np.asarray(ids))
    W, b = dense_solve(X, y, positions, 5, A, 1.0, 0.5)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-10, atol=1e-12)


def test_fast_and_general_paths_agree_to_the_bit():
    """A plain float64 array (fast validation) and the same data as lists (check_array),
    integer ids 0..T-1 (counting) and the same ids as strings (sorting)."""
    X, y, t, A = _problem(1)
    w = np.random.default_rng(0).uniform(0, 2, len(y))
    for kwargs in ({}, {"sample_weight": w}):
        fast = MultiTaskGraphRegressor(A, alpha=1.0, l2=0.5).fit(X, y, task_ids=t, **kwargs)
        general = MultiTaskGraphRegressor(A, alpha=1.0, l2=0.5).fit(
            X.tolist(), y.tolist(), task_ids=[f"{k}" for k in t], **kwargs
        )
        np.testing.assert_array_equal(fast.coef_, general.coef_)
        np.testing.assert_array_equal(fast.intercept_, general.intercept_)


def test_float32_and_tasks_without_rows():
    X, y, t, A = _problem(2)
    t = np.where(t == 2, 3, t)  # task 2 has no rows
    est = MultiTaskGraphRegressor(A, alpha=1.0, l2=0.5, tasks=[0, 1, 2, 3, 4])
    est.fit(X.astype(np.float32), y, task_ids=t)
    assert est.coef_.dtype == np.float32
    W, b = dense_solve(X.astype(np.float32).astype(float), y, t, 5, A, 1.0, 0.5)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-5)


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 4, np.nan, X), y), "NaN"),
        (
            lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 4, np.inf, X), y),
            "infinity",
        ),
        (lambda X, y: (X, np.where(np.arange(y.size) == 3, np.nan, y)), "NaN"),
        (lambda X, y: (X[:, 0], y), "Expected 2D array"),
        (lambda X, y: (X[:0], y[:0]), "0 sample"),
        (lambda X, y: (X[:, :0], y), "0 feature"),
    ],
)
def test_bad_arrays_get_the_errors_of_check_array(change, words):
    X, y, t, A = _problem()
    Xb, yb = change(X, y)
    est = MultiTaskGraphRegressor(A)
    with pytest.raises(ValueError, match=words):
        est.fit(Xb, yb, task_ids=t[: len(yb)])


def test_fast_validation_drops_feature_names_of_an_earlier_frame_fit():
    pd = pytest.importorskip("pandas")
    X, y, t, A = _problem()
    est = MultiTaskGraphRegressor(A).fit(pd.DataFrame(X, columns=["a", "b", "c"]), y, task_ids=t)
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    est.fit(X, y, task_ids=t)
    assert not hasattr(est, "feature_names_in_") and est.n_features_in_ == 3


def test_remembered_parameter_validation_still_refuses_bad_values():
    X, y, t, A = _problem()
    est = MultiTaskGraphRegressor(A, max_iter=5).fit(X, y, task_ids=t)
    est.fit(X, y, task_ids=t)  # remembered
    with pytest.raises(ValueError, match="max_iter"):
        est.set_params(max_iter=True).fit(X, y, task_ids=t)  # a bool equals 1 but is refused
    with pytest.raises(ValueError, match="alpha"):
        est.set_params(max_iter=5, alpha=-1.0).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="alpha"):
        est.fit(X, y, task_ids=t)  # a failure is not remembered
    alpha = np.ones(3)
    est.set_params(alpha=alpha).fit(X, y, task_ids=t)
    alpha[0] = -1.0  # arrays are checked every time
    with pytest.raises(ValueError, match="alpha"):
        est.fit(X, y, task_ids=t)


def _random_graph(rng, T, p, sparse):
    A = (rng.random((T, T)) < p) * rng.uniform(0.5, 2, (T, T))
    A[rng.random((T, T)) < 0.5] = 0.0  # some pairs one-sided: the union is the edge
    np.fill_diagonal(A, 0.0)
    return sp.csr_matrix(A) if sparse else A


@pytest.mark.parametrize("seed", range(6))
def test_dense_components_equal_scipy(seed):
    rng = np.random.default_rng(seed)
    A = _random_graph(rng, int(rng.integers(1, 40)), 0.06, sparse=False)
    got = _jit.dense_components(A)
    expected = connected_components(sp.csr_matrix(A), directed=False)[1]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("sparse", [False, True])
def test_components_cached_per_adjacency(sparse):
    rng = np.random.default_rng(1)
    A = _random_graph(rng, 12, 0.1, sparse)
    A = A.maximum(A.T) if sparse else np.maximum(A, A.T)
    graph = TaskGraph(np.arange(12), A)
    first = graph.components()
    assert graph.components() is first and not first.flags.writeable
    expected = connected_components(sp.csr_matrix(A), directed=False)[1]
    np.testing.assert_array_equal(first, expected)
    graph.adjacency = sp.csr_matrix((12, 12)) if sparse else np.zeros((12, 12))
    np.testing.assert_array_equal(graph.components(), np.arange(12))  # a new adjacency


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("d", [BLAS_MOMENT_FEATURES, 21])
def test_task_moments_on_blas(center, d):
    """Weighted rows, unsorted tasks, rows of weight 0, a task without rows, and tasks of
    more rows than a block, over two task ranges."""
    X, y, task_idx, s, T = data(4, n=700, d=d)
    for block, min_rows in ((1, 0), (5, 0), (128, 0), (128, 130)):  # 130: some on the loop
        got = moments_in_ranges(X, y, task_idx, s, T, center, (0, 3, T), block, min_rows)
        for g, e in zip(got, naive_task_moments(X, y, task_idx, s, T, center), strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("d", [3, BLAS_MOMENT_FEATURES])
@pytest.mark.parametrize("threads", [1, 2])
def test_task_stats_on_threads_equal_one_range(d, threads, monkeypatch):
    """task_stats, its tasks split in ranges on mtreg's threads (or not), gives the sums
    of one range of every task, to the bit: each task's sums are made by one thread in
    the same order; float32 rows are read as float64."""
    from threadpoolctl import threadpool_limits

    import mtreg._tasks

    monkeypatch.setattr(mtreg._tasks, "MOMENTS_PER_THREAD", 1)  # split even this problem
    X, y, task_idx, s, T = data(5, n=300, d=d)
    min_rows = 64 if d >= BLAS_MOMENT_FEATURES else 10**9
    for rows in (X, X.astype(np.float32)):
        ref = moments_in_ranges(rows.astype(float), y, task_idx, s, T, True, (0, T), 128, min_rows)
        with threadpool_limits(threads):
            stats = task_stats(rows, y, task_idx, s, T, True)
        for name, value in zip(("weight_sum", "x_mean", "y_mean", "gram", "xty"), ref, strict=True):
            np.testing.assert_array_equal(getattr(stats, name), value)


def test_later_calls_keep_the_width_and_name_checks():
    """predict and later partial_fit chunks take the fast path only for the fitted width
    of a model fitted without feature names: the others get sklearn's error or warning."""
    X, y, t, A = _problem()
    est = MultiTaskGraphRegressor(A).fit(X, y, task_ids=t)
    np.testing.assert_array_equal(
        est.predict(X, task_ids=t), est.predict(X.tolist(), task_ids=list(t))
    )
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :2], task_ids=t)
    stream = MultiTaskGraphRegressor(A).partial_fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="features"):
        stream.partial_fit(X[:, :2], y, task_ids=t)
    pd = pytest.importorskip("pandas")
    named = MultiTaskGraphRegressor(A).fit(pd.DataFrame(X, columns=list("abc")), y, task_ids=t)
    with pytest.warns(UserWarning, match="feature names"):
        named.predict(X, task_ids=t)


def test_trivial_scaling_copies_nothing():
    from mtreg._solvers._scaling import Scaling, data_scaling

    X, y, t, A = _problem()
    s = np.ones(len(y))
    assert all(a is b for a, b in zip(Scaling().rows(X, y, s), (X, y, s), strict=True))
    big = data_scaling(X * 2.0**200, y, s, squared=True)  # still scaled when it must be
    np.testing.assert_array_equal(big.rows(X * 2.0**200, y, s)[0], X * 2.0 ** (200 - big.ex))


def test_finite_data_whose_sum_overflows_fit_without_a_warning():
    """The fast finiteness test sums X: float32 entries of 1e35 overflow that sum although
    every entry is finite. Such X must take sklearn's check (no RuntimeWarning, which the
    suite's filterwarnings turns into an error) and fit as the same data in float64."""
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, size=(200, 3)) * 1e35
    t = np.repeat(np.arange(4), 50)
    y = X @ [1e-35, -2e-35, 0.5e-35] + rng.normal(size=200)
    fit32 = MultiTaskGraphRegressor().fit(X.astype(np.float32), y, task_ids=t)
    fit64 = MultiTaskGraphRegressor().fit(X.astype(np.float32).astype(np.float64), y, task_ids=t)
    np.testing.assert_allclose(fit32.coef_, fit64.coef_, rtol=1e-4)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64, np.uint64])
@pytest.mark.parametrize("gap", [False, True])
def test_labels_from_zero_equal_np_unique_and_leave_the_input_alone(dtype, gap):
    """0..T-1 all present (each label its own position) or with a gap (counting)."""
    labels = np.random.default_rng(4).integers(0, 12, 300)
    labels = np.where(labels == 5, 6, labels) if gap else labels
    labels = labels.astype(dtype)
    before = labels.copy()
    uniq, inverse = _small_int_labels(labels)
    ref_uniq, ref_inverse = np.unique(labels, return_inverse=True)
    assert uniq.dtype == ref_uniq.dtype and inverse.dtype == ref_inverse.dtype
    np.testing.assert_array_equal(uniq, ref_uniq)
    np.testing.assert_array_equal(inverse, ref_inverse)
    assert not np.shares_memory(inverse, labels)
    inverse[:] = 0
    np.testing.assert_array_equal(labels, before)


def test_small_sparse_graph_keeps_its_csr_and_the_sparse_answer():
    """A small CSR graph is solved on its dense copy: the same bits as the dense graph's
    fit and as the sparse products; adjacency_ stays CSR and equals the input."""
    X, y, t, A = _problem(3, T=6)
    A[0, 5] = A[5, 0] = 0.5
    est = MultiTaskGraphRegressor(sp.csr_matrix(A), alpha=2.0, l2=0.5).fit(X, y, task_ids=t)
    assert sp.issparse(est.adjacency_)
    np.testing.assert_array_equal(est.adjacency_.toarray(), A)
    graph = est.graph_
    W = np.random.default_rng(0).normal(size=(6, 3))
    csr = TaskGraph(graph.tasks, sp.csr_matrix(A))
    csr._dense = lambda: None  # no dense copy: scipy's products
    np.testing.assert_array_equal(graph.degrees(), np.asarray(sp.csr_matrix(A).sum(axis=1)).ravel())
    np.testing.assert_array_equal(graph.laplacian_matvec(W), csr.laplacian_matvec(W))
    W_ref, b_ref = dense_solve(X, y, t, 6, A, 2.0, 0.5)
    np.testing.assert_allclose(est.coef_, W_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, b_ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("d", [3, BLAS_MOMENT_FEATURES])
def test_task_stats_by_blocks_of_rows(fit_intercept, d, monkeypatch):
    """Many more rows than a block: the blocks' merged moments equal the naive ones, for
    weighted rows (some of weight 0), a task found in the first block only, float32 and
    Fortran-ordered X (converted a block at a time)."""
    import mtreg._tasks

    X, y, task_idx, s, T = data(7, n=2000, d=d)
    task_idx[:40] = T - 1  # the last task only in the first block
    monkeypatch.setattr(mtreg._tasks, "BLOCK_ROWS_PER_TASK", 1)
    monkeypatch.setattr(mtreg._tasks, "BLOCK_BYTES", 8 * d * 300)  # blocks of 300 rows
    assert mtreg._tasks.block_rows(T, d) == 300

    def reference(rows):  # the means are not reported without intercepts
        moments = naive_task_moments(rows.astype(float), y, task_idx, s, T, fit_intercept)
        if fit_intercept:
            return moments
        return (moments[0], 0 * moments[1], 0 * moments[2], *moments[3:])

    for rows in (X, np.asfortranarray(X), X.astype(np.float32)):
        stats = task_stats(rows, y, task_idx, s, T, fit_intercept)
        names = ("weight_sum", "x_mean", "y_mean", "gram", "xty")
        for name, value in zip(names, reference(rows), strict=True):
            np.testing.assert_allclose(getattr(stats, name), value, rtol=1e-12, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64])
def test_task_positions_encode_without_lookup(dtype):
    """Integer ids among tasks 0..T-1 are their own positions (a copy: the caller's array
    stays its own); ids outside, or other task labels, take the general path and its
    errors."""
    from mtreg._labels import encode_tasks

    ids = np.array([3, 0, 2, 2, 1], dtype=dtype)
    codes = encode_tasks(ids, np.arange(4))
    np.testing.assert_array_equal(codes, [3, 0, 2, 2, 1])
    assert codes.dtype == np.int64 and not np.shares_memory(codes, ids)
    shifted = encode_tasks(ids, np.arange(1, 5), unseen="population")  # not positions
    np.testing.assert_array_equal(shifted, [2, 4, 1, 1, 0])
    with pytest.raises(ValueError, match="unknown task labels 3"):
        encode_tasks(ids, np.arange(3))
    np.testing.assert_array_equal(
        encode_tasks(ids, np.arange(3), unseen="population"), [3, 0, 2, 2, 1]
    )
