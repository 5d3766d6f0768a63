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


# -- findings of the user session, fixed ---------------------------------------------------


def _frozenset_labels():
    X, y, t = issue_data()
    labels = [frozenset({"a"}), frozenset({"b"}), frozenset({"c"})]
    return MultiTaskGraphRegressor().fit(X, y, task_ids=[labels[i] for i in t])


def _frozenset_labels_with_tasks():
    X, y, t = issue_data()
    labels = [frozenset({"a"}), frozenset({"b"}), frozenset({"c"})]
    est = MultiTaskGraphRegressor(CHAIN, tasks=labels).fit(X, y, task_ids=[labels[i] for i in t])
    return est, (X, y, t)


def _true_and_one():
    X, y, t = issue_data()
    ids = np.array([True if k == 1 else k for k in t.tolist()], dtype=object)
    ids[t == 2] = 1  # 1 and True: equal in Python
    return MultiTaskGraphRegressor().fit(X, y, task_ids=ids)


def _multigraph():
    import networkx as nx

    X, y, t = issue_data()
    G = nx.MultiGraph()
    G.add_edge(0, 1, weight=0.5)
    G.add_edge(0, 1, weight=0.5)  # parallel: adds up to 1
    G.add_edge(1, 2, weight=1.0)
    return MultiTaskGraphRegressor(G, alpha=1.0, l2=1.0).fit(X, y, task_ids=t), (X, y, t)


def _two_weights_for_one_edge():
    X, y, t = issue_data()
    graph = {0: {1: 1.0}, 1: {0: 3.0, 2: 1.0}, 2: []}
    return MultiTaskGraphRegressor(graph).fit(X, y, task_ids=t)


def _range_index_frame_with_other_int_labels():
    import pandas as pd

    X, y, t = issue_data()
    return MultiTaskGraphRegressor(pd.DataFrame(CHAIN)).fit(X, y, task_ids=t + 1)


def _splitter_gets_routed_task_ids():
    import sklearn
    from sklearn.model_selection import GridSearchCV

    from mtreg import TaskStratifiedKFold

    X, y, t = issue_data()
    with sklearn.config_context(enable_metadata_routing=True):
        est = MultiTaskGraphRegressor().set_fit_request(task_ids=True)
        est = est.set_score_request(task_ids=True)
        search = GridSearchCV(est, {"alpha": [0.1, 10.0]}, cv=TaskStratifiedKFold(3))
        return search.fit(X, y, task_ids=t), (X, y, t)


def _routed_scores_match_hand_loop(result):
    from mtreg import TaskStratifiedKFold

    search, (X, y, t) = result
    for k, alpha in enumerate([0.1, 10.0]):
        scores = [
            MultiTaskGraphRegressor(alpha=alpha)
            .fit(X[tr], y[tr], task_ids=t[tr])
            .score(X[te], y[te], task_ids=t[te])
            for tr, te in TaskStratifiedKFold(3).split(X, groups=t)
        ]
        assert search.cv_results_["mean_test_score"][k] == np.mean(scores)


CASES += [
    Case(
        "frozenset-labels-without-tasks",
        _frozenset_labels,
        raises=ValueError,
        match="of type frozenset cannot be sorted; pass tasks=",
        fails_on="134 tasks with duplicates from an inconsistent sort",
    ),
    Case(
        "frozenset-labels-with-tasks",
        _frozenset_labels_with_tasks,
        check=_chain_matches_dense,
    ),
    Case(
        "true-and-1-are-one-label",
        _true_and_one,
        raises=ValueError,
        match="True and 1 are equal in Python",
        fails_on="tasks_ = [0, True]: the rows of 1 merged into task True",
    ),
    Case(
        "multigraph-parallel-edges-add-up",
        _multigraph,
        check=_chain_matches_dense,
        fails_on="the last parallel edge alone (weight 0.5)",
    ),
    Case(
        "two-weights-for-one-edge",
        _two_weights_for_one_edge,
        raises=ValueError,
        match="edge 1-0 two weights, 1 and 3",
        fails_on="the last listing won silently (weight 3)",
    ),
    Case(
        "range-index-frame-other-int-labels",
        _range_index_frame_with_other_int_labels,
        raises=ValueError,
        match="default index 0..2, but the task labels are the integers 1, 2, 3",
        fails_on="read by position without a word",
    ),
    Case(
        "splitter-takes-routed-task-ids",
        _splitter_gets_routed_task_ids,
        check=_routed_scores_match_hand_loop,
        fails_on="TaskStratifiedKFold needs the task labels: pass groups=task_ids",
    ),
]


def _partial_fit_of_knn():
    X, y, t = issue_data()
    return MultiTaskGraphRegressor("knn").partial_fit(X, y, task_ids=t)


def _none_among_classes():
    X, y, t = issue_data()
    labels = np.where(y > np.median(y), "hi", "lo").astype(object)
    labels[[3, 7]] = None
    return MultiTaskGraphClassifier().fit(X, labels, task_ids=t)


CASES += [
    Case(
        "partial-fit-missing-says-why",
        _partial_fit_of_knn,
        raises=AttributeError,
        match=r"partial_fit is not available: graph='knn' is built from all rows",
        fails_on="'MultiTaskGraphRegressor' object has no attribute 'partial_fit', no reason",
    ),
    Case(
        "none-among-class-labels",
        _none_among_classes,
        raises=ValueError,
        match="a class label is missing .* at positions 3, 7",
        fails_on="y mixes label types ['NoneType', 'str']",
    ),
]
