"""A first case, so the module runs before the areas add theirs."""

import numpy as np
from _reference import dense_solve

from adversarial import CHAIN, Case, issue_data
from mtreg import MultiTaskGraphRegressor


def _fit_chain():
    X, y, t = issue_data()
    return MultiTaskGraphRegressor(CHAIN, alpha=1.0, l2=1.0).fit(X, y, task_ids=t), (X, y, t)


def _matches_dense(result):
    est, (X, y, t) = result
    W, b = dense_solve(X, y, t, 3, CHAIN, 1.0, 1.0)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-10, atol=1e-12)


CASES = [Case("chain-graph-ordinary-data", _fit_chain, check=_matches_dense)]
