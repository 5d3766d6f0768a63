"""Edge cases of BayesianMultiTaskGraphRegressor (issue 14): one-row tasks, a task with
constant y, zero and huge sample weights, a constant feature, one task. The reference is
the dense n x n REML computation of tests/_reference.py (dense_reml), evaluated at the
hyper-parameters the estimator returns: its evidence, noise variance and posterior mean."""

import numpy as np
from _reference import dense_reml

from adversarial import Case, issue_data
from mtreg import BayesianMultiTaskGraphRegressor


def _hyper(est, d):
    """(alpha, l2) per coordinate [features, coupled intercept] of a fitted estimator."""
    alpha = np.broadcast_to(est.alpha_, (d,)).astype(float)
    l2 = np.broadcast_to(est.l2_, (d,)).astype(float)
    if est.alpha_intercept_ is not None:
        return np.append(alpha, est.alpha_intercept_), np.append(l2, 0.0)
    return alpha, l2


def _fit(X, y, t, s=None, **params):
    est = BayesianMultiTaskGraphRegressor(**params).fit(X, y, task_ids=t, sample_weight=s)
    return est, (X, y, t, s)


def _matches_dense(result):
    est, (X, y, t, s) = result
    T = len(est.tasks_)
    alpha, l2 = _hyper(est, X.shape[1])
    intercept = "none" if not est.fit_intercept else "coupled" if est.couple_intercepts else "flat"
    F, sigma2, W, b = dense_reml(X, y, t, T, np.ones((T, T)) / T, alpha, l2, intercept, s)
    np.testing.assert_allclose(est.log_marginal_likelihood_, F, rtol=1e-8)
    np.testing.assert_allclose(est.noise_variance_, sigma2, rtol=1e-7)
    scale = np.abs(y).max()
    np.testing.assert_allclose(est.coef_, W, rtol=1e-6, atol=1e-7 * scale)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-6, atol=1e-7 * scale)
    assert np.all(np.isfinite(est.predict(X, task_ids=t, return_std=True)[1]))


def _one_row_tasks():
    r = np.random.default_rng(0)
    X, t = r.normal(size=(40, 2)), np.arange(40) % 30  # 20 tasks of one row, 10 of two
    y = X @ [1.0, -1.0] + r.normal(size=30)[t] + r.normal(size=40)
    return _fit(X, y, t)


def _constant_task():
    X, y, t = issue_data()
    y = y.copy()
    y[t == 1] = 4.0
    return _fit(X, y, t)


def _zero_weights():
    X, y, t = issue_data()
    s = np.ones(60)
    s[::3] = 0.0
    s[t == 2] = 0.0  # task 2 keeps no row: predicted through the graph prior
    return _fit(X, y, t, s, tasks=[0, 1, 2])


def _huge_weights():
    X, y, t = issue_data()
    s = np.where(np.arange(60) % 2 == 0, 1e12, 3e12)
    return _fit(X, y, t, s)


def _constant_feature():
    X, y, t = issue_data()
    return _fit(np.column_stack([X, np.ones(60)]), y, t)


def _constant_feature_flat_mean():
    X, y, t = issue_data()
    return _fit(np.column_stack([X, np.ones(60)]), y, t, l2=0.0)


def _one_task():
    X, y, _ = issue_data()
    return _fit(X, y, np.zeros(60, dtype=int))


def _one_row_flat_intercepts():
    r = np.random.default_rng(1)
    X = r.normal(size=(10, 2))
    return _fit(X, r.normal(size=10), np.arange(10), couple_intercepts=False, l2=0.0)


def _bad_refit_keeps_model():
    X, y, t = issue_data()
    est, _ = _fit(X, y, t)
    coef = est.coef_.copy()
    try:
        est.fit(X[:, :2], y[:5], task_ids=t)
    except ValueError:
        pass
    np.testing.assert_array_equal(est.coef_, coef)
    return est.predict(X, task_ids=t)


def _chunks_with_zero_weights():
    """partial_fit with a chunk whose weights are all 0 and a chunk of one row: the fit of
    the rows of positive weight (checked against the dense reference)."""
    X, y, t = issue_data()
    s = np.ones(60)
    s[10:30] = 0.0
    est = BayesianMultiTaskGraphRegressor(tasks=[0, 1, 2])
    for part in (slice(0, 10), slice(10, 30), slice(30, 31), slice(31, 60)):
        est.partial_fit(X[part], y[part], task_ids=t[part], sample_weight=s[part])
    return est, (X, y, t, s)


def _huge_alpha_evidence():
    """Variances near 0 (alpha 1e14 for a slope and the intercepts), where the Woodbury
    evidence lost digits to cancellation (fails_on below)."""
    X, y, t = issue_data()
    return _fit(
        X, y, t, optimizer=None, alpha_init=[1e14, 1.0, 2.0], alpha_intercept_init=1e14, l2=0.0
    )


CASES = [
    Case("bayes-one-row-tasks", _one_row_tasks, check=_matches_dense),
    Case("bayes-task-with-constant-y", _constant_task, check=_matches_dense),
    Case("bayes-zero-weights-and-an-emptied-task", _zero_weights, check=_matches_dense),
    Case("bayes-huge-weights", _huge_weights, check=_matches_dense),
    Case("bayes-constant-feature", _constant_feature, check=_matches_dense),
    Case(
        "bayes-constant-feature-flat-mean",
        _constant_feature_flat_mean,
        raises=ValueError,
        match="improper.*constant or collinear",
    ),
    Case("bayes-one-task", _one_task, check=_matches_dense),
    Case(
        "bayes-one-row-tasks-flat-intercepts",
        _one_row_flat_intercepts,
        raises=ValueError,
        match="n_samples = 10 rows .* 12 flat effects",
    ),
    Case("bayes-bad-refit-keeps-the-model", _bad_refit_keeps_model),
    Case("bayes-partial-fit-zero-weight-chunk", _chunks_with_zero_weights, check=_matches_dense),
    Case(
        "bayes-huge-alpha-evidence",
        _huge_alpha_evidence,
        check=_matches_dense,
        fails_on="F off by 1e-4 relative: 1 - (I + Ghat)^-1 with Ghat ~ 1e-14",
    ),
    Case(
        "bayes-per-feature-l2-of-the-wrong-length",
        lambda: _fit(*issue_data(), l2=[1.0, 2.0]),
        raises=ValueError,
        match="l2 must be a non-negative float or 3 non-negative values",
    ),
    Case(
        "bayes-unseen-task-is-an-error",
        lambda: _fit(*issue_data())[0].predict(np.zeros((1, 3)), task_ids=[7]),
        raises=ValueError,
        match="7",
    ),
]
