"""Task-aware scorers (issue 11, part 2): named scorers under metadata routing, string and
multi-class labels, the error of a predict without task ids, and the tools that cannot route."""

import numpy as np
import sklearn
from sklearn.feature_selection import SequentialFeatureSelector
from sklearn.metrics import get_scorer, log_loss, mean_squared_error, r2_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_predict, cross_validate

from adversarial import Case, issue_data
from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor, MultiTaskGraphRegressorCV
from mtreg.metrics import task_scorer

CV = KFold(3, shuffle=True, random_state=0)
ALPHAS = [0.1, 10.0]


def _routed(make):
    return make().set_fit_request(task_ids=True)


def _hand_scores(make, X, y, t, metric, response="predict"):
    out = []
    for train, test in CV.split(X):
        m = make().fit(X[train], y[train], task_ids=t[train])
        out.append(metric(y[test], getattr(m, response)(X[test], task_ids=t[test])))
    return np.array(out)


def _named_scorer_in_grid_search():
    X, y, t = issue_data()
    with sklearn.config_context(enable_metadata_routing=True):
        est = _routed(MultiTaskGraphRegressor)
        search = GridSearchCV(
            est, {"alpha": ALPHAS}, scoring=task_scorer("neg_mean_squared_error"), cv=CV
        ).fit(X, y, task_ids=t)
    return search, (X, y, t)


def _grid_matches_hand_loop(result):
    search, (X, y, t) = result
    for k, a in enumerate(ALPHAS):
        ref = _hand_scores(
            lambda a=a: MultiTaskGraphRegressor(alpha=a),
            X,
            y,
            t,
            lambda yt, p: -mean_squared_error(yt, p),
        )
        np.testing.assert_allclose(search.cv_results_["mean_test_score"][k], ref.mean())


def _string_multiclass(name):
    def run():
        X, y, t = issue_data()
        labels = np.array(["low", "mid", "high"])[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]
        tasks = np.array(["north", "south", "east"])[t]
        with sklearn.config_context(enable_metadata_routing=True):
            clf = _routed(MultiTaskGraphClassifier)
            got = cross_validate(
                clf, X, labels, cv=CV, scoring=task_scorer(name), params={"task_ids": tasks}
            )["test_score"]
        return got, (X, labels, tasks)

    return run


def _roc_auc_ovr_reference(result):
    got, (X, labels, tasks) = result

    def metric(yt, proba):
        return roc_auc_score(yt, proba, multi_class="ovr", labels=["high", "low", "mid"])

    ref = _hand_scores(MultiTaskGraphClassifier, X, labels, tasks, metric, "predict_proba")
    np.testing.assert_allclose(got, ref)


def _log_loss_reference(result):
    got, (X, labels, tasks) = result

    def metric(yt, proba):
        return -log_loss(yt, proba, labels=["high", "low", "mid"])

    ref = _hand_scores(MultiTaskGraphClassifier, X, labels, tasks, metric, "predict_proba")
    np.testing.assert_allclose(got, ref)


def _fold_without_a_class():
    """The test rows of the only split have no "high": log_loss needs labels=classes_."""
    X, y, t = issue_data()
    labels = np.array(["low", "mid", "high"])[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]
    test = np.flatnonzero(labels != "high")[::3]
    train = np.setdiff1d(np.arange(len(y)), test)
    with sklearn.config_context(enable_metadata_routing=True):
        out = cross_validate(
            _routed(MultiTaskGraphClassifier),
            X,
            labels,
            cv=[(train, test)],
            scoring=task_scorer("neg_log_loss"),
            params={"task_ids": t},
            error_score="raise",
        )["test_score"][0]
    model = MultiTaskGraphClassifier().fit(X[train], labels[train], task_ids=t[train])
    ref = -log_loss(
        labels[test], model.predict_proba(X[test], task_ids=t[test]), labels=model.classes_
    )
    return out, ref


def _equal(result):
    got, ref = result
    np.testing.assert_allclose(got, ref)


def _predict_without_task_ids():
    X, y, t = issue_data()
    model = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    return get_scorer("r2")(model, X, y)


def _cross_val_predict_routed():
    X, y, t = issue_data()
    with sklearn.config_context(enable_metadata_routing=True):
        return cross_val_predict(
            _routed(MultiTaskGraphRegressor), X, y, cv=CV, params={"task_ids": t}
        )


def _cv_estimator_task_scorer():
    X, y, t = issue_data()
    kw = {"alphas": [0.1, 1.0, 10.0], "cv": CV}
    a = MultiTaskGraphRegressorCV(scoring="r2", **kw).fit(X, y, task_ids=t)
    b = MultiTaskGraphRegressorCV(scoring=task_scorer("r2"), **kw).fit(X, y, task_ids=t)
    return b.cv_results_["mean_test_score"], a.cv_results_["mean_test_score"]


def _task_column_routing_off():
    X, y, t = issue_data()
    Xt = np.column_stack([X, t]).astype(float)
    est = MultiTaskGraphRegressor(task_column=-1)
    got = cross_validate(est, Xt, y, cv=CV, scoring=task_scorer("r2"))["test_score"]
    return got, _hand_scores(MultiTaskGraphRegressor, X, y, t, r2_score)


def _sfs_task_column():
    X, y, t = issue_data()
    Xt = np.column_stack([X, t]).astype(float)
    return SequentialFeatureSelector(MultiTaskGraphRegressor(task_column=-1), cv=CV).fit(Xt, y)


CASES = [
    Case(
        "named-scorer-under-routing",
        _named_scorer_in_grid_search,
        check=_grid_matches_hand_loop,
        fails_on="scoring='neg_mean_squared_error' scored NaN on every fold and kept alpha=0.1",
    ),
    Case(
        "string-labels-roc-auc-ovr", _string_multiclass("roc_auc_ovr"), check=_roc_auc_ovr_reference
    ),
    Case(
        "string-labels-neg-log-loss", _string_multiclass("neg_log_loss"), check=_log_loss_reference
    ),
    Case(
        "log-loss-fold-without-a-class",
        _fold_without_a_class,
        check=_equal,
        fails_on="sklearn's neg_log_loss raises: y_true and y_pred contain different classes",
    ),
    Case(
        "predict-without-task-ids-names-both-ways-out",
        _predict_without_task_ids,
        raises=ValueError,
        match=r"mtreg\.metrics\.task_scorer.*task_column",
    ),
    Case(
        "cross-val-predict-cannot-route",
        _cross_val_predict_routed,
        raises=ValueError,
        match=r"cross_val_predict.*task_column",
    ),
    Case("cv-estimator-task-scorer-equals-named", _cv_estimator_task_scorer, check=_equal),
    Case("task-column-with-routing-off", _task_column_routing_off, check=_equal),
    Case(
        "scorer-options-given-twice",
        lambda: task_scorer("r2", greater_is_better=False),
        raises=TypeError,
        match="already set in it",
    ),
    Case(
        "sfs-drops-the-task-column",
        _sfs_task_column,
        raises=ValueError,
        match=r"may leave the\s+task column out",
        fails_on="SequentialFeatureSelector failed with '0 feature(s)' or read a feature as tasks",
    ),
]


def _scorer_style_callable():
    from mtreg.metrics import task_scorer

    return task_scorer(lambda estimator, X, y: estimator.score(X, y))


CASES += [
    Case(
        "scorer-style-callable-refused",
        _scorer_style_callable,
        raises=TypeError,
        match="takes 'estimator' first, like a scorer",
        fails_on="taken as metric(y_true, y_pred): every fold scored NaN with a TypeError",
    )
]
