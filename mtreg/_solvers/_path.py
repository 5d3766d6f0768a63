"""Regularisation paths of graph-regularised ridge: a whole grid of alphas from one factorisation.

For one training set the normal equations (DESIGN.md section 2) read

    M(alpha, l2) vec(W) = vec(R),    M = blockdiag(G_t) + alpha (L kron I_d) + l2 I,

and model selection needs W, and for leave-one-out the diagonal blocks [M^-1]_tt, at many
(alpha, l2). Each path factorises once what does not depend on alpha:

* :class:`UniformPath` (L = a I - b 11^T: the complete graph with equal weights, the empty
  graph): one eigendecomposition per G_t (:func:`mtreg._jit.eigh_rows`); then every w_t is
  diagonal in its task's eigenbasis, O(T d^2) per alpha, but for the Woodbury coupling (as
  ``solve_woodbury``): a d x d matrix sum_t U_t diag(rho_t(alpha)) U_t^T and one d x d
  solve per alpha, the matrices of all alphas from one (n_alphas x T d) x (T d x d(d+1)/2)
  product (made in cache-sized blocks). This product and the eigendecompositions are most
  of the cost of a path.
* :class:`SharedPath` (multi-output y, one X for all tasks): eigendecompositions of G and L;
  any (alpha, l2) then costs O(T d (T + d)).
* :class:`DensePath` (any graph with T d <= ``_select.PATH_DENSE_LIMIT``): the generalised
  eigendecomposition of (P, P + Q), P = blockdiag(G_t) + l2 I, Q = L kron I_d, once per l2;
  any alpha then costs O((T d)^2).
* :class:`PCGPath` (larger graphs): one pcg solve per alpha, warm-started from the solution
  at the previous alpha; it gives no leave-one-out.

``leverage(alphas, l2, Z, task_idx)`` returns z_i^T [M^-1]_{t_i t_i} z_i for centred rows z_i:
with it, the exact leave-one-out residual of row i is e_i / (1 - h_i),
h_i = s_i / S_{t_i} + s_i z_i^T [M^-1]_{t_i t_i} z_i (Sherman-Morrison on one row of the
weighted least-squares problem; the first term is the unpenalised intercept's).

The module also assembles the moments of every cross-validation training and test set from
one pass over the data (:class:`FoldMoments`), and scores the held-out squared error of every
model of a path from the moments of the test set (:func:`heldout_sse`) instead of its rows.
"""

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .. import _jit
from .._tasks import TaskStats, predict_rows
from ._errors import SingularProblemError, singular_message
from ._pcg import solve_pcg
from ._ridge import check_not_singular, fit_intercepts
from ._select import select_solver
from ._threads import blas_threads, map_on_threads, one_blas_thread


def _check_denominators(denom, alphas, l2, scale):
    """A (near-)zero eigenvalue of M means J has no unique minimiser at that alpha."""
    low = denom.reshape(len(alphas), -1).min(axis=1) <= 1e-12 * scale
    if low.any():
        raise SingularProblemError(singular_message(alphas[np.argmax(low)], l2))


# Entries of the products u_tj u_tj^T of UniformPath made at a time (a block fits in L2).
_PRODUCTS_BLOCK = 2**18


def run_folds(work, n_folds, small_blocks):
    """[work(k) for k in range(n_folds)], the folds spread over threads for small blocks.

    The work of the per-task (or shared-X) paths is many LAPACK and BLAS calls on small
    matrices: one BLAS thread per call is fastest (a thread team per 27 x 27
    eigendecomposition costs more than it saves, and many times more on a loaded machine),
    and the folds then run side by side on as many threads as BLAS was allowed (so
    ``threadpoolctl.threadpool_limits(1)`` makes the search serial). numpy releases the GIL
    in these calls. Larger problems (generalised eigendecompositions, pcg) keep BLAS's own
    threads and run the folds in turn.
    """
    if not small_blocks or n_folds == 0:
        return [work(k) for k in range(n_folds)]
    n_threads = blas_threads()
    with one_blas_thread():
        return map_on_threads(work, n_folds, n_threads)


class UniformPath:
    """Complete graph with equal weights, or no graph, with task_ids data."""

    loo = True

    def __init__(self, stats, graph, **_):
        self.graph, self.stats = graph, stats
        self.T, self.d = T, d = stats.xty.shape
        # vectors[t, k] is the k-th eigenvector of G_t (a row); U[t] has them as columns
        self.g, self.vectors = eigh_stack(stats.task_grams())
        self.U = self.vectors.transpose(0, 2, 1)
        self.rot_r = np.matmul(self.vectors, stats.xty[:, :, None])[:, :, 0]  # U_t^T r_t
        self.U_all = self.vectors.reshape(T * d, d).T  # (d, T d): every eigenvector
        self.a, self.b = graph.uniform_form()
        self.pairs = np.triu_indices(d)

    def _coupling(self, rho):
        """C = (1/T) U_all diag(rho) U_all^T for each row of rho, shape (A, d, d).

        The upper triangles of the products u_tj u_tj^T, a block of eigenvectors at a
        time, make C at every alpha a few matrix products (A x T d by T d x d(d+1)/2).
        """
        A, d, T = rho.shape[0], self.d, self.T
        step = _PRODUCTS_BLOCK // len(self.pairs[0])
        if step < 64:  # many features: a (d x T d) x (T d x d) product per alpha
            return np.array([(self.U_all * r) @ self.U_all.T for r in rho]) / T
        U = np.ascontiguousarray(self.U_all)
        upper = np.zeros((A, len(self.pairs[0])))
        for start in range(0, T * d, step):
            stop = min(start + step, T * d)
            upper += rho[:, start:stop] @ _jit.upper_outer_products(U, start, stop).T
        upper /= T
        C = np.empty((A, d, d))
        C[:, self.pairs[0], self.pairs[1]] = upper
        C[:, self.pairs[1], self.pairs[0]] = upper
        return C

    def _parts(self, alphas, l2):
        """(U_t^T w_t for every alpha, 1 / the eigenvalues of M_t, the d x d coupling C)."""
        T, A = self.T, len(alphas)
        shift = alphas * self.a + l2  # the eigenvalues of M_t are g_t + shift
        scale = max(np.abs(self.g).max(initial=0.0) + alphas.max() * abs(self.a) + l2, 1.0)
        _check_denominators(self.g.min(initial=np.inf) + shift, alphas, l2, scale)
        # 1 / the eigenvalues of M_t, U_t^T M_t^-1 r_t, and the weights rho of
        # C = I - alpha b sum_t M_t^-1, written as in solve_woodbury so that no digits are
        # lost to cancellation at large alpha
        inv, V, rho = _jit.shifted_inverses(
            self.g, self.rot_r, shift, alphas * (self.a - self.b * T) + l2
        )
        if self.b == 0.0 or T == 1:
            return V, inv, None
        C = self._coupling(rho.reshape(A, -1))
        if l2 == 0.0 and np.any(np.linalg.cond(C) > 1e12):
            raise SingularProblemError(singular_message(alphas[0], l2))
        h = V.reshape(A, -1) @ self.U_all.T
        u = np.linalg.solve(C, h[..., None])[..., 0] * (alphas * self.b)[:, None]
        correction = (u @ self.U_all).reshape(V.shape)
        correction *= inv
        V += correction
        return V, inv, C

    def coefs(self, alphas, l2):
        """W for every alpha, shape (n_alphas, T, d) (a view of a (T, n_alphas, d) array)."""
        V = self._parts(np.asarray(alphas, dtype=np.float64), l2)[0]
        # w_t = U_t v_t for every alpha at once: (T, A, d) @ (T, d, d)
        return np.matmul(V.transpose(1, 0, 2), self.vectors).transpose(1, 0, 2)

    def leverage(self, alphas, l2, Z, task_idx):
        """z_i^T [M^-1]_{t_i t_i} z_i, shape (n_alphas, n_rows).

        [M^-1]_tt = M_t^-1 + alpha b M_t^-1 C^-1 M_t^-1 (Woodbury).
        """
        alphas = np.asarray(alphas, dtype=np.float64)
        _, inv, C = self._parts(alphas, l2)
        C_inv = None if C is None else np.linalg.inv(C)
        out = np.zeros((len(alphas), Z.shape[0]))
        order, start = _jit.group_rows(np.ascontiguousarray(task_idx, dtype=np.int64), self.T)
        for t in range(self.T):
            rows = order[start[t] : start[t + 1]]
            if rows.size == 0:
                continue
            zeta = Z[rows] @ self.U[t]  # row i: U_t^T z_i
            scaled = zeta * inv[:, t, None, :]  # U_t^T M_t^-1 z_i, per alpha
            lev = np.einsum("nj,anj->an", zeta, scaled)
            if C_inv is not None:
                q = scaled @ self.U[t].T  # M_t^-1 z_i
                lev += (alphas * self.b)[:, None] * np.einsum("anj,anj->an", q @ C_inv, q)
            out[:, rows] = lev
        return out


class SharedPath:
    """Multi-output data: every task observed at the same X."""

    loo = True

    def __init__(self, stats, graph, laplacian_eigh=None, **_):
        self.g, self.U = np.linalg.eigh(stats.gram)
        if laplacian_eigh is None:
            laplacian_eigh = np.linalg.eigh(graph.laplacian(dense=True))
        self.lam, self.V = laplacian_eigh
        self.rot_r = self.V.T @ stats.xty @ self.U  # (T, d)

    def _denominators(self, alphas, l2):
        denom = self.g[None, None, :] + alphas[:, None, None] * self.lam[None, :, None] + l2
        scale = max(
            np.abs(self.g).max(initial=0.0) + alphas.max() * np.abs(self.lam).max(initial=0) + l2,
            1.0,
        )
        _check_denominators(denom, alphas, l2, scale)
        return denom  # (A, T, d)

    def coefs(self, alphas, l2):
        denom = self._denominators(np.asarray(alphas, dtype=np.float64), l2)
        return self.V @ (self.rot_r / denom) @ self.U.T

    def leverage(self, alphas, l2, Z, task_idx=None):
        """z_i^T [M^-1]_tt z_i for every row i and task t, shape (n_alphas, n_rows, T)."""
        denom = self._denominators(np.asarray(alphas, dtype=np.float64), l2)
        zeta2 = (Z @ self.U) ** 2
        return zeta2 @ (1.0 / denom).transpose(0, 2, 1) @ (self.V**2).T


class DensePath:
    """Any graph, T d small enough for dense generalised eigendecompositions."""

    loo = True

    def __init__(self, stats, graph, **_):
        self.stats = stats
        self.T, self.d = stats.xty.shape
        self.Q = np.kron(graph.laplacian(dense=True), np.eye(self.d))
        self._cache = {}

    def _decomposition(self, l2):
        """(p, q, V, V^T r) with V^T P V = diag(p), V^T Q V = diag(q).

        Then M(alpha) = P + alpha Q = V^-T diag(p + alpha q) V^-1 for every alpha.
        """
        if l2 not in self._cache:
            T, d = self.T, self.d
            P = np.zeros((T * d, T * d))
            blocks = P.reshape(T, d, T, d)
            blocks[np.arange(T), :, np.arange(T), :] = self.stats.task_grams()
            P[np.diag_indices_from(P)] += l2
            try:
                _, V = sla.eigh(P, P + self.Q, check_finite=False)
            except np.linalg.LinAlgError as exc:  # M(1) singular: so is M(alpha) for alpha > 0
                raise SingularProblemError(singular_message(1.0, l2)) from exc
            p = np.einsum("ik,ik->k", V, P @ V)
            q = np.einsum("ik,ik->k", V, self.Q @ V)
            self._cache = {l2: (p, q, V, V.T @ self.stats.xty.ravel())}
        return self._cache[l2]

    def _denominators(self, alphas, l2):
        p, q, V, Vr = self._decomposition(l2)
        denom = p[None, :] + alphas[:, None] * q[None, :]
        _check_denominators(denom, alphas, l2, max(1.0, alphas.max()))
        return denom, V, Vr

    def coefs(self, alphas, l2):
        denom, V, Vr = self._denominators(np.asarray(alphas, dtype=np.float64), l2)
        return ((Vr / denom) @ V.T).reshape(len(alphas), self.T, self.d)

    def leverage(self, alphas, l2, Z, task_idx):
        denom, V, _ = self._denominators(np.asarray(alphas, dtype=np.float64), l2)
        inv = (1.0 / denom).T  # (T d, A)
        out = np.zeros((len(alphas), Z.shape[0]))
        order, start = _jit.group_rows(np.ascontiguousarray(task_idx, dtype=np.int64), self.T)
        d = self.d
        for t in range(self.T):
            rows = order[start[t] : start[t + 1]]
            if rows.size:
                out[:, rows] = ((Z[rows] @ V[t * d : (t + 1) * d]) ** 2 @ inv).T
        return out


class PCGPath:
    """Large graphs: pcg at each alpha, in increasing order, from the previous solution."""

    loo = False

    def __init__(self, stats, graph, *, tol=1e-10, max_iter=None):
        self.stats, self.graph, self.tol, self.max_iter = stats, graph, tol, max_iter

    def coefs(self, alphas, l2):
        out = np.empty((len(alphas),) + self.stats.xty.shape)
        W = None
        for k in np.argsort(alphas, kind="stable"):
            check_not_singular(self.stats.observed, self.graph, alphas[k], l2)
            W, _ = solve_pcg(
                self.stats,
                self.graph,
                float(alphas[k]),
                l2,  # a float or a per-feature array (solve_pcg takes both)
                tol=self.tol,
                max_iter=self.max_iter,
                x0=W,
            )
            out[k] = W
        return out


def make_path(stats, graph, *, loo=False, tol=1e-10, max_iter=None, laplacian_eigh=None):
    """The path object that fits the structure of the problem (see the module docstring),
    as chosen by ``select_solver(family="path")``.

    ``laplacian_eigh``: (eigenvalues, eigenvectors) of L when already known.
    """
    name = select_solver(
        family="path", graph=graph, shared_X=stats.shared_X, n_features=stats.xty.shape[1], loo=loo
    )
    if name == "shared_X":
        return SharedPath(stats, graph, laplacian_eigh)
    if name == "uniform":
        return UniformPath(stats, graph)
    if name == "dense":
        return DensePath(stats, graph)
    return PCGPath(stats, graph, tol=tol, max_iter=max_iter)


def path_for_l2(path, stats, graph, l2, **options):
    """(path, l2) to call ``path.coefs(alphas, l2)`` with, for a float ``l2`` or a
    per-feature one (a tuple of n_features values). A per-feature l2 (with a float alpha)
    is the float l2 = 0 on moments whose Grams carry diag(l2): the same system M, so the
    same solutions and leverages, from a path of those moments ("pcg" takes the array)."""
    if not isinstance(l2, tuple):
        return path, l2
    l2 = np.array(l2)
    if isinstance(path, PCGPath):
        return path, l2
    ridge = np.diag(l2)
    shifted = TaskStats(stats.gram + ridge, stats.xty, stats.x_mean, stats.y_mean, stats.weight_sum)
    return make_path(shifted, graph, **options), 0.0


def path_intercepts(stats, coefs, graph):
    """Intercepts of every W on the path, shape (n_alphas, T) (as :func:`fit_intercepts`)."""
    if graph.uniform_form() is None or stats.shared_X:
        return np.array([fit_intercepts(stats, W, graph) for W in coefs]).reshape(len(coefs), -1)
    # on the complete and empty graphs a task without rows takes the mean intercept of
    # those with rows (the harmonic extension), so every alpha is done at once
    observed = stats.observed
    intercept = stats.y_mean - np.einsum("td,atd->at", stats.x_mean, coefs)
    if not observed.all():
        fill = intercept[:, observed].mean(axis=1, keepdims=True) if observed.any() else 0.0
        intercept[:, ~observed] = fill
    return intercept


def eigh_stack(G):
    """(eigenvalues, eigenvectors as rows) of a stack of symmetric matrices, see
    :func:`mtreg._jit.eigh_rows` (lower triangles read, as ``np.linalg.eigh``)."""
    values, vectors, failed = _jit.eigh_rows(np.ascontiguousarray(G, dtype=np.float64))
    if failed:
        raise np.linalg.LinAlgError(
            f"the eigendecomposition of {failed} task Gram matrices did not converge "
            "(non-finite moments?)."
        )
    return values, vectors


# --- moments of the training set of every fold, from one pass over the data ---------------


# --- predictions along the path: held-out rows, leave-one-out -----------------------------


def predict_path(X, task_idx, coefs, intercepts):
    """Predictions of every model of the path, shape (n_alphas, n) or (n_alphas, n, T)."""
    if task_idx is not None:  # converted once for every model
        X = sp.csr_matrix(X, dtype=np.float64) if sp.issparse(X) else np.ascontiguousarray(X)
    return np.array(
        [predict_rows(X, task_idx, W, b) for W, b in zip(coefs, intercepts, strict=True)]
    )


def heldout_sse(test, syy, coefs, intercepts):
    """sum_i s_i (y_i - x_i . w_{t_i} - b_{t_i})^2 over a test set, for every model of the path.

    From the centred moments of the test set (``test``, per task: H_t, h_t, means m_t,
    mu_t, weight n_t) and ``syy[t] = sum_i s_i (y_i - mu_t)^2``, without its rows:

        sum_t syy_t - 2 w_t . h_t + w_t^T H_t w_t + n_t (mu_t - m_t . w_t - b_t)^2.

    coefs of shape (n_alphas, T, d), intercepts (n_alphas, T); returns (n_alphas,).
    """
    Wt = coefs.transpose(1, 0, 2)  # (T, A, d)
    quad = np.einsum("tad,tad->a", np.matmul(Wt, test.gram), Wt)
    lin = np.einsum("atd,td->a", coefs, test.xty)
    offset = test.y_mean - np.einsum("atd,td->at", coefs, test.x_mean) - intercepts
    sse = syy.sum() - 2.0 * lin + quad + offset**2 @ test.weight_sum
    return np.maximum(sse, 0.0)  # a perfect fit may round to a tiny negative number


def loo_predictions(path, X, y, task_idx, sw, stats, graph, alphas, l2, fit_intercept):
    """Exact leave-one-out predictions at every alpha, shape (n_alphas,) + y.shape.

    Row i (for multi-output data: entry (i, t)) is predicted by the model fitted without
    it: y_i - e_i / (1 - h_i) (see the module docstring).
    """
    coefs = path.coefs(alphas, l2)
    intercepts = path_intercepts(stats, coefs, graph)
    pred = predict_path(X, task_idx, coefs, intercepts)
    X = X.toarray() if sp.issparse(X) else X
    if task_idx is None:
        lev = sw[None, :, None] * path.leverage(alphas, l2, X - stats.x_mean)
        if fit_intercept:
            lev += (sw / stats.weight_sum[0])[None, :, None]
    else:
        lev = sw * path.leverage(alphas, l2, X - stats.x_mean[task_idx], task_idx)
        if fit_intercept:
            total = stats.weight_sum[task_idx]
            lev += sw / np.where(total > 0, total, 1.0)
    keep = 1.0 - lev
    if np.any(keep <= 1e-12):
        raise ValueError(
            "leave-one-out is undefined here: without some row, its task's coefficients are "
            "determined by nothing (a task with fewer rows than features and l2=0?). Set "
            "l2 > 0 or use k-fold cross-validation (cv=5)."
        )
    return y - (y - pred) / keep


def check_loo_rows(task_idx, sw, n_tasks, tasks, fit_intercept):
    """With intercepts, leaving out the only row of a task leaves its intercept undetermined."""
    if not fit_intercept:
        return
    if task_idx is None:
        counts = np.full(1, np.count_nonzero(sw > 0))
        tasks = np.array(["every task"], dtype=object)
    else:
        counts = np.bincount(task_idx[sw > 0], minlength=n_tasks)
    lonely = counts == 1
    if lonely.any():
        names = ", ".join(repr(t) for t in tasks[lonely][:10].tolist())
        raise ValueError(
            f"leave-one-out with fit_intercept=True needs at least 2 rows (of positive weight) "
            f"per task, but tasks {names} have 1 sample: without it, the task's intercept is "
            "determined by nothing. Use k-fold cross-validation (cv=5) or fit_intercept=False."
        )
