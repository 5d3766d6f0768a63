"""Per-feature alpha and l2 in the searches (MultiTaskGraphRegressorCV with rows of l2s,
the regularisation path) and in the classifier (issue 14, section 1)."""

import numpy as np
import pytest
from _perfeature_reference import (
    ALPHA,
    GRAPHS,
    L2,
    L2S,
    D,
    T,
    data,
    dense,
    logistic_reference,
    search_reference,
)
from sklearn.model_selection import KFold

from mtreg import (
    MultiTaskGraphClassifier,
    MultiTaskGraphRegressor,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidge,
)
from mtreg.core import task_graph, task_stats


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_classifier_per_feature_equals_reference(solver):
    """The classifier's row solvers take per-feature arrays too (gradient alpha_j (L W)_j)."""
    X, y, t, sw = data(16, n_per_task=30)
    labels = np.where(y > np.median(y), 1.0, -1.0)
    given, A = GRAPHS["weighted"]
    A = A[:T, :T]
    tol = 1e-7 if solver == "lbfgs" else 1e-10  # lbfgs stalls near 5e-8 (rounding)
    clf = MultiTaskGraphClassifier(A, alpha=ALPHA, l2=L2 + 0.05, solver=solver, tol=tol)
    clf.fit(X, labels, task_ids=t, sample_weight=sw)
    W, b = logistic_reference(X, labels, t, T, A, ALPHA, L2 + 0.05, sw)
    np.testing.assert_allclose(clf.coef_, W, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.intercept_, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="l2 must be >= 0 on every feature"):
        clf.set_params(l2=-L2).fit(X, labels, task_ids=t)
    np.testing.assert_allclose(clf.coef_, W, rtol=1e-5, atol=1e-6)


def test_cv_keeps_scalar_grids_and_others_refuse_arrays():
    X, y, t, _ = data(15)
    with pytest.raises(ValueError, match="alpha"):
        MultiTaskKernelRidge(alpha=ALPHA).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="alphas"):
        MultiTaskGraphRegressorCV(alphas=[ALPHA, ALPHA]).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="graph='learn' needs a float alpha"):
        MultiTaskGraphRegressor("learn", alpha=ALPHA).fit(X, y, task_ids=t)


@pytest.mark.parametrize("graph", ["complete", "weighted", "knn", "pcg"])
def test_cv_per_feature_l2_rows_equal_hand_search(graph, monkeypatch):
    """MultiTaskGraphRegressorCV with 2-D l2s (one per-feature l2 per row) against the
    search done by hand with the dense solve, k-fold; and its refit. The paths: uniform
    (complete), dense generalised eigendecomposition, warm-started pcg ("pcg": the
    weighted graph with the dense path's size limit set to 0)."""
    if graph == "pcg":
        from mtreg._solvers._select import TABLE, Solver

        monkeypatch.setitem(TABLE["path"], "dense", Solver(family="path", auto_max_unknowns=0))
        graph = "weighted"
    X, y, t, sw = data(20, n_per_task=14)
    A = GRAPHS[graph][1][:T, :T] * ((T + 1) / T if graph == "complete" else 1.0)
    given = None if graph == "complete" else A
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    est = MultiTaskGraphRegressorCV(given, alphas=[0.3, 5.0], l2s=L2S, cv=folds)
    est.fit(X, y, task_ids=t, sample_weight=sw)
    expected = search_reference(X, y, t, A, [0.3, 5.0], L2S, folds, sw)
    np.testing.assert_allclose(est.cv_results_["mean_test_score"], expected, rtol=1e-8)
    best = int(np.argmax(expected))
    a, l2 = [(a, l2) for a in [0.3, 5.0] for l2 in L2S][best]
    assert est.alpha_ == a
    np.testing.assert_array_equal(np.broadcast_to(est.l2_, (D,)), l2)
    W, _ = dense(X, y, t, T, A, a, l2, sw)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("multi_output", [False, True])
def test_cv_per_feature_l2_leave_one_out(multi_output):
    """Exact leave-one-out with per-feature l2 rows: against refitting without each row
    (task_ids data) or each entry (i, t) (multi-output; every solve dense)."""
    rng = np.random.default_rng(21)
    A = (np.ones((T, T)) - np.eye(T)) / T
    l2s = L2S[:2]
    if multi_output:
        X, Y = rng.normal(size=(12, D)), rng.normal(size=(12, T))
        est = MultiTaskGraphRegressorCV(alphas=[2.0], l2s=l2s).fit(X, Y)
        Xl, yl, tl = np.repeat(X, T, axis=0), Y.ravel(), np.tile(np.arange(T), 12)
    else:
        Xl, yl, tl, _ = data(21)
        est = MultiTaskGraphRegressorCV(alphas=[2.0], l2s=l2s).fit(Xl, yl, task_ids=tl)
    for g, l2 in enumerate(l2s):
        errors = []
        for i in range(len(yl)):
            keep = np.arange(len(yl)) != i
            W, b = dense(Xl[keep], yl[keep], tl[keep], T, A, 2.0, l2)
            errors.append(yl[i] - Xl[i] @ W[tl[i]] - b[tl[i]])
        mse = np.mean(np.square(errors))
        assert np.isclose(-est.cv_results_["mean_test_score"][g], mse, rtol=1e-8)


def test_cv_per_feature_l2_bad_rows():
    X, y, t, _ = data(22)
    with pytest.raises(ValueError, match=r"each row of l2s given as an array must have shape"):
        MultiTaskGraphRegressorCV(l2s=np.ones((2, D + 1))).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="each row of l2s must be >= 0"):
        MultiTaskGraphRegressorCV(l2s=-np.ones((2, D))).fit(X, y, task_ids=t)


@pytest.mark.parametrize("graph", ["complete", "weighted"])
def test_core_path_per_feature_l2(graph):
    X, y, t, sw = data(23)
    A = GRAPHS[graph][1]
    from mtreg.core import graph_ridge_path

    stats = task_stats(X, y, t, n_tasks=T + 1, sample_weight=sw)
    coefs, intercepts = graph_ridge_path(stats, task_graph(A), [0.1, 3.0], l2=L2 + 0.01)
    for W_path, b_path, a in zip(coefs, intercepts, [0.1, 3.0], strict=True):
        W, b = dense(X, y, t, T + 1, A, a, L2 + 0.01, sw)
        np.testing.assert_allclose(W_path, W, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(b_path[:T], b[:T], rtol=1e-9, atol=1e-10)
