"""Task labels, tasks never seen and graph input (issues 11 sections 3-4 and 12).

The population model (``unseen_tasks="population"``) is checked against computations that
do not use mtreg's solvers: dense normal equations (tests/_reference.py), scikit-learn's
KernelRidge, SVR and SVC on a multi-task Gram matrix built here, and the model that a refit
gives a task named in ``tasks`` without rows (exact for l2 = 0).
"""

import warnings

import numpy as np
import pandas as pd
from _reference import dense_solve, laplacian
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC, SVR

from adversarial import CHAIN, Case, issue_data
from mtreg import (
    MultiTaskGraphClassifier,
    MultiTaskGraphRegressor,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeCV,
    MultiTaskSVC,
    MultiTaskSVR,
    TaskStratifiedKFold,
    multitask_kernel,
)

X, Y, T = issue_data()
X_NEW = np.random.default_rng(1).normal(size=(5, 3))
COMPLETE = (np.ones((3, 3)) - np.eye(3)) / 3  # the default graph of three tasks
NEVER_SEEN = [7] * 5


def _close(a, b, tol=1e-9):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _fit(est, task_ids=T, y=Y):
    return est.fit(X, y, task_ids=task_ids)


# -- tasks never seen: the error -------------------------------------------------------------


def _predict_unknown():
    est = _fit(MultiTaskGraphRegressor(), task_ids=np.repeat([1, 3, 5], 20))
    return est.predict(X[:4], task_ids=[10, 2, 3, 10])


def _unknown_for(cls):
    def run():
        est = _fit(cls(), task_ids=np.repeat([1, 3, 5], 20))
        return est.predict(X[:2], task_ids=[10, 2])

    return run


UNKNOWN_WORDS = (
    r"unknown task labels 2, 10: the model never saw these tasks .* it knows 1, 3, 5\. .*"
    r"task-stratified splitter \(mtreg.TaskStratifiedKFold\).*unseen_tasks='population'"
)


def _task_major(n_tasks=10, rows=6):
    """Rows grouped by task, as the loaders return them: KFold(5) holds whole tasks out."""
    r = np.random.default_rng(0)
    Xg = r.normal(size=(n_tasks * rows, 3))
    tg = np.repeat(np.arange(n_tasks), rows)
    yg = Xg @ [1.0, 2, 3] + 0.1 * tg + r.normal(size=len(tg))
    return np.column_stack([Xg, tg]), yg


def _grid_search(unseen):
    def run():
        Xt, yg = _task_major()
        est = MultiTaskGraphRegressor(task_column=-1, unseen_tasks=unseen)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn warns for every failed score
            return GridSearchCV(est, {"alpha": [0.1, 1.0, 10.0]}).fit(Xt, yg)

    return run


def _all_nan(search):
    assert np.isnan(search.cv_results_["mean_test_score"]).all()


def _all_finite(search):
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def _stratified_search():
    Xt, yg = _task_major()
    est = MultiTaskGraphRegressor(task_column=-1)
    cv = TaskStratifiedKFold(3, task_column=-1)  # the README recipe
    return GridSearchCV(est, {"alpha": [0.1, 1.0, 10.0]}, cv=cv).fit(Xt, yg)


# -- tasks never seen: the population model --------------------------------------------------


def _population_linear(A, alpha, l2):
    """Closed form: argmin_w alpha/T sum_t ||w - w_t||^2 + l2 ||w||^2 on the dense fit."""
    W, b = dense_solve(X, Y, T, 3, A, alpha, l2)
    shrink = alpha / (alpha + l2) if alpha + l2 > 0 else 1.0
    return X_NEW @ (shrink * W.mean(axis=0)) + b.mean()


def _regressor_population(graph, A, alpha, l2, **params):
    def run():
        est = MultiTaskGraphRegressor(graph, alpha=alpha, l2=l2, unseen_tasks="population")
        return _fit(est.set_params(**params)).predict(X_NEW, task_ids=NEVER_SEEN)

    def check(pred):
        _close(pred, _population_linear(A, alpha, l2))

    return run, check


def _population_numerically(pred):
    """The penalised minimiser by brute force (scipy), from the dense fit's models."""
    from scipy.optimize import minimize

    alpha, l2 = 2.0, 0.5
    W, b = dense_solve(X, Y, T, 3, CHAIN, alpha, l2)

    def penalty(w):
        return alpha / 3 * ((w - W) ** 2).sum() + l2 * (w**2).sum()

    w = minimize(penalty, np.zeros(3), tol=1e-14).x
    _close(pred, X_NEW @ w + b.mean(), tol=1e-6)


def _evgeniou_pontil_w0(pred):
    """Evgeniou & Pontil's w_t = w_0 + v_t with lambda_1 / T sum ||v_t||^2 + lambda_2 ||w_0||^2,
    solved directly in (w_0, v, b): its w_0 and mean intercept are the population model of
    the complete graph with alpha = lambda_1^2 / (T (lambda_1 + lambda_2)) and
    l2 = lambda_1 lambda_2 / (T (lambda_1 + lambda_2)) (here alpha = 2, l2 = 0.5)."""
    n_tasks, d = 3, 3
    lam1, lam2 = 7.5, 1.875  # alpha = 2.0, l2 = 0.5 for T = 3
    Phi = np.zeros((len(Y), d + n_tasks * d + n_tasks))
    for i, (x, t) in enumerate(zip(X, T, strict=True)):
        Phi[i, :d] = x
        Phi[i, d + t * d : d + (t + 1) * d] = x
        Phi[i, d + n_tasks * d + t] = 1.0
    penalty = np.r_[np.full(d, lam2), np.full(n_tasks * d, lam1 / n_tasks), np.zeros(n_tasks)]
    theta = np.linalg.solve(Phi.T @ Phi + np.diag(penalty), Phi.T @ Y)
    w0, b = theta[:d], theta[d + n_tasks * d :]
    _close(pred, X_NEW @ w0 + b.mean())


def _refit_with_extra_task(cls, y, **params):
    """l2 = 0 on the complete graph: the population model is the model that a refit gives a
    task named in tasks without rows, and the other tasks' models do not move."""

    def run():
        est = _fit(cls(alpha=2.0, l2=0.0, unseen_tasks="population", **params), y=y)
        ref = _fit(cls(alpha=2.0, l2=0.0, tasks=[0, 1, 2, "new"], **params), y=y)
        return est, ref

    def check(fits):
        est, ref = fits
        score = "decision_function" if hasattr(est, "decision_function") else "predict"
        new = getattr(ref, score)(X_NEW, task_ids=["new"] * 5)
        _close(getattr(est, score)(X_NEW, task_ids=["never seen"] * 5), new, tol=1e-7)
        _close(est.coef_, ref.coef_[:3], tol=1e-7)

    return run, check


def _noisy_classes():
    flip = np.random.default_rng(5).random(60) < 0.2
    return np.where((Y > 1) ^ flip, "up", "down")


def _multi_output_population():
    Y2 = np.column_stack([Y, -Y, 2 * Y])
    est = MultiTaskGraphRegressor(CHAIN, alpha=2.0, l2=0.5, unseen_tasks="population")
    return est.fit(X, Y2).predict(X_NEW, task_ids=[0, "x", 2, "x", 1]), Y2


def _multi_output_check(result):
    pred, Y2 = result
    X_long, y_long, t_long = np.tile(X, (3, 1)), Y2.T.ravel(), np.repeat([0, 1, 2], 60)
    W, b = dense_solve(X_long, y_long, t_long, 3, CHAIN, 2.0, 0.5)
    W, b = np.vstack([W, 0.8 * W.mean(axis=0)]), np.append(b, b.mean())
    rows = [0, 3, 2, 3, 1]
    _close(pred, np.einsum("ij,ij->i", X_NEW, W[rows]) + b[rows])


def _task_kernel(A, alpha, l2):
    return np.linalg.inv(alpha * laplacian(A) + l2 * np.eye(len(A)))


def _population_row(B, alpha, l2):
    return alpha / (alpha + l2) * B.mean(axis=0)


def _rbf(A, B, gamma):
    return np.exp(-gamma * ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2))


def _kernel_ridge_population(solver):
    def run():
        est = MultiTaskKernelRidge(
            CHAIN, alpha=2.0, l2=0.5, gamma=0.3, solver=solver, unseen_tasks="population"
        )
        return _fit(est).predict(X_NEW, task_ids=[0, 7, 2, 7, 7])

    def check(pred):
        B = _task_kernel(CHAIN, 2.0, 0.5)
        ref = KernelRidge(alpha=1.0, kernel="precomputed")
        ref.fit(_rbf(X, X, 0.3) * B[np.ix_(T, T)], Y)
        rows = np.vstack([B, _population_row(B, 2.0, 0.5)])[[0, 3, 2, 3, 3]]
        _close(pred, ref.predict(_rbf(X_NEW, X, 0.3) * rows[:, T]))

    return run, check


def _svm_population(cls, ref_cls, y):
    def run():
        est = cls(CHAIN, alpha=2.0, l2=0.5, gamma=0.3, C=3.0, tol=1e-8, unseen_tasks="population")
        est = _fit(est, y=y)
        score = est.decision_function if hasattr(est, "decision_function") else est.predict
        return score(X_NEW, task_ids=NEVER_SEEN)

    def check(pred):
        B = _task_kernel(CHAIN, 2.0, 0.5)
        ref = ref_cls(kernel="precomputed", C=3.0, tol=1e-8)
        ref.fit(_rbf(X, X, 0.3) * B[np.ix_(T, T)], y)
        K_new = _rbf(X_NEW, X, 0.3) * _population_row(B, 2.0, 0.5)[T]
        score = ref.decision_function if hasattr(ref, "decision_function") else ref.predict
        _close(pred, score(K_new), tol=1e-6)

    return run, check


def _cv_population(cls, **params):
    def run():
        est = _fit(
            cls(CHAIN, alphas=[0.3, 3.0], l2s=[0.5, 2.0], unseen_tasks="population", **params)
        )
        return est, est.predict(X_NEW, task_ids=NEVER_SEEN)

    def check(result):
        est, pred = result
        alpha, l2 = est.alpha_, est.l2_
        if cls is MultiTaskGraphRegressorCV:
            W, b = dense_solve(X, Y, T, 3, CHAIN, alpha, l2)
            _close(pred, X_NEW @ (alpha / (alpha + l2) * W.mean(axis=0)) + b.mean())
            return
        B = _task_kernel(CHAIN, alpha, l2)
        ref = KernelRidge(alpha=1.0, kernel="precomputed").fit(X @ X.T * B[np.ix_(T, T)], Y)
        _close(pred, ref.predict(X_NEW @ X.T * _population_row(B, alpha, l2)[T]))

    return run, check


ESTIMATORS = (
    MultiTaskGraphRegressor,
    MultiTaskGraphClassifier,
    MultiTaskKernelRidge,
    MultiTaskSVR,
    MultiTaskSVC,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidgeCV,
)


def _documented(estimators):
    for cls in estimators:
        assert cls().get_params()["unseen_tasks"] == "error", cls
        assert 'unseen_tasks : {"error", "population"}, default="error"' in cls.__doc__, cls
        assert "The same rule holds whatever the graph" in cls.__doc__, cls


def _chunk_with_new_task():
    est = MultiTaskGraphRegressor(unseen_tasks="population").partial_fit(X, Y, task_ids=T)
    return est.partial_fit(X[:3], Y[:3], task_ids=[0, 9, 9])


# -- missing labels --------------------------------------------------------------------------


def _with_missing(value, dtype=object):
    t = T.astype(dtype)
    t[[0, 25, 45]] = value
    return t


def _fit_labels(task_ids, est=None):
    return lambda: _fit(est or MultiTaskGraphRegressor(), task_ids=task_ids)


MISSING_WORDS = r"a task label is missing \(None, NaN or NA\) in task_ids, at positions 0, 25, 45"


def _predict_missing():
    est = _fit(MultiTaskGraphRegressor())
    return est.predict(X[:3], task_ids=np.array([0, None, 1], dtype=object))


def _nat_labels():
    t = np.repeat(np.array(["2020-01-01", "NaT", "2020-01-03"], dtype="datetime64[D]"), 20)
    return _fit(MultiTaskGraphRegressor(), task_ids=t)


# -- labels keep their type ------------------------------------------------------------------


MIXED = [1, "a", 2.5]


def _mixed_object_with_tasks():
    t = np.array(MIXED, dtype=object)[T]
    return _fit(MultiTaskGraphRegressor(CHAIN, tasks=MIXED), task_ids=t)


def _matches_chain_fit(est):
    W, b = dense_solve(X, Y, T, 3, CHAIN, 1.0, 1.0)
    _close(est.coef_, W)
    _close(est.intercept_, b)


def _mixed_tasks_kept(est):
    assert est.tasks_.tolist() == MIXED and [type(v) for v in est.tasks_] == [int, str, float]
    _matches_chain_fit(est)


def _mixed_list_predict_int():
    labels = [1, "a", "b"]
    est = _fit(MultiTaskGraphRegressor(CHAIN, tasks=labels), task_ids=[labels[k] for k in T])
    return est, est.predict(X[:2], task_ids=np.array([1, 1]))


def _int_label_kept(result):
    est, pred = result
    W, b = dense_solve(X, Y, T, 3, CHAIN, 1.0, 1.0)
    _close(pred, X[:2] @ W[0] + b[0])
    assert est.tasks_.tolist() == [1, "a", "b"]


TUPLES = [("north", 1), ("north", 2), ("south", 1)]


def _tuple_labels():
    est = _fit(MultiTaskGraphRegressor(CHAIN), task_ids=[TUPLES[k] for k in T])
    return est, est.predict(X[:3], task_ids=[TUPLES[2], TUPLES[0], TUPLES[2]])


def _tuples_are_labels(result):
    est, pred = result
    assert est.tasks_.shape == (3,) and est.tasks_.tolist() == TUPLES
    W, b = dense_solve(X, Y, T, 3, CHAIN, 1.0, 1.0)
    _close(pred, np.einsum("ij,ij->i", X[:3], W[[2, 0, 2]]) + b[[2, 0, 2]])


def _extra_label_with_dict_graph():
    graph = {0: [1], 1: [2], "q": []}
    return _fit(MultiTaskGraphRegressor(graph, tasks=[0, 1, 2, "zzz"]))


def _mixed_tasks_complete():
    return _fit(MultiTaskGraphRegressor(tasks=[0, 1, 2, "zzz"]))


def _four_tasks(est):
    assert est.tasks_.tolist() == [0, 1, 2, "zzz"]
    W, b = dense_solve(X, Y, T, 4, (np.ones((4, 4)) - np.eye(4)) / 4, 1.0, 1.0)
    _close(est.coef_, W)
    _close(est.intercept_[:3], b[:3])


DATES = np.array(["2020-01-01", "2020-01-02", "2020-01-03"], dtype="datetime64[D]")


def _dates_in_seconds():
    est = _fit(MultiTaskGraphRegressor(CHAIN), task_ids=DATES[T])
    return est.predict(X[:3], task_ids=DATES[[2, 0, 1]].astype("datetime64[s]"))


def _dates_predict(pred):
    W, b = dense_solve(X, Y, T, 3, CHAIN, 1.0, 1.0)
    _close(pred, np.einsum("ij,ij->i", X[:3], W[[2, 0, 1]]) + b[[2, 0, 1]])


def _unknown_date():
    est = _fit(MultiTaskGraphRegressor(), task_ids=DATES[T])
    return est.predict(X[:1], task_ids=np.array(["2021-05-06T12:00"], dtype="datetime64[m]"))


def _natural_order_strings():
    est = _fit(MultiTaskGraphRegressor(), task_ids=np.array(["task10", "task2", "task1"])[T])
    return est.predict(X[:2], task_ids=["task20", "task3"])


def _one_class_task():
    labels = np.where(Y > np.median(Y), "up", "down")
    labels[T == 2] = "up"
    return _fit(MultiTaskGraphClassifier(alpha=0.0, l2=0.0), y=labels)


# -- graph input -----------------------------------------------------------------------------


LABELS = np.array(["a", "b", "c"])
# the chain a - b - c with a weight 2 on b - c, as a frame in the order c, a, b
PERMUTED = pd.DataFrame(
    [[0.0, 0, 2], [0, 0, 1], [2, 1, 0]], index=["c", "a", "b"], columns=["c", "a", "b"]
)
WEIGHTED_CHAIN = np.array([[0.0, 1, 0], [1, 0, 2], [0, 2, 0]])


def _frame_graph(frame, **params):
    return lambda: _fit(MultiTaskGraphRegressor(frame, **params), task_ids=LABELS[T])


def _matches(A):
    def check(est):
        W, b = dense_solve(X, Y, T, 3, A, 1.0, 1.0)
        _close(est.coef_, W)
        _close(est.intercept_, b)

    return check


def _graph_fit(graph, labels=T):
    return lambda: _fit(MultiTaskGraphRegressor(graph), task_ids=labels)


TRIPLES = [[0, 1, 1.0], [1, 2, 1.0], [0, 2, 0.5]]


def _edges_as_tuples():
    return _fit(MultiTaskGraphRegressor([tuple(e) for e in TRIPLES]))


def _checked(name, run_and_check, **params):
    run, check = run_and_check
    return Case(name, run, check=check, **params)


def _two_tasks_square_list():
    """[[0, 1], [1, 0]] for tasks 0 and 1: the matrix and the edge list are the same graph."""
    est = MultiTaskGraphRegressor([[0, 1], [1, 0]])
    return est.fit(X[:40], Y[:40], task_ids=T[:40])


def _one_edge(est):
    W, b = dense_solve(X[:40], Y[:40], T[:40], 2, np.array([[0.0, 1], [1, 0]]), 1.0, 1.0)
    _close(est.coef_, W)
    _close(est.intercept_, b)


def _kernel_bad_string():
    return multitask_kernel(X, T, graph="ful", kernel="linear")


CASES = [
    # tasks never seen (issue 11 section 3)
    Case(
        "unknown-tasks-named-natural-order-with-ways-out",
        _predict_unknown,
        raises=ValueError,
        match=UNKNOWN_WORDS,
        fails_on="labels in repr order (10 before 2), no word of a splitter or an option",
    ),
    *[
        Case(
            f"unknown-tasks-message-{cls.__name__}",
            _unknown_for(cls),
            ValueError,
            match=UNKNOWN_WORDS,
        )
        for cls in (MultiTaskKernelRidge, MultiTaskSVR, MultiTaskGraphRegressorCV)
    ],
    Case(
        "gridsearch-default-cv-task-major-error-gives-nan",
        _grid_search("error"),
        check=_all_nan,
    ),
    Case(
        "gridsearch-default-cv-task-major-population-finite",
        _grid_search("population"),
        check=_all_finite,
        fails_on="no unseen_tasks parameter: every score NaN",
    ),
    Case("readme-recipe-task-stratified-finite", _stratified_search, check=_all_finite),
    _checked(
        "population-complete-graph-l2-0-is-mean", _regressor_population(None, COMPLETE, 2.0, 0.0)
    ),
    _checked(
        "population-complete-graph-l2-positive", _regressor_population(None, COMPLETE, 2.0, 0.5)
    ),
    Case(
        "population-complete-graph-is-evgeniou-pontil-w0",
        _regressor_population(None, COMPLETE, 2.0, 0.5)[0],
        check=_evgeniou_pontil_w0,
    ),
    _checked("population-chain-graph", _regressor_population(CHAIN, CHAIN, 2.0, 0.5)),
    _checked(
        "population-chain-graph-iterative-solver",
        _regressor_population(CHAIN, CHAIN, 2.0, 0.5, solver="pcg", tol=1e-13),
    ),
    _checked("population-no-links", _regressor_population("none", np.zeros((3, 3)), 2.0, 0.5)),
    _checked(
        "population-alpha-0-is-zero-model-mean-intercept",
        _regressor_population(None, COMPLETE, 0.0, 0.5),
    ),
    Case(
        "population-is-the-penalised-minimiser",
        _regressor_population(CHAIN, CHAIN, 2.0, 0.5)[0],
        check=_population_numerically,
    ),
    _checked(
        "population-regressor-equals-refit-with-extra-task-l2-0",
        _refit_with_extra_task(MultiTaskGraphRegressor, Y),
    ),
    _checked(
        "population-classifier-equals-refit-with-extra-task-l2-0",
        _refit_with_extra_task(MultiTaskGraphClassifier, _noisy_classes(), tol=1e-10),
    ),
    Case("population-multi-output", _multi_output_population, check=_multi_output_check),
    _checked("population-kernel-ridge-vs-sklearn", _kernel_ridge_population("cholesky")),
    _checked("population-svr-vs-sklearn", _svm_population(MultiTaskSVR, SVR, Y)),
    _checked("population-svc-vs-sklearn", _svm_population(MultiTaskSVC, SVC, Y > 1)),
    _checked("population-graph-ridge-cv", _cv_population(MultiTaskGraphRegressorCV)),
    _checked("population-kernel-ridge-cv", _cv_population(MultiTaskKernelRidgeCV, kernel="linear")),
    Case(
        "population-not-for-partial-fit-chunks",
        _chunk_with_new_task,
        raises=ValueError,
        match=r"unknown task labels 9.*fixed by its first call",
    ),
    Case(
        "unseen-tasks-bad-value",
        lambda: _fit(MultiTaskGraphRegressor(unseen_tasks="mean")),
        raises=ValueError,
        match="unseen_tasks",
    ),
    # missing labels (issues 11 section 4, 12)
    Case(
        "nan-in-object-labels-is-missing-not-a-task",
        _fit_labels(_with_missing(np.nan)),
        raises=ValueError,
        match=MISSING_WORDS,
        fails_on="tasks_ = [nan nan 0 1 2 nan 2]",
    ),
    Case(
        "none-label-is-missing",
        _fit_labels(_with_missing(None)),
        raises=ValueError,
        match=MISSING_WORDS,
        fails_on="mixed types cannot be sorted",
    ),
    Case(
        "pandas-na-label-is-missing",
        _fit_labels(pd.array(_with_missing(pd.NA), dtype="Int64")),
        raises=ValueError,
        match=MISSING_WORDS,
    ),
    Case(
        "float-nan-label-is-missing",
        _fit_labels(_with_missing(np.nan, float)),
        raises=ValueError,
        match=MISSING_WORDS,
    ),
    Case(
        "nat-label-is-missing", _nat_labels, raises=ValueError, match="missing .* positions 20, 21"
    ),
    Case(
        "missing-label-at-predict",
        _predict_missing,
        raises=ValueError,
        match="missing .* at position 1:",
    ),
    Case(
        "missing-label-in-tasks",
        lambda: _fit(MultiTaskGraphRegressor(tasks=[0, 1, None, 2])),
        raises=ValueError,
        match="missing .* in tasks, at position 2",
    ),
    Case(
        "missing-label-kernel-ridge",
        _fit_labels(_with_missing(None), MultiTaskKernelRidge()),
        raises=ValueError,
        match=MISSING_WORDS,
    ),
    Case(
        "missing-label-splitter",
        lambda: list(TaskStratifiedKFold(3).split(X, Y, groups=_with_missing(None))),
        raises=ValueError,
        match="a task label is missing",
    ),
    # labels keep their type (issue 11 section 4)
    Case(
        "mixed-object-labels-with-tasks",
        _mixed_object_with_tasks,
        check=_mixed_tasks_kept,
        fails_on="mixed types cannot be sorted, although tasks= gives the order",
    ),
    Case(
        "mixed-list-keeps-int-label",
        _mixed_list_predict_int,
        check=_int_label_kept,
        fails_on="the list was coerced to strings: unknown task labels 1",
    ),
    Case(
        "mixed-list-without-tasks-names-types",
        _fit_labels([[1, "a", "b"][k] for k in T]),
        raises=ValueError,
        match=r"mixed types \(int, str\).*pass tasks=",
    ),
    Case(
        "tuple-labels",
        _tuple_labels,
        check=_tuples_are_labels,
        fails_on="task_ids has shape (60, 2)",
    ),
    Case(
        "graph-names-labels-not-in-mixed-tasks",
        _extra_label_with_dict_graph,
        raises=ValueError,
        match=r"the graph names tasks that are not in tasks: 'q';",
        fails_on="the graph names tasks that are not in tasks: 0, 1, 2",
    ),
    Case("mixed-tasks-complete-graph", _mixed_tasks_complete, check=_four_tasks),
    Case(
        "list-of-lists-is-not-labels",
        _fit_labels([[k] for k in T]),
        raises=ValueError,
        match="task_ids must be 1-D, one hashable task label per row",
    ),
    Case("unseen-tasks-in-every-estimator", lambda: ESTIMATORS, check=_documented),
    Case(
        "one-class-task-named-as-such",
        _one_class_task,
        raises=ValueError,
        match=r"tasks 2 have training rows of one class only",
        fails_on="tasks 2 have no training rows",
    ),
    Case(
        "dates-in-another-unit",
        _dates_in_seconds,
        check=_dates_predict,
        fails_on="unknown task labels datetime.datetime(2020, 1, 3, 0, 0)",
    ),
    Case(
        "dates-shown-as-dates",
        _unknown_date,
        raises=ValueError,
        match=r"labels 2021-05-06T12:00: .* knows 2020-01-01, 2020-01-02, 2020-01-03\.",
    ),
    Case(
        "natural-order-of-strings",
        _natural_order_strings,
        raises=ValueError,
        match=r"unknown task labels 'task3', 'task20': .* knows 'task1', 'task2', 'task10'\.",
    ),
    # graph input (issues 11 section 4, 12)
    Case(
        "bad-graph-string-lists-valid-ones",
        _graph_fit("full"),
        raises=ValueError,
        match=r"unknown graph string 'full'; .*'complete', 'none', 'knn', 'similarity', 'learn'",
    ),
    Case(
        "bad-graph-string-kernel-ridge",
        lambda: _fit(MultiTaskKernelRidge("ful")),
        raises=ValueError,
        match=r"'complete', 'none', 'knn', 'similarity', 'learn'",
    ),
    Case(
        "bad-graph-string-multitask-kernel",
        _kernel_bad_string,
        raises=ValueError,
        match=r"'complete', 'none', 'knn', 'similarity', 'learn'",
    ),
    Case(
        "dataframe-labels-are-task-labels",
        _frame_graph(PERMUTED),
        check=_matches(WEIGHTED_CHAIN),
        fails_on="labels ignored: rows read in the order c, a, b as if a, b, c",
    ),
    Case(
        "dataframe-labels-disagree-with-tasks",
        _frame_graph(PERMUTED, tasks=["a", "b", "d"]),
        raises=ValueError,
        match="the graph names tasks that are not in tasks: 'c'",
    ),
    Case(
        "dataframe-index-and-columns-differ",
        _frame_graph(pd.DataFrame(WEIGHTED_CHAIN, index=list("abc"), columns=list("abd"))),
        raises=ValueError,
        match="index and its columns, which must hold the same labels",
    ),
    Case(
        "dataframe-default-labels-is-a-matrix",
        _frame_graph(pd.DataFrame(WEIGHTED_CHAIN)),
        check=_matches(WEIGHTED_CHAIN),
    ),
    Case(
        "triples-of-labels-are-ambiguous",
        _graph_fit(TRIPLES),
        raises=ValueError,
        match=r"reads both as a 3 x 3 matrix and as a list of 3 edges .* list of tuples",
        fails_on="read as a 3 x 3 matrix, silently",
    ),
    Case(
        "triples-as-tuples-are-edges",
        _edges_as_tuples,
        check=_matches(np.array([[0, 1, 0.5], [1, 0, 1], [0.5, 1, 0]])),
    ),
    Case(
        "numeric-square-list-without-label-rows-is-a-matrix",
        _graph_fit(TRIPLES, LABELS[T]),
        check=_matches(np.array(TRIPLES)),
    ),
    Case("square-list-read-both-ways-alike", _two_tasks_square_list, check=_one_edge),
]
