"""Estimator gaps (issue 11 section 4, issue 12 sections 1 and 4): dtypes, data frames,
class weights, rows of weight 0, booleans as integers, probabilities, streaming."""

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
from _reference import dense_solve
from scipy.special import expit, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import SVR

from adversarial import CHAIN, Case, issue_data
from mtreg import (
    LeaveTasksOut,
    MultiTaskGraphClassifier,
    MultiTaskGraphRegressor,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeCV,
    MultiTaskSVC,
    MultiTaskSVR,
    TaskStratifiedKFold,
)
from mtreg._solvers import SingularProblemError


def _labels():
    X, y, t = issue_data()
    return X, (y > np.median(y)).astype(int), t


def _three_classes():
    X, y, t = issue_data()
    return X, np.digitize(y, np.quantile(y, [1 / 3, 2 / 3])), t


# -- float32 ---------------------------------------------------------------------------------


def _float32_regressor():
    X, y, t = issue_data()
    X32 = X.astype(np.float32)
    est = MultiTaskGraphRegressor("none", l2=2.0).fit(X32, y, task_ids=t)
    return est, X32, y, t


def _float32_regressor_check(result):
    est, X32, y, t = result
    pred = est.predict(X32, task_ids=t)
    assert est.coef_.dtype == est.intercept_.dtype == pred.dtype == np.float32
    for k in range(3):  # graph "none": one sklearn Ridge per task, which keeps float32 too
        ridge = Ridge(alpha=2.0).fit(X32[t == k], y[t == k])
        assert ridge.coef_.dtype == np.float32
        np.testing.assert_allclose(est.coef_[k], ridge.coef_, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(est.intercept_[k], ridge.intercept_, rtol=1e-5, atol=1e-6)


def _float32_classifier():
    X, y, t = _three_classes()
    X32 = X.astype(np.float32)
    est = MultiTaskGraphClassifier("none", l2=0.5, tol=1e-10).fit(X32, y, task_ids=t)
    return est, X32, y, t


def _float32_classifier_check(result):
    est, X32, y, t = result
    outputs = [
        est.coef_,
        est.intercept_,
        est.decision_function(X32, task_ids=t),
        est.predict_proba(X32, task_ids=t),
        est.predict_log_proba(X32, task_ids=t),
    ]
    assert all(a.dtype == np.float32 for a in outputs), [a.dtype for a in outputs]
    # float64 X still gives float64 scores from this float32 model (X @ coef promotes)
    assert est.decision_function(X32.astype(np.float64), task_ids=t).dtype == np.float64


def _float32_kernel(make, method, labels=False, **params):
    """A kernel estimator fitted on float32 X and on the same X in float64."""

    def run():
        X, y, t = _labels() if labels else issue_data()
        Xs = X.astype(np.float32), X.astype(np.float32).astype(np.float64)
        if params.get("kernel") == "precomputed":  # float32 rounding: eigenvalues of -1e-6
            Xs = tuple(Z @ Z.T for Z in Xs)
        fits = [make(**params).fit(Z, y, task_ids=t) for Z in Xs]
        return fits, method, Xs, t

    return run


def _float32_kernel_check(result):
    (est32, est64), method, (X32, X64), t = result
    out32 = getattr(est32, method)(X32, task_ids=t)
    want = getattr(est64, method)(X64, task_ids=t)
    assert out32.dtype == np.float32 and want.dtype == np.float64
    np.testing.assert_allclose(out32, want, rtol=1e-4, atol=1e-4)  # float64 work, rounded
    # as the linear estimators (X @ coef_ promotes): float64 unless both X are float32
    assert getattr(est32, method)(X64, task_ids=t).dtype == np.float64
    assert getattr(est64, method)(X32, task_ids=t).dtype == np.float64


_FLOAT32_KERNEL = [
    ("kernel-ridge", MultiTaskKernelRidge, "predict", False, {}),
    ("kernel-ridge-precomputed", MultiTaskKernelRidge, "predict", False, {"kernel": "precomputed"}),
    ("kernel-ridge-nystroem", MultiTaskKernelRidge, "predict", False, {"solver": "nystroem"}),
    ("kernel-ridge-cv", MultiTaskKernelRidgeCV, "predict", False, {}),
    ("svr", MultiTaskSVR, "predict", False, {}),
    ("svc", MultiTaskSVC, "decision_function", True, {}),
]


# -- task_column with polars and pyarrow -------------------------------------------------


def _frame_fit(make):
    X, y, t = issue_data()
    frame = make({"a": X[:, 0], "b": X[:, 1], "task": t, "c": X[:, 2]})
    est = MultiTaskGraphRegressor(CHAIN, task_column="task").fit(frame, y)
    return est, frame, (X, y, t)


def _frame_check(result):
    est, frame, (X, y, t) = result
    W, b = dense_solve(X, y, t, 3, CHAIN, 1.0, 1.0)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-10, atol=1e-12)
    assert list(est.feature_names_in_) == ["a", "b", "task", "c"]
    want = np.einsum("id,id->i", X, W[t]) + b[t]
    np.testing.assert_allclose(est.predict(frame), want, rtol=1e-10)


def _frame_by_position():
    X, y, t = issue_data()
    frame = pl.DataFrame({"a": X[:, 0], "b": X[:, 1], "task": t, "c": X[:, 2]})
    est = MultiTaskGraphRegressor(CHAIN, task_column=2).fit(frame, y)
    return est, frame, (X, y, t)


def _missing_name(make):
    def run():
        X, y, t = issue_data()
        frame = make({"num__a": X[:, 0], "num__b": X[:, 1], "remainder__task": t})
        MultiTaskGraphRegressor(task_column="task").fit(frame, y)

    return run


# -- class_weight ----------------------------------------------------------------------------


def _balanced_fits(with_sample_weight):
    def run():
        X, y, t = _three_classes()
        y = np.where(np.arange(60) % 5 == 0, 2, y)  # unbalanced classes
        s = np.linspace(0.5, 2.0, 60) if with_sample_weight else np.ones(60)
        s[7] = 0.0  # a row of weight 0 counts in no class total
        counts = np.array([s[y == c].sum() for c in range(3)])
        weights = s.sum() / (3 * counts)  # sklearn's compute_class_weight("balanced")
        params = dict(graph=CHAIN, alpha=1.0, l2=0.5, tol=1e-12)
        balanced = MultiTaskGraphClassifier(class_weight="balanced", **params).fit(
            X, y, task_ids=t, sample_weight=s
        )
        plain = MultiTaskGraphClassifier(**params).fit(
            X, y, task_ids=t, sample_weight=weights[y] * s
        )
        return balanced, plain

    return run


def _same_model(result):
    a, b = result
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-12, atol=1e-12)


def _class_weight_dict_vs_sklearn():
    X, y, t = _labels()
    weight = {0: 3.0, 1: 0.5}
    est = MultiTaskGraphClassifier(alpha=0.0, l2=0.25, class_weight=weight, tol=1e-12).fit(
        X, y, task_ids=t
    )
    refs = [
        LogisticRegression(C=2.0, class_weight=weight, tol=1e-12).fit(X[t == k], y[t == k])
        for k in range(3)
    ]
    return est, refs


def _class_weight_dict_check(result):
    est, refs = result
    for k, ref in enumerate(refs):
        np.testing.assert_allclose(est.coef_[k], ref.coef_[0], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(est.intercept_[k], ref.intercept_[0], rtol=1e-5, atol=1e-7)


# -- rows of weight 0 ------------------------------------------------------------------------


def _one_class_task(loss, odd_row):
    """Task 0 is all class 0 but for one row of class 1 and weight 0."""

    def run():
        X, y, t = _labels()
        y = y.copy()
        y[:20] = 0
        y[odd_row] = 1
        sw = np.ones(60)
        sw[odd_row] = 0.0
        est = MultiTaskGraphClassifier(loss=loss, tol=1e-10).fit(X, y, task_ids=t, sample_weight=sw)
        keep = sw > 0
        dropped = MultiTaskGraphClassifier(loss=loss, tol=1e-10).fit(
            X[keep], y[keep], task_ids=t[keep]
        )
        return est, dropped, X[keep & (t == 0)]

    return run


def _one_class_check(result):
    est, dropped, X0 = result
    np.testing.assert_allclose(est.coef_, dropped.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, dropped.intercept_, rtol=1e-10, atol=1e-12)
    if est.loss == "logistic":
        assert est.intercept_[0] == -np.inf  # the task shows class 0 only: the limit
    else:  # a minimiser: every row of the task at margin >= 1, the nearest one at 1
        margins = -(X0 @ est.coef_[0] + est.intercept_[0])
        assert margins.min() >= 1 - 1e-9
        np.testing.assert_allclose(margins.min(), 1.0, rtol=1e-9)


def _class_only_at_zero_weight():
    X, y, t = _labels()
    y = y.copy()
    y[3] = 7  # a third class, on one row of weight 0
    sw = np.ones(60)
    sw[3] = 0.0
    est = MultiTaskGraphClassifier(tol=1e-10).fit(X, y, task_ids=t, sample_weight=sw)
    keep = sw > 0
    return est, MultiTaskGraphClassifier(tol=1e-10).fit(X[keep], y[keep], task_ids=t[keep])


def _class_only_at_zero_weight_check(result):
    est, dropped = result
    np.testing.assert_array_equal(est.classes_, [0, 1])
    _same_model(result)


def _svm_zero_weights(cls, precomputed):
    def run():
        X, y, t = issue_data() if cls is MultiTaskSVR else _labels()
        sw = np.ones(60)
        sw[::7] = 0.0
        keep = sw > 0
        params = dict(kernel="precomputed" if precomputed else "linear", tol=1e-10)
        K = X @ X.T
        fit_X = K if precomputed else X
        est = cls(**params).fit(fit_X, y, task_ids=t, sample_weight=sw)
        kept_X = K[np.ix_(keep, keep)] if precomputed else X[keep]
        dropped = cls(**params).fit(kept_X, y[keep], task_ids=t[keep])
        new = K[:5] if precomputed else X[:5]
        new_kept = K[:5][:, keep] if precomputed else X[:5]
        score = "predict" if cls is MultiTaskSVR else "decision_function"
        got = getattr(est, score)(new, task_ids=t[:5])
        want = getattr(dropped, score)(new_kept, task_ids=t[:5])
        return got, want, est, keep

    return run


def _svm_zero_weights_check(result):
    got, want, est, keep = result
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-8)
    assert keep[est.support_].all()  # indices among all rows, none of weight 0


def _svr_one_task_zero_weights():
    X, y, _ = issue_data()
    sw = np.ones(60)
    sw[::5] = 0.0
    keep = sw > 0
    est = MultiTaskSVR(kernel="rbf", gamma=0.5, C=3.0, l2=2.0, tol=1e-10)
    est.fit(X, y, sample_weight=sw)
    ref = SVR(kernel="rbf", gamma=0.5, C=1.5, tol=1e-10).fit(X[keep], y[keep])  # C / l2
    return est.predict(X), ref.predict(X)


def _close(result):
    got, want = result
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-7)


# -- booleans are not integers ---------------------------------------------------------------

_WITH_TASK_COLUMN = [
    MultiTaskGraphRegressor,
    MultiTaskGraphClassifier,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeCV,
    MultiTaskSVR,
    MultiTaskSVC,
]


def _bool_param(cls, **params):
    def run():
        X, y, t = _labels()
        cls(**params).fit(np.column_stack([X, t]), y)

    return run


def _bool_splitter(cls):
    def run():
        cls(n_splits=2, task_column=True)

    return run


# -- probabilities -------------------------------------------------------------------------


def _very_negative_scores(shift):
    def run():
        X, y, t = _three_classes()
        est = MultiTaskGraphClassifier(CHAIN).fit(X, y, task_ids=t)
        est.intercept_ = est.intercept_ - shift  # every score far below -40
        scores = est.decision_function(X, task_ids=t)
        return est.predict_proba(X, task_ids=t), est.predict_log_proba(X, task_ids=t), scores

    return run


def _proba_check(result):
    proba, log_proba, scores = result
    assert scores.max() < -40
    if scores.max() > -700:  # expit is exact there: p_k = sigmoid(s_k) / sum_j sigmoid(s_j)
        ref = expit(scores) / expit(scores).sum(axis=1, keepdims=True)
    else:  # sigmoid(s) -> exp(s): the softmax of the scores
        ref = softmax(scores, axis=1)
    np.testing.assert_allclose(proba, ref, rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_proba), ref, rtol=1e-12)


def _squared_hinge_proba():
    X, y, t = _labels()
    MultiTaskGraphClassifier(loss="squared_hinge").fit(X, y, task_ids=t).predict_proba(X)


# -- partial_fit -----------------------------------------------------------------------------


def _singular_chunks():
    X, y, t = issue_data()
    return MultiTaskGraphRegressor(alpha=0.0, l2=0.0).partial_fit(X[:2], y[:2], task_ids=t[:2])


def _is_false(result):
    assert result is False


def _zero_weight_chunk():
    X, y, t = issue_data()
    first = np.arange(60) % 4 != 0  # every task in both chunks
    est = MultiTaskGraphRegressor(CHAIN).partial_fit(X[first], y[first], task_ids=t[first])
    est.partial_fit(X[~first], y[~first], task_ids=t[~first], sample_weight=np.zeros(15))
    return est, (X[first], y[first], t[first])


def _zero_weight_chunk_check(result):
    est, (X, y, t) = result
    W, b = dense_solve(X, y, t, 3, CHAIN, 1.0, 1.0)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-10, atol=1e-12)


# -- l2 = 0 ------------------------------------------------------------------------------------


def _separable(alpha):
    def run():
        X, _, t = issue_data()
        y = (X[:, 0] > 0).astype(int)  # separated by one w shared by the tasks
        return MultiTaskGraphClassifier(alpha=alpha, l2=0.0).fit(X, y, task_ids=t)

    return run


def _not_separable():
    X, y, t = _labels()
    return MultiTaskGraphClassifier(alpha=1.0, l2=0.0).fit(X, y, task_ids=t)


# -- 2-D y as a data frame -----------------------------------------------------------------


def _frame_y(make):
    def run():
        X, y, _ = issue_data()
        Y = np.column_stack([y, -2 * y + X[:, 0]])
        est = MultiTaskGraphRegressor(alpha=0.0, l2=1.0).fit(
            X, make({"north": Y[:, 0], "south": Y[:, 1]})
        )
        return est, X, Y

    return run


def _frame_y_check(result):
    est, X, Y = result
    np.testing.assert_array_equal(est.tasks_, ["north", "south"])
    for k in range(2):
        ridge = Ridge(alpha=1.0).fit(X, Y[:, k])
        np.testing.assert_allclose(est.coef_[k], ridge.coef_, rtol=1e-10)
    np.testing.assert_allclose(
        est.predict(X[:3], task_ids=["south"] * 3), Ridge(alpha=1.0).fit(X, Y[:, 1]).predict(X[:3])
    )


CASES = [
    Case(
        "float32-regressor",
        _float32_regressor,
        check=_float32_regressor_check,
        fails_on="coef_ and predictions were float64",
    ),
    Case(
        "float32-classifier",
        _float32_classifier,
        check=_float32_classifier_check,
        fails_on="coef_, scores and probabilities were float64",
    ),
    *[
        Case(
            f"float32-{name}",
            _float32_kernel(make, method, labels, **params),
            check=_float32_kernel_check,
            fails_on="float64 predictions for float32 X (precomputed: 'not positive "
            "semi-definite' at eigenvalue -1e-6, float32 rounding)",
        )
        for name, make, method, labels, params in _FLOAT32_KERNEL
    ],
    Case(
        "float32-svc-labels",
        lambda: (
            MultiTaskSVC()
            .fit(*_labels()[:2], task_ids=_labels()[2])
            .predict(_labels()[0].astype(np.float32), task_ids=_labels()[2])
        ),
        check=lambda pred: np.testing.assert_array_equal(pred.dtype, np.int64),
    ),
    Case(
        "task-column-polars",
        lambda: _frame_fit(pl.DataFrame),
        check=_frame_check,
        fails_on="'X has no column names'",
    ),
    Case(
        "task-column-pyarrow",
        lambda: _frame_fit(pa.table),
        check=_frame_check,
        fails_on="'X has no column names'",
    ),
    Case("task-column-polars-position", _frame_by_position, check=_frame_check),
    Case(
        "task-column-missing-polars",
        _missing_name(pl.DataFrame),
        raises=ValueError,
        match=r"has the columns \['num__a', 'num__b', 'remainder__task'\].*"
        "verbose_feature_names_out=False",
    ),
    Case(
        "task-column-missing-pyarrow",
        _missing_name(pa.table),
        raises=ValueError,
        match="remainder__task.*verbose_feature_names_out=False",
    ),
    Case(
        "class-weight-balanced",
        _balanced_fits(False),
        check=_same_model,
        fails_on="no class_weight parameter",
    ),
    Case("class-weight-balanced-sample-weight", _balanced_fits(True), check=_same_model),
    Case(
        "class-weight-dict-vs-logistic-regression",
        _class_weight_dict_vs_sklearn,
        check=_class_weight_dict_check,
    ),
    Case(
        "class-weight-unknown-class",
        lambda: MultiTaskGraphClassifier(class_weight={5: 2.0}).fit(
            *_labels()[:2], task_ids=_labels()[2]
        ),
        raises=ValueError,
        match="not in class_weight|class_weight",
    ),
    Case(
        "zero-weight-row-first-one-class-logistic",
        _one_class_task("logistic", 0),
        check=_one_class_check,
        fails_on="intercept_[0] = +inf from the row of weight 0",
    ),
    Case(
        "zero-weight-row-first-one-class-hinge",
        _one_class_task("squared_hinge", 0),
        check=_one_class_check,
        fails_on="intercept from the margin of the row of weight 0",
    ),
    Case(
        "zero-weight-row-inside-one-class-hinge",
        _one_class_task("squared_hinge", 5),
        check=_one_class_check,
    ),
    Case(
        "class-only-at-zero-weight",
        _class_only_at_zero_weight,
        check=_class_only_at_zero_weight_check,
    ),
    Case(
        "svr-zero-weights",
        _svm_zero_weights(MultiTaskSVR, False),
        check=_svm_zero_weights_check,
        fails_on="libsvm mishandles zero weights",
    ),
    Case(
        "svr-zero-weights-precomputed",
        _svm_zero_weights(MultiTaskSVR, True),
        check=_svm_zero_weights_check,
    ),
    Case("svc-zero-weights", _svm_zero_weights(MultiTaskSVC, False), check=_svm_zero_weights_check),
    Case(
        "svc-zero-weights-precomputed",
        _svm_zero_weights(MultiTaskSVC, True),
        check=_svm_zero_weights_check,
    ),
    Case("svr-one-task-zero-weights-vs-sklearn", _svr_one_task_zero_weights, check=_close),
    *[
        Case(
            f"task-column-true-{cls.__name__}",
            _bool_param(cls, task_column=True),
            raises=ValueError,
            match="task_column.*not a bool.*Got True",
            fails_on="True was read as column 1",
        )
        for cls in _WITH_TASK_COLUMN
    ],
    *[
        Case(
            f"max-iter-true-{cls.__name__}",
            _bool_param(cls, task_column=3, max_iter=True),
            raises=ValueError,
            match="max_iter.*not a bool.*Got True",
        )
        for cls in (MultiTaskGraphRegressor, MultiTaskGraphClassifier, MultiTaskSVR)
    ],
    *[
        Case(
            f"task-column-true-{cls.__name__}",
            _bool_splitter(cls),
            raises=ValueError,
            match="task_column must be an int",
        )
        for cls in (TaskStratifiedKFold, LeaveTasksOut)
    ],
    Case(
        "proba-ovr-scores-below-minus-40",
        _very_negative_scores(100.0),
        check=_proba_check,
        fails_on="NaN rows",
    ),
    Case("proba-ovr-scores-below-minus-700", _very_negative_scores(1000.0), check=_proba_check),
    Case(
        "predict-proba-squared-hinge",
        _squared_hinge_proba,
        raises=AttributeError,
        match="only with loss='logistic'.*squared_hinge.*CalibratedClassifierCV",
    ),
    Case(
        "hasattr-after-singular-partial-fit",
        lambda: hasattr(_singular_chunks(), "coef_"),
        check=_is_false,
        fails_on="hasattr raised SingularProblemError",
    ),
    Case(
        "predict-after-singular-partial-fit",
        lambda: _singular_chunks().predict(issue_data()[0][:2]),
        raises=SingularProblemError,
        match="singular",
    ),
    Case(
        "partial-fit-zero-weight-chunk",
        _zero_weight_chunk,
        check=_zero_weight_chunk_check,
        fails_on="'Sample weights must contain at least one non-zero number'",
    ),
    Case(
        "separable-l2-0-coupled",
        _separable(1.0),
        warns=ConvergenceWarning,
        match="coefficients diverge",
        fails_on="no warning",
    ),
    Case(
        "separable-l2-0-independent",
        _separable(0.0),
        warns=ConvergenceWarning,
        match="coefficients diverge",
    ),
    Case("not-separable-l2-0-no-warning", _not_separable),
    Case(
        "y-2d-pandas-names-tasks",
        _frame_y(pd.DataFrame),
        check=_frame_y_check,
        fails_on="tasks_ = [0, 1]",
    ),
    Case("y-2d-polars-names-tasks", _frame_y(pl.DataFrame), check=_frame_y_check),
]
