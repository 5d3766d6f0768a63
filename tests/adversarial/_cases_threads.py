"""Threads (issue 12 section 3): loads of several threads, each bounded (8 threads, a
timeout), checked against a dense solve or scikit-learn, and the BLAS settings after."""

import threading

import numpy as np
from _threads import (
    CHAIN,
    blas_settings,
    chain_data,
    classification_problem,
    dense_predictions,
    run_in_threads,
)

from adversarial import Case
from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor


def _first_predict_after_partial_fit():
    X, y, t, X_test, t_test = chain_data()
    est = MultiTaskGraphRegressor(CHAIN).partial_fit(X, y, task_ids=t)
    preds = run_in_threads(lambda k: est.predict(X_test, task_ids=t_test))
    return preds, dense_predictions(X, y, t, X_test, t_test)


def _all_equal_reference(result):
    preds, expected = result
    for pred in preds:
        np.testing.assert_allclose(pred, expected, rtol=1e-9, atol=1e-9)


PROBLEMS = [classification_problem(seed) for seed in range(2)]


def _row_fits_in_rounds():
    """6 threads fit classifiers (newton, lbfgs) in 6 rounds that start together; the
    BLAS settings are read between the rounds, when no fit runs."""
    before, between, fits = blas_settings(), [], []
    barrier = threading.Barrier(6)

    def work(k):
        for rep in range(6):
            barrier.wait(60)
            (X, y, t), reference = PROBLEMS[(k + rep) % 2]
            solver = ("newton", "lbfgs")[(k + rep) % 2]
            est = MultiTaskGraphClassifier(alpha=0.0, solver=solver, tol=1e-10)
            fits.append((est.fit(X, y, task_ids=t), reference))
            barrier.wait(60)
            if k == 0:
                between.append(blas_settings())

    run_in_threads(work, n_threads=6)
    return before, between, fits


def _blas_as_before_and_fits_right(result):
    before, between, fits = result
    assert all(settings == before for settings in between), (before, between)
    for est, (coef, intercept) in fits:  # scikit-learn's per-task LogisticRegression
        np.testing.assert_allclose(est.coef_, coef, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(est.intercept_, intercept, rtol=1e-5, atol=1e-6)


CASES = [
    Case(
        "first-predict-after-partial-fit-from-8-threads",
        _first_predict_after_partial_fit,
        check=_all_equal_reference,
        fails_on="AttributeError '_pending_solver' in the threads that asked together",
    ),
    Case(
        "row-solver-fits-from-6-threads-leave-blas-as-before",
        _row_fits_in_rounds,
        check=_blas_as_before_and_fits_right,
        fails_on="BLAS left at 1 thread for the process",
    ),
]
