"""The contenders: what a user would do without mtreg, one function each.

Each takes a :class:`benchmarks.objective.Problem` and returns an answer that the one
objective can judge: (W, b), an estimator, or predictions (kernel ridge).
"""

import time

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, LeaveOneOut

from mtreg import MultiTaskGraphRegressor, multitask_kernel

from .objective import ALPHA, L2

try:
    import cvxpy as cp
except ImportError:  # optional (extra "bench")
    cp = None

KRR_MAX_N = 6000  # beyond, KernelRidge's n x n Gram matrices take > 0.5 GB each


def task_slices(t, n_tasks):
    """(order, bounds): the rows sorted by task, and each task's slice of them."""
    order = np.argsort(t, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(t, minlength=n_tasks))])
    return order, list(zip(bounds[:-1], bounds[1:], strict=True))


def numpy_grams(p):
    """The data pass of any exact method: sort the rows by task, X_t^T X_t per task."""
    order, slices = task_slices(p.t, p.T)
    Xs = p.X[order]
    return [Xs[s:e].T @ Xs[s:e] for s, e in slices]


def ridge_loop(p):
    """One sklearn Ridge(alpha=l2) per task, on its rows (the sort timed too): the
    independent models of mtreg with graph='none', alpha=0."""
    order, slices = task_slices(p.t, p.T)
    W, b = np.zeros((p.T, p.d)), np.zeros(p.T)
    for k, (s, e) in enumerate(slices):
        rows = order[s:e]
        model = Ridge(alpha=L2).fit(p.X[rows], p.y[rows])
        W[k], b[k] = model.coef_, model.intercept_
    return W, b


def cvxpy_solve(p):
    """J for cvxpy, vectorised (sparse block design, weighted incidence matrix B of the
    graph: alpha ||(B kron I) vec W||^2), by cvxpy's default solver; build + solve timed."""
    start = time.perf_counter()
    X, y, t, T, d, n = p.X, p.y, p.t, p.T, p.d, p.n
    cols = (t[:, None] * d + np.arange(d)[None, :]).ravel()
    design = sp.csr_matrix((X.ravel(), (np.repeat(np.arange(n), d), cols)), shape=(n, T * d))
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), t)), shape=(n, T))
    A = sp.triu(p.adjacency, k=1).tocoo()
    w, m = np.sqrt(A.data), A.nnz
    B = sp.csr_matrix(
        (np.concatenate([w, -w]), (np.tile(np.arange(m), 2), np.concatenate([A.row, A.col]))),
        shape=(m, T),
    )
    wv, b = cp.Variable(T * d), cp.Variable(T)
    J = (
        cp.sum_squares(design @ wv + onehot @ b - y)
        + ALPHA * cp.sum_squares(sp.kron(B, sp.identity(d), format="csr") @ wv)
        + L2 * cp.sum_squares(wv)
    )
    prob = cp.Problem(cp.Minimize(J))
    prob.solve()
    return dict(
        W=np.asarray(wv.value).reshape(T, d),
        b=np.asarray(b.value),
        seconds=time.perf_counter() - start,
        solve_time=prob.solver_stats.solve_time,
        solver=prob.solver_stats.solver_name,
        status=prob.status,
    )


def kernel_ridge(p):
    """KernelRidge(alpha=1, kernel="precomputed") on K = (x . z) inv(alpha L + l2 I)[s, t]
    (J without intercepts); returns the fitted values at the training rows."""
    K = multitask_kernel(p.X, p.t, graph=p.estimator_graph, alpha=ALPHA, l2=L2, kernel="linear")
    return KernelRidge(alpha=1.0, kernel="precomputed").fit(K, p.y).predict(K)


def grid_search_routed(grid, cv):
    """GridSearchCV over alpha with task_ids routed as metadata (needs routing enabled)."""
    est = MultiTaskGraphRegressor().set_fit_request(task_ids=True).set_score_request(task_ids=True)
    return GridSearchCV(est, {"alpha": grid}, cv=cv)


def grid_search_column(grid, cv, scoring=None):
    """GridSearchCV over alpha with the task labels in column 0 of X."""
    est = MultiTaskGraphRegressor(task_column=0)
    return GridSearchCV(est, {"alpha": grid}, cv=cv, scoring=scoring)


def grid_search_loo(grid):
    return grid_search_column(grid, LeaveOneOut(), scoring="neg_mean_squared_error")


def with_task_column(p):
    return np.column_stack([p.t.astype(float), p.X])


def routing():
    return sklearn.config_context(enable_metadata_routing=True)
