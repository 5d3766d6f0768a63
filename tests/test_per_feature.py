"""Per-feature coupling: alpha and l2 as arrays of shape (n_features,) (issue 14, section 1).

The penalty is sum_j alpha_j w_j^T L w_j + l2_j ||w_j||^2 (w_j the column j of W). Every
solver is compared with a dense solve of the (T d + T) normal equations written from that
definition (kron / np.diag, no mtreg code: tests/_perfeature_reference.py), and with the
optimality conditions.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _perfeature_reference import (
    ALPHA,
    GRAPHS,
    L2,
    SOLVER_GRAPHS,
    TASKS,
    D,
    T,
    data,
    dense,
    grad_J,
    laplacian,
    rtol,
)
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold

from mtreg import (
    MultiTaskGraphClassifier,
    MultiTaskGraphRegressor,
)
from mtreg._solvers import SingularProblemError
from mtreg.core import gradient, graph_ridge, objective, task_graph, task_stats


@pytest.mark.parametrize("solver, graph", SOLVER_GRAPHS)
def test_every_solver_equals_dense(solver, graph):
    X, y, t, sw = data()
    given, A = GRAPHS[graph]
    # lbfgs stalls near 1e-8 here (rounding), as it does with scalar alpha=20, l2=0.01
    tol = {"lbfgs": 1e-7, "fista": 1e-9}.get(solver, 1e-10)
    est = MultiTaskGraphRegressor(
        given, alpha=ALPHA, l2=L2 + 0.01, solver=solver, tasks=TASKS, tol=tol
    ).fit(X, y, task_ids=t, sample_weight=sw)
    W, b = dense(X, y, t, T + 1, A, ALPHA, L2 + 0.01, sw)
    scale = np.abs(W).max()
    np.testing.assert_allclose(est.coef_, W, rtol=rtol(solver), atol=rtol(solver) * scale)
    np.testing.assert_allclose(est.intercept_[:T], b[:T], rtol=rtol(solver), atol=1e-6)
    # optimality: the gradient of J vanishes (intercept of the task without rows is free)
    gW, gb = grad_J(est.coef_, est.intercept_, X, y, t, A, ALPHA, L2 + 0.01, sw)
    zero = grad_J(np.zeros_like(W), np.zeros(T + 1), X, y, t, A, ALPHA, L2 + 0.01, sw)
    size = np.abs(zero[0]).max()
    assert np.abs(gW).max() <= 1e-6 * size
    assert np.abs(gb).max() <= 1e-6 * size


@pytest.mark.parametrize("graph", list(GRAPHS))
def test_auto_equals_dense_with_zero_l2_entries(graph):
    """l2_j = 0 on a feature the data determine, alpha_j = 0 on another."""
    X, y, t, sw = data(2)
    given, A = GRAPHS[graph]
    est = MultiTaskGraphRegressor(given, alpha=ALPHA, l2=L2, tasks=TASKS).fit(
        X, y, task_ids=t, sample_weight=sw
    )
    W, b = dense(X, y, t, T + 1, A, ALPHA, L2, sw)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(est.intercept_[:T], b[:T], rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("solver", ["woodbury", "cholesky", "pcg", "eigen", "lbfgs"])
def test_constant_array_equals_scalar(solver):
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(30, D)), rng.normal(size=(30, T))  # multi-output: eigen applies
    one = MultiTaskGraphRegressor(alpha=2.5, l2=0.7, solver=solver).fit(X, Y)
    arr = MultiTaskGraphRegressor(alpha=np.full(D, 2.5), l2=[0.7] * D, solver=solver).fit(X, Y)
    np.testing.assert_allclose(arr.coef_, one.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(arr.intercept_, one.intercept_, rtol=1e-12, atol=1e-12)


def test_multi_output_per_feature():
    """Every task at one X: eigen takes a per-feature l2; a per-feature alpha goes to
    another solver under "auto" and is refused by an explicit eigen, naming the way out."""
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(25, D)), rng.normal(size=(25, T))
    t = np.tile(np.arange(T), 25)
    Xl, yl = np.repeat(X, T, axis=0), Y.ravel()
    A = (np.ones((T, T)) - np.eye(T)) / T
    est = MultiTaskGraphRegressor(alpha=1.5, l2=L2 + 0.1, solver="eigen").fit(X, Y)
    W, b = dense(Xl, yl, t, T, A, 1.5, L2 + 0.1)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-10, atol=1e-12)
    est = MultiTaskGraphRegressor(alpha=ALPHA, l2=L2 + 0.1).fit(X, Y)
    assert est.solver_ != "eigen"
    W, b = dense(Xl, yl, t, T, A, ALPHA, L2 + 0.1)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="solver='eigen' cannot take a per-feature alpha"):
        MultiTaskGraphRegressor(alpha=ALPHA, solver="eigen").fit(X, Y)


def test_huge_alpha_pools_the_feature():
    """alpha_j -> infinity makes w_{:,j} equal across (connected) tasks; the others differ."""
    X, y, t, _ = data(5)
    alpha = np.array([1e-3, 1e9, 1e-3, 1e-3])
    for solver in ("woodbury", "cholesky", "pcg"):
        est = MultiTaskGraphRegressor(alpha=alpha, l2=0.1, solver=solver).fit(X, y, task_ids=t)
        spread = np.ptp(est.coef_, axis=0)
        assert spread[1] <= 1e-6 * np.abs(est.coef_[:, 1]).max(), solver
        assert spread[[0, 2, 3]].min() > 1e-2, solver


def test_zero_alpha_feature_is_uncoupled():
    """alpha_j = 0 on every feature but a pooled one: with alpha = [0, big, 0, 0], the
    model is per-task ridge with one shared column (checked against the dense solve with
    that column tied exactly: a design with one shared column)."""
    X, y, t, _ = data(6)
    est = MultiTaskGraphRegressor(alpha=[0, 1e10, 0, 0], l2=0.2, solver="cholesky").fit(
        X, y, task_ids=t
    )
    # tied column: unknowns w_{t, j != 1} per task, one shared w_1, intercepts
    n = len(y)
    cols = [0, 2, 3]
    Phi = np.zeros((n, 3 * T + 1 + T))
    for i in range(n):
        Phi[i, 3 * t[i] : 3 * t[i] + 3] = X[i, cols]
        Phi[i, 3 * T] = X[i, 1]
        Phi[i, 3 * T + 1 + t[i]] = 1.0
    P = np.diag(np.r_[np.full(3 * T, 0.2), 0.2 * T, np.zeros(T)])
    theta = np.linalg.solve(Phi.T @ Phi + P, Phi.T @ y)
    np.testing.assert_allclose(est.coef_[:, cols], theta[: 3 * T].reshape(T, 3), atol=1e-6)
    np.testing.assert_allclose(est.coef_[:, 1], theta[3 * T], atol=1e-6)


def test_core_graph_ridge_and_objective():
    X, y, t, sw = data(7)
    stats = task_stats(X, y, t, n_tasks=T + 1, sample_weight=sw)
    A = GRAPHS["weighted"][1]
    graph = task_graph(A)
    for solver in ("cholesky", "pcg", "auto"):
        fit = graph_ridge(stats, graph, alpha=ALPHA, l2=L2 + 0.01, solver=solver, tol=1e-12)
        W, b = dense(X, y, t, T + 1, A, ALPHA, L2 + 0.01, sw)
        np.testing.assert_allclose(fit.coef, W, rtol=1e-7, atol=1e-8)
    # the NumPy objective and gradient take the arrays too, as written from J here
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(T + 1, D)), rng.normal(size=T + 1)
    L = laplacian(A)
    r = y - np.einsum("ij,ij->i", X, W[t]) - b[t]
    J = sw @ r**2 + np.sum(ALPHA * np.einsum("st,sj,tj->j", L, W, W)) + np.sum(L2 * W**2)
    kw = dict(alpha=ALPHA, l2=L2, sample_weight=sw)
    assert np.isclose(objective(W, b, X, y, t, L, **kw), J, rtol=1e-12)
    gW, gb = gradient(W, b, X, y, t, L, **kw)
    rW, rb = grad_J(W, b, X, y, t, A, ALPHA, L2, sw)
    np.testing.assert_allclose(gW, rW, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gb, rb, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="alpha given as an array must have shape"):
        graph_ridge(stats, graph, alpha=np.ones(D + 1))


def test_partial_fit_equals_dense():
    X, y, t, sw = data(8)
    A = GRAPHS["knn"][1]
    est = MultiTaskGraphRegressor(A, alpha=ALPHA, l2=L2 + 0.01, tasks=TASKS)
    for part in np.array_split(np.arange(len(y)), 3):
        est.partial_fit(X[part], y[part], task_ids=t[part], sample_weight=sw[part])
    W, b = dense(X, y, t, T + 1, A, ALPHA, L2 + 0.01, sw)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(est.intercept_[:T], b[:T], rtol=1e-9, atol=1e-10)
    with pytest.raises(ValueError, match="l2 must be >= 0 on every feature"):
        est.set_params(l2=-L2).partial_fit(X[:5], y[:5], task_ids=t[:5])
    np.testing.assert_allclose(est.coef_, W, rtol=1e-9, atol=1e-10)


def test_dask_per_feature():
    da = pytest.importorskip("dask.array")
    X, y, t, sw = data(9)
    est = MultiTaskGraphRegressor(alpha=ALPHA, l2=L2 + 0.01).fit(
        da.from_array(X, chunks=13), da.from_array(y, chunks=13), task_ids=t, sample_weight=sw
    )
    W, _ = dense(X, y, t, T, (np.ones((T, T)) - np.eye(T)) / T, ALPHA, L2 + 0.01, sw)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("solver", ["auto", "pcg", "newton"])
def test_extreme_magnitudes_scale_per_feature_penalties(solver):
    """X, y times 2^120 with the penalties times 2^240 is the same problem (W the same):
    the exact rescaling maps each alpha_j and l2_j (moments and row solvers)."""
    X, y, t, _ = data(10)
    big = 2.0**120
    est = MultiTaskGraphRegressor(
        alpha=ALPHA * big**2, l2=(L2 + 0.01) * big**2, solver=solver, tol=1e-12
    ).fit(X * big, y * big, task_ids=t)
    W, b = dense(X, y, t, T, (np.ones((T, T)) - np.eye(T)) / T, ALPHA, L2 + 0.01)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(est.intercept_ / big, b, rtol=1e-8, atol=1e-9)


BAD = [
    (np.ones(D + 1), "alpha", "must have shape \\(n_features,\\) = \\(4,\\)"),
    (np.ones((D, 1)), "alpha", "must have shape"),
    (np.array([1.0, -1.0, 1.0, 1.0]), "l2", "l2 must be >= 0 on every feature"),
    (np.array([1.0, np.nan, 1.0, 1.0]), "alpha", "non-finite entries"),
    (np.array([1.0, np.inf, 1.0, 1.0]), "l2", "non-finite entries"),
    (np.array(["a", "b", "c", "d"]), "alpha", "array of numbers"),
    (np.array([True, False, True, True]), "l2", "array of numbers"),
]


@pytest.mark.parametrize("value, name, match", BAD)
def test_bad_arrays_leave_the_fitted_estimator(value, name, match):
    X, y, t, _ = data(11)
    est = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match=match):
        est.set_params(**{name: value}).fit(X, y, task_ids=t)
    np.testing.assert_array_equal(est.coef_, coef)


def test_set_params_then_refit():
    X, y, t, _ = data(12)
    A = GRAPHS["complete"][1][:T, :T] * (T + 1) / T
    est = MultiTaskGraphRegressor(alpha=1.0, l2=1.0).fit(X, y, task_ids=t)
    est.set_params(alpha=ALPHA, l2=L2 + 0.01).fit(X, y, task_ids=t)
    np.testing.assert_allclose(est.coef_, dense(X, y, t, T, A, ALPHA, L2 + 0.01)[0], rtol=1e-9)
    est.set_params(alpha=2.0, l2=0.5).fit(X, y, task_ids=t)
    np.testing.assert_allclose(est.coef_, dense(X, y, t, T, A, 2.0, 0.5)[0], rtol=1e-9)
    np.testing.assert_array_equal(clone(est.set_params(l2=L2)).l2, L2)


def test_grid_search_over_l2_arrays():
    X, y, t, _ = data(13, n_per_task=16)
    grid = [np.array([0.1, 10.0, 0.1, 10.0]), np.array([10.0, 0.1, 10.0, 0.1]), 1.0]
    est = MultiTaskGraphRegressor(alpha=ALPHA, task_column=0)
    Xt = np.column_stack([t, X])
    search = GridSearchCV(est, {"l2": grid}, cv=KFold(3, shuffle=True, random_state=0))
    search.fit(Xt, y)
    assert len(search.cv_results_["params"]) == 3
    best = search.best_params_["l2"]
    A = (np.ones((T, T)) - np.eye(T)) / T
    np.testing.assert_allclose(
        search.best_estimator_.coef_, dense(X, y, t, T, A, ALPHA, best)[0], rtol=1e-9
    )


def test_singular_per_feature_l2_zero():
    """l2_j = 0 on a feature constant within one task: singular when that feature is
    uncoupled (alpha_j = 0), determined by the coupling when alpha_j > 0."""
    X, y, t, _ = data(14)
    X = X.copy()
    X[t == 2, 1] = 3.0  # constant within task 2: no data on w_{2,1} after centring
    l2 = np.array([0.5, 0.0, 0.5, 0.5])
    for solver in ("cholesky", "pcg", "woodbury", "lbfgs"):
        with pytest.raises(SingularProblemError, match="singular"):
            MultiTaskGraphRegressor(alpha=[1.0, 0.0, 1.0, 1.0], l2=l2, solver=solver).fit(
                X, y, task_ids=t
            )
    A = (np.ones((T, T)) - np.eye(T)) / T
    est = MultiTaskGraphRegressor(alpha=[1.0, 0.3, 1.0, 1.0], l2=l2).fit(X, y, task_ids=t)
    W, _ = dense(X, y, t, T, A, [1.0, 0.3, 1.0, 1.0], l2)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-8, atol=1e-9)
    # a task without rows, l2_j = 0 and alpha_j = 0: nothing determines w_{5, j}
    with pytest.raises(SingularProblemError, match="no training rows"):
        MultiTaskGraphRegressor(alpha=[1.0, 0.0, 1.0, 1.0], l2=l2, tasks=TASKS).fit(
            X, y, task_ids=t
        )


def test_graph_built_from_data():
    """graph="knn": the graph is built first, then solved with the per-feature penalties."""
    X, y, t, sw = data(19, n_per_task=20)
    est = MultiTaskGraphRegressor("knn", alpha=ALPHA, l2=L2 + 0.01).fit(
        X, y, task_ids=t, sample_weight=sw
    )
    A = est.adjacency_.toarray() if sp.issparse(est.adjacency_) else est.adjacency_
    W, b = dense(X, y, t, T, A, ALPHA, L2 + 0.01, sw)
    np.testing.assert_allclose(est.coef_, W, rtol=1e-9, atol=1e-10)


def test_population_model_feature_by_feature():
    """unseen_tasks="population": w_j = alpha_j / (alpha_j + l2_j) * mean_t w_{t,j}, the
    minimiser of sum_j alpha_j / T sum_t (w_j - w_{t,j})^2 + l2_j w_j^2."""
    X, y, t, _ = data(17)
    est = MultiTaskGraphRegressor(alpha=ALPHA, l2=L2, unseen_tasks="population")
    est.fit(X, y, task_ids=t)
    w = np.where(ALPHA + L2 > 0, ALPHA / np.where(ALPHA + L2 > 0, ALPHA + L2, 1), 1.0)
    w = w * est.coef_.mean(axis=0)
    expected = X[:4] @ w + est.intercept_.mean()
    np.testing.assert_allclose(est.predict(X[:4], task_ids=["new"] * 4), expected, rtol=1e-12)


def test_separable_warning_per_feature():
    """Logistic, l2 = 0 on one feature only: separable along that feature alone warns;
    with l2 > 0 on it (and 0 elsewhere, where the rows do not separate) it does not."""
    rng = np.random.default_rng(18)
    t = np.repeat(np.arange(3), 20)
    X = rng.normal(size=(60, 2))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)  # separable by feature 0 alone
    X[:, 1] = rng.normal(size=60)
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        MultiTaskGraphClassifier(alpha=[0.0, 1.0], l2=[0.0, 1.0], max_iter=30).fit(X, y, task_ids=t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MultiTaskGraphClassifier(alpha=[0.0, 1.0], l2=[1.0, 0.0]).fit(X, y, task_ids=t)


@pytest.mark.parametrize("solver", ["auto", "cholesky", "pcg", "woodbury", "lbfgs"])
def test_singular_through_the_coupling(solver):
    """l2 = 0 on a feature fitted per task (alpha_1 = 0) and on a coupled one (alpha_2 > 0)
    with equal columns: w_{t,1} = -c, w_{t,2} = c for every t changes nothing (found by the
    Schur complement, whose digits all cancel); equal columns in one task only: the
    coupling determines it (against the dense solve)."""
    X, y, t, _ = data(3)
    alpha, l2 = [1.0, 0.0, 3.0, 1.0], [0.3, 0.0, 0.0, 1.0]
    same = X.copy()
    same[:, 2] = same[:, 1]
    with pytest.raises(SingularProblemError, match="on the linked tasks 0, 1, 2, 3, 4"):
        MultiTaskGraphRegressor(alpha=alpha, l2=l2, solver=solver).fit(same, y, task_ids=t)
    once = X.copy()
    once[t == 0, 2] = once[t == 0, 1]
    est = MultiTaskGraphRegressor(alpha=alpha, l2=l2, solver=solver, tol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # lbfgs: rounding at 1e-12
        est.fit(once, y, task_ids=t)
    W, _ = dense(once, y, t, T, (np.ones((T, T)) - np.eye(T)) / T, alpha, l2)
    np.testing.assert_allclose(est.coef_, W, rtol=rtol(solver), atol=rtol(solver))


def test_capability_table_routes_per_feature_alpha():
    """select_solver: "auto" passes over eigen for a per-feature alpha (to woodbury on the
    complete graph, cholesky on a small general one); an explicit eigen names the way out."""
    from mtreg.core import select_solver

    complete, chain = task_graph(n_tasks=4), task_graph(np.diag(np.ones(3), 1))
    assert select_solver(graph=complete, shared_X=True, n_features=3) == "eigen"
    assert select_solver(graph=complete, shared_X=True, n_features=3, per_feature=True) == (
        "woodbury"
    )
    assert select_solver(graph=chain, shared_X=True, n_features=3, per_feature=True) == ("cholesky")
    with pytest.raises(ValueError, match=r"solver='eigen' cannot take a per-feature alpha"):
        select_solver("eigen", graph=chain, shared_X=True, n_features=3, per_feature=True)
    for name in ("woodbury", "cholesky", "pcg", "newton", "lbfgs", "fista"):
        g = complete if name == "woodbury" else chain
        assert select_solver(name, graph=g, shared_X=True, n_features=3, per_feature=True) == name


def test_learned_graph_with_per_feature_l2():
    """graph="learn" takes a per-feature l2 (alpha stays a float): the alternation's
    objective, J with that l2, decreases."""
    X, y, t, _ = data(24, n_per_task=20)
    est = MultiTaskGraphRegressor("learn", alpha=1.0, l2=L2 + 0.1).fit(X, y, task_ids=t)
    path = np.asarray(est.objective_path_)
    assert np.all(np.diff(path) <= 1e-9 * abs(path[0]))
