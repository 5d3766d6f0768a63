"""Solvers for J with any loss and the optional l1 term, on long-format data.

"lbfgs" (scipy's L-BFGS-B on (W, b), one numba pass per evaluation), "newton" (damped
Newton: each step is one exact graph-ridge solve on reweighted data, i.e. IRLS) and
"fista" (accelerated proximal gradient with backtracking and adaptive restart, for
l1 > 0). All stop when the optimality residual falls below ``tol`` times its value at
W = 0, b = 0: the gradient norm for the smooth problems, the norm of the proximal
gradient mapping with l1.
"""

import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from .. import _jit
from .._objective import smooth_penalty
from .._tasks import task_stats

LOSS_CODES = {"squared": _jit.SQUARED, "logistic": _jit.LOGISTIC,
              "squared_hinge": _jit.SQUARED_HINGE}
DEFAULT_MAX_ITER = {"lbfgs": 1000, "newton": 100, "fista": 10000}


class GLMProblem:
    """J(W, b) of DESIGN.md section 1 on the rows (X, y, task_idx, sample_weight).

    ``y`` is real for the squared loss and in {-1, +1} for the classification losses.
    """

    def __init__(self, X, y, task_idx, sample_weight, graph, *, loss, alpha, l2, l1=0.0,
                 fit_intercept=True):
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=np.float64)
            X.indices = X.indices.astype(np.int64)
            X.indptr = X.indptr.astype(np.int64)
        else:
            X = np.ascontiguousarray(X, dtype=np.float64)
        self.X, self.y = X, np.ascontiguousarray(y, dtype=np.float64)
        self.task_idx = np.ascontiguousarray(task_idx, dtype=np.int64)
        self.sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
        self.graph, self.loss, self.code = graph, loss, LOSS_CODES[loss]
        self.alpha, self.l2, self.l1 = float(alpha), float(l2), float(l1)
        self.fit_intercept = fit_intercept
        self.shape = (graph.n_tasks, X.shape[1])

    def data_term(self, W, b):
        """(sum_i s_i loss_i, dW, db) from the numba kernel."""
        if sp.issparse(self.X):
            X = self.X
            return _jit.loss_gradient_csr(X.data, X.indices, X.indptr, self.y, self.task_idx,
                                          self.sample_weight, W, b, self.code)
        return _jit.loss_gradient(self.X, self.y, self.task_idx, self.sample_weight, W, b,
                                  self.code)

    def smooth(self, W, b):
        """The smooth part of J (all but l1) and its gradient (dW, db)."""
        value, gW, gb = self.data_term(W, b)
        penalty, gP = smooth_penalty(W, self.graph, alpha=self.alpha, l2=self.l2)
        if not self.fit_intercept:
            gb[:] = 0.0
        return value + penalty, gW + gP, gb

    def value(self, W, b):
        return self.smooth(W, b)[0] + self.l1 * np.abs(W).sum()

    def decision(self, W, b):
        if sp.issparse(self.X):
            X = self.X
            return _jit.predict_rows_csr(X.data, X.indices, X.indptr, self.task_idx, W, b)
        return _jit.predict_rows(self.X, self.task_idx, W, b)

    def residual_scale(self):
        """Optimality residual at W = 0, b = 0: the yardstick of ``tol``."""
        T, d = self.shape
        _, gW, gb = self.smooth(np.zeros((T, d)), np.zeros(T))
        return _mapping_norm(np.zeros((T, d)), gW, gb, self.l1) or 1.0


def _mapping_norm(W, gW, gb, l1):
    """Norm of the optimality residual: the gradient, or its l1 subgradient projection."""
    if l1 > 0:
        # distance of -gW to the subdifferential of l1 ||W||_1
        gW = np.where(W != 0, gW + l1 * np.sign(W), np.maximum(np.abs(gW) - l1, 0.0))
    return float(np.sqrt(np.vdot(gW, gW) + np.vdot(gb, gb)))


def _warn(solver, tol, residual, n_iter, max_iter, reason=None):
    why = f"after max_iter={max_iter} iterations" if reason is None else (
        f"after {n_iter} iterations ({reason})")
    warnings.warn(
        f"{solver} did not converge: relative optimality residual {residual:.2e} > "
        f"tol={tol} {why}. Increase max_iter, or tol.",
        ConvergenceWarning,
        stacklevel=5,
    )


def solve_lbfgs(problem, W0, b0, *, tol, max_iter, verbose=0):
    T, d = problem.shape
    scale = problem.residual_scale()
    state = {"residual": np.inf, "n_iter": 0}

    def fun(theta):
        W, b = theta[: T * d].reshape(T, d), theta[T * d:]
        value, gW, gb = problem.smooth(W, b)
        state["last"] = _mapping_norm(W, gW, gb, 0.0) / scale
        return value, np.concatenate([gW.ravel(), gb])

    def callback(intermediate_result):
        state["n_iter"] += 1
        state["residual"] = state["last"]
        if verbose:
            print(f"lbfgs iter {state['n_iter']}: J={intermediate_result.fun:.10g} "
                  f"residual={state['residual']:.2e}")
        if state["residual"] <= tol:
            raise StopIteration

    theta0 = np.concatenate([W0.ravel(), b0])
    fun(theta0)
    if state["last"] <= tol:
        return W0, b0, 0
    result = scipy.optimize.minimize(
        fun, theta0, jac=True, method="L-BFGS-B", callback=callback,
        options={"maxiter": max_iter, "ftol": 0.0, "gtol": 0.0, "maxcor": 20},
    )
    W, b = result.x[: T * d].reshape(T, d), result.x[T * d:]
    fun(result.x)
    if state["last"] > tol:
        stopped = None if state["n_iter"] >= max_iter else f"L-BFGS-B: {result.message}"
        _warn("lbfgs", tol, state["last"], state["n_iter"], max_iter, stopped)
    return W, b, state["n_iter"]


def _second_derivative(loss, y, f):
    if loss == "squared":
        return np.full_like(f, 2.0), 2.0 * (f - y)
    if loss == "logistic":
        p = 0.5 * (1.0 + np.tanh(0.5 * y * f))  # sigmoid(y f), without overflow
        # floor: far from the boundary p (1 - p) underflows while the slope does not
        return np.maximum(p * (1.0 - p), 1e-10), -y * (1.0 - p)
    gap = np.maximum(1.0 - y * f, 0.0)
    return 2.0 * (gap > 0), -2.0 * y * gap


def solve_newton(problem, W0, b0, *, tol, max_iter, verbose=0, inner_solver="auto"):
    """Damped Newton. The quadratic model of J at (W, b) is the graph-ridge objective with
    row weights s_i loss''_i / 2 and working targets f_i - loss'_i / loss''_i, so each step
    is one exact solve by the squared-loss solvers, then a backtracking line search on J.
    """
    from . import solve_graph_ridge  # the exact solvers

    T, d = problem.shape
    scale = problem.residual_scale()
    W, b = W0.copy(), b0.copy()
    J, gW, gb = problem.smooth(W, b)
    residual = _mapping_norm(W, gW, gb, 0.0) / scale
    for n_iter in range(1, max_iter + 1):
        if residual <= tol:
            return W, b, n_iter - 1
        f = problem.decision(W, b)
        h, g = _second_derivative(problem.loss, problem.y, f)
        weights = problem.sample_weight * h / 2.0
        target = f - np.divide(g, h, out=np.zeros_like(g), where=h > 0)
        stats = task_stats(problem.X, target, problem.task_idx, weights, T,
                           problem.fit_intercept)
        W_new, b_new, _, _ = solve_graph_ridge(stats, problem.graph, alpha=problem.alpha,
                                               l2=problem.l2, solver=inner_solver)
        dW, db = W_new - W, (b_new - b) if problem.fit_intercept else np.zeros(T)
        slope = np.vdot(gW, dW) + np.vdot(gb, db)
        step = 1.0
        while True:
            J_new, gW_new, gb_new = problem.smooth(W + step * dW, b + step * db)
            if J_new <= J + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        if not J_new < J:  # no decrease left to find: rounding, not the model, stops us
            _warn("newton", tol, residual, n_iter, max_iter,
                  "the line search found no decrease: tol is below what rounding allows")
            return W, b, n_iter
        W, b = W + step * dW, b + step * db
        J, gW, gb = J_new, gW_new, gb_new
        residual = _mapping_norm(W, gW, gb, 0.0) / scale
        if verbose:
            print(f"newton iter {n_iter}: J={J:.10g} step={step:g} residual={residual:.2e}")
    if residual > tol:
        _warn("newton", tol, residual, max_iter, max_iter)
    return W, b, max_iter


def solve_fista(problem, W0, b0, *, tol, max_iter, verbose=0):
    """Accelerated proximal gradient (Beck & Teboulle 2009) on (W, b), l1 on W only,
    with backtracking on the step and adaptive restart (O'Donoghue & Candes 2015)."""
    scale = problem.residual_scale()
    l1 = problem.l1
    W, b = W0.copy(), b0.copy()
    YW, Yb = W.copy(), b.copy()
    t, lipschitz = 1.0, _lipschitz_guess(problem)
    J = problem.value(W, b)
    residual = np.inf
    for n_iter in range(1, max_iter + 1):
        _, gW, gb = problem.smooth(YW, Yb)
        while True:
            W_new = _soft_threshold(YW - gW / lipschitz, l1 / lipschitz)
            b_new = Yb - gb / lipschitz
            dW, db = W_new - YW, b_new - Yb
            f_new, gW_new, gb_new = problem.smooth(W_new, b_new)
            # the step is safe when the gradient changes by at most L times the move; a test
            # on gradients, unlike one on values of J, does not drown in rounding near the end
            change = np.sqrt(np.vdot(gW_new - gW, gW_new - gW) + np.vdot(gb_new - gb, gb_new - gb))
            if change <= lipschitz * np.sqrt(np.vdot(dW, dW) + np.vdot(db, db)):
                break
            lipschitz *= 2.0
        residual = lipschitz * float(np.sqrt(np.vdot(dW, dW) + np.vdot(db, db))) / scale
        J_new = f_new + l1 * np.abs(W_new).sum()
        if J_new > J:  # restart the momentum
            t = 1.0
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        momentum = (t - 1.0) / t_next
        YW = W_new + momentum * (W_new - W)
        Yb = b_new + momentum * (b_new - b)
        W, b, J, t = W_new, b_new, J_new, t_next
        if verbose:
            print(f"fista iter {n_iter}: J={J:.10g} residual={residual:.2e}")
        if residual <= tol:
            return W, b, n_iter
        lipschitz *= 0.9  # let the step grow back
    _warn("fista", tol, residual, max_iter, max_iter)
    return W, b, max_iter


def _soft_threshold(W, threshold):
    return np.sign(W) * np.maximum(np.abs(W) - threshold, 0.0)


def _lipschitz_guess(problem):
    """A cheap lower estimate of the gradient's Lipschitz constant (backtracking fixes it)."""
    curvature = {"squared": 2.0, "logistic": 0.25, "squared_hinge": 2.0}[problem.loss]
    X = problem.X
    row_sq = np.asarray(X.multiply(X).sum(axis=1)).ravel() if sp.issparse(X) else (
        np.einsum("ij,ij->i", X, X))
    per_task = np.bincount(problem.task_idx, weights=problem.sample_weight * (row_sq + 1),
                           minlength=problem.shape[0])
    return max(curvature * per_task.max() / 10.0 + 2.0 * problem.l2, 1e-12)
