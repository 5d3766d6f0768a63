"""The public functional API (mtreg.core), on its own, against the independent references."""

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import dense_solve, laplacian
from sklearn.linear_model import LogisticRegression

from mtreg.core import (
    Fit,
    gradient,
    graph_glm,
    graph_ridge,
    graph_ridge_path,
    objective,
    task_graph,
    task_stats,
)

CHAIN = np.array([[0.0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])


def _data(rng, n=80, d=3, T=4):
    X = rng.normal(size=(n, d))
    t = rng.integers(0, T, size=n)
    y = X @ rng.normal(size=d) + t + rng.normal(size=n)
    return X, y, t


@pytest.mark.parametrize("solver", ["auto", "cholesky", "pcg"])
def test_graph_ridge_equals_the_dense_solve(rng, solver):
    X, y, t = _data(rng)
    sw = rng.uniform(0.5, 2, size=len(y))
    graph = task_graph(CHAIN)
    fit = graph_ridge(task_stats(X, y, t, sample_weight=sw), graph, 2.0, 0.5, solver=solver)
    W, b = dense_solve(X, y, t, 4, CHAIN, 2.0, 0.5, sample_weight=sw)
    assert isinstance(fit, Fit) and fit.solver == ("cholesky" if solver == "auto" else solver)
    np.testing.assert_allclose(fit.coef, W, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(fit.intercept, b, rtol=1e-9, atol=1e-10)


def test_moments_merge_and_the_complete_graph(rng):
    X, y, t = _data(rng)
    half = len(y) // 2
    merged = task_stats(X[:half], y[:half], t[:half], n_tasks=4).merge(
        task_stats(X[half:], y[half:], t[half:], n_tasks=4)
    )
    coef, intercept, solver, n_iter = graph_ridge(merged, task_graph(n_tasks=4), 3.0, 1.0)
    W, b = dense_solve(X, y, t, 4, np.full((4, 4), 0.25), 3.0, 1.0)
    assert (solver, n_iter) == ("woodbury", None)
    np.testing.assert_allclose(coef, W, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(intercept, b, rtol=1e-9, atol=1e-10)


def test_path_equals_one_solve_per_alpha(rng):
    X, y, t = _data(rng)
    stats, alphas = task_stats(sp.csr_matrix(X), y, t), [0.0, 0.3, 3.0, 30.0]
    for graph, A in [(task_graph(CHAIN), CHAIN), (task_graph(n_tasks=4), np.full((4, 4), 0.25))]:
        coefs, intercepts = graph_ridge_path(stats, graph, alphas, l2=0.7)
        assert coefs.shape == (4, 4, 3) and intercepts.shape == (4, 4)
        for k, alpha in enumerate(alphas):
            W, b = dense_solve(X, y, t, 4, A, alpha, 0.7)
            np.testing.assert_allclose(coefs[k], W, rtol=1e-8, atol=1e-9)
            np.testing.assert_allclose(intercepts[k], b, rtol=1e-8, atol=1e-9)


def test_objective_and_gradient_by_finite_differences(rng):
    X, y, t = _data(rng, n=30)
    graph = task_graph(CHAIN)
    W, b = rng.normal(size=(4, 3)), rng.normal(size=4)
    kw = dict(alpha=1.5, l2=0.3, loss="logistic")
    labels = np.sign(y - y.mean())
    value = objective(W, b, X, labels, t, graph, **kw)
    L = laplacian(CHAIN)
    f = np.einsum("ij,ij->i", X, W[t]) + b[t]
    expected = (
        np.log1p(np.exp(-labels * f)).sum() + 1.5 * np.trace(W.T @ L @ W) + 0.3 * (W**2).sum()
    )
    assert value == pytest.approx(expected, rel=1e-12)
    gW, gb = gradient(W, b, X, labels, t, graph, **kw)
    h, E = 1e-6, np.zeros_like(W)
    E[2, 1] = h
    numeric = (objective(W + E, b, X, labels, t, graph, **kw) - value) / h
    assert gW[2, 1] == pytest.approx(numeric, rel=1e-4)
    assert gb.shape == (4,)


def test_graph_glm_without_coupling_is_logistic_regression_per_task(rng):
    X, y, t = _data(rng)
    labels = np.where(y > np.median(y), 1.0, -1.0)
    fit = graph_glm(X, labels, t, task_graph(CHAIN), alpha=0.0, l2=0.5, tol=1e-10)
    for task in range(4):
        rows = t == task
        ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(X[rows], labels[rows])
        np.testing.assert_allclose(fit.coef[task], ref.coef_[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(fit.intercept[task], ref.intercept_[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="use graph_ridge"):
        graph_glm(X, y, t, task_graph(CHAIN), loss="squared", solver="cholesky")


def test_shared_X_moments(rng):
    X = rng.normal(size=(40, 3))
    Y = X @ rng.normal(size=(3, 4)) + rng.normal(size=(40, 4))
    fit = graph_ridge(task_stats(X, Y), task_graph(CHAIN), alpha=2.0, l2=1.0)
    long_t = np.repeat(np.arange(4), 40)
    W, b = dense_solve(np.tile(X, (4, 1)), Y.T.ravel(), long_t, 4, CHAIN, 2.0, 1.0)
    assert fit.solver == "eigen"
    np.testing.assert_allclose(fit.coef, W, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(fit.intercept, b, rtol=1e-9, atol=1e-10)


def test_task_stats_name_shared_X(rng):
    """TaskStats.shared_X says whether every task is at the same X (shared: its alias)."""
    from mtreg.core import task_stats as stats_of

    X = rng.standard_normal((6, 2))
    multi = stats_of(X, rng.standard_normal((6, 3)))
    long = stats_of(X, rng.standard_normal(6), np.array([0, 0, 1, 1, 2, 2]), n_tasks=3)
    assert multi.shared_X and multi.shared and multi.gram.shape == (2, 2)
    assert not long.shared_X and not long.shared and long.gram.shape == (3, 2, 2)


def test_rows_name_their_fields():
    """Rows: a named (X, y, task_idx, sample_weight); shared_X when task_idx is None."""
    from mtreg._solvers._rows import long_format
    from mtreg._tasks import Rows

    X, Y, sw = np.arange(6.0).reshape(3, 2), np.arange(6.0).reshape(3, 2), np.ones(3)
    assert Rows(X, Y, None, sw).shared_X
    long = long_format(X, Y, sw)
    assert not long.shared_X and long.X.shape == (6, 2)
    np.testing.assert_array_equal(long.task_idx, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(long.y, [0.0, 2.0, 4.0, 1.0, 3.0, 5.0])
