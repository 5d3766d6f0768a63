"""MultiTaskGraphRegressor as a scikit-learn citizen: metadata routing, task_column in
plain Pipelines and searches, the task-stratified splitter, clone and pickle (scikit-learn's
estimator checks are in test_common.py).

Every composite (search, pipeline, cross-validation) is compared with the same computation
written out by hand: a loop over the folds fitting the estimator directly.
"""

import pickle

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError, UnsetMetadataPassedError
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from mtreg import MultiTaskGraphRegressor, TaskStratifiedKFold

ALPHAS = [0.01, 1.0, 100.0]


def make_tasks(n_per_task=(14, 12, 16), n_features=4, seed=0, labels=("a", "b", "c")):
    """Rows of three related tasks, interleaved (so that a plain KFold mixes them)."""
    rng = np.random.default_rng(seed)
    t = np.repeat(np.asarray(labels), n_per_task)
    order = rng.permutation(len(t))
    t = t[order]
    X = rng.normal(size=(len(t), n_features)) * [1.0, 3.0, 0.5, 2.0][:n_features] + 1.0
    shared = rng.normal(size=n_features)
    W = shared + 0.5 * rng.normal(size=(len(labels), n_features))
    codes = np.searchsorted(np.asarray(labels), t)
    y = np.einsum("nd,nd->n", X, W[codes]) + codes + 0.5 * rng.normal(size=len(t))
    return X, y, t


def manual_cv_scores(X, y, t, cv_splits, alpha, *, scaler=False, score="r2", weights=None):
    """Scores of MultiTaskGraphRegressor(alpha=alpha) fitted fold by fold, by hand."""
    scores = []
    for train, test in cv_splits:
        X_train, X_test = X[train], X[test]
        if scaler:
            sc = StandardScaler().fit(X_train)
            X_train, X_test = sc.transform(X_train), sc.transform(X_test)
        w_train = None if weights is None else weights[train]
        w_test = None if weights is None else weights[test]
        est = MultiTaskGraphRegressor(alpha=alpha).fit(
            X_train, y[train], task_ids=t[train], sample_weight=w_train
        )
        pred = est.predict(X_test, task_ids=t[test])
        if score == "r2":
            scores.append(r2_score(y[test], pred, sample_weight=w_test))
        else:
            scores.append(-mean_squared_error(y[test], pred))
    return np.array(scores)


def routed_estimator():
    return (
        MultiTaskGraphRegressor()
        .set_fit_request(task_ids=True)
        .set_predict_request(task_ids=True)
        .set_score_request(task_ids=True)
    )


# -- metadata routing --------------------------------------------------------------------


def test_grid_search_routes_task_ids():
    X, y, t = make_tasks()
    cv = KFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(routed_estimator(), {"alpha": ALPHAS}, cv=cv).fit(X, y, task_ids=t)
        # BaseSearchCV.predict routes no metadata (sklearn 1.9): use the refitted model
        pred = search.best_estimator_.predict(X[:7], task_ids=t[:7])
    expected = np.array([manual_cv_scores(X, y, t, cv.split(X), a).mean() for a in ALPHAS])
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-10)
    best = ALPHAS[int(np.argmax(expected))]
    assert search.best_params_ == {"alpha": best}
    refit = MultiTaskGraphRegressor(alpha=best).fit(X, y, task_ids=t)
    np.testing.assert_allclose(search.best_estimator_.coef_, refit.coef_, rtol=1e-10)
    np.testing.assert_allclose(pred, refit.predict(X[:7], task_ids=t[:7]), rtol=1e-10)
    assert not sklearn.get_config()["enable_metadata_routing"]


def test_pipeline_routes_task_ids():
    X, y, t = make_tasks(seed=1)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), routed_estimator()).fit(X, y, task_ids=t)
        pred = pipe.predict(X, task_ids=t)
        score = pipe.score(X, y, task_ids=t)
    Xs = StandardScaler().fit_transform(X)
    ref = MultiTaskGraphRegressor().fit(Xs, y, task_ids=t)
    np.testing.assert_allclose(pred, ref.predict(Xs, task_ids=t), rtol=1e-10)
    assert score == pytest.approx(r2_score(y, ref.predict(Xs, task_ids=t)), rel=1e-12)
    # the tasks matter: a model told nothing about them scores differently
    assert score > MultiTaskGraphRegressor().fit(Xs, y).score(Xs, y) + 0.01


def test_cross_validate_routes_task_ids_and_sample_weight():
    X, y, t = make_tasks(seed=2)
    weights = np.random.default_rng(2).uniform(0.2, 3.0, size=len(y))
    cv = KFold(4)
    with sklearn.config_context(enable_metadata_routing=True):
        est = routed_estimator().set_fit_request(sample_weight=True)
        est = est.set_score_request(sample_weight=True)
        result = cross_validate(est, X, y, cv=cv, params={"task_ids": t, "sample_weight": weights})
    expected = manual_cv_scores(X, y, t, cv.split(X), 1.0, weights=weights)
    np.testing.assert_allclose(result["test_score"], expected, rtol=1e-10)
    unweighted = manual_cv_scores(X, y, t, cv.split(X), 1.0)
    assert not np.allclose(result["test_score"], unweighted)


def test_routing_without_request_is_an_error():
    X, y, t = make_tasks()
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(MultiTaskGraphRegressor(), {"alpha": ALPHAS}, cv=3)
        with pytest.raises(UnsetMetadataPassedError, match="task_ids"):
            search.fit(X, y, task_ids=t)


# -- task_column: plain Pipelines, scorers and splitters, routing off --------------------


def test_task_column_in_grid_search_with_string_scorer():
    X, y, t = make_tasks(seed=3)
    codes = np.searchsorted(np.unique(t), t).astype(float)
    Xt = np.column_stack([codes, X])
    cv = KFold(3, shuffle=True, random_state=1)
    search = GridSearchCV(
        MultiTaskGraphRegressor(task_column=0),
        {"alpha": ALPHAS},
        scoring="neg_mean_squared_error",
        cv=cv,
    ).fit(Xt, y)
    expected = np.array(
        [manual_cv_scores(X, y, codes, cv.split(X), a, score="mse").mean() for a in ALPHAS]
    )
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-10)
    assert search.best_params_ == {"alpha": ALPHAS[int(np.argmax(expected))]}
    assert search.best_estimator_.n_features_in_ == X.shape[1] + 1
    assert search.best_estimator_.coef_.shape == (3, X.shape[1])


def test_task_column_pipeline_scales_only_the_features():
    X, y, t = make_tasks(seed=4)
    codes = np.searchsorted(np.unique(t), t).astype(float)
    Xt = np.column_stack([X[:, :1], codes, X[:, 1:]])  # task labels in column 1
    features = [0, 2, 3, 4]
    pipe = Pipeline(
        [
            (
                "scale",
                ColumnTransformer([("sc", StandardScaler(), features)], remainder="passthrough"),
            ),
            ("model", MultiTaskGraphRegressor(task_column=-1)),  # passthrough comes last
        ]
    ).fit(Xt, y)
    scaler = StandardScaler().fit(Xt[:, features])
    ref = MultiTaskGraphRegressor().fit(scaler.transform(Xt[:, features]), y, task_ids=codes)
    X_new, _, t_new = make_tasks(seed=5)
    codes_new = np.searchsorted(np.unique(t_new), t_new).astype(float)
    Xt_new = np.column_stack([X_new[:, :1], codes_new, X_new[:, 1:]])
    np.testing.assert_allclose(
        pipe.predict(Xt_new),
        ref.predict(scaler.transform(Xt_new[:, features]), task_ids=codes_new),
        rtol=1e-10,
    )
    np.testing.assert_array_equal(pipe[-1].tasks_, [0.0, 1.0, 2.0])


def test_task_column_by_name_in_dataframe():
    pd = pytest.importorskip("pandas")
    X, y, t = make_tasks(seed=6)
    names = [f"x{j}" for j in range(X.shape[1])]
    df = pd.DataFrame(X, columns=names)
    df.insert(2, "task", t)
    est = MultiTaskGraphRegressor(task_column="task").fit(df, y)
    ref = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(est.predict(df), ref.predict(X, task_ids=t), rtol=1e-10)
    np.testing.assert_array_equal(est.tasks_, ["a", "b", "c"])
    np.testing.assert_array_equal(est.feature_names_in_, names[:2] + ["task"] + names[2:])

    # the task column keeps its name through a pandas-output ColumnTransformer
    scale = ColumnTransformer(
        [("sc", StandardScaler(), names)], remainder="passthrough", verbose_feature_names_out=False
    ).set_output(transform="pandas")
    pipe = make_pipeline(scale, MultiTaskGraphRegressor(task_column="task")).fit(df, y)
    Xs = StandardScaler().fit_transform(X)
    ref = MultiTaskGraphRegressor().fit(Xs, y, task_ids=t)
    np.testing.assert_allclose(pipe.predict(df), ref.predict(Xs, task_ids=t), rtol=1e-10)


# -- TaskStratifiedKFold -------------------------------------------------------------------


def check_task_folds(folds, t, n_splits):
    assert len(folds) == n_splits
    tests = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(len(t)))  # a partition
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    for train, test in folds:
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(len(t)))
        assert set(t[train]) == set(t) and set(t[test]) == set(t)


@pytest.mark.parametrize("shuffle, random_state", [(False, None), (True, 0), (True, 7)])
def test_task_stratified_kfold_keeps_every_task_in_every_fold(shuffle, random_state):
    X, y, t = make_tasks(n_per_task=(5, 9, 17, 6), labels=("a", "b", "c", "d"), seed=7)
    cv = TaskStratifiedKFold(5, shuffle=shuffle, random_state=random_state)
    assert cv.get_n_splits() == 5
    folds = list(cv.split(X, y, groups=t))
    check_task_folds(folds, t, 5)
    # each task is spread as evenly as it can be
    for label in set(t):
        counts = [np.sum(t[test] == label) for _, test in folds]
        assert max(counts) - min(counts) <= 1
    # the same folds from a task column, by position and by name
    Xt = np.column_stack([X[:, :2], np.searchsorted(np.unique(t), t), X[:, 2:]])
    by_column = TaskStratifiedKFold(5, shuffle=shuffle, random_state=random_state, task_column=2)
    for (train, test), (train2, test2) in zip(folds, by_column.split(Xt), strict=True):
        np.testing.assert_array_equal(test, test2)
        np.testing.assert_array_equal(train, train2)


def test_task_stratified_kfold_shuffle():
    X, y, t = make_tasks(seed=8)
    unshuffled = [test for _, test in TaskStratifiedKFold(3).split(X, groups=t)]
    first = [
        test for _, test in TaskStratifiedKFold(3, shuffle=True, random_state=0).split(X, groups=t)
    ]
    again = [
        test for _, test in TaskStratifiedKFold(3, shuffle=True, random_state=0).split(X, groups=t)
    ]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, unshuffled, strict=True))


def test_task_stratified_kfold_dataframe_task_column():
    pd = pytest.importorskip("pandas")
    X, y, t = make_tasks(seed=9)
    df = pd.DataFrame(X, columns=["p", "q", "r", "s"]).assign(task=t)
    folds = list(TaskStratifiedKFold(4, task_column="task").split(df, y))
    check_task_folds(folds, t, 4)
    for (_, test), (_, test2) in zip(folds, TaskStratifiedKFold(4).split(X, groups=t), strict=True):
        np.testing.assert_array_equal(test, test2)


def test_task_stratified_kfold_errors():
    X, y, t = make_tasks(n_per_task=(6, 2, 5), seed=10)
    with pytest.raises(ValueError, match=r"tasks 'b' have fewer rows than n_splits=3"):
        list(TaskStratifiedKFold(3).split(X, y, groups=t))
    with pytest.raises(ValueError, match="needs the task labels"):
        list(TaskStratifiedKFold(2).split(X, y))
    with pytest.raises(ValueError, match="given twice"):
        list(TaskStratifiedKFold(2, task_column=0).split(X, y, groups=t))
    with pytest.raises(ValueError, match="n_splits must be an integer of at least 2"):
        TaskStratifiedKFold(1)
    with pytest.raises(ValueError, match="random_state has no effect"):
        TaskStratifiedKFold(3, random_state=0)


def test_task_stratified_kfold_requests_groups():
    requests = TaskStratifiedKFold().get_metadata_routing().split.requests
    assert requests == {"groups": True, "task_ids": True}


def test_task_stratified_kfold_in_grid_search_routing_off():
    X, y, t = make_tasks(seed=11)
    codes = np.searchsorted(np.unique(t), t)
    Xt = np.column_stack([codes, X])
    cv = TaskStratifiedKFold(3, shuffle=True, random_state=2)
    expected = np.array(
        [manual_cv_scores(X, y, t, cv.split(X, groups=t), a).mean() for a in ALPHAS]
    )
    est = MultiTaskGraphRegressor(task_column=0)
    by_groups = GridSearchCV(est, {"alpha": ALPHAS}, cv=cv).fit(Xt, y, groups=t)
    np.testing.assert_allclose(by_groups.cv_results_["mean_test_score"], expected, rtol=1e-10)
    cv_column = TaskStratifiedKFold(3, shuffle=True, random_state=2, task_column=0)
    by_column = GridSearchCV(est, {"alpha": ALPHAS}, cv=cv_column).fit(Xt, y)
    np.testing.assert_allclose(by_column.cv_results_["mean_test_score"], expected, rtol=1e-10)
    assert (
        by_groups.best_params_
        == by_column.best_params_
        == {"alpha": ALPHAS[int(np.argmax(expected))]}
    )


def test_task_stratified_kfold_in_grid_search_routing_on():
    X, y, t = make_tasks(seed=12)
    cv = TaskStratifiedKFold(4)
    expected = np.array(
        [manual_cv_scores(X, y, t, cv.split(X, groups=t), a).mean() for a in ALPHAS]
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(routed_estimator(), {"alpha": ALPHAS}, cv=cv)
        search.fit(X, y, task_ids=t, groups=t)
        np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-10)
        # the routed task_ids reach the splitter too: groups need not be passed again
        search.fit(X, y, task_ids=t)
        np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-10)
        with pytest.raises(ValueError, match="groups and task_ids differ"):
            search.fit(X, y, task_ids=t, groups=t[::-1])


# -- clone, pickle, parameters -------------------------------------------------------------


def test_clone_get_params_set_params():
    graph = {"a": ["b"], "b": ["c"], "c": []}
    est = MultiTaskGraphRegressor(graph, alpha=2.0, l2=0.5, tasks=["a", "b", "c"])
    params = est.get_params()
    assert params["alpha"] == 2.0 and params["l2"] == 0.5 and params["graph"] == graph
    assert set(params) == {
        "graph",
        "alpha",
        "l2",
        "fit_intercept",
        "laplacian",
        "tasks",
        "task_column",
        "unseen_tasks",
        "solver",
        "tol",
        "max_iter",
        "l1",
        "warm_start",
        "verbose",
        "graph_params",
    }
    X, y, t = make_tasks(seed=13)
    est.fit(X, y, task_ids=t)
    twin = clone(est)
    with pytest.raises(NotFittedError):
        twin.predict(X, task_ids=t)
    assert twin.get_params() == params
    np.testing.assert_allclose(twin.fit(X, y, task_ids=t).coef_, est.coef_, rtol=1e-12)

    assert est.set_params(alpha=50.0) is est
    assert est.get_params()["alpha"] == 50.0
    coupled = est.fit(X, y, task_ids=t).coef_
    assert np.linalg.norm(np.diff(coupled, axis=0)) < np.linalg.norm(np.diff(twin.coef_, axis=0))
    with pytest.raises(ValueError, match="Invalid parameter 'alpah'"):
        est.set_params(alpah=1.0)


def _dense(A):
    return A.toarray() if hasattr(A, "toarray") else np.asarray(A)


@pytest.mark.parametrize(
    "est",
    [
        MultiTaskGraphRegressor({"a": {"b": 2.0}, "b": ["c"], "c": []}, alpha=3.0),
        MultiTaskGraphRegressor(solver="pcg", l2=0.1),
    ],
)
def test_pickle_round_trip(est):
    X, y, t = make_tasks(seed=14)
    est.fit(X, y, task_ids=t)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X, task_ids=t), est.predict(X, task_ids=t))
    np.testing.assert_array_equal(restored.coef_, est.coef_)
    np.testing.assert_array_equal(restored.intercept_, est.intercept_)
    np.testing.assert_array_equal(restored.tasks_, est.tasks_)
    np.testing.assert_array_equal(_dense(restored.laplacian_), _dense(est.laplacian_))
    assert restored.get_params().keys() == est.get_params().keys()
    assert restored.solver_ == est.solver_


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    n_splits=st.integers(2, 5),
    seed=st.one_of(st.none(), st.integers(0, 2**16)),
)
def test_task_stratified_kfold_property(counts, n_splits, seed):
    t = np.repeat(np.arange(len(counts)) * 10, counts)
    t = np.random.default_rng(0).permutation(t)
    X = np.zeros((len(t), 1))
    cv = TaskStratifiedKFold(n_splits, shuffle=seed is not None, random_state=seed)
    if min(counts) < n_splits:
        with pytest.raises(ValueError, match="fewer rows than n_splits"):
            list(cv.split(X, groups=t))
    else:
        check_task_folds(list(cv.split(X, groups=t)), t, n_splits)


def test_learning_curve_on_rows_grouped_by_task_keeps_every_task():
    """learning_curve trains on leading parts of each training fold: on rows grouped by task
    (as the loaders give them) those must still span every task (issue 12, user test)."""
    from sklearn.model_selection import learning_curve

    X, y, t = make_tasks(n_per_task=(30, 30, 30, 30), labels=("a", "b", "c", "d"), seed=13)
    order = np.argsort(t, kind="stable")
    X, y, t = X[order], y[order], t[order]
    codes = np.searchsorted(np.unique(t), t)
    Xt = np.column_stack([X, codes])
    cv = TaskStratifiedKFold(3, task_column=-1)
    for train, _ in cv.split(Xt):
        for size in (4, 10, 25):  # every prefix of at least 4 rows holds the 4 tasks
            assert set(codes[train[:size]]) == {0, 1, 2, 3}
    sizes, _, scores = learning_curve(
        MultiTaskGraphRegressor(task_column=-1), Xt, y, cv=cv, train_sizes=[0.1, 0.5, 1.0]
    )
    assert np.isfinite(scores).all(), scores
    # the prefix of one fold, fitted by hand, gives the same score
    train, test = next(cv.split(Xt))
    n = sizes[0]
    est = MultiTaskGraphRegressor(task_column=-1).fit(Xt[train[:n]], y[train[:n]])
    assert scores[0, 0] == pytest.approx(est.score(Xt[test], y[test]), rel=1e-12)
