"""Every solver against an independent dense solve of J (tests/_reference.py)."""

import functools

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import dense_solve, laplacian, make_long_data, objective_value
from sklearn.linear_model import Ridge

from mtreg import MultiTaskGraphRegressor
from mtreg._objective import gradient, objective

RTOL = 1e-8


def random_graph(rng, T, density=0.6):
    A = rng.uniform(0.2, 2.0, size=(T, T)) * (rng.random((T, T)) < density)
    return np.triu(A, 1) + np.triu(A, 1).T


def complete(T):
    return (np.ones((T, T)) - np.eye(T)) / T


def fit(X, y, task_idx, **params):
    return MultiTaskGraphRegressor(**params).fit(X, y, task_ids=task_idx)


def assert_matches_reference(est, X, y, task_idx, A, alpha, l2, **kw):
    W, b = dense_solve(X, y, task_idx, len(A), A, alpha, l2, **kw)
    np.testing.assert_allclose(est.coef_, W, rtol=RTOL, atol=RTOL * np.abs(W).max())
    known = ~np.isnan(b)
    np.testing.assert_allclose(
        est.intercept_[known], b[known], rtol=RTOL, atol=RTOL * max(np.abs(b[known]).max(), 1)
    )


@pytest.mark.parametrize("solver", ["cholesky", "pcg", "auto"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("graph_kind", ["dense", "sparse"])
def test_general_graph_solvers_match_dense_reference(
    rng, solver, fit_intercept, weighted, graph_kind
):
    X, y, task_idx = make_long_data(rng, n_tasks=5, d=3, feature_scale=3.0)
    A = random_graph(rng, 5)
    sw = rng.uniform(0, 3, size=len(y)) if weighted else None
    graph = sp.csr_matrix(A) if graph_kind == "sparse" else A
    est = MultiTaskGraphRegressor(
        graph, alpha=0.7, l2=0.3, fit_intercept=fit_intercept, solver=solver
    ).fit(X, y, task_ids=task_idx, sample_weight=sw)
    assert_matches_reference(
        est, X, y, task_idx, A, 0.7, 0.3, fit_intercept=fit_intercept, sample_weight=sw
    )
    assert est.solver_ == ("cholesky" if solver == "auto" else solver)


@pytest.mark.parametrize("solver", ["woodbury", "cholesky", "pcg"])
@pytest.mark.parametrize("graph", [None, "complete", "none"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_uniform_graphs_match_dense_reference(rng, solver, graph, fit_intercept):
    X, y, task_idx = make_long_data(rng, n_tasks=4, d=3, feature_scale=5.0)
    sw = rng.uniform(0, 2, size=len(y))
    A = np.zeros((4, 4)) if graph == "none" else complete(4)
    est = MultiTaskGraphRegressor(
        graph, alpha=2.0, l2=0.5, fit_intercept=fit_intercept, solver=solver
    ).fit(X, y, task_ids=task_idx, sample_weight=sw)
    assert_matches_reference(
        est, X, y, task_idx, A, 2.0, 0.5, fit_intercept=fit_intercept, sample_weight=sw
    )


def test_auto_picks_woodbury_for_default_graph(rng):
    X, y, task_idx = make_long_data(rng)
    assert fit(X, y, task_idx).solver_ == "woodbury"
    assert fit(X, y, task_idx, graph=complete(4)).solver_ == "woodbury"


@pytest.mark.parametrize("solver", ["auto", "cholesky", "pcg", "woodbury"])
def test_multi_output_equals_long_format(rng, solver):
    n, d, T = 30, 4, 5
    X = rng.normal(size=(n, d)) + 2
    Y = rng.normal(size=(n, T))
    sw = rng.uniform(0.5, 2, size=n)
    graph = None if solver == "woodbury" else random_graph(rng, T)
    est = MultiTaskGraphRegressor(graph, alpha=1.3, l2=0.2, solver=solver).fit(
        X, Y, sample_weight=sw
    )
    assert est.solver_ == ("eigen" if solver == "auto" else solver)
    A = complete(T) if graph is None else graph
    long = dense_solve(
        np.tile(X, (T, 1)),
        Y.T.ravel(),
        np.repeat(np.arange(T), n),
        T,
        A,
        1.3,
        0.2,
        sample_weight=np.tile(sw, T),
    )
    np.testing.assert_allclose(est.coef_, long[0], rtol=RTOL)
    np.testing.assert_allclose(est.intercept_, long[1], rtol=RTOL, atol=1e-10)
    np.testing.assert_allclose(est.predict(X), X @ long[0].T + long[1], rtol=1e-8)
    np.testing.assert_allclose(
        est.predict(X[:3], task_ids=[0, 4, 2]),
        [
            X[0] @ long[0][0] + long[1][0],
            X[1] @ long[0][4] + long[1][4],
            X[2] @ long[0][2] + long[1][2],
        ],
        rtol=1e-8,
    )


def test_normalized_laplacian(rng):
    X, y, task_idx = make_long_data(rng, n_tasks=5)
    A = random_graph(rng, 5)
    A[0] = A[:, 0] = 0  # an isolated task: its row of the normalised Laplacian is zero
    for solver in ["cholesky", "pcg"]:
        est = fit(X, y, task_idx, graph=A, alpha=3.0, l2=0.1, laplacian="normalized", solver=solver)
        assert_matches_reference(est, X, y, task_idx, A, 3.0, 0.1, normalized=True)
    est = fit(X, y, task_idx, alpha=3.0, l2=0.1, laplacian="normalized")
    assert est.solver_ == "woodbury"
    assert_matches_reference(est, X, y, task_idx, complete(5), 3.0, 0.1, normalized=True)


@pytest.mark.parametrize("solver", ["woodbury", "cholesky", "pcg"])
def test_alpha_zero_is_per_task_ridge(rng, solver):
    X, y, task_idx = make_long_data(rng, n_tasks=3, n_per_task=15, feature_scale=4.0)
    sw = rng.uniform(0.1, 3, size=len(y))
    est = fit(
        X,
        y,
        task_idx,
        alpha=0.0,
        l2=2.5,
        solver=solver,
        graph=complete(3) if solver != "woodbury" else None,
    )
    est_w = MultiTaskGraphRegressor(alpha=0.0, l2=2.5, solver=solver).fit(
        X, y, task_ids=task_idx, sample_weight=sw
    )
    for t in range(3):
        rows = task_idx == t
        ridge = Ridge(alpha=2.5).fit(X[rows], y[rows])
        np.testing.assert_allclose(est.coef_[t], ridge.coef_, rtol=1e-9)
        np.testing.assert_allclose(est.intercept_[t], ridge.intercept_, rtol=1e-9)
        ridge_w = Ridge(alpha=2.5).fit(X[rows], y[rows], sample_weight=sw[rows])
        np.testing.assert_allclose(est_w.coef_[t], ridge_w.coef_, rtol=1e-9)
        np.testing.assert_allclose(est_w.intercept_[t], ridge_w.intercept_, rtol=1e-9)


@pytest.mark.parametrize("graph", [None, "chain"])
def test_large_alpha_shares_one_w_with_task_intercepts(rng, graph):
    T, d, l2 = 4, 3, 0.5
    X, y, task_idx = make_long_data(rng, n_tasks=T, d=d)
    A = np.diag(np.ones(T - 1), 1) + np.diag(np.ones(T - 1), -1) if graph == "chain" else None
    est = fit(X, y, task_idx, graph=A, alpha=1e9, l2=l2)
    # reference: one w, per-task intercepts, penalty sum_t l2 ||w||^2 = T l2 ||w||^2
    Xc = X - np.array([X[task_idx == t].mean(0) for t in range(T)])[task_idx]
    yc = y - np.array([y[task_idx == t].mean() for t in range(T)])[task_idx]
    w = np.linalg.solve(Xc.T @ Xc + T * l2 * np.eye(d), Xc.T @ yc)
    np.testing.assert_allclose(est.coef_, np.tile(w, (T, 1)), rtol=1e-6)
    b = [y[task_idx == t].mean() - X[task_idx == t].mean(0) @ w for t in range(T)]
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-6)


def test_permuting_task_labels_permutes_coef(rng):
    T = 5
    X, y, task_idx = make_long_data(rng, n_tasks=T)
    A = random_graph(rng, T)
    labels = np.array(["e", "c", "a", "d", "b"])  # label of task k
    est = fit(X, y, labels[task_idx], graph=A[np.ix_(np.argsort(labels), np.argsort(labels))])
    ref = fit(X, y, task_idx, graph=A)
    # est.tasks_ is sorted: row j of est is the task labelled sorted(labels)[j]
    order = np.argsort(labels)
    np.testing.assert_array_equal(est.tasks_, labels[order])
    np.testing.assert_allclose(est.coef_, ref.coef_[order], rtol=1e-10)
    np.testing.assert_allclose(est.intercept_, ref.intercept_[order], rtol=1e-10)


def test_tasks_without_rows_get_coupled_coefficients_and_harmonic_intercepts(rng):
    # chain a - u1 - u2 - b, u1 and u2 have no rows
    X, y, task_idx = make_long_data(rng, n_tasks=2)
    labels = np.array(["a", "b"])[task_idx]
    graph = [("a", "u1"), ("u1", "u2"), ("u2", "b")]
    est = MultiTaskGraphRegressor(graph, alpha=2.0, l2=0.5).fit(X, y, task_ids=labels)
    np.testing.assert_array_equal(est.tasks_, ["a", "b", "u1", "u2"])
    A = np.zeros((4, 4))
    for u, v in [(0, 2), (2, 3), (3, 1)]:
        A[u, v] = A[v, u] = 1
    assert_matches_reference(est, X, y, task_idx, A, 2.0, 0.5)
    b_a, b_b, b_u1, b_u2 = est.intercept_
    np.testing.assert_allclose([b_u1, b_u2], [(2 * b_a + b_b) / 3, (b_a + 2 * b_b) / 3])
    # an isolated task without rows: w = 0 (l2 > 0), intercept = mean of the known ones
    est = MultiTaskGraphRegressor(graph + [("z", "z")], alpha=2.0, l2=0.5).fit(
        X, y, task_ids=labels
    )
    z = list(est.tasks_).index("z")
    np.testing.assert_allclose(est.coef_[z], 0)
    np.testing.assert_allclose(est.intercept_[z], est.intercept_[:2].mean())
    np.testing.assert_allclose(est.predict(X[:1], task_ids=["z"]), est.intercept_[z])


def test_tasks_param_without_rows_on_complete_graph(rng):
    X, y, task_idx = make_long_data(rng, n_tasks=3)
    est = MultiTaskGraphRegressor(tasks=[0, 1, 2, 3], alpha=1.0).fit(X, y, task_ids=task_idx)
    assert est.solver_ == "woodbury"
    assert_matches_reference(est, X, y, task_idx, complete(4), 1.0, 1.0)
    np.testing.assert_allclose(est.intercept_[3], est.intercept_[:3].mean())
    # w of the task without rows: alpha * sum_s A_st w_s / (alpha * deg + l2)
    np.testing.assert_allclose(est.coef_[3], 0.25 * est.coef_[:3].sum(0) / (0.75 + 1.0))


def test_sparse_and_float32_X_give_the_same_fit(rng):
    X, y, task_idx = make_long_data(rng, n_tasks=4, d=5)
    X[rng.random(X.shape) < 0.5] = 0
    A = random_graph(rng, 4)
    dense = fit(X, y, task_idx, graph=A)
    for Xs in [sp.csr_matrix(X), sp.csc_matrix(X), sp.coo_matrix(X)]:
        est = fit(Xs, y, task_idx, graph=A)
        np.testing.assert_allclose(est.coef_, dense.coef_, rtol=1e-9)
        np.testing.assert_allclose(est.intercept_, dense.intercept_, rtol=1e-9)
        np.testing.assert_allclose(
            est.predict(Xs, task_ids=task_idx), dense.predict(X, task_ids=task_idx), rtol=1e-9
        )
    X32 = X.astype(np.float32)
    est = fit(X32, y, task_idx, graph=A)
    ref = fit(X32.astype(np.float64), y, task_idx, graph=A)
    assert est.coef_.dtype == np.float32  # solved in float64, returned as X's dtype
    np.testing.assert_array_equal(est.coef_, ref.coef_.astype(np.float32))
    # multi-output with sparse X
    Y = rng.normal(size=(len(y), 3))
    np.testing.assert_allclose(
        MultiTaskGraphRegressor().fit(sp.csr_matrix(X), Y).coef_,
        MultiTaskGraphRegressor().fit(X, Y).coef_,
        rtol=1e-9,
    )


def test_solution_satisfies_optimality_and_beats_perturbations(rng):
    X, y, task_idx = make_long_data(rng, n_tasks=4, feature_scale=10.0)
    A = random_graph(rng, 4)
    est = fit(X, y, task_idx, graph=A, alpha=0.9, l2=0.4)
    L = laplacian(A)
    gW, gb = gradient(est.coef_, est.intercept_, X, y, task_idx, L, alpha=0.9, l2=0.4)
    scale = np.abs(X).max() * np.abs(y).max() * len(y)
    assert np.abs(gW).max() < 1e-9 * scale and np.abs(gb).max() < 1e-9 * scale
    J = objective(est.coef_, est.intercept_, X, y, task_idx, L, alpha=0.9, l2=0.4)
    np.testing.assert_allclose(
        J, objective_value(est.coef_, est.intercept_, X, y, task_idx, A, 0.9, 0.4), rtol=1e-12
    )
    for _ in range(5):
        dW = 1e-3 * rng.normal(size=est.coef_.shape)
        assert objective(est.coef_ + dW, est.intercept_, X, y, task_idx, L, alpha=0.9, l2=0.4) > J


def test_pcg_warns_when_stopped_early(rng):
    from sklearn.exceptions import ConvergenceWarning

    X, y, task_idx = make_long_data(rng, n_tasks=5, feature_scale=10.0)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        est = fit(X, y, task_idx, graph=random_graph(rng, 5), solver="pcg", max_iter=1)
    assert est.n_iter_ == 1


def test_pcg_warm_start_starts_from_the_previous_solution(rng):
    X, y, task_idx = make_long_data(rng, n_tasks=5, feature_scale=10.0)
    est = MultiTaskGraphRegressor(random_graph(rng, 5), alpha=3.0, solver="pcg", tol=1e-8)
    cold = est.fit(X, y, task_ids=task_idx).n_iter_
    coef = est.coef_.copy()
    est.set_params(warm_start=True).fit(X, y, task_ids=task_idx)
    assert cold > 0 and est.n_iter_ == 0  # it starts at the solution
    np.testing.assert_array_equal(est.coef_, coef)
    est.set_params(alpha=3.01).fit(X, y, task_ids=task_idx)  # near it
    assert 0 < est.n_iter_ < cold


def test_auto_picks_cholesky_for_small_and_pcg_for_large_systems(rng):
    X, y, task_idx = make_long_data(rng, n_tasks=5)
    assert fit(X, y, task_idx, graph=random_graph(rng, 5)).solver_ == "cholesky"
    X = np.hstack([X] * 40)  # T d = 5 * 4 * 40 = 800 > DENSE_LIMIT
    assert fit(X, y, task_idx, graph=random_graph(rng, 5)).solver_ == "pcg"


def test_one_table_picks_the_kernel_and_path_solvers():
    """select_solver makes the kernel ridge's and make_path's choices from the table."""
    from mtreg._graph import TaskGraph
    from mtreg._solvers._select import PATH_DENSE_LIMIT, select_solver

    tasks = np.arange(4)
    uniform = TaskGraph(tasks, uniform_weight=0.5)
    chain = TaskGraph(tasks, np.diag(np.ones(3), 1) + np.diag(np.ones(3), -1))
    kernel = functools.partial(select_solver, family="kernel")
    assert kernel(shared_X=True) == "eigen"
    assert kernel(shared_X=False, has_inputs=False) == "cholesky"
    assert kernel("nystroem", shared_X=False) == "nystroem"
    with pytest.raises(ValueError, match="'nystroem' needs the inputs X, not kernel='precomp"):
        kernel("nystroem", shared_X=True, has_inputs=False)
    with pytest.raises(ValueError, match="'eigen' needs multi-output y .* solver='cholesky'"):
        kernel("eigen", shared_X=False)
    path = functools.partial(select_solver, family="path", n_features=3)
    assert path(graph=uniform, shared_X=True) == "shared_X"
    assert path(graph=uniform, shared_X=False, loo=True) == "uniform"
    assert path(graph=chain, shared_X=False, loo=True) == "dense"
    wide = PATH_DENSE_LIMIT // 4 + 1  # T d just over the limit
    assert path(graph=chain, shared_X=False, n_features=wide) == "pcg"
    with pytest.raises(ValueError, match=f"T \\* d <= {PATH_DENSE_LIMIT} .* T \\* d = {4 * wide}"):
        path(graph=chain, shared_X=False, n_features=wide, loo=True)


@pytest.mark.parametrize("d", [3, 9])
def test_stacked_inverses_and_solves_on_both_sides_of_the_lapack_switch(monkeypatch, d):
    # the numba stacked solves below LAPACK_SOLVE_FEATURES, LAPACK block by block above
    # (potri fills one triangle: the mirrored one must be its transpose)
    from mtreg._solvers import _direct

    rng = np.random.default_rng(d)
    A = rng.normal(size=(4, d, d))
    M = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(d)
    B = rng.normal(size=(4, d, 2))
    factor = np.linalg.cholesky(M)
    for limit in (128, 4):
        monkeypatch.setattr(_direct, "LAPACK_SOLVE_FEATURES", limit)
        np.testing.assert_allclose(
            _direct.stacked_cho_inverse(factor), np.linalg.inv(M), rtol=1e-9, atol=1e-12
        )
        np.testing.assert_allclose(
            _direct.stacked_cho_solve(factor, B), np.linalg.solve(M, B), rtol=1e-9
        )
