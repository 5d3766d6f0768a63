"""What a user would do without mtreg, for bench_speed.py: one synthetic problem, and the
same objective J (DESIGN.md section 1, squared loss) minimised by other tools.

Every contender returns (W, b) (or predictions, for kernel ridge) so that its answer can be
judged by the one definition of J in ``mtreg._objective``.
"""

import time

import numpy as np
import scipy.sparse as sp
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge

from benchmarks import _util as U
from mtreg import MultiTaskGraphRegressor, multitask_kernel
from mtreg._objective import gradient, objective
from mtreg.datasets import make_multitask_regression

ALPHA, L2 = 1.0, 1.0

try:
    import cvxpy as cp
except ImportError:  # optional (extra "bench")
    cp = None


class Problem:
    """Synthetic rows, the planted task graph, and J of any (W, b) on them."""

    def __init__(
        self,
        n_tasks,
        n_samples,
        n_features,
        structure="knn",
        n_neighbors=5,
        feature_scale=None,
        seed=0,
    ):
        X, y, t, graph = make_multitask_regression(
            n_tasks,
            n_samples,
            n_features,
            structure=structure,
            n_neighbors=n_neighbors,
            feature_scale=feature_scale,
            random_state=seed,
        )
        self.X, self.y, self.t = X, y, t
        self.adjacency = sp.csr_matrix(graph)
        self.adjacency.eliminate_zeros()
        self.structure = structure
        A = self.adjacency
        self.laplacian = (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()
        self.T, self.d = n_tasks, n_features
        self.n = len(y)

    @property
    def graph(self):
        """What mtreg is given: None (its default) for the complete graph."""
        return None if self.structure == "complete" else self.adjacency

    def label(self):
        kind = (
            "complete graph (default)"
            if self.structure == "complete"
            else (f"{self.structure} graph, {self.adjacency.nnz // 2:,} edges")
        )
        return f"T={self.T:,}, n={self.n:,}, d={self.d}, {kind}"

    def J(self, W, b):
        return objective(W, b, self.X, self.y, self.t, self.laplacian, alpha=ALPHA, l2=L2)

    def gap(self, W, b, J_star):
        return (self.J(W, b) - J_star) / abs(J_star)


# --- mtreg -----------------------------------------------------------------------------


def mtreg_fit(problem, **params):
    est = MultiTaskGraphRegressor(problem.graph, alpha=ALPHA, l2=L2, **params)
    return est.fit(problem.X, problem.y, task_ids=problem.t)


# --- T separate sklearn models ---------------------------------------------------------


def ridge_loop(problem):
    """One sklearn Ridge(alpha=l2) per task: mtreg with graph='none', alpha=0."""
    X, y, t = problem.X, problem.y, problem.t
    order = np.argsort(t, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(t, minlength=problem.T))])
    W, b = np.zeros((problem.T, problem.d)), np.zeros(problem.T)
    for k, (s, e) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        rows = order[s:e]
        model = Ridge(alpha=L2).fit(X[rows], y[rows])
        W[k], b[k] = model.coef_, model.intercept_
    return W, b


# --- scipy L-BFGS-B on J -----------------------------------------------------------------


def lbfgs(problem, J_star, rel_tol, budget):
    """L-BFGS-B on J from zero until (J - J*) / J* <= rel_tol or ``budget`` seconds pass.

    Returns dict(time=seconds to reach rel_tol or None, elapsed, gap, trace, W, b).
    """
    T, d = problem.T, problem.d
    X, y, t, L = problem.X, problem.y, problem.t, problem.laplacian

    def fun(theta):
        W, b = theta[: T * d].reshape(T, d), theta[T * d :]
        gW, gb = gradient(W, b, X, y, t, L, alpha=ALPHA, l2=L2)
        J = objective(W, b, X, y, t, L, alpha=ALPHA, l2=L2)
        return J, np.concatenate([gW.ravel(), gb])

    start = time.perf_counter()
    res, trace = U.scipy_lbfgs(
        fun, T * (d + 1), lambda J: (J - J_star) / abs(J_star), rel_tol, budget
    )
    reached = next((s for s, gap in trace if gap <= rel_tol), None)
    W, b = res.x[: T * d].reshape(T, d), res.x[T * d :]
    return dict(
        time=reached,
        elapsed=time.perf_counter() - start,
        gap=problem.gap(W, b, J_star),
        trace=trace,
        W=W,
        b=b,
        n_iter=res.nit,
    )


# --- cvxpy on J --------------------------------------------------------------------------


def cvxpy_available():
    return cp is not None


def cvxpy_solve(problem):
    """J written for cvxpy the vectorised way (sparse block design matrix, weighted
    incidence matrix of the graph), solved by cvxpy's default solver for the problem.

    Returns dict(W, b, seconds (build + solve), solve_time (the solver's own), solver).
    """
    start = time.perf_counter()
    X, y, t, T, d = problem.X, problem.y, problem.t, problem.T, problem.d
    n = len(y)
    cols = (t[:, None] * d + np.arange(d)[None, :]).ravel()
    design = sp.csr_matrix((X.ravel(), (np.repeat(np.arange(n), d), cols)), shape=(n, T * d))
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), t)), shape=(n, T))
    # sum_{s<t} A_st ||w_s - w_t||^2 = ||B W||_F^2, B the weighted incidence matrix
    A = sp.triu(problem.adjacency, k=1).tocoo()
    m = A.nnz
    w = np.sqrt(A.data)
    B = sp.csr_matrix(
        (np.concatenate([w, -w]), (np.tile(np.arange(m), 2), np.concatenate([A.row, A.col]))),
        shape=(m, T),
    )
    coupling = sp.kron(B, sp.identity(d), format="csr")
    wv, b = cp.Variable(T * d), cp.Variable(T)
    J = (
        cp.sum_squares(design @ wv + onehot @ b - y)
        + ALPHA * cp.sum_squares(coupling @ wv)
        + L2 * cp.sum_squares(wv)
    )
    prob = cp.Problem(cp.Minimize(J))
    prob.solve()
    W = np.asarray(wv.value).reshape(T, d)
    return dict(
        W=W,
        b=np.asarray(b.value),
        seconds=time.perf_counter() - start,
        solve_time=prob.solver_stats.solve_time,
        solver=prob.solver_stats.solver_name,
        status=prob.status,
    )


# --- sklearn KernelRidge on the multi-task Gram matrix -----------------------------------


def kernel_ridge(problem):
    """KernelRidge(alpha=1, kernel="precomputed") on K = (x . z) inv(alpha L + l2 I)[s, t]:
    J without intercepts. Returns the fitted predictions at the training rows."""
    K = multitask_kernel(
        problem.X, problem.t, graph=problem.graph, alpha=ALPHA, l2=L2, kernel="linear"
    )
    model = KernelRidge(alpha=1.0, kernel="precomputed").fit(K, problem.y)
    return model.predict(K)


def gram_bytes(problem):
    """Memory of one n x n float64 Gram matrix (KernelRidge holds about two)."""
    return 8 * problem.n**2
