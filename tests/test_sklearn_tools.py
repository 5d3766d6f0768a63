"""scikit-learn tools x {metadata routing, task_column}: each cell runs here on small data
and either gives the right numbers (against a hand-written loop or a direct computation) or
raises an error whose words are checked. The table in docs/sklearn_tools.md is generated
from the cells below: the test fails when the committed file differs, and
``MTREG_REGENERATE=1 pytest tests/test_sklearn_tools.py`` rewrites it."""

import os
import re
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import StackingRegressor, VotingRegressor
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.feature_selection import RFE, SelectFromModel, SequentialFeatureSelector
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_val_predict,
    cross_validate,
    learning_curve,
    validation_curve,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor
from mtreg.metrics import task_scorer

TABLE = Path(__file__).resolve().parents[1] / "docs" / "sklearn_tools.md"
CV = KFold(3, shuffle=True, random_state=1)
ALPHAS = [0.1, 10.0]
MISSING = r"pass task_ids.*task_scorer.*task_column"  # the error of a predict without task ids

CELLS = {}  # (tool, mode) -> (what the table says, the function that shows it)


def cell(tool, mode, says):
    def register(run):
        CELLS[(tool, mode)] = (says, run)
        return run

    return register


def _data(n=90):
    r = np.random.default_rng(0)
    X = r.normal(size=(n, 4))
    t = np.repeat([0, 1, 2], n // 3)
    y = X @ [1.0, 2.0, 0.0, 3.0] + t * (1 + X[:, 0]) + r.normal(size=n)
    return X, y, t


def _column(X, t):
    """X with the task labels as its last column (task_column=-1)."""
    return np.column_stack([X, t]).astype(np.float64)


def _routed():
    return MultiTaskGraphRegressor().set_fit_request(task_ids=True)


def _fold_predictions(X, y, t, alpha=1.0, cv=CV, method="predict", make=MultiTaskGraphRegressor):
    out = np.empty(len(y)) if method != "predict_proba" else None
    for train, test in cv.split(X, y):
        m = make(alpha=alpha).fit(X[train], y[train], task_ids=t[train])
        out[test] = getattr(m, method)(X[test], task_ids=t[test])
    return out


def _fold_r2(X, y, t, alpha=1.0, cv=CV):
    scores = []
    for train, test in cv.split(X, y):
        m = MultiTaskGraphRegressor(alpha=alpha).fit(X[train], y[train], task_ids=t[train])
        scores.append(r2_score(y[test], m.predict(X[test], task_ids=t[test])))
    return np.array(scores)


# -- Pipeline and the search / validation tools: both ways work ---------------------------


@cell("Pipeline (fit, predict)", "routing", "yes")
def _pipeline_routing():
    X, y, t = _data()
    est = _routed().set_predict_request(task_ids=True)
    pipe = make_pipeline(StandardScaler(), est).fit(X, y, task_ids=t)
    Z = StandardScaler().fit_transform(X)
    ref = MultiTaskGraphRegressor().fit(Z, y, task_ids=t).predict(Z, task_ids=t)
    np.testing.assert_allclose(pipe.predict(X, task_ids=t), ref, rtol=1e-10)


@cell(
    "Pipeline (fit, predict)",
    "task_column",
    "yes (ColumnTransformer passes the column through, last)",
)
def _pipeline_column():
    X, y, t = _data()
    scale = ColumnTransformer([("s", StandardScaler(), [0, 1, 2, 3])], remainder="passthrough")
    pipe = make_pipeline(scale, MultiTaskGraphRegressor(task_column=-1)).fit(_column(X, t), y)
    Z = StandardScaler().fit_transform(X)
    ref = MultiTaskGraphRegressor().fit(Z, y, task_ids=t).predict(Z, task_ids=t)
    np.testing.assert_allclose(pipe.predict(_column(X, t)), ref, rtol=1e-10)


def _search(cls, routing):
    X, y, t = _data()
    kw = {"n_iter": 2, "random_state": 0} if cls is RandomizedSearchCV else {}
    if cls is HalvingGridSearchCV:
        kw = {"min_resources": 45, "factor": 2}
    if routing:
        search = cls(_routed(), {"alpha": ALPHAS}, scoring=task_scorer("r2"), cv=CV, **kw)
        search.fit(X, y, task_ids=t)
    else:
        est = MultiTaskGraphRegressor(task_column=-1)
        search = cls(est, {"alpha": ALPHAS}, scoring="r2", cv=CV, **kw).fit(_column(X, t), y)
    res = search.cv_results_
    last = res["n_resources"] == len(y) if cls is HalvingGridSearchCV else np.ones(2, bool)
    assert last.any()
    for k in np.flatnonzero(last):
        ref = _fold_r2(X, y, t, alpha=res["params"][k]["alpha"]).mean()
        np.testing.assert_allclose(res["mean_test_score"][k], ref, rtol=1e-10)


for _cls in (GridSearchCV, RandomizedSearchCV, HalvingGridSearchCV):
    cell(_cls.__name__, "routing", "yes, with `scoring=task_scorer(...)`")(
        lambda c=_cls: _search(c, True)
    )
    cell(_cls.__name__, "task_column", "yes, any scorer")(lambda c=_cls: _search(c, False))


@cell(
    "cross_validate, cross_val_score",
    "routing",
    "yes, with `scoring=task_scorer(...)` (a dict of them too)",
)
def _cross_validate_routing():
    X, y, t = _data()
    scoring = {"r2": task_scorer("r2"), "mse": task_scorer("neg_mean_squared_error")}
    out = cross_validate(_routed(), X, y, cv=CV, scoring=scoring, params={"task_ids": t})
    np.testing.assert_allclose(out["test_r2"], _fold_r2(X, y, t), rtol=1e-10)


@cell("cross_validate, cross_val_score", "task_column", "yes, any scorer")
def _cross_validate_column():
    X, y, t = _data()
    est = MultiTaskGraphRegressor(task_column=-1)
    out = cross_validate(est, _column(X, t), y, cv=CV, scoring=["r2", "neg_mean_squared_error"])
    np.testing.assert_allclose(out["test_r2"], _fold_r2(X, y, t), rtol=1e-10)


def _curves(routing):
    X, y, t = _data()
    if routing:
        est = _routed().set_partial_fit_request(task_ids=True)
        data, kw = X, {"params": {"task_ids": t}, "scoring": task_scorer("r2")}
    else:
        est, data, kw = MultiTaskGraphRegressor(task_column=-1), _column(X, t), {"scoring": "r2"}
    _, test = validation_curve(est, data, y, param_name="alpha", param_range=ALPHAS, cv=CV, **kw)
    np.testing.assert_allclose(test, [_fold_r2(X, y, t, alpha=a) for a in ALPHAS], rtol=1e-10)
    _, _, test = learning_curve(est, data, y, train_sizes=[1.0], cv=CV, shuffle=False, **kw)
    np.testing.assert_allclose(test[0], _fold_r2(X, y, t), rtol=1e-10)


cell(
    "validation_curve, learning_curve",
    "routing",
    "yes, with `scoring=task_scorer(...)`; learning_curve also asks for "
    "`set_partial_fit_request(task_ids=True)`",
)(lambda: _curves(True))
cell("validation_curve, learning_curve", "task_column", "yes, any scorer")(lambda: _curves(False))


# -- tools that call predict with no way to route: task_column only ------------------------


def _raises_missing(run):
    with pytest.raises(ValueError, match=MISSING):
        run()


@cell("cross_val_predict", "routing", "no: predict gets no task_ids (ValueError)")
def _cvp_routing():
    X, y, t = _data()
    _raises_missing(lambda: cross_val_predict(_routed(), X, y, cv=CV, params={"task_ids": t}))


@cell("cross_val_predict", "task_column", "yes")
def _cvp_column():
    X, y, t = _data()
    got = cross_val_predict(MultiTaskGraphRegressor(task_column=-1), _column(X, t), y, cv=CV)
    np.testing.assert_allclose(got, _fold_predictions(X, y, t), rtol=1e-10)


def _bases(routing):
    make = _routed if routing else lambda: MultiTaskGraphRegressor(task_column=-1)
    return [("weak", make().set_params(alpha=0.1)), ("strong", make().set_params(alpha=10.0))]


@cell(
    "StackingRegressor",
    "routing",
    "no: the cross-validated predictions get no task_ids (ValueError)",
)
def _stacking_routing():
    X, y, t = _data()
    _raises_missing(lambda: StackingRegressor(_bases(True), cv=CV).fit(X, y, task_ids=t))


@cell("StackingRegressor", "task_column", "yes")
def _stacking_column():
    X, y, t = _data()
    stack = StackingRegressor(_bases(False), cv=CV).fit(_column(X, t), y)
    Z = np.column_stack([_fold_predictions(X, y, t, alpha=a) for a in ALPHAS])
    final = RidgeCV().fit(Z, y)  # StackingRegressor's default final estimator
    full = [MultiTaskGraphRegressor(alpha=a).fit(X, y, task_ids=t) for a in ALPHAS]
    ref = final.predict(np.column_stack([m.predict(X, task_ids=t) for m in full]))
    np.testing.assert_allclose(stack.predict(_column(X, t)), ref, rtol=1e-8)


@cell("VotingRegressor", "routing", "no: `predict` takes no task_ids (ValueError)")
def _voting_routing():
    X, y, t = _data()
    _raises_missing(lambda: VotingRegressor(_bases(True)).fit(X, y, task_ids=t).predict(X))


@cell("VotingRegressor", "task_column", "yes")
def _voting_column():
    X, y, t = _data()
    vote = VotingRegressor(_bases(False)).fit(_column(X, t), y)
    full = [MultiTaskGraphRegressor(alpha=a).fit(X, y, task_ids=t) for a in ALPHAS]
    ref = np.mean([m.predict(X, task_ids=t) for m in full], axis=0)
    np.testing.assert_allclose(vote.predict(_column(X, t)), ref, rtol=1e-10)


@cell(
    "CalibratedClassifierCV",
    "routing",
    "no: the calibration predictions get no task_ids (ValueError)",
)
def _calibrated_routing():
    X, y, t = _data()
    labels = np.where(y > 0, "up", "down")
    clf = MultiTaskGraphClassifier().set_fit_request(task_ids=True)
    _raises_missing(lambda: CalibratedClassifierCV(clf, cv=CV).fit(X, labels, task_ids=t))


@cell("CalibratedClassifierCV", "task_column", "yes")
def _calibrated_column():
    X, y, t = _data()
    labels = np.where(y > 0, "up", "down")
    clf = MultiTaskGraphClassifier(task_column=-1)
    cal = CalibratedClassifierCV(clf, cv=CV, method="isotonic", ensemble=False)
    cal.fit(_column(X, t), labels)
    # ensemble=False: isotonic regression of "up" on the cross-validated decision values,
    # applied to the decision values of the model fitted on all the rows
    d = _fold_predictions(X, labels, t, method="decision_function", make=MultiTaskGraphClassifier)
    iso = IsotonicRegression(out_of_bounds="clip").fit(d, labels == "up")
    full = MultiTaskGraphClassifier().fit(X, labels, task_ids=t)
    up = iso.predict(full.decision_function(X, task_ids=t))
    np.testing.assert_allclose(cal.predict_proba(_column(X, t)), np.column_stack([1 - up, up]))


class _ExplicitTasks(RegressorMixin, BaseEstimator):
    """A fitted model seen through explicit task ids read from the last column."""

    def __init__(self, model=None):
        self.model = model

    def fit(self, X, y):
        return self

    def predict(self, X):
        return self.model.predict(X[:, :-1], task_ids=X[:, -1].astype(int))


@cell("permutation_importance", "routing", "no: the scorer gets no task_ids (ValueError)")
def _permutation_routing():
    X, y, t = _data()
    model = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    _raises_missing(lambda: permutation_importance(model, X, y, scoring=task_scorer("r2")))


@cell("permutation_importance", "task_column", "yes (the task column is permuted too)")
def _permutation_column():
    X, y, t = _data()
    model = MultiTaskGraphRegressor(task_column=-1).fit(_column(X, t), y)
    got = permutation_importance(model, _column(X, t), y, n_repeats=3, random_state=0)
    ref_model = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    ref = permutation_importance(
        _ExplicitTasks(ref_model), _column(X, t), y, n_repeats=3, random_state=0
    )
    np.testing.assert_allclose(got.importances, ref.importances, rtol=1e-10, atol=1e-12)
    assert got.importances_mean[2] < 0.05 < got.importances_mean[3]  # coefficients 0 and 3


@cell("partial_dependence", "routing", "no: predict gets no task_ids (ValueError)")
def _pdp_routing():
    X, y, t = _data()
    model = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    _raises_missing(lambda: partial_dependence(model, X, [0], grid_resolution=4))


@cell("partial_dependence", "task_column", "yes (each row keeps its task)")
def _pdp_column():
    X, y, t = _data()
    model = MultiTaskGraphRegressor(task_column=-1).fit(_column(X, t), y)
    pd = partial_dependence(model, _column(X, t), [0], grid_resolution=4, method="brute")
    ref_model = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    ref = []
    for v in pd["grid_values"][0]:
        Xv = X.copy()
        Xv[:, 0] = v
        ref.append(ref_model.predict(Xv, task_ids=t).mean())
    np.testing.assert_allclose(pd["average"][0], ref, rtol=1e-10)


# -- feature selection ---------------------------------------------------------------------


def _norms(model, square=False):
    """Importance of each feature from coef_ of shape (n_tasks, n_features), as the
    selectors compute it: the L1 norm over tasks (SelectFromModel), the sum of squares (RFE)."""
    return (model.coef_**2).sum(axis=0) if square else np.abs(model.coef_).sum(axis=0)


@cell("SelectFromModel", "routing", "yes (importance: the norm of coef_ over tasks)")
def _sfm_routing():
    X, y, t = _data()
    got = SelectFromModel(_routed()).fit(X, y, task_ids=t).get_support()
    scores = _norms(MultiTaskGraphRegressor().fit(X, y, task_ids=t))
    np.testing.assert_array_equal(got, scores >= scores.mean())
    assert not got[2] and got[3]  # coefficients 0 and 3


@cell(
    "SelectFromModel",
    "task_column",
    "no: coef_ has no entry for the task column, so scikit-learn's mask is one column "
    "short (IndexError)",
)
def _sfm_column():
    X, y, t = _data()
    sfm = SelectFromModel(MultiTaskGraphRegressor(task_column=-1)).fit(_column(X, t), y)
    with pytest.raises(IndexError, match="boolean index did not match"):
        sfm.transform(_column(X, t))


def _hand_rfe(X, y, t, keep):
    features = list(range(X.shape[1]))
    while len(features) > keep:
        model = MultiTaskGraphRegressor().fit(X[:, features], y, task_ids=t)
        features.pop(int(np.argmin(_norms(model, square=True))))
    return np.isin(np.arange(X.shape[1]), features)


@cell("RFE", "routing", "yes")
def _rfe_routing():
    X, y, t = _data()
    got = RFE(_routed(), n_features_to_select=2).fit(X, y, task_ids=t).support_
    np.testing.assert_array_equal(got, _hand_rfe(X, y, t, 2))


@cell(
    "RFE",
    "task_column",
    "yes, with the task column last (`task_column=-1`; it counts in `n_features_to_select` and "
    "is never dropped); a task column elsewhere moves as RFE drops columns, and the fit that "
    "then reads a feature as task labels raises a ValueError that says so",
)
def _rfe_column():
    X, y, t = _data()
    got = RFE(MultiTaskGraphRegressor(task_column=-1), n_features_to_select=3)
    got = got.fit(_column(X, t), y).support_
    np.testing.assert_array_equal(got, np.append(_hand_rfe(X, y, t, 2), True))
    first = np.column_stack([t, X])  # the task column first: RFE's second fit reads X[:, 0]
    with pytest.raises(ValueError, match=r"holds fractional numbers .* \(RFE, "):
        RFE(MultiTaskGraphRegressor(task_column=0), n_features_to_select=2).fit(first, y)


@cell("SequentialFeatureSelector", "routing", "yes, with `scoring=task_scorer(...)`")
def _sfs_routing():
    X, y, t = _data()
    sfs = SequentialFeatureSelector(
        _routed(), n_features_to_select=2, cv=CV, scoring=task_scorer("r2")
    ).fit(X, y, task_ids=t)
    chosen = []
    for _ in range(2):  # forward selection by the mean held-out R^2 of hand-written folds
        rest = [j for j in range(4) if j not in chosen]
        chosen.append(max(rest, key=lambda j: _fold_r2(X[:, chosen + [j]], y, t).mean()))
    np.testing.assert_array_equal(sfs.get_support(), np.isin(np.arange(4), chosen))


@cell(
    "SequentialFeatureSelector",
    "task_column",
    "no: it fits on column subsets without the task column (ValueError that says so)",
)
def _sfs_column():
    X, y, t = _data()
    sfs = SequentialFeatureSelector(MultiTaskGraphRegressor(task_column=-1), cv=CV)
    with pytest.raises(ValueError, match="may leave the\\s+task column out"):
        sfs.fit(_column(X, t), y)


# -- the cells and the table ---------------------------------------------------------------


@pytest.fixture
def routing_reset():
    with sklearn.config_context(enable_metadata_routing=False):
        yield


@pytest.mark.parametrize("key", list(CELLS), ids=[f"{a}-{b}" for a, b in CELLS])
def test_cell(key, routing_reset):
    tool, mode = key
    with sklearn.config_context(enable_metadata_routing=mode == "routing"):
        CELLS[key][1]()


def _table():
    tools = list(dict.fromkeys(tool for tool, _ in CELLS))
    lines = [
        "# scikit-learn tools with mtreg: metadata routing or a task column",
        "",
        "Generated by `tests/test_sklearn_tools.py`, which runs every cell on small data and",
        "checks its numbers against a hand-written loop (or the error it raises); regenerate",
        "with `MTREG_REGENERATE=1 python -m pytest tests/test_sklearn_tools.py`.",
        "",
        "- **routing**: `sklearn.set_config(enable_metadata_routing=True)`, `task_ids` passed",
        "  to the tool and requested by the model (`set_fit_request(task_ids=True)`, ...);",
        "  scores through `mtreg.metrics.task_scorer`, since scikit-learn's scorers call",
        "  `predict` without metadata (scikit-learn issue #27977).",
        "- **task_column**: routing off, the task labels in a column of X and the model built",
        "  with `task_column=` (here the last column, `task_column=-1`).",
        "",
        "| tool | routing | task_column |",
        "| --- | --- | --- |",
    ]
    for tool in tools:
        lines.append(
            f"| {tool} | {CELLS[(tool, 'routing')][0]} | {CELLS[(tool, 'task_column')][0]} |"
        )
    return "\n".join(lines) + "\n"


def test_every_tool_has_both_cells():
    tools = {tool for tool, _ in CELLS}
    assert set(CELLS) == {(tool, mode) for tool in tools for mode in ("routing", "task_column")}


def test_table_is_up_to_date():
    text = _table()
    if os.environ.get("MTREG_REGENERATE"):
        TABLE.parent.mkdir(exist_ok=True)
        TABLE.write_text(text)
    assert TABLE.exists(), f"{TABLE} is missing: run with MTREG_REGENERATE=1"
    assert TABLE.read_text() == text, (
        f"{TABLE} differs from the cells of this module: run with MTREG_REGENERATE=1"
    )


def test_readme_links_the_table():
    readme = (TABLE.parents[1] / "README.md").read_text()
    assert re.search(r"\(docs/sklearn_tools\.md\)", readme)


def test_scaled_task_column_names_the_column_transformer():
    """A scaler over the whole X of a Pipeline turns the task labels into fractions: the error
    names the way out (a ColumnTransformer with the task column passed through)."""
    X, y, t = _data()
    scaled_all = make_pipeline(StandardScaler(), MultiTaskGraphRegressor(task_column=0))
    with pytest.raises(ValueError, match=r"a scaler in a Pipeline.*remainder='passthrough'"):
        scaled_all.fit(np.column_stack([t, X]), y)
    features = list(range(1, X.shape[1] + 1))
    columns = ColumnTransformer([("scale", StandardScaler(), features)], remainder="passthrough")
    fixed = make_pipeline(columns, MultiTaskGraphRegressor(task_column=-1))
    fixed.fit(np.column_stack([t, X]), y)
    alone = MultiTaskGraphRegressor().fit(StandardScaler().fit_transform(X), y, task_ids=t)
    np.testing.assert_allclose(fixed[-1].coef_, alone.coef_, rtol=1e-10, atol=1e-12)
