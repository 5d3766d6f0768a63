"""Fitting and predicting from several threads at once (issue 12 section 3).

Each load is bounded (at most 8 threads x 20 calls, joined with a timeout) and checks
every result against an independent reference (a dense solve, scikit-learn), and that
the process's BLAS settings are as they were when no fit runs.
"""

import copy as copy_module
import itertools
import pickle
import threading

import numpy as np
import pytest
from _reference import dense_solve
from _threads import (
    CHAIN,
    TIMEOUT,
    blas_settings,
    chain_data,
    classification_problem,
    dense_predictions,
    run_in_threads,
)
from threadpoolctl import threadpool_info

from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor, MultiTaskGraphRegressorCV
from mtreg._solvers import _glm, _threads


@pytest.fixture
def two_blas_threads():
    """BLAS on several threads (so that a limit left behind shows). Not set here with
    ``threadpool_limits``: threadpoolctl >= 3.8 lets no other Python thread change
    OpenBLAS while one holds such a limit, which would hide what these tests look for."""
    if _blas_now() < 2:
        pytest.skip("BLAS runs on one thread here")


def test_first_predict_after_partial_fit_from_8_threads():
    """The lazy solve after partial_fit runs once, whoever asks first (it raised
    AttributeError '_pending_solver' in the threads that asked at the same time)."""
    X, y, t, X_test, t_test = chain_data()
    expected = dense_predictions(X, y, t, X_test, t_test)
    for _ in range(15):
        est = MultiTaskGraphRegressor(CHAIN).partial_fit(X, y, task_ids=t)
        for pred in run_in_threads(lambda k, est=est: est.predict(X_test, task_ids=t_test)):
            np.testing.assert_allclose(pred, expected, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(est.coef_, dense_solve(X, y, t, 3, CHAIN, 1.0, 1.0)[0])


def test_predict_while_partial_fit_adds_chunks():
    """One thread streams chunks while three predict: every prediction is that of the
    chunks so far (a prefix), never an error or a mix; the last is that of all chunks."""
    X, y, t, X_test, t_test = chain_data(n_per_task=60)
    chunks = np.array_split(np.random.default_rng(1).permutation(len(y)), 12)
    prefixes = [np.concatenate(chunks[: k + 1]) for k in range(len(chunks))]
    expected = np.array([dense_predictions(X[r], y[r], t[r], X_test, t_test) for r in prefixes])
    for _ in range(3):
        est = MultiTaskGraphRegressor(CHAIN).partial_fit(
            X[chunks[0]], y[chunks[0]], task_ids=t[chunks[0]]
        )
        done = threading.Event()

        def work(k, est=est, done=done):
            if k == 0:
                for rows in chunks[1:]:
                    est.partial_fit(X[rows], y[rows], task_ids=t[rows])
                    est.predict(X_test, task_ids=t_test)
                done.set()
                return []
            seen = []
            while not done.is_set() and len(seen) < 2000:
                seen.append(est.predict(X_test, task_ids=t_test))
            return seen

        for pred in itertools.chain.from_iterable(run_in_threads(work, n_threads=4)):
            gap = np.abs(expected - pred).max(axis=1)
            assert gap.min() < 1e-8, f"a prediction of no prefix of the chunks (gap {gap.min()})"
        np.testing.assert_allclose(est.predict(X_test, task_ids=t_test), expected[-1], atol=1e-8)


@pytest.mark.parametrize("solved", [False, True])
def test_partial_fit_estimator_pickles_with_its_pending_solve(solved):
    """The lazy solve holds a lock, which does not pickle: it is made anew on loading."""
    X, y, t, X_test, t_test = chain_data()
    est = MultiTaskGraphRegressor(CHAIN).partial_fit(X, y, task_ids=t)
    if solved:
        est.predict(X_test, task_ids=t_test)
    expected = dense_predictions(X, y, t, X_test, t_test)
    twice = dense_predictions(np.vstack([X, X]), np.r_[y, y], np.r_[t, t], X_test, t_test)
    for copy in (pickle.loads(pickle.dumps(est)), copy_module.deepcopy(est)):
        np.testing.assert_allclose(copy.predict(X_test, task_ids=t_test), expected, atol=1e-9)
        copy.partial_fit(X, y, task_ids=t)  # the copy streams on
        np.testing.assert_allclose(copy.predict(X_test, task_ids=t_test), twice, atol=1e-9)
    np.testing.assert_allclose(est.predict(X_test, task_ids=t_test), expected, atol=1e-9)


def test_concurrent_predict_on_one_fitted_estimator():
    X, y, t, X_test, t_test = chain_data()
    expected = dense_predictions(X, y, t, X_test, t_test)
    est = MultiTaskGraphRegressor(CHAIN).fit(X, y, task_ids=t)
    (Xc, yc, tc), (coef, intercept) = classification_problem(0)
    clf = MultiTaskGraphClassifier(alpha=0.0, tol=1e-10).fit(Xc, yc, task_ids=tc)
    proba = 1 / (1 + np.exp(-(np.einsum("ij,ij->i", Xc, coef[tc]) + intercept[tc])))

    def work(k):
        return [
            (est.predict(X_test, task_ids=t_test), clf.predict_proba(Xc, task_ids=tc)[:, 1])
            for _ in range(15)
        ]

    for pred, p in itertools.chain.from_iterable(run_in_threads(work)):
        np.testing.assert_allclose(pred, expected, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(p, proba, rtol=1e-5, atol=1e-7)


def _fit_and_check(k, rep):
    """One fit of several kinds (row solvers, the CV path, a small direct solve),
    checked against its reference."""
    kind = (k + rep) % 4
    if kind < 2:  # the classifier's row solvers against scikit-learn at alpha=0
        (X, y, t), (coef, intercept) = PROBLEMS[(k + rep) % len(PROBLEMS)]
        solver = ("newton", "lbfgs")[kind]
        est = MultiTaskGraphClassifier(alpha=0.0, solver=solver, tol=1e-10).fit(X, y, task_ids=t)
        np.testing.assert_allclose(est.coef_, coef, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(est.intercept_, intercept, rtol=1e-5, atol=1e-6)
        return
    X, y, t, _, _ = chain_data(seed=k)
    if kind == 2:  # a row solver for the squared loss
        est = MultiTaskGraphRegressor(CHAIN, solver="lbfgs", tol=1e-12).fit(X, y, task_ids=t)
        alpha = 1.0
    else:  # the CV path (folds on threads, one BLAS thread each)
        est = MultiTaskGraphRegressorCV(alphas=(0.1, 1.0), cv=3).fit(X, y, task_ids=t)
        alpha = est.alpha_
    A = CHAIN if kind == 2 else np.full((3, 3), 1 / 3)
    W, b = dense_solve(X, y, t, 3, A, alpha, 1.0)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-6, atol=1e-8)


PROBLEMS = [classification_problem(seed) for seed in range(3)]


def test_concurrent_fits_leave_blas_threads_as_they_were(monkeypatch, two_blas_threads):
    """Row-solver and CV fits from 6 threads: each is right, the row solvers run on one
    BLAS thread from start to end (another fit's end gave BLAS its threads back), and
    between the rounds of fits every library has the thread count it had before (they
    left BLAS at 1 thread for good)."""
    spies = [_spy_blas_threads(monkeypatch, solver) for solver in ("newton", "lbfgs")]
    before = blas_settings()
    assert any(n > 1 for _, n in before)
    n_threads, between = 6, []
    barrier = threading.Barrier(n_threads)

    def work(k):
        for rep in range(12):  # the fits of a round start together; between rounds none runs
            barrier.wait(TIMEOUT)
            _fit_and_check(k, rep)
            barrier.wait(TIMEOUT)
            if k == 0:
                between.append(blas_settings())

    run_in_threads(work, n_threads=n_threads)
    assert all(settings == before for settings in between), between
    inside = spies[0] + spies[1]
    assert len(inside) == 6 * 12 * 3 // 4 and set(inside) == {(1, 1)}, inside


def test_thread_pool_is_not_replaced_under_running_fits(monkeypatch):
    """Row passes split over a varying number of threads from 6 fitting threads: the
    pool in use is never shut down ('cannot schedule new futures after shutdown')."""
    counts = itertools.count(2)  # more threads at every fit: the old pool was replaced
    monkeypatch.setattr(_glm, "ROWS_PER_THREAD", 1)
    monkeypatch.setattr(_threads, "blas_threads", lambda: next(counts))

    def work(k):
        for rep in range(20):
            (X, y, t), (coef, intercept) = PROBLEMS[(k + rep) % len(PROBLEMS)]
            solver = ("newton", "lbfgs")[(k + rep) % 2]
            est = MultiTaskGraphClassifier(alpha=0.0, solver=solver, tol=1e-10)
            est.fit(X, y, task_ids=t)
            np.testing.assert_allclose(est.coef_, coef, rtol=1e-5, atol=1e-6)

    run_in_threads(work, n_threads=6)


def _spy_blas_threads(monkeypatch, solver):
    """Record the BLAS thread counts each call of ``solver`` starts and ends with."""
    from mtreg import _solvers

    table = _solvers.MOMENT_SOLVERS if solver in _solvers.MOMENT_SOLVERS else _solvers.ROW_SOLVERS
    function, seen = table[solver], []

    def spy(*args, **kwargs):
        before = _blas_now()
        result = function(*args, **kwargs)
        seen.append((before, _blas_now()))
        return result

    monkeypatch.setitem(table, solver, spy)
    return seen


def _blas_now():
    return max(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")


@pytest.mark.parametrize("solver", ["cholesky", "woodbury", "pcg"])
def test_small_direct_solves_run_on_one_blas_thread(monkeypatch, two_blas_threads, solver):
    """A small solve gains nothing from BLAS threads and loses much on a busy machine:
    it runs on one BLAS thread, and BLAS gets its threads back afterwards."""
    seen = _spy_blas_threads(monkeypatch, solver)
    X, y, t, _, _ = chain_data()
    graph = None if solver == "woodbury" else CHAIN
    before = blas_settings()
    MultiTaskGraphRegressor(graph, solver=solver).fit(X, y, task_ids=t)
    assert seen == [(1, 1)]
    assert blas_settings() == before


def test_evidence_maximisation_runs_on_one_blas_thread(monkeypatch, two_blas_threads):
    """The evidence's many small LAPACK calls (Woodbury on the complete graph, q x q per
    task) run on one BLAS thread: two made school's fit 3-5x slower. BLAS gets its
    threads back afterwards."""
    from mtreg import BayesianMultiTaskGraphRegressor, _posterior

    seen, maximise = [], _posterior.maximise_evidence

    def spy(*args, **kwargs):
        seen.append(_blas_now())
        return maximise(*args, **kwargs)

    monkeypatch.setattr(_posterior, "maximise_evidence", spy)
    X, y, t, _, _ = chain_data()
    before = blas_settings()
    BayesianMultiTaskGraphRegressor(l2=0.0).fit(X, y, task_ids=t)
    assert seen == [1, 1]  # the shared model's search, then the per-feature one
    assert blas_settings() == before


def test_large_direct_solves_keep_the_blas_threads(monkeypatch, two_blas_threads):
    """Above ONE_THREAD_WORK the solve keeps BLAS's threads (the limit lowered here, so
    that a small problem stands for a large one)."""
    seen = _spy_blas_threads(monkeypatch, "cholesky")
    X, y, t, _, _ = chain_data(d=10)
    monkeypatch.setattr(_threads, "ONE_THREAD_WORK", 0.9 * (3 * 10) ** 3 / 3)
    MultiTaskGraphRegressor(CHAIN, solver="cholesky").fit(X, y, task_ids=t)
    monkeypatch.setattr(_threads, "ONE_THREAD_WORK", 1.1 * (3 * 10) ** 3 / 3)
    MultiTaskGraphRegressor(CHAIN, solver="cholesky").fit(X, y, task_ids=t)
    assert seen == [(_blas_now(), _blas_now()), (1, 1)]


def test_work_split_on_a_pool_thread_runs_there():
    """map_chunks called on mtreg's own threads while every one of them is busy: the
    chunks run in turn on the calling thread (before, each worker waited for a free one,
    for good)."""
    pool, n_workers = _threads._POOL.get(), _threads._POOL.get()._max_workers
    barrier = threading.Barrier(n_workers, timeout=TIMEOUT)

    def job():
        barrier.wait()  # every worker of the pool holds a job now
        return _threads.map_chunks(lambda k: threading.current_thread().name, 3)

    for future in [pool.submit(job) for _ in range(n_workers)]:
        names = future.result(timeout=TIMEOUT)
        assert len(set(names)) == 1 and names[0].startswith("mtreg-pool"), names


def test_moments_split_over_threads_from_8_threads(monkeypatch):
    """task_stats with its tasks split over mtreg's threads, called from 8 threads at
    once (and from the pool's own threads): every call gives the one-thread sums."""
    import mtreg._tasks
    from mtreg._tasks import task_stats

    rng = np.random.default_rng(0)
    X, y, t = rng.normal(size=(3000, 20)), rng.normal(size=3000), rng.integers(0, 50, 3000)
    s = rng.uniform(0, 2, 3000)
    expected = task_stats(X, y, t, s, 50, True)  # one thread: below MOMENTS_PER_THREAD
    monkeypatch.setattr(mtreg._tasks, "MOMENTS_PER_THREAD", 1)

    def work(k):
        for _ in range(10):
            got = task_stats(X, y, t, s, 50, True)
            np.testing.assert_array_equal(got.gram, expected.gram)
            np.testing.assert_array_equal(got.xty, expected.xty)

    run_in_threads(work, n_threads=8)
    pool = _threads._POOL.get()
    for future in [pool.submit(work, k) for k in range(4)]:
        future.result(timeout=TIMEOUT)


def test_moments_take_as_many_threads_as_blas_may_use(monkeypatch, two_blas_threads):
    """The data pass splits its tasks over the BLAS thread count, and
    ``threadpool_limits(1)`` makes it one range on the calling thread."""
    from threadpoolctl import threadpool_limits

    import mtreg._solvers._threads as threads_module
    import mtreg._tasks
    from mtreg._tasks import task_stats

    calls, map_chunks = [], threads_module.map_chunks
    monkeypatch.setattr(
        threads_module, "map_chunks", lambda w, n: calls.append(n) or map_chunks(w, n)
    )
    monkeypatch.setattr(mtreg._tasks, "MOMENTS_PER_THREAD", 1)
    rng = np.random.default_rng(1)
    X, y, t = rng.normal(size=(500, 20)), rng.normal(size=500), rng.integers(0, 10, 500)
    task_stats(X, y, t, np.ones(500), 10, True)
    with threadpool_limits(1):
        task_stats(X, y, t, np.ones(500), 10, True)
    assert calls == [_blas_now(), 1], calls
