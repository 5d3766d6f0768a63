"""Loads of several threads for the thread-safety tests, and their references.

Everything is bounded: a few threads, a few fits each, joined with a timeout.
"""

import threading
import time

import numpy as np
from _reference import dense_solve, make_classification_data
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

TIMEOUT = 60.0  # seconds for a whole load; each load takes well under 5 s


def run_in_threads(work, n_threads=8, timeout=TIMEOUT):
    """[work(k) for k in range(n_threads)], each call on its own thread, all released at
    once by a barrier. Fails if a thread is still running after ``timeout`` seconds, and
    re-raises (with the count) what the threads raised."""
    barrier = threading.Barrier(n_threads)
    results = [None] * n_threads

    def target(k):
        try:
            barrier.wait(timeout)
            results[k] = (True, work(k))
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            results[k] = (False, exc)

    threads = [threading.Thread(target=target, args=(k,), daemon=True) for k in range(n_threads)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    running = sum(thread.is_alive() for thread in threads)
    assert running == 0, f"{running} of {n_threads} threads still running after {timeout} s"
    errors = [value for ok, value in results if not ok]
    if errors:
        raise AssertionError(
            f"{len(errors)} of {n_threads} threads raised, first: {errors[0]!r}"
        ) from errors[0]
    return [value for _, value in results]


def blas_settings():
    """The thread count of every library threadpoolctl sees, in its order."""
    return [(lib["filepath"], lib["num_threads"]) for lib in threadpool_info()]


CHAIN = np.array([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])


def chain_data(seed=0, n_per_task=40, d=4):
    """Regression rows of 3 tasks on the chain graph, and test rows."""
    r = np.random.default_rng(seed)
    t = np.repeat([0, 1, 2], n_per_task)
    X = r.normal(size=(len(t), d))
    y = X @ r.normal(size=d) + t + r.normal(size=len(t))
    X_test, t_test = r.normal(size=(30, d)), np.tile([0, 1, 2], 10)
    return X, y, t, X_test, t_test


def dense_predictions(X, y, t, X_test, t_test, alpha=1.0, l2=1.0):
    """Predictions of the dense reference solve on the chain graph."""
    W, b = dense_solve(X, y, t, 3, CHAIN, alpha, l2)
    return np.einsum("ij,ij->i", X_test, W[t_test]) + b[t_test]


def classification_problem(seed, n_tasks=4, d=3, n_per_task=40):
    """(X, y, t) and, for alpha=0, the coefficients and intercepts of one scikit-learn
    LogisticRegression(C=1/(2 l2)) per task (l2 = 1), the independent reference."""
    X, y, t = make_classification_data(
        np.random.default_rng(seed), n_tasks=n_tasks, n_per_task=n_per_task, d=d
    )
    coef, intercept = np.empty((n_tasks, d)), np.empty(n_tasks)
    for task in range(n_tasks):
        rows = t == task
        ref = LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(X[rows], y[rows])
        coef[task], intercept[task] = ref.coef_[0], ref.intercept_[0]
    return (X, y, t), (coef, intercept)
