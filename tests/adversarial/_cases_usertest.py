"""Cases from the first outside user's session: behaviour that held, kept so it keeps holding."""

import pickle

import numpy as np
from _reference import dense_solve
from sklearn.linear_model import LogisticRegression, Ridge

from adversarial import CHAIN, Case, issue_data
from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor


def _tuple_labels():
    X, y, t = issue_data()
    labels = [("x", 1), ("x", 2), ("y", 1)]
    est = MultiTaskGraphRegressor(CHAIN, alpha=1.0, l2=1.0).fit(
        X, y, task_ids=[labels[i] for i in t]
    )
    return est, (X, y, t)


def _tuple_labels_match_dense(result):
    est, (X, y, t) = result
    assert list(est.tasks_) == [("x", 1), ("x", 2), ("y", 1)]
    W, b = dense_solve(X, y, t, 3, CHAIN, 1.0, 1.0)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-10, atol=1e-12)


def _chain_matches_dense(result):
    est, (X, y, t) = result
    W, b = dense_solve(X, y, t, 3, CHAIN, 1.0, 1.0)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-10, atol=1e-12)


def _one_directed_edge_list():
    # each edge given once, in one direction: the same undirected chain
    X, y, t = issue_data()
    est = MultiTaskGraphRegressor([(0, 1), (1, 2)], alpha=1.0, l2=1.0).fit(X, y, task_ids=t)
    return est, (X, y, t)


def _repeated_rows():
    # integer sample weights equal repeated rows, for the logistic loss
    X, y, t = issue_data()
    labels = y > np.median(y)
    sw = np.random.default_rng(1).integers(0, 3, size=len(y))
    rows = np.repeat(np.arange(len(y)), sw)
    weighted = MultiTaskGraphClassifier(CHAIN, tol=1e-10).fit(
        X, labels, task_ids=t, sample_weight=sw
    )
    repeated = MultiTaskGraphClassifier(CHAIN, tol=1e-10)
    repeated.fit(X[rows], labels[rows], task_ids=t[rows])
    return weighted, repeated


def _same_coefficients(result):
    a, b = result
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-7, atol=1e-9)


def _independent_logistic():
    X, y, t = issue_data()
    labels = np.where(y > np.median(y), "up", "down")
    clf = MultiTaskGraphClassifier("none", alpha=0.0, l2=1.0, tol=1e-10)
    return clf.fit(X, labels, task_ids=t), (X, labels, t)


def _matches_sklearn_logistic(result):
    clf, (X, labels, t) = result
    assert list(clf.classes_) == ["down", "up"]
    for k in range(3):
        rows = t == clf.tasks_[k]
        ref = LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(X[rows], labels[rows])
        np.testing.assert_allclose(clf.coef_[k], ref.coef_[0], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(clf.intercept_[k], ref.intercept_[0], rtol=1e-4, atol=1e-6)
    proba = clf.predict_proba(X, task_ids=t)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def _pickled():
    X, y, t = issue_data()
    est = MultiTaskGraphRegressor(CHAIN, alpha=2.0).fit(X, y, task_ids=t)
    return est.predict(X, task_ids=t), pickle.loads(pickle.dumps(est)).predict(X, task_ids=t)


def _equal_predictions(result):
    np.testing.assert_array_equal(result[0], result[1])


def _large_alpha_pooled():
    # alpha -> inf on the complete graph: one shared w with per-task intercepts, which is
    # Ridge(alpha=T * l2) without intercept on per-task centred rows
    X, y, t = issue_data()
    est = MultiTaskGraphRegressor(alpha=1e10, l2=1.0).fit(X, y, task_ids=t)
    Xc, yc = X.copy(), y.copy()
    for k in range(3):
        Xc[t == k] -= X[t == k].mean(axis=0)
        yc[t == k] -= y[t == k].mean()
    return est, Ridge(alpha=3.0, fit_intercept=False).fit(Xc, yc)


def _shared_coefficients(result):
    est, ref = result
    for k in range(3):
        np.testing.assert_allclose(est.coef_[k], ref.coef_, rtol=1e-6)


CASES = [
    Case("tuple-task-labels", _tuple_labels, check=_tuple_labels_match_dense),
    Case("edge-list-one-direction", _one_directed_edge_list, check=_chain_matches_dense),
    Case("classifier-weights-equal-repeats", _repeated_rows, check=_same_coefficients),
    Case(
        "classifier-alpha0-string-classes", _independent_logistic, check=_matches_sklearn_logistic
    ),
    Case("pickle-predicts-the-same", _pickled, check=_equal_predictions),
    Case("large-alpha-is-pooled-ridge", _large_alpha_pooled, check=_shared_coefficients),
]
