"""Issue 16's fast paths of small fits: the same answers and errors as the general paths."""

import numpy as np
from _reference import dense_solve

from adversarial import CHAIN, Case, issue_data
from mtreg import MultiTaskGraphRegressor


def _fit(X=None, y=None, ids=None, **params):
    X0, y0, t0 = issue_data()
    X = X0 if X is None else X
    y = y0 if y is None else y
    ids = t0 if ids is None else ids
    return MultiTaskGraphRegressor(CHAIN, alpha=1.0, l2=1.0, **params).fit(X, y, task_ids=ids)


def _nan_X():
    X, _, _ = issue_data()
    X = X.copy()
    X[7, 1] = np.nan
    return _fit(X=X)


def _inf_y():
    _, y, _ = issue_data()
    y = y.copy()
    y[3] = np.inf
    return _fit(y=y)


def _bool_after_int():
    est = _fit(max_iter=3)
    X, y, t = issue_data()
    return est.set_params(max_iter=True).fit(X, y, task_ids=t)


def _matches_dense(est):
    X, y, t = issue_data()
    W, b = dense_solve(X, y, t, 3, CHAIN, 1.0, 1.0)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-10, atol=1e-12)


CASES = [
    Case("fast-X-with-nan", _nan_X, raises=ValueError, match="Input X contains NaN"),
    Case("fast-y-with-inf", _inf_y, raises=ValueError, match="infinity"),
    Case(
        "remembered-validation-bool-max-iter", _bool_after_int, raises=ValueError, match="max_iter"
    ),
    Case(
        "int8-labels-offset",
        lambda: _fit(ids=(issue_data()[2] - 100).astype(np.int8)),
        check=_matches_dense,
    ),
    Case(
        "uint64-labels", lambda: _fit(ids=issue_data()[2].astype(np.uint64)), check=_matches_dense
    ),
    Case("list-data-general-path", lambda: _fit(X=issue_data()[0].tolist()), check=_matches_dense),
]
