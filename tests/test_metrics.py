"""mtreg.metrics.task_scorer: named scorers, make_scorer scorers and metric functions that
pass routed task_ids on to the model, checked against hand-written fold loops scored by
scikit-learn's metrics, and against scikit-learn's own scorers on a task_column model."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    get_scorer,
    log_loss,
    make_scorer,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_validate,
    learning_curve,
    validation_curve,
)

from mtreg import (
    MultiTaskGraphClassifier,
    MultiTaskGraphRegressor,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidgeCV,
)
from mtreg.metrics import TaskScorer, task_scorer

CV = KFold(3, shuffle=True, random_state=1)
ALPHAS = [0.1, 10.0]


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _data(n=90, seed=0):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, 3))
    t = np.repeat(np.array(["a", "b", "c"]), n // 3)
    y = X @ [1.0, 2.0, 3.0] + (t == "c") * (1 + X[:, 0]) + r.normal(size=n)
    return X, y, t, r.uniform(0.5, 2.0, size=n)


def _with_column(X, t):
    Xt = np.empty((X.shape[0], X.shape[1] + 1), dtype=object)
    Xt[:, :-1], Xt[:, -1] = X, t
    return Xt


def _hand_loop(make, X, y, t, metric, response="predict", sw=None, cv=CV):
    """Fold scores of a hand-written loop: fit on train, score the test rows' responses."""
    scores = []
    for train, test in cv.split(X, y):
        fit_kw = {} if sw is None else {"sample_weight": sw[train]}
        model = make().fit(X[train], y[train], task_ids=t[train], **fit_kw)
        out = getattr(model, response)(X[test], task_ids=t[test])
        kw = {} if sw is None else {"sample_weight": sw[test]}
        scores.append(metric(y[test], out, **kw))
    return np.array(scores)


def _neg_mse(y, p, **kw):
    return -mean_squared_error(y, p, **kw)


def test_named_scorer_scores_nan_under_routing_and_task_scorer_does_not(routing):
    X, y, t, _ = _data()
    est = MultiTaskGraphRegressor().set_fit_request(task_ids=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plain = GridSearchCV(est, {"alpha": ALPHAS}, scoring="r2", cv=CV).fit(X, y, task_ids=t)
    said = " ".join(str(w.message) for w in caught)
    assert "Scoring failed" in said and "non-finite" in said
    assert np.isnan(plain.cv_results_["mean_test_score"]).all()  # the bug of issue 11
    fixed = GridSearchCV(est, {"alpha": ALPHAS}, scoring=task_scorer("r2"), cv=CV)
    fixed.fit(X, y, task_ids=t)
    refs = [
        _hand_loop(lambda a=a: MultiTaskGraphRegressor(alpha=a), X, y, t, r2_score).mean()
        for a in ALPHAS
    ]
    np.testing.assert_allclose(fixed.cv_results_["mean_test_score"], refs, rtol=1e-12)
    assert fixed.best_params_ == {"alpha": ALPHAS[int(np.argmax(refs))]}


@pytest.mark.parametrize(
    "scoring, metric",
    [
        ("neg_mean_squared_error", _neg_mse),
        ("r2", r2_score),
        (make_scorer(mean_absolute_error, greater_is_better=False), None),
        (mean_absolute_error, None),
    ],
    ids=["name-mse", "name-r2", "make_scorer", "metric-function"],
)
def test_search_tools_match_hand_loop(routing, scoring, metric):
    X, y, t, _ = _data()
    if metric is None:
        metric = lambda yt, p: -mean_absolute_error(yt, p)  # noqa: E731
    extra = (
        {"greater_is_better": False} if callable(scoring) and scoring is mean_absolute_error else {}
    )
    scorer = task_scorer(scoring, **extra)
    est = MultiTaskGraphRegressor().set_fit_request(task_ids=True)
    refs = [
        _hand_loop(lambda a=a: MultiTaskGraphRegressor(alpha=a), X, y, t, metric) for a in ALPHAS
    ]
    grid = GridSearchCV(est, {"alpha": ALPHAS}, scoring=scorer, cv=CV).fit(X, y, task_ids=t)
    rand = RandomizedSearchCV(
        est, {"alpha": ALPHAS}, n_iter=2, scoring=scorer, cv=CV, random_state=0
    ).fit(X, y, task_ids=t)
    for k, alpha in enumerate(ALPHAS):
        np.testing.assert_allclose(grid.cv_results_["mean_test_score"][k], refs[k].mean())
        j = [p["alpha"] for p in rand.cv_results_["params"]].index(alpha)
        np.testing.assert_allclose(rand.cv_results_["mean_test_score"][j], refs[k].mean())
    _, test_scores = validation_curve(
        est, X, y, param_name="alpha", param_range=ALPHAS, cv=CV, scoring=scorer,
        params={"task_ids": t},
    )  # fmt: skip
    np.testing.assert_allclose(test_scores, np.array(refs))


def test_halving_search_matches_hand_loop(routing):
    X, y, t, _ = _data(n=120)
    est = MultiTaskGraphRegressor().set_fit_request(task_ids=True)
    search = HalvingGridSearchCV(
        est, {"alpha": ALPHAS}, scoring=task_scorer("neg_mean_squared_error"), cv=CV,
        min_resources=60, factor=2,
    ).fit(X, y, task_ids=t)  # fmt: skip
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # the last iteration uses all the rows (no subsampling left): compare it to the hand loop
    last = search.cv_results_["iter"] == search.n_iterations_ - 1
    assert search.cv_results_["n_resources"][last][0] == 120
    for k in np.flatnonzero(last):
        a = search.cv_results_["params"][k]["alpha"]
        ref = _hand_loop(lambda a=a: MultiTaskGraphRegressor(alpha=a), X, y, t, _neg_mse)
        np.testing.assert_allclose(search.cv_results_["mean_test_score"][k], ref.mean())


def test_cross_validate_dict_and_sample_weight(routing):
    X, y, t, sw = _data()
    est = MultiTaskGraphRegressor().set_fit_request(task_ids=True, sample_weight=True)
    scoring = {"mse": task_scorer("neg_mean_squared_error"), "r2": task_scorer("r2")}
    out = cross_validate(
        est, X, y, cv=CV, scoring=scoring, params={"task_ids": t, "sample_weight": sw}
    )
    make = MultiTaskGraphRegressor
    np.testing.assert_allclose(out["test_mse"], _hand_loop(make, X, y, t, _neg_mse, sw=sw))
    np.testing.assert_allclose(out["test_r2"], _hand_loop(make, X, y, t, r2_score, sw=sw))
    # a scorer told not to take the weights scores unweighted
    unweighted = task_scorer("r2").set_score_request(sample_weight=False)
    out = cross_validate(
        est, X, y, cv=CV, scoring=unweighted, params={"task_ids": t, "sample_weight": sw}
    )
    ref = []
    for train, test in CV.split(X):
        m = make().fit(X[train], y[train], task_ids=t[train], sample_weight=sw[train])
        ref.append(r2_score(y[test], m.predict(X[test], task_ids=t[test])))
    np.testing.assert_allclose(out["test_score"], ref)


def test_learning_curve_matches_hand_loop(routing):
    X, y, t, _ = _data()
    # learning_curve checks the partial_fit requests too, even with exploit_incremental_learning off
    est = (
        MultiTaskGraphRegressor()
        .set_fit_request(task_ids=True)
        .set_partial_fit_request(task_ids=True)
    )
    sizes, _, test_scores = learning_curve(
        est, X, y, train_sizes=[1.0], cv=CV, scoring=task_scorer("r2"),
        params={"task_ids": t}, shuffle=False,
    )  # fmt: skip
    assert sizes.tolist() == [60]
    np.testing.assert_allclose(
        test_scores[0], _hand_loop(MultiTaskGraphRegressor, X, y, t, r2_score)
    )


def _labels(y):
    return np.array(["lo", "mid", "hi"])[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]


@pytest.mark.parametrize("name", ["roc_auc_ovr", "roc_auc_ovo", "neg_log_loss", "accuracy"])
def test_multiclass_string_labels_match_sklearn_on_task_column(name):
    """Routing + task_scorer gives what scikit-learn's own scorer gives a task_column model."""
    X, y, t, _ = _data()
    labels = _labels(y)
    plain = cross_validate(
        MultiTaskGraphClassifier(task_column=-1), _with_column(X, t), labels, cv=CV, scoring=name
    )["test_score"]
    with sklearn.config_context(enable_metadata_routing=True):
        clf = MultiTaskGraphClassifier().set_fit_request(task_ids=True)
        routed = cross_validate(
            clf, X, labels, cv=CV, scoring=task_scorer(name), params={"task_ids": t}
        )
    np.testing.assert_allclose(routed["test_score"], plain, rtol=1e-12)
    assert np.isfinite(plain).all()


def test_multiclass_fold_missing_a_class_gets_the_labels(routing):
    """neg_log_loss on a fold whose test rows lack a class: the columns of predict_proba
    follow classes_, and the metric is told so (a plain log_loss call raises)."""
    X, y, t, _ = _data()
    labels = _labels(y)
    no_hi = np.flatnonzero(labels != "hi")
    test = no_hi[::4]  # a test set without "hi"; the training rows have every class
    cv = [(np.setdiff1d(np.arange(len(labels)), test), test)]
    clf = MultiTaskGraphClassifier(graph="none").set_fit_request(task_ids=True)
    out = cross_validate(
        clf, X, labels, cv=cv, scoring=task_scorer("neg_log_loss"), params={"task_ids": t},
        error_score="raise",
    )  # fmt: skip

    def metric(yt, proba):
        return -log_loss(yt, proba, labels=["hi", "lo", "mid"])

    ref = []
    for train, test in cv:
        m = MultiTaskGraphClassifier(graph="none").fit(X[train], labels[train], task_ids=t[train])
        ref.append(metric(labels[test], m.predict_proba(X[test], task_ids=t[test])))
    np.testing.assert_allclose(out["test_score"], ref)


def _ap(response, pos_label):
    return make_scorer(average_precision_score, response_method=response, pos_label=pos_label)


@pytest.mark.parametrize(
    "scoring",
    [
        "roc_auc",
        "neg_log_loss",
        _ap("decision_function", "down"),
        _ap("decision_function", "up"),
        _ap("predict_proba", "down"),
    ],
    ids=["roc_auc", "log_loss", "ap-decision-down", "ap-decision-up", "ap-proba-down"],
)
def test_binary_response_and_pos_label_match_sklearn_on_task_column(scoring):
    """The positive class's column of predict_proba, decision_function negated when the
    positive class is classes_[0]: as scikit-learn's scorer on a task_column model."""
    X, y, t, _ = _data()
    labels = np.where(y > 0, "up", "down")
    plain = cross_validate(
        MultiTaskGraphClassifier(task_column=-1), _with_column(X, t), labels, cv=CV,
        scoring=scoring, error_score="raise",
    )["test_score"]  # fmt: skip
    with sklearn.config_context(enable_metadata_routing=True):
        clf = MultiTaskGraphClassifier().set_fit_request(task_ids=True)
        routed = cross_validate(
            clf, X, labels, cv=CV, scoring=task_scorer(scoring), params={"task_ids": t},
            error_score="raise",
        )["test_score"]  # fmt: skip
    np.testing.assert_allclose(routed, plain, rtol=1e-12)


def test_binary_pos_label_is_the_scorers():
    """make_scorer(..., pos_label="down") with predict_proba: the column of "down"."""
    X, y, t, _ = _data()
    labels = np.where(y > 0, "up", "down")
    model = MultiTaskGraphClassifier().fit(X, labels, task_ids=t)
    scorer = make_scorer(average_precision_score, response_method="predict_proba", pos_label="down")
    got = task_scorer(scorer)(model, X, labels, task_ids=t)
    proba = model.predict_proba(X, task_ids=t)[:, list(model.classes_).index("down")]
    assert got == pytest.approx(average_precision_score(labels, proba, pos_label="down"))
    bad = make_scorer(average_precision_score, response_method="predict_proba")  # pos_label=1
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        task_scorer(bad)(model, X, labels, task_ids=t)


def test_routing_off_with_task_column_equals_named_scorer():
    X, y, t, sw = _data()
    Xt = _with_column(X, t)
    est = MultiTaskGraphRegressor(task_column=-1)
    for name in ["r2", "neg_mean_squared_error"]:
        a = cross_validate(est, Xt, y, cv=CV, scoring=name)["test_score"]
        b = cross_validate(est, Xt, y, cv=CV, scoring=task_scorer(name))["test_score"]
        np.testing.assert_array_equal(a, b)
    search = GridSearchCV(est, {"alpha": ALPHAS}, scoring=task_scorer("r2"), cv=CV).fit(Xt, y)
    ref = GridSearchCV(est, {"alpha": ALPHAS}, scoring="r2", cv=CV).fit(Xt, y)
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"]
    )


@pytest.mark.parametrize("cv", [None, CV], ids=["loo", "kfold"])
@pytest.mark.parametrize("cls", [MultiTaskGraphRegressorCV, MultiTaskKernelRidgeCV])
@pytest.mark.parametrize("name", ["r2", "neg_mean_absolute_error"])
def test_cv_estimators_task_scorer_equals_named(cls, cv, name):
    X, y, t, sw = _data()
    kw = {"alphas": [0.1, 1.0, 10.0], "cv": cv}
    for weights in (None, sw):
        named = cls(scoring=name, **kw).fit(X, y, task_ids=t, sample_weight=weights)
        tasked = cls(scoring=task_scorer(name), **kw).fit(X, y, task_ids=t, sample_weight=weights)
        np.testing.assert_array_equal(
            tasked.cv_results_["mean_test_score"], named.cv_results_["mean_test_score"]
        )
        assert np.isfinite(named.cv_results_["mean_test_score"]).all()


def test_requests_and_repr():
    scorer = task_scorer("neg_mean_squared_error")
    assert scorer.get_metadata_routing().score.requests == {"task_ids": True, "sample_weight": True}
    no_weights = task_scorer(lambda yt, yp: float(np.mean(yt == yp)))
    assert no_weights.get_metadata_routing().score.requests == {"task_ids": True}
    assert scorer.set_score_request(task_ids="groups_of_tasks") is scorer
    assert scorer.get_metadata_routing().score.requests["task_ids"] == "groups_of_tasks"
    assert "mean_squared_error" in repr(scorer) and "greater_is_better=False" in repr(scorer)
    assert task_scorer(scorer) is scorer and isinstance(scorer, TaskScorer)


def test_alias_is_routed(routing):
    X, y, t, _ = _data()
    est = MultiTaskGraphRegressor().set_fit_request(task_ids="tasks")
    scorer = task_scorer("r2").set_score_request(task_ids="tasks")
    out = cross_validate(est, X, y, cv=CV, scoring=scorer, params={"tasks": t})
    np.testing.assert_allclose(
        out["test_score"], _hand_loop(MultiTaskGraphRegressor, X, y, t, r2_score)
    )


def test_bad_inputs():
    with pytest.raises(ValueError, match="is not a valid scoring value"):
        task_scorer("no_such_scorer")
    with pytest.raises(TypeError, match="scorer name, a scorer made by make_scorer"):
        task_scorer(3)
    with pytest.raises(TypeError, match="already set in it"):
        task_scorer("r2", greater_is_better=False)
    X, y, t, _ = _data()
    model = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    with pytest.raises(AttributeError, match="has none of the following attributes: predict_proba"):
        task_scorer(accuracy_score, response_method="predict_proba")(model, X, y, task_ids=t)


def test_missing_task_ids_error_names_both_ways_out(routing):
    X, y, t, _ = _data()
    model = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match=r"mtreg\.metrics\.task_scorer.*task_column"):
        get_scorer("r2")(model, X, y)


def test_pipeline_passes_task_ids_to_its_last_step(routing):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, t, _ = _data()
    est = (
        MultiTaskGraphRegressor().set_fit_request(task_ids=True).set_predict_request(task_ids=True)
    )
    pipe = make_pipeline(StandardScaler(), est)
    out = cross_validate(pipe, X, y, cv=CV, scoring=task_scorer("r2"), params={"task_ids": t})
    ref = []
    for train, test in CV.split(X):
        scaler = StandardScaler().fit(X[train])
        m = MultiTaskGraphRegressor().fit(scaler.transform(X[train]), y[train], task_ids=t[train])
        ref.append(r2_score(y[test], m.predict(scaler.transform(X[test]), task_ids=t[test])))
    np.testing.assert_allclose(out["test_score"], ref)
