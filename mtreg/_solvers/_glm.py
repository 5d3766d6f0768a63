"""Solvers for J with any loss and the optional l1 term, on long-format data.

"lbfgs" (limited-memory BFGS on (W, b), one numba pass over the rows per evaluation),
"newton" (damped Newton: each step is one exact graph-ridge solve whose moments are the
Hessian blocks of the loss) and "fista" (accelerated proximal gradient with backtracking
and adaptive restart, for l1 > 0). All stop when the optimality residual falls below
``tol`` times its value at W = 0, b = 0: the gradient norm for the smooth problems, the
norm of the proximal gradient mapping with l1."""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from .. import _jit
from .._losses import get_loss
from .._objective import smooth_penalty
from .._tasks import TaskStats
from ._penalty import as_penalty, largest
from ._ridge import solve_graph_ridge
from ._threads import map_chunks

DEFAULT_MAX_ITER = {"lbfgs": 1000, "newton": 100, "fista": 10000}
# Rows x features per thread below which one thread does the whole pass (a thread's
# start-up costs about what 50,000 multiply-adds do).
ROWS_PER_THREAD = 50_000
# Steps in a row that lower neither J (beyond its rounding) nor the best optimality
# residual so far (by half): rounding has the last word, and the solver stops with a warning.
STALL_STEPS = 5


def _group_by_task(X, y, task_idx, sample_weight, n_tasks, n_chunks):
    """The rows in task order, the task boundaries ``start`` and ``cuts``: ranges of
    tasks with about equal numbers of rows, one per chunk."""
    order, start = _jit.group_rows(task_idx, n_tasks)
    targets = np.linspace(0, start[-1], n_chunks + 1)[1:-1]
    cuts = np.unique(np.concatenate([[0], np.searchsorted(start, targets), [n_tasks]]))
    X = X[order] if sp.issparse(X) else np.take(X, order, axis=0)  # take: 2x faster
    if sp.issparse(X):
        X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    return X, y[order], sample_weight[order], start, cuts


class GLMProblem:
    """J(W, b) of DESIGN.md section 1 on the rows (X, y, task_idx, sample_weight).

    ``y`` is real for the squared loss and in {-1, +1} for the classification losses.
    With ``shift`` (per-task centres m_t, shape (T, d)) the intercepts are those of the
    centred rows: f_i = (x_i - m_{t_i}) . w_{t_i} + b_{t_i}. The same J, but first-order
    solvers no longer crawl along the direction that couples w and b when the features sit
    far from zero; no centred copy of X is made (the centres enter the intercepts and the
    gradient).

    Long passes over the rows are split into up to ``n_threads`` contiguous chunks, run
    on a thread pool (the numba kernels release the GIL); the chunks' sums are added in
    a fixed order. See :func:`rows_on_threads`.
    """

    def __init__(
        self,
        X,
        y,
        task_idx,
        sample_weight,
        graph,
        *,
        loss,
        alpha,
        l2,
        l1=0.0,
        fit_intercept=True,
        shift=None,
        n_threads=1,
    ):
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=np.float64)
            X.indices = X.indices.astype(np.int64)
            X.indptr = X.indptr.astype(np.int64)
        else:
            X = np.ascontiguousarray(X, dtype=np.float64)
        self.X, self.y = X, np.ascontiguousarray(y, dtype=np.float64)
        self.task_idx = np.ascontiguousarray(task_idx, dtype=np.int64)
        self.sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
        self.graph, self.loss, self.code = graph, loss, get_loss(loss).code
        # floats, or per-feature arrays of shape (n_features,) (see _penalty)
        self.alpha = as_penalty(alpha, X.shape[1], "alpha")
        self.l2, self.l1 = as_penalty(l2, X.shape[1], "l2"), float(l1)
        self.fit_intercept = fit_intercept
        self.shape = (graph.n_tasks, X.shape[1])
        self.shift = shift
        n, d = X.shape
        n_chunks = min(n_threads, max(1, n * max(d, 1) // ROWS_PER_THREAD))
        self._bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64)
        self._by_task = None

    def raw_intercept(self, W, b):
        """The intercepts of the uncentred rows, from those of the centred rows."""
        return b if self.shift is None else b - np.einsum("td,td->t", self.shift, W)

    def centred_intercept(self, W, b):
        """The intercepts of the centred rows, from those of the uncentred rows."""
        return b if self.shift is None else b + np.einsum("td,td->t", self.shift, W)

    def _over_rows(self, dense_kernel, csr_kernel, *args):
        """Sum of ``kernel(rows lo:hi, *args)`` over the chunks of rows."""
        X, y, idx, sw = self.X, self.y, self.task_idx, self.sample_weight

        def chunk(k):
            lo, hi = self._bounds[k], self._bounds[k + 1]
            if sp.issparse(X):
                return csr_kernel(
                    X.data, X.indices, X.indptr[lo : hi + 1], y[lo:hi], idx[lo:hi], sw[lo:hi], *args
                )
            return dense_kernel(X[lo:hi], y[lo:hi], idx[lo:hi], sw[lo:hi], *args)

        parts = map_chunks(chunk, len(self._bounds) - 1)
        return tuple(sum(p[i] for p in parts) for i in range(len(parts[0])))

    def data_term(self, W, b):
        """(sum_i s_i loss_i, dW, db) from the numba kernel."""
        value, gW, gb = self._over_rows(
            _jit.loss_gradient, _jit.loss_gradient_csr, W, self.raw_intercept(W, b), self.code
        )
        if self.shift is not None:
            gW -= self.shift * gb[:, None]
        return value, gW, gb

    def curvature(self, W, b):
        """Data term, gradient and Hessian blocks ``(value, dW, db, h, hz, H)`` of
        :func:`mtreg._jit.loss_hessian`, on the rows centred by ``shift``.

        The first call keeps a copy of the rows grouped by task; the chunks of the pass
        are then ranges of tasks, each with its own blocks (nothing to add up but J).
        """
        if self._by_task is None:
            self._by_task = _group_by_task(
                self.X,
                self.y,
                self.task_idx,
                self.sample_weight,
                self.shape[0],
                len(self._bounds) - 1,
            )
        X, y, sw, start, cuts = self._by_task
        shift = np.zeros(self.shape) if self.shift is None else self.shift
        b_raw = self.raw_intercept(W, b)

        def chunk(k):
            first, last = cuts[k], cuts[k + 1]
            rows, tasks = slice(start[first], start[last]), slice(first, last)
            bounds = start[first : last + 1] - start[first]
            if sp.issparse(X):
                return _jit.loss_hessian_csr(
                    X.data,
                    X.indices,
                    X.indptr[rows.start : rows.stop + 1],
                    y[rows],
                    sw[rows],
                    bounds,
                    W[tasks],
                    b_raw[tasks],
                    self.code,
                )
            return _jit.loss_hessian(
                X[rows], y[rows], sw[rows], bounds, W[tasks], b[tasks], shift[tasks], self.code
            )

        parts = map_chunks(chunk, len(cuts) - 1)
        value = sum(p[0] for p in parts)
        gW, gb, h, hz, H = (np.concatenate([p[i] for p in parts]) for i in range(1, 6))
        if sp.issparse(X):  # the sums about zero, moved to the centres m_t
            hm = h[:, None] * shift
            H = H - hz[:, :, None] * shift[:, None, :] - shift[:, :, None] * (hz - hm)[:, None, :]
            gW, hz = gW - gb[:, None] * shift, hz - hm
        return value, gW, gb, h, hz, H

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
        X, b = self.X, self.raw_intercept(W, b)
        if sp.issparse(X):
            return _jit.predict_rows_csr(X.data, X.indices, X.indptr, self.task_idx, W, b)
        return _jit.predict_rows(X, self.task_idx, W, b)

    def residual_scale(self, W0=None, b0=None, gradient=None):
        """Optimality residual at W = 0, b = 0: the yardstick of ``tol``.

        ``gradient`` (gW, gb) at (W0, b0) is reused when that point is zero.
        """
        T, d = self.shape
        zero = W0 is not None and not W0.any() and not b0.any()
        gW, gb = gradient if zero else self.smooth(np.zeros((T, d)), np.zeros(T))[1:]
        return _mapping_norm(np.zeros((T, d)), gW, gb, self.l1) or 1.0


def _mapping_norm(W, gW, gb, l1):
    """Norm of the optimality residual: the gradient, or its l1 subgradient projection."""
    if l1 > 0:
        # distance of -gW to the subdifferential of l1 ||W||_1
        gW = np.where(W != 0, gW + l1 * np.sign(W), np.maximum(np.abs(gW) - l1, 0.0))
    return float(np.sqrt(np.vdot(gW, gW) + np.vdot(gb, gb)))


def _warn(solver, tol, residual, n_iter, max_iter, reason=None):
    why = (
        f"after max_iter={max_iter} iterations"
        if reason is None
        else (f"after {n_iter} iterations ({reason})")
    )
    warnings.warn(
        f"{solver} did not converge: relative optimality residual {residual:.2e} > "
        f"tol={tol} {why}. Increase max_iter, or tol.",
        ConvergenceWarning,
        stacklevel=5,
    )


def _decreases(J, J_new, step, slope, slope_new):
    """Line-search acceptance: Armijo's sufficient decrease (fraction 1e-4 of the slope);
    or, where J's rounding hides changes so small, a step along which the secant of the
    directional derivatives, step (slope + slope_new) / 2, still predicts a decrease."""
    if J_new <= J + 1e-4 * step * slope:
        return True
    return J_new - J <= 1e-12 * abs(J) and slope + slope_new < 0  # see STALL_STEPS


def _strikes(strikes, J, J_new, residual, best):
    """Steps in a row without progress (see STALL_STEPS)."""
    stuck = J_new >= J - 4 * np.finfo(float).eps * abs(J) and residual > 0.5 * best
    return strikes + 1 if stuck else 0


def _stalled(solver, tol, residual, n_iter, max_iter):
    _warn(
        solver,
        tol,
        residual,
        n_iter,
        max_iter,
        "no progress left to find: tol is below what rounding allows",
    )


def solve_lbfgs(problem, W0, b0, *, tol, max_iter, verbose=0, memory=10):
    """Limited-memory BFGS (Nocedal & Wright 2006, algorithm 7.4) on theta = (W, b).

    The direction comes from the two-loop recursion over the last ``memory`` pairs
    (s, y), scaled by s.y / y.y; the step is 1 (1 / ||g|| on the first iteration) and is
    cut back by quadratic interpolation until J decreases by a fraction 1e-4 of the slope
    (Armijo). A pair enters the memory only when s.y > 0, which keeps the inverse
    Hessian estimate positive definite. Each evaluation is one numba pass over the rows;
    the bookkeeping is O(memory * T d) per iteration.
    """
    T, d = problem.shape
    size = T * d

    def evaluate(theta):
        value, gW, gb = problem.smooth(theta[:size].reshape(T, d), theta[size:])
        return value, np.concatenate([gW.ravel(), gb])

    theta = np.concatenate([W0.ravel(), b0])
    J, g = evaluate(theta)
    scale = problem.residual_scale(W0, b0, (g[:size].reshape(T, d), g[size:]))
    S, Y = np.empty((memory, theta.size)), np.empty((memory, theta.size))
    rho, n_pairs, newest = np.empty(memory), 0, -1
    residual, strikes = float(np.linalg.norm(g)) / scale, 0
    best = residual
    for n_iter in range(1, max_iter + 1):
        if residual <= tol:
            return theta[:size].reshape(T, d), theta[size:], n_iter - 1
        direction = -_two_loop(g, S, Y, rho, n_pairs, newest)
        slope = float(g @ direction)
        step = 1.0
        if n_pairs == 0 or slope >= 0:  # no curvature yet (or lost): steepest descent
            direction, slope = -g, -float(g @ g)
            n_pairs, step = 0, min(1.0, 1.0 / np.sqrt(-slope))
        while True:
            J_new, g_new = evaluate(theta + step * direction)
            if _decreases(J, J_new, step, slope, float(g_new @ direction)):
                break
            if step < 1e-12:
                _stalled("lbfgs", tol, residual, n_iter, max_iter)
                return theta[:size].reshape(T, d), theta[size:], n_iter
            # minimiser of the quadratic through J, the slope and J_new, kept in [0.1, 0.5]
            trial = -slope * step * step / (2.0 * (J_new - J - slope * step))
            step = min(max(trial, 0.1 * step), 0.5 * step) if np.isfinite(J_new) else (0.1 * step)
        s_k, y_k = step * direction, g_new - g
        sy = float(s_k @ y_k)
        if sy > 1e-12 * float(y_k @ y_k):
            newest = (newest + 1) % memory
            S[newest], Y[newest], rho[newest] = s_k, y_k, 1.0 / sy
            n_pairs = min(n_pairs + 1, memory)
        residual_new = float(np.linalg.norm(g_new)) / scale
        strikes = _strikes(strikes, J, J_new, residual_new, best)
        best = min(best, residual_new)
        theta, J, g, residual = theta + s_k, J_new, g_new, residual_new
        if strikes == STALL_STEPS:
            _stalled("lbfgs", tol, residual, n_iter, max_iter)
            return theta[:size].reshape(T, d), theta[size:], n_iter
        if verbose:
            print(f"lbfgs iter {n_iter}: J={J:.10g} step={step:g} residual={residual:.2e}")
    if residual > tol:
        _warn("lbfgs", tol, residual, max_iter, max_iter)
    return theta[:size].reshape(T, d), theta[size:], max_iter


def _two_loop(g, S, Y, rho, n_pairs, newest):
    """H g for the L-BFGS inverse Hessian estimate H of the stored pairs (newest last)."""
    q = g.copy()
    memory = len(rho)
    order = [(newest - k) % memory for k in range(n_pairs)]  # newest first
    a = np.empty(memory)
    for k in order:
        a[k] = rho[k] * float(S[k] @ q)
        q -= a[k] * Y[k]
    if n_pairs:
        q *= 1.0 / (rho[newest] * float(Y[newest] @ Y[newest]))
    for k in reversed(order):
        q += (a[k] - rho[k] * float(Y[k] @ q)) * S[k]
    return q


def solve_newton(problem, W0, b0, *, tol, max_iter, verbose=0):
    """Damped Newton. The quadratic model of J at (W, b) is a graph-ridge objective (its
    data part is sum_t of the Hessian block and the gradient of task t), so each step is
    one exact solve by the squared-loss solvers, then a backtracking line search on J.
    One numba pass per trial point gives J, the gradient and the Hessian blocks. The
    first trial step is 1, or, after a step whose slopes say the minimum along it lay
    further, that ratio (at most 2); near the optimum it tends to 1, Newton's own step.
    """
    alpha, l2, graph = problem.alpha, problem.l2, problem.graph

    def evaluate(W, b):
        value, gW, gb, *hessian = problem.curvature(W, b)
        penalty, gP = smooth_penalty(W, graph, alpha=alpha, l2=l2)
        if not problem.fit_intercept:
            gb[:] = 0.0
        return value + penalty, gW, gb, gP, hessian

    W, b = W0.copy(), b0.copy()
    J, gW, gb, gP, hessian = evaluate(W, b)
    scale = problem.residual_scale(W0, b0, (gW + gP, gb))
    residual, strikes = _mapping_norm(W, gW + gP, gb, 0.0) / scale, 0
    best, first_step = residual, 1.0
    for n_iter in range(1, max_iter + 1):
        if residual <= tol:
            return W, b, n_iter - 1
        stats = _newton_moments(W, b, gW, gb, *hessian, problem.fit_intercept)
        W_new, b_new, _, _ = solve_graph_ridge(stats, graph, alpha=alpha, l2=l2)
        dW, db = W_new - W, b_new - b
        slope = np.vdot(gW + gP, dW) + np.vdot(gb, db)
        step = first_step
        while True:
            J_new, *rest = evaluate(W + step * dW, b + step * db)
            gW_new, gb_new, gP_new, _ = rest
            slope_new = np.vdot(gW_new + gP_new, dW) + np.vdot(gb_new, db)
            if _decreases(J, J_new, step, slope, slope_new):
                # where the slope along this step vanishes, by the secant of the two slopes:
                # far from the optimum Newton's steps fall short (the logistic loss flattens
                # out) by a factor that changes slowly, so the next step starts there
                secant = step * slope / (slope - slope_new) if slope_new > slope else 1.0
                first_step = min(max(secant, 1.0), 2.0)
                break
            if step < 1e-10:
                _stalled("newton", tol, residual, n_iter, max_iter)
                return W, b, n_iter
            step *= 0.5
        W, b = W + step * dW, b + step * db
        gW, gb, gP, hessian = rest
        residual_new = _mapping_norm(W, gW + gP, gb, 0.0) / scale
        strikes = _strikes(strikes, J, J_new, residual_new, best)
        best = min(best, residual_new)
        J, residual = J_new, residual_new
        if strikes == STALL_STEPS:
            _stalled("newton", tol, residual, n_iter, max_iter)
            return W, b, n_iter
        if verbose:
            print(f"newton iter {n_iter}: J={J:.10g} step={step:g} residual={residual:.2e}")
    if residual > tol:
        _warn("newton", tol, residual, max_iter, max_iter)
    return W, b, max_iter


def _newton_moments(W, b, gW, gb, h, hz, H, fit_intercept):
    """Task moments whose graph-ridge problem is Newton's model of J at (W, b).

    Per task, with theta = (w, b) and the data term's gradient g and Hessian
    [[H, hz], [hz^T, h]], the model's data part is (theta - theta0)^T Hess (theta - theta0)
    / 2 + g^T (theta - theta0): the graph-ridge data term theta^T G theta - 2 theta^T r
    (up to a constant) with G = Hess / 2 and r = (Hess theta0 - g) / 2. The intercept
    is eliminated as in :func:`mtreg._tasks.task_stats` (Schur complement).
    """
    r_w = 0.5 * (np.einsum("tjk,tk->tj", H, W) + hz * b[:, None] - gW)
    r_b = 0.5 * (np.einsum("tj,tj->t", hz, W) + h * b - gb)
    if not fit_intercept:
        zeros = np.zeros_like(h)
        return TaskStats(0.5 * H, r_w, np.zeros_like(hz), zeros, 0.5 * h)
    mean = hz / np.where(h > 0, h, 1.0)[:, None]
    gram = 0.5 * (H - hz[:, :, None] * mean[:, None, :])
    xty = r_w - mean * r_b[:, None]
    y_mean = 2.0 * r_b / np.where(h > 0, h, 1.0)
    return TaskStats(gram, xty, mean, y_mean, 0.5 * h)


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
            if not (np.isfinite(f_new) and np.isfinite(change) and np.isfinite(lipschitz)):
                # NaN never passes the test above: without this the loop never ends
                raise FloatingPointError(
                    "fista: J or its gradient overflow double precision at the trial point "
                    f"(iteration {n_iter}); rescale X, y or sample_weight to moderate sizes."
                )
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
    curvature = get_loss(problem.loss).curvature
    X = problem.X
    row_sq = (
        np.asarray(X.multiply(X).sum(axis=1)).ravel()
        if sp.issparse(X)
        else (np.einsum("ij,ij->i", X, X))
    )
    per_task = np.bincount(
        problem.task_idx, weights=problem.sample_weight * (row_sq + 1), minlength=problem.shape[0]
    )
    return max(curvature * per_task.max() / 10.0 + 2.0 * largest(problem.l2), 1e-12)
