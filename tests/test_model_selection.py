"""Model selection: exact leave-one-out against brute force, k-fold against GridSearchCV and
hand-written fold loops, the LeaveTasksOut splitter, the fold-moment merging.

Brute-force leave-one-out refits the dense reference of tests/_reference.py (or sklearn's
KernelRidge on the multi-task Gram matrix) once per left-out row.
"""

import functools
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from _reference import dense_solve, laplacian, make_long_data
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, ShuffleSplit

import mtreg._solvers._path as path_module
import mtreg._solvers._select as _select
from mtreg import (
    LeaveTasksOut,
    MultiTaskGraphRegressor,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeCV,
    TaskStratifiedKFold,
)
from mtreg._solvers._folds import FoldMoments
from mtreg._tasks import shared_stats, task_stats

ALPHAS = [0.0, 0.3, 3.0, 30.0]
CHAIN = np.array([[0, 1, 0, 0], [1, 0, 2, 0], [0, 2, 0, 1], [0, 0, 1, 0.0]])


def complete(T):
    return (np.ones((T, T)) - np.eye(T)) / T


def fold_stats(X, y, task_idx, sw, n_tasks, fit_intercept, folds):
    """(training-set moments of each fold, moments of all the data) from FoldMoments."""
    moments = FoldMoments(X, y, task_idx, sw, n_tasks, fit_intercept, folds)
    return [moments.train(k) for k in range(len(folds))], moments.full


def combine_stats(parts):
    """Moments of a union of disjoint row sets by pairwise merges."""
    return functools.reduce(lambda a, b: a.merge(b), parts)


# -- exact leave-one-out ---------------------------------------------------------------------


def brute_force_loo(X, y, task_idx, A, alpha, l2, sw=None, **kw):
    """Prediction of each row by the dense reference fitted without that row."""
    pred = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        W, b = dense_solve(
            X[keep],
            y[keep],
            task_idx[keep],
            len(A),
            A,
            alpha,
            l2,
            sample_weight=None if sw is None else sw[keep],
            **kw,
        )
        pred[i] = X[i] @ W[task_idx[i]] + b[task_idx[i]]
    return pred


def weighted_mse(y, pred, sw):
    return -np.sum(sw * (y - pred) ** 2) / np.sum(sw)


@pytest.mark.parametrize("graph", ["complete", "none", "chain", "normalized"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loo_equals_brute_force(rng, graph, fit_intercept):
    X, y, t = make_long_data(rng, n_tasks=4, n_per_task=7, d=3, feature_scale=3.0)
    sw = rng.uniform(0.2, 2.0, size=len(y))
    sw[0] = 0.0  # a row of weight zero: its left-out prediction is the fitted value
    A = {"complete": complete(4), "none": np.zeros((4, 4))}.get(graph, CHAIN)
    given = {"complete": None, "none": "none"}.get(graph, CHAIN)
    lap = "normalized" if graph == "normalized" else "unnormalized"
    l2s = [0.1, 2.0]
    est = MultiTaskGraphRegressorCV(
        given, alphas=ALPHAS, l2s=l2s, laplacian=lap, fit_intercept=fit_intercept
    ).fit(X, y, task_ids=t, sample_weight=sw)
    expected = [
        weighted_mse(
            y,
            brute_force_loo(
                X, y, t, A, a, b, sw, fit_intercept=fit_intercept, normalized=graph == "normalized"
            ),
            sw,
        )
        for a in ALPHAS
        for b in l2s
    ]
    np.testing.assert_allclose(est.cv_results_["mean_test_score"], expected, rtol=1e-8)
    best = int(np.argmax(expected))
    assert (est.alpha_, est.l2_) == (ALPHAS[best // 2], l2s[best % 2])
    assert est.best_score_ == pytest.approx(expected[best], rel=1e-8)
    ref = MultiTaskGraphRegressor(
        given, alpha=est.alpha_, l2=est.l2_, laplacian=lap, fit_intercept=fit_intercept
    ).fit(X, y, task_ids=t, sample_weight=sw)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(est.predict(X, task_ids=t), ref.predict(X, task_ids=t), rtol=1e-10)


def test_loo_multi_output_leaves_out_single_entries(rng):
    n, d, T = 9, 2, 3
    X = rng.normal(size=(n, d)) + 1.0
    Y = X @ rng.normal(size=(d, T)) + 0.3 * rng.normal(size=(n, T))
    sw = rng.uniform(0.5, 2.0, size=n)
    A = CHAIN[:3, :3]
    est = MultiTaskGraphRegressorCV(A, alphas=ALPHAS, l2s=[0.5]).fit(X, Y, sample_weight=sw)
    # the same data in long format: entry (i, t) is one row
    X_long, y_long, t_long = np.tile(X, (T, 1)), Y.T.ravel(), np.repeat(np.arange(T), n)
    sw_long = np.tile(sw, T)
    expected = [
        weighted_mse(y_long, brute_force_loo(X_long, y_long, t_long, A, a, 0.5, sw_long), sw_long)
        for a in ALPHAS
    ]
    np.testing.assert_allclose(est.cv_results_["mean_test_score"], expected, rtol=1e-8)
    assert est.predict(X).shape == (n, T)


def test_loo_with_a_scorer_and_on_sparse_x(rng):
    X, y, t = make_long_data(rng, n_tasks=3, n_per_task=6, d=3)
    X[rng.random(X.shape) < 0.4] = 0.0
    est = MultiTaskGraphRegressorCV(alphas=ALPHAS, scoring="neg_mean_absolute_error").fit(
        sp.csr_matrix(X), y, task_ids=t
    )
    expected = [
        -mean_absolute_error(y, brute_force_loo(X, y, t, complete(3), a, 1.0)) for a in ALPHAS
    ]
    np.testing.assert_allclose(est.cv_results_["mean_test_score"], expected, rtol=1e-8)


def _dense_path_limit(monkeypatch, limit):
    """Lower the size up to which select_solver(family="path") takes the dense path."""
    paths = _select.TABLE["path"]
    monkeypatch.setitem(paths, "dense", replace(paths["dense"], auto_max_unknowns=limit))


def test_loo_on_a_large_general_graph_is_refused(rng, monkeypatch):
    X, y, t = make_long_data(rng, n_tasks=4)
    _dense_path_limit(monkeypatch, 5)
    with pytest.raises(ValueError, match=r"exact leave-one-out on a general graph.*cv=5"):
        MultiTaskGraphRegressorCV(CHAIN).fit(X, y, task_ids=t)


# -- k-fold: the same numbers as GridSearchCV over the plain estimator -----------------------


def routed(est):
    return est.set_fit_request(task_ids=True).set_score_request(task_ids=True)


def grid_search(X, y, t, cv, graph=None, scoring=None, groups=None, **params):
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            routed(MultiTaskGraphRegressor(graph, **params)),
            {"alpha": ALPHAS},
            cv=cv,
            scoring=scoring,
        )
        fit_params = {"task_ids": t} if groups is None else {"task_ids": t, "groups": groups}
        return search.fit(X, y, **fit_params)


@pytest.mark.parametrize("cv_name", ["kfold", "stratified", "leave_tasks", "shuffle"])
@pytest.mark.parametrize("graph", [None, "chain"])
def test_kfold_equals_grid_search(rng, cv_name, graph):
    X, y, t = make_long_data(rng, n_tasks=4, n_per_task=12, d=3, feature_scale=2.0)
    cv = {
        "kfold": KFold(4, shuffle=True, random_state=0),
        "stratified": TaskStratifiedKFold(3, shuffle=True, random_state=1),
        "leave_tasks": LeaveTasksOut(2),
        "shuffle": ShuffleSplit(3, test_size=0.25, random_state=0),  # test sets overlap
    }[cv_name]
    A = None if graph is None else CHAIN
    tasks = [0, 1, 2, 3]  # the plain estimator must know the held-out tasks of LeaveTasksOut
    groups = t if cv_name in ("stratified", "leave_tasks") else None
    search = grid_search(X, y, t, cv, A, groups=groups, tasks=tasks, l2=0.5)
    est = MultiTaskGraphRegressorCV(A, alphas=ALPHAS, l2s=0.5, cv=cv, tasks=tasks).fit(
        X, y, task_ids=t
    )
    for key in ["mean_test_score", "std_test_score", "split0_test_score", "rank_test_score"]:
        np.testing.assert_allclose(
            est.cv_results_[key], search.cv_results_[key], rtol=1e-9, atol=1e-12
        )
    assert est.alpha_ == search.best_params_["alpha"]
    np.testing.assert_allclose(est.coef_, search.best_estimator_.coef_, rtol=1e-10)
    np.testing.assert_allclose(est.intercept_, search.best_estimator_.intercept_, rtol=1e-10)


def test_kfold_weights_scorer_and_groups(rng):
    X, y, t = make_long_data(rng, n_tasks=4, n_per_task=10, d=2)
    sw = rng.uniform(0.1, 3.0, size=len(y))
    groups = np.arange(len(y)) % 5
    cv = GroupKFold(5)
    est = MultiTaskGraphRegressorCV(CHAIN, alphas=ALPHAS, cv=cv, scoring="r2").fit(
        X, y, task_ids=t, sample_weight=sw, groups=groups
    )
    expected = np.zeros((5, len(ALPHAS)))
    for k, (train, test) in enumerate(cv.split(X, y, groups)):
        for j, a in enumerate(ALPHAS):
            ref = MultiTaskGraphRegressor(CHAIN, alpha=a).fit(
                X[train], y[train], task_ids=t[train], sample_weight=sw[train]
            )
            expected[k, j] = r2_score(
                y[test], ref.predict(X[test], task_ids=t[test]), sample_weight=sw[test]
            )
    np.testing.assert_allclose(est.cv_results_["mean_test_score"], expected.mean(0), rtol=1e-9)
    default = MultiTaskGraphRegressorCV(CHAIN, alphas=ALPHAS, cv=cv).fit(
        X, y, task_ids=t, sample_weight=sw, groups=groups
    )
    np.testing.assert_allclose(default.cv_results_["mean_test_score"], expected.mean(0), rtol=1e-9)


def test_kfold_with_warm_started_pcg(rng, monkeypatch):
    _dense_path_limit(monkeypatch, 5)  # force the pcg path
    X, y, t = make_long_data(rng, n_tasks=4, n_per_task=12, d=3)
    cv = KFold(3, shuffle=True, random_state=0)
    est = MultiTaskGraphRegressorCV(CHAIN, alphas=ALPHAS[1:], cv=cv, tol=1e-13).fit(
        X, y, task_ids=t
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            routed(MultiTaskGraphRegressor(CHAIN)), {"alpha": ALPHAS[1:]}, cv=cv
        ).fit(X, y, task_ids=t)
    np.testing.assert_allclose(
        est.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"], rtol=1e-9
    )


def test_kfold_multi_output_and_task_column(rng):
    n, d, T = 40, 3, 4
    X = rng.normal(size=(n, d))
    Y = X @ rng.normal(size=(d, T)) + rng.normal(size=(n, T))
    cv = KFold(4)
    est = MultiTaskGraphRegressorCV(CHAIN, alphas=ALPHAS, cv=cv).fit(X, Y)
    search = GridSearchCV(MultiTaskGraphRegressor(CHAIN), {"alpha": ALPHAS}, cv=cv).fit(X, Y)
    np.testing.assert_allclose(
        est.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"], rtol=1e-9
    )
    # task labels in a column: the splitter reads them there too
    X2, y2, t2 = make_long_data(rng, n_tasks=3, n_per_task=9)
    Xt = np.column_stack([t2, X2])
    cv = TaskStratifiedKFold(3, task_column=0)
    est = MultiTaskGraphRegressorCV(alphas=ALPHAS, cv=cv, task_column=0).fit(Xt, y2)
    search = GridSearchCV(MultiTaskGraphRegressor(task_column=0), {"alpha": ALPHAS}, cv=cv).fit(
        Xt, y2
    )
    np.testing.assert_allclose(
        est.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"], rtol=1e-9
    )
    np.testing.assert_allclose(est.predict(Xt), search.predict(Xt), rtol=1e-10)


def fold_loop_scores(X, y, t, folds, graph, grid, sw, **params):
    """Held-out R^2 of the plain estimator fitted on each training set, (n_folds, n_grid)."""
    scores = np.empty((len(folds), len(grid)))
    for k, (train, test) in enumerate(folds):
        for j, (a, b) in enumerate(grid):
            ref = MultiTaskGraphRegressor(graph, alpha=a, l2=b, **params).fit(
                X[train], y[train], task_ids=t[train], sample_weight=sw[train]
            )
            scores[k, j] = r2_score(
                y[test], ref.predict(X[test], task_ids=t[test]), sample_weight=sw[test]
            )
    return scores


def school_like(rng, n_tasks=9, d=6):
    """Tasks of 4 to 40 rows (some with fewer rows than features in a training set), 0/1
    and 0..100 features, and weights with zeros."""
    sizes = rng.integers(4, 41, size=n_tasks)
    t = rng.permutation(np.repeat(np.arange(n_tasks), sizes))
    X = np.column_stack(
        [rng.integers(0, 2, size=(len(t), d // 2)), rng.uniform(0, 100, size=(len(t), d - d // 2))]
    )
    W = rng.normal(size=d) * 0.05 + 0.02 * rng.normal(size=(n_tasks, d))
    y = np.einsum("ij,ij->i", X, W[t]) + rng.normal(size=n_tasks)[t] + rng.normal(size=len(t))
    sw = rng.uniform(0.2, 3.0, size=len(t))
    sw[rng.random(len(t)) < 0.1] = 0.0
    return X, y, t, sw


@pytest.mark.parametrize(
    "graph, laplacian",
    [
        (None, "unnormalized"),
        (None, "normalized"),
        ("none", "unnormalized"),
        ("chain", "unnormalized"),
    ],
)
@pytest.mark.parametrize("splitter", ["stratified", "task_out", "shuffle"])
def test_kfold_r2_from_held_out_moments_equals_fold_loop(rng, graph, laplacian, splitter):
    """The default R^2 is computed from the moments of each test set: the same numbers as
    predicting its rows, with weights, tasks missing from a training set (their intercept
    is the mean of the others') and overlapping test sets."""
    X, y, t, sw = school_like(rng)
    n_tasks = 9
    if splitter == "stratified":
        folds = list(TaskStratifiedKFold(4, shuffle=True, random_state=0).split(X, groups=t))
    elif splitter == "task_out":  # tasks 0 and 1 are held out whole in fold 0
        block = rng.integers(1, 4, size=len(t))
        block[t < 2] = 0
        folds = [(np.flatnonzero(block != k), np.flatnonzero(block == k)) for k in range(4)]
    else:
        folds = list(ShuffleSplit(3, test_size=0.3, random_state=0).split(X))
    A = (
        np.diag(np.ones(n_tasks - 1), 1) + np.diag(np.ones(n_tasks - 1), -1)
        if (graph == "chain")
        else graph
    )
    alphas, l2s = [0.0, 0.1, 3.0, 1e3], [0.01, 1.0]
    est = MultiTaskGraphRegressorCV(
        A, alphas=alphas, l2s=l2s, cv=folds, laplacian=laplacian, tasks=np.arange(n_tasks)
    ).fit(X, y, task_ids=t, sample_weight=sw)
    grid = [(a, b) for a in alphas for b in l2s]
    expected = fold_loop_scores(
        X, y, t, folds, A, grid, sw, laplacian=laplacian, tasks=np.arange(n_tasks)
    )
    for k in range(len(folds)):
        np.testing.assert_allclose(
            est.cv_results_[f"split{k}_test_score"], expected[k], rtol=0, atol=1e-9
        )
    assert (est.alpha_, est.l2_) == grid[int(np.argmax(expected.mean(axis=0)))]
    # a scorer takes the rows: the same numbers
    by_rows = MultiTaskGraphRegressorCV(
        A,
        alphas=alphas,
        l2s=l2s,
        cv=folds,
        scoring="r2",
        laplacian=laplacian,
        tasks=np.arange(n_tasks),
    ).fit(X, y, task_ids=t, sample_weight=sw)
    np.testing.assert_allclose(
        by_rows.cv_results_["mean_test_score"],
        est.cv_results_["mean_test_score"],
        rtol=0,
        atol=1e-9,
    )


@pytest.mark.parametrize("block", [path_module._PRODUCTS_BLOCK, 100, 960])
@pytest.mark.parametrize("laplacian", ["unnormalized", "normalized"])
def test_uniform_path_equals_the_plain_estimator(rng, monkeypatch, block, laplacian):
    """Every alpha of the complete-graph path, with the coupling made in one block, in
    several blocks of products, or one alpha at a time (block < 64 columns)."""
    monkeypatch.setattr(path_module, "_PRODUCTS_BLOCK", block)
    X, y, t, sw = school_like(rng, n_tasks=20, d=5)  # T d = 100: blocks of 64 columns
    stats = task_stats(X, y, t, sw, 20, True)
    est = MultiTaskGraphRegressor(laplacian=laplacian).fit(X, y, task_ids=t)
    path = path_module.make_path(stats, est.graph_)
    assert isinstance(path, path_module.UniformPath)
    alphas = np.array([0.0, 0.05, 2.0, 300.0])
    coefs = path.coefs(alphas, 0.3)
    intercepts = path_module.path_intercepts(stats, coefs, est.graph_)
    for a, W, b in zip(alphas, coefs, intercepts, strict=True):
        ref = MultiTaskGraphRegressor(alpha=a, l2=0.3, laplacian=laplacian).fit(
            X, y, task_ids=t, sample_weight=sw
        )
        np.testing.assert_allclose(W, ref.coef_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, ref.intercept_, rtol=1e-9, atol=1e-12)


def test_kfold_r2_of_a_constant_test_set_and_without_intercept(rng):
    """R^2 of a test set whose y is constant is 0 (sklearn's rule for 0 / 0 aside from a
    perfect fit): that fold takes the rows. Without intercepts every fold does."""
    X, y, t, sw = school_like(rng, n_tasks=4, d=3)
    block = np.arange(len(y)) % 3
    y[block == 1] = 2.5
    folds = [(np.flatnonzero(block != k), np.flatnonzero(block == k)) for k in range(3)]
    grid = [(a, 1.0) for a in ALPHAS]
    for fit_intercept in (True, False):
        est = MultiTaskGraphRegressorCV(alphas=ALPHAS, cv=folds, fit_intercept=fit_intercept).fit(
            X, y, task_ids=t, sample_weight=sw
        )
        expected = fold_loop_scores(X, y, t, folds, None, grid, sw, fit_intercept=fit_intercept)
        assert np.all(expected[1] == 0.0)
        for k in range(3):
            np.testing.assert_allclose(
                est.cv_results_[f"split{k}_test_score"], expected[k], rtol=0, atol=1e-9
            )


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shared, splitter", [(False, "kfold"), (True, "kfold"), (False, "tasks")])
def test_merged_fold_moments_equal_direct_moments(rng, fit_intercept, shared, splitter):
    X, y, t = make_long_data(rng, n_tasks=3, n_per_task=10, d=3, feature_scale=50.0)
    sw = rng.uniform(0, 2, size=len(y))
    Y = np.column_stack([y, -2 * y + 1]) if shared else y
    if splitter == "kfold":
        folds = list(KFold(4, shuffle=True, random_state=0).split(X))
    else:  # each training set lacks a task
        folds = list(LeaveTasksOut(3).split(X, groups=t))
    train, full = fold_stats(X, Y, None if shared else t, sw, 3, fit_intercept, folds)

    def direct(rows):
        if shared:
            return shared_stats(X[rows], Y[rows], sw[rows], fit_intercept)
        return task_stats(X[rows], y[rows], t[rows], sw[rows], 3, fit_intercept)

    for got, want in [(full, direct(np.arange(len(y))))] + [
        (train[k], direct(tr)) for k, (tr, _) in enumerate(folds)
    ]:
        for field in ("gram", "xty", "x_mean", "y_mean", "weight_sum"):
            np.testing.assert_allclose(
                getattr(got, field), getattr(want, field), rtol=1e-10, atol=1e-8
            )
    again = combine_stats([direct(np.arange(15)), direct(np.arange(15, 30))])
    np.testing.assert_allclose(again.gram, full.gram, rtol=1e-10)


# -- MultiTaskKernelRidgeCV -------------------------------------------------------------------


def kernel_brute_force_loo(K, y, sw):
    pred = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        ref = KernelRidge(alpha=1.0, kernel="precomputed").fit(
            K[np.ix_(keep, keep)], y[keep], sample_weight=sw[keep]
        )
        pred[i] = ref.predict(K[i : i + 1, keep])[0]
    return pred


def mt_gram(Kx, t_rows, t_cols, A, alpha, l2):
    return Kx * np.linalg.inv(alpha * laplacian(A) + l2 * np.eye(len(A)))[np.ix_(t_rows, t_cols)]


def test_kernel_ridge_loo_equals_brute_force(rng):
    n = 24
    X = rng.uniform(-2, 2, size=(n, 2))
    t = np.arange(n) % 4
    y = np.sin(X[:, 0]) + 0.2 * t + 0.1 * rng.normal(size=n)
    sw = rng.uniform(0.3, 2.0, size=n)
    sw[2] = 0.0
    grid_a, grid_l2 = [0.0, 1.0, 10.0], [0.1, 1.0]  # (1, 1) and (10, ...) share no ratio
    est = MultiTaskKernelRidgeCV(CHAIN, alphas=grid_a, l2s=grid_l2, gamma=0.5).fit(
        X, y, task_ids=t, sample_weight=sw
    )
    Kx = rbf_kernel(X, gamma=0.5)
    expected = [
        weighted_mse(y, kernel_brute_force_loo(mt_gram(Kx, t, t, CHAIN, a, b), y, sw), sw)
        for a in grid_a
        for b in grid_l2
    ]
    np.testing.assert_allclose(est.cv_results_["mean_test_score"], expected, rtol=1e-8)
    ref = MultiTaskKernelRidge(CHAIN, alpha=est.alpha_, l2=est.l2_, gamma=0.5).fit(
        X, y, task_ids=t, sample_weight=sw
    )
    np.testing.assert_allclose(est.dual_coef_, ref.dual_coef_, rtol=1e-10)


def test_kernel_ridge_loo_multi_output(rng):
    n, T = 10, 3
    X = rng.uniform(-2, 2, size=(n, 1))
    Y = np.sin(X * np.arange(1, T + 1)) + 0.1 * rng.normal(size=(n, T))
    A = CHAIN[:3, :3]
    est = MultiTaskKernelRidgeCV(A, alphas=[0.1, 2.0], l2s=[0.2, 1.0], gamma=0.7).fit(X, Y)
    t_long = np.repeat(np.arange(T), n)
    Kx = np.tile(rbf_kernel(X, gamma=0.7), (T, T))
    expected = [
        weighted_mse(
            Y.T.ravel(),
            kernel_brute_force_loo(
                mt_gram(Kx, t_long, t_long, A, a, b), Y.T.ravel(), np.ones(n * T)
            ),
            np.ones(n * T),
        )
        for a in [0.1, 2.0]
        for b in [0.2, 1.0]
    ]
    np.testing.assert_allclose(est.cv_results_["mean_test_score"], expected, rtol=1e-8)


@pytest.mark.parametrize("multi_output", [False, True])
def test_kernel_ridge_kfold_equals_grid_search(rng, multi_output):
    n = 36
    X = rng.uniform(-2, 2, size=(n, 2))
    t = np.arange(n) % 3
    cv = KFold(3, shuffle=True, random_state=0)
    grid = {"alpha": [0.1, 1.0, 10.0], "l2": [0.1, 1.0]}
    if multi_output:
        y = np.column_stack([np.sin(X[:, 0]), np.cos(X[:, 1]), X[:, 0]])
        search = GridSearchCV(MultiTaskKernelRidge(gamma=0.5), grid, cv=cv).fit(X, y)
        est = MultiTaskKernelRidgeCV(alphas=grid["alpha"], l2s=grid["l2"], gamma=0.5, cv=cv).fit(
            X, y
        )
    else:
        y = np.sin(X[:, 0]) + 0.3 * t
        with sklearn.config_context(enable_metadata_routing=True):
            search = GridSearchCV(routed(MultiTaskKernelRidge(gamma=0.5)), grid, cv=cv).fit(
                X, y, task_ids=t
            )
        est = MultiTaskKernelRidgeCV(alphas=grid["alpha"], l2s=grid["l2"], gamma=0.5, cv=cv).fit(
            X, y, task_ids=t
        )
    np.testing.assert_allclose(
        est.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"], rtol=1e-8
    )
    assert (est.alpha_, est.l2_) == (search.best_params_["alpha"], search.best_params_["l2"])


# -- LeaveTasksOut ------------------------------------------------------------------------------


@pytest.mark.parametrize("shuffle, random_state", [(False, None), (True, 0)])
def test_leave_tasks_out_holds_out_whole_tasks(shuffle, random_state):
    rng = np.random.default_rng(3)
    t = rng.choice(list("abcdefg"), size=60)
    X = np.zeros((60, 2))
    cv = LeaveTasksOut(3, shuffle=shuffle, random_state=random_state)
    folds = list(cv.split(X, groups=t))
    assert len(folds) == cv.get_n_splits() == 3
    np.testing.assert_array_equal(np.sort(np.concatenate([te for _, te in folds])), np.arange(60))
    held = [set(t[te]) for _, te in folds]
    assert sorted(len(h) for h in held) == [2, 2, 3]
    for (train, test), tasks in zip(folds, held, strict=True):
        assert not tasks & set(t[train])
        assert len(train) + len(test) == 60
    by_column = LeaveTasksOut(3, shuffle=shuffle, random_state=random_state, task_column=1)
    Xt = np.column_stack([X[:, 0], np.searchsorted(np.unique(t), t)])
    for (_, a), (_, b) in zip(folds, by_column.split(Xt), strict=True):
        np.testing.assert_array_equal(a, b)
    assert LeaveTasksOut().get_metadata_routing().split.requests == {
        "groups": True,
        "task_ids": True,
    }


def test_leave_tasks_out_errors():
    X, t = np.zeros((6, 1)), ["a", "a", "b", "b", "a", "b"]
    with pytest.raises(ValueError, match="needs at least n_splits tasks"):
        list(LeaveTasksOut(3).split(X, groups=t))
    with pytest.raises(ValueError, match="LeaveTasksOut needs the task labels"):
        list(LeaveTasksOut(2).split(X))
    with pytest.raises(ValueError, match="n_splits must be an integer of at least 2"):
        LeaveTasksOut(1)


# -- bad input -----------------------------------------------------------------------------------


def test_search_bad_input(rng):
    X, y, t = make_long_data(rng, n_tasks=3, n_per_task=5)
    t1 = t.copy()
    t1[t1 == 2] = 1
    t1[0] = 2  # task 2 has 1 row
    with pytest.raises(ValueError, match="tasks 2 have 1 sample"):
        MultiTaskGraphRegressorCV().fit(X, y, task_ids=t1)
    with pytest.raises(ValueError, match="alphas must be finite and non-negative"):
        MultiTaskGraphRegressorCV(alphas=[1.0, -1.0]).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="graph='learn' is not available"):
        MultiTaskGraphRegressorCV("learn").fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match=r"l2=0 makes E = alpha L \+ l2 I singular"):
        MultiTaskKernelRidgeCV(l2s=[1.0, 0.0]).fit(X, y, task_ids=t)
    est = MultiTaskGraphRegressorCV(alphas=ALPHAS).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="unknown task labels 9"):
        est.predict(X[:1], task_ids=[9])
