"""Per-feature alpha and l2 (arrays of shape (n_features,)), issue 14 section 1: bad arrays,
the solvers that cannot take them, and the limits an array must reach."""

import numpy as np
from _reference import dense_solve
from sklearn.linear_model import Ridge

from adversarial import CHAIN, Case, issue_data
from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor
from mtreg._solvers import SingularProblemError

COMPLETE = (np.ones((3, 3)) - np.eye(3)) / 3


def _fit(**params):
    X, y, t = issue_data()
    return lambda: MultiTaskGraphRegressor(**params).fit(X, y, task_ids=t)


def _refit_bad(**bad):
    """Fit, then refit with a bad array: the error must leave the fitted model."""

    def run():
        X, y, t = issue_data()
        est = MultiTaskGraphRegressor(CHAIN, alpha=[1.0, 2.0, 3.0]).fit(X, y, task_ids=t)
        before = est.coef_.copy()
        try:
            est.set_params(**bad).fit(X, y, task_ids=t)
        except ValueError as exc:
            return est, before, str(exc)
        raise AssertionError("no error")

    return run


def _unchanged(result):
    est, before, _ = result
    np.testing.assert_array_equal(est.coef_, before)


def _against_dense(A, alpha, l2, rtol=1e-9):
    def check(est):
        X, y, t = issue_data()
        W, b = dense_solve(X, y, t, 3, A, alpha, l2)
        np.testing.assert_allclose(est.coef_, W, rtol=rtol, atol=1e-10)
        np.testing.assert_allclose(est.intercept_, b, rtol=rtol, atol=1e-10)

    return check


def _constant_is_scalar(est):
    X, y, t = issue_data()
    scalar = MultiTaskGraphRegressor(CHAIN, alpha=2.0, l2=0.5).fit(X, y, task_ids=t)
    np.testing.assert_allclose(est.coef_, scalar.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, scalar.intercept_, rtol=1e-12, atol=1e-12)


def _pooled(est):
    spread = np.ptp(est.coef_, axis=0)
    assert spread[2] <= 1e-6 * np.abs(est.coef_[:, 2]).max(), spread
    assert spread[:2].min() > 1e-3, spread


def _ridge_per_task(est):
    """alpha = 0, l2 per feature: per-task ridge, which is sklearn's Ridge(alpha=1) on
    X / sqrt(l2_j) with w_j = w'_j / sqrt(l2_j)."""
    X, y, t = issue_data()
    root = np.sqrt([0.5, 4.0, 20.0])
    for k in range(3):
        ridge = Ridge(alpha=1.0).fit(X[t == k] / root, y[t == k])
        np.testing.assert_allclose(est.coef_[k], ridge.coef_ / root, rtol=1e-10)
        np.testing.assert_allclose(est.intercept_[k], ridge.intercept_, rtol=1e-10)


def _rescaled_scalar(est):
    """(alpha = c l2, l2) per feature on X = scalar (c, 1) on X / sqrt(l2), W scaled back."""
    X, y, t = issue_data()
    l2 = np.array([0.5, 4.0, 20.0])
    scalar = MultiTaskGraphRegressor(CHAIN, alpha=3.0, l2=1.0).fit(X / np.sqrt(l2), y, task_ids=t)
    np.testing.assert_allclose(est.coef_, scalar.coef_ / np.sqrt(l2), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, scalar.intercept_, rtol=1e-10, atol=1e-12)


def _big_data():
    X, y, t = issue_data()
    big = 2.0**150
    est = MultiTaskGraphRegressor(CHAIN, alpha=np.array([0.0, 1.0, 5.0]) * big**2, l2=big**2)
    return est.fit(X * big, y * big, task_ids=t)


def _big_check(est):
    X, y, t = issue_data()
    W, b = dense_solve(X, y, t, 3, CHAIN, [0.0, 1.0, 5.0], 1.0)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-9)
    np.testing.assert_allclose(est.intercept_ / 2.0**150, b, rtol=1e-9)


def _stream_bad():
    X, y, t = issue_data()
    est = MultiTaskGraphRegressor(CHAIN, alpha=[1.0, 0.0, 2.0], tasks=[0, 1, 2])
    est.partial_fit(X[:30], y[:30], task_ids=t[:30])
    before = est.coef_.copy()
    try:
        est.set_params(alpha=[1.0, np.nan, 2.0]).partial_fit(X[30:], y[30:], task_ids=t[30:])
    except ValueError as exc:
        return est, before, str(exc)
    raise AssertionError("no error")


def _multi_output(solver):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(20, 3)), rng.normal(size=(20, 4))
    return lambda: MultiTaskGraphRegressor(alpha=[0.1, 1.0, 10.0], solver=solver).fit(X, Y)


def _not_eigen(est):
    assert est.solver_ == "woodbury", est.solver_


def _classifier():
    X, y, t = issue_data()
    MultiTaskGraphClassifier(alpha=[1.0, 2.0]).fit(X, np.sign(y - 6.0), task_ids=t)


def _singular_feature():
    X, y, t = issue_data()
    X = X.copy()
    X[t == 1, 0] = 2.0  # constant within task 1: its w_{1,0} is fixed by no data
    return MultiTaskGraphRegressor(alpha=[0.0, 1.0, 1.0], l2=[0.0, 1.0, 1.0]).fit(X, y, task_ids=t)


def _coupled_feature():
    X, y, t = issue_data()
    X = X.copy()
    X[t == 1, 0] = 2.0  # as above, but alpha_0 > 0 ties w_{1,0} to the other tasks
    return MultiTaskGraphRegressor(CHAIN, alpha=[0.5, 1.0, 1.0], l2=[0.0, 1.0, 1.0]).fit(
        X, y, task_ids=t
    )


def _coupled_check(est):
    X, y, t = issue_data()
    X = X.copy()
    X[t == 1, 0] = 2.0
    W, b = dense_solve(X, y, t, 3, CHAIN, [0.5, 1.0, 1.0], [0.0, 1.0, 1.0])
    np.testing.assert_allclose(est.coef_, W, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-8, atol=1e-10)


def _cancelling_columns():
    """Equal columns 1 and 2, l2 = 0 on both, alpha_1 = 0 and alpha_2 > 0: w_{t,1} = -c,
    w_{t,2} = c on every task is free, which only the Schur complement shows."""
    X, y, t = issue_data()
    X = np.column_stack([X, X[:, 1]])
    return MultiTaskGraphRegressor(
        CHAIN, alpha=[1.0, 0.0, 1.0, 2.0], l2=[1.0, 0.0, 1.0, 0.0], solver="cholesky"
    ).fit(X, y, task_ids=t)


CASES = [
    Case(
        "wrong-length",
        _fit(alpha=[1.0, 2.0]),
        raises=ValueError,
        match=r"alpha given as an array must have shape \(n_features,\) = \(3,\).*shape \(2,\)",
    ),
    Case(
        "2d",
        _fit(l2=np.ones((3, 1))),
        raises=ValueError,
        match=r"l2 given as an array must have shape",
    ),
    Case("negative", _fit(l2=[1.0, -0.5, 1.0]), raises=ValueError, match="negative"),
    Case("nan", _fit(alpha=[1.0, np.nan, 1.0]), raises=ValueError, match="NaN"),
    Case("inf", _fit(l2=[np.inf, 1.0, 1.0]), raises=ValueError, match="non-finite"),
    Case("strings", _fit(alpha=["a", "b", "c"]), raises=ValueError, match="numbers"),
    Case(
        "refit-bad-keeps-model",
        _refit_bad(alpha=[1.0, -1.0, 1.0]),
        check=_unchanged,
    ),
    Case("partial-fit-bad-keeps-model", _stream_bad, check=_unchanged),
    Case(
        "eigen-explicit",
        _multi_output("eigen"),
        raises=ValueError,
        match=r"solver='eigen' cannot take a per-feature alpha.*solver='auto'",
    ),
    Case("eigen-auto-falls-back", _multi_output("auto"), check=_not_eigen),
    Case(
        "constant-array-is-scalar",
        _fit(graph=CHAIN, alpha=np.full(3, 2.0), l2=[0.5, 0.5, 0.5]),
        check=_constant_is_scalar,
    ),
    Case(
        "zero-alpha-and-l2-entries",
        _fit(graph=CHAIN, alpha=[0.0, 1.0, 4.0], l2=[0.3, 0.0, 2.0]),
        check=_against_dense(CHAIN, [0.0, 1.0, 4.0], [0.3, 0.0, 2.0]),
    ),
    Case(
        "complete-woodbury",
        _fit(alpha=[0.0, 1.0, 40.0], l2=[0.3, 0.0, 2.0], solver="woodbury"),
        check=_against_dense(COMPLETE, [0.0, 1.0, 40.0], [0.3, 0.0, 2.0]),
    ),
    Case(
        "pcg",
        _fit(graph=CHAIN, alpha=[0.0, 1.0, 40.0], l2=[0.3, 0.01, 2.0], solver="pcg"),
        check=_against_dense(CHAIN, [0.0, 1.0, 40.0], [0.3, 0.01, 2.0], rtol=1e-7),
    ),
    Case("huge-alpha-pools", _fit(graph=CHAIN, alpha=[1e-3, 1e-3, 1e10]), check=_pooled),
    Case(
        "l2-is-rescaled-ridge",
        _fit(alpha=0.0, l2=[0.5, 4.0, 20.0]),
        check=_ridge_per_task,
    ),
    Case(
        "equals-scalar-on-rescaled-features",
        _fit(graph=CHAIN, alpha=3.0 * np.array([0.5, 4.0, 20.0]), l2=[0.5, 4.0, 20.0]),
        check=_rescaled_scalar,
    ),
    Case("extreme-magnitudes", _big_data, check=_big_check),
    Case(
        "l2-zero-uncoupled-undetermined",
        _singular_feature,
        raises=SingularProblemError,
        match="singular",
    ),
    Case("l2-zero-coupled-determined", _coupled_feature, check=_coupled_check),
    Case(
        "l2-zero-cancelling-columns",
        _cancelling_columns,
        raises=SingularProblemError,
        match="on the linked tasks 0, 1, 2",
        fails_on="cholesky returned a solution of a singular system",
    ),
    Case(
        "learn-graph",
        _fit(graph="learn", alpha=[1.0, 2.0, 3.0]),
        raises=ValueError,
        match="graph='learn' needs a float alpha",
    ),
    Case(
        "classifier-wrong-length",
        _classifier,
        raises=ValueError,
        match=r"alpha given as an array must have shape \(n_features,\) = \(3,\)",
    ),
]
