"""Kernel ridge with the multi-task kernel K((x, s), (z, t)) = k(x, z) inv(E)[s, t].

E = alpha L + l2 I. With sample weights s_i the dual coefficients c minimise
sum_i s_i (y_i - (K c)_i)^2 + c^T K c; they are written, as scikit-learn's KernelRidge does,
c = S^1/2 (S^1/2 K S^1/2 + I)^-1 S^1/2 y, which is defined for zero weights too. Then

    1 - h_ii = [(S^1/2 K S^1/2 + I)^-1]_ii,

so the exact leave-one-out residual of row i is e_i / [(S^1/2 K S^1/2 + I)^-1]_ii.

* :func:`solve_dual`: one Cholesky factorisation of the n x n system.
* :class:`KroneckerPath`: multi-output data (every task at the same n inputs): the Gram
  matrix is inv(E) kron k(X, X), so eigendecompositions of S^1/2 k(X, X) S^1/2 (n x n) and L
  (T x T) solve the nT x nT system exactly, for every (alpha, l2), in O(n^3 + T^3) once and
  O(n T (n + T)) per (alpha, l2).
* :class:`GramEigenPath`: task_ids data. The Hadamard product k(X, X) * inv(E)[t, t] has no
  common eigenbasis over alpha, but K(alpha, l2) = K(alpha / l2, 1) / l2: one eigendecomposition
  serves every (alpha, l2) with the same ratio alpha / l2.
"""

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._errors import SingularProblemError
from ._select import MEMORY_LIMIT

# Up to this many tasks inv(E) is formed whole (8 T^2 bytes: 32 MB), which is fast and exact;
# beyond, TaskKernel computes only the entries asked for.
DENSE_TASKS = 2000
# Columns of inv(E) solved for at once on the sparse path (T of these entries each)
SOLVE_ENTRIES = 2**22


def singular_task_kernel_message(alpha, l2):
    return (
        f"l2={l2:g} makes E = alpha L + l2 I singular (alpha={alpha:g}): a graph Laplacian "
        "always has the constant vector (D^1/2 1 for the normalised one) in its null space: "
        "the multi-task kernel inv(E) does not exist. Set l2 > 0."
    )


def task_covariance(graph, alpha, l2):
    """inv(alpha L + l2 I) as a dense T x T array; a clear error when it does not exist."""
    if not l2 > 0:
        raise SingularProblemError(singular_task_kernel_message(alpha, l2))
    T = graph.n_tasks
    form = graph.uniform_form()
    if form is not None:  # E = c I - beta 11^T: Sherman-Morrison
        a, b = form
        c, beta = alpha * a + l2, alpha * b
        return np.eye(T) / c + beta / (c * (c - beta * T)) * np.ones((T, T))
    E = alpha * graph.laplacian(dense=True) + l2 * np.eye(T)
    return sla.cho_solve(sla.cho_factor(E, lower=True), np.eye(T))


class TaskKernel:
    """inv(E), E = alpha L + l2 I, as far as it is needed: the entries block(rows, cols).

    Small T: the dense inverse. Complete or empty graph: the closed form
    inv(E) = I / c + g 11^T. Sparse graph: one sparse LU factorisation of E (symmetric
    positive definite) and solves for the columns asked for, so that 1e5 tasks with rows
    in 20 of them need O(nnz(factor) + T * 20) memory, not T^2. A dense graph (given as a
    T x T array) keeps the dense inverse.
    """

    def __init__(self, graph, alpha, l2, *, dense=None):
        if not l2 > 0:
            raise SingularProblemError(singular_task_kernel_message(alpha, l2))
        self.n_tasks = T = graph.n_tasks
        self.matrix = self._uniform = self._lu = None
        form = graph.uniform_form()
        dense = (T <= DENSE_TASKS) if dense is None else dense
        if dense or (form is None and not sp.issparse(getattr(graph, "adjacency", None))):
            self.matrix = task_covariance(graph, alpha, l2)
        elif form is not None:
            c, beta = alpha * form[0] + l2, alpha * form[1]
            self._uniform = (1.0 / c, beta / (c * (c - beta * T)))
        else:
            E = (alpha * sp.csc_matrix(graph.laplacian()) + l2 * sp.identity(T)).tocsc()
            self._lu = spla.splu(
                E,
                permc_spec="MMD_AT_PLUS_A",
                diag_pivot_thresh=0.0,
                options={"SymmetricMode": True},
            )

    @classmethod
    def of_matrix(cls, matrix):
        """A TaskKernel holding a dense inv(E) computed elsewhere."""
        self = cls.__new__(cls)
        self.n_tasks, self.matrix, self._uniform, self._lu = len(matrix), matrix, None, None
        return self

    def dense(self):
        """inv(E) whole, shape (T, T); a MemoryError naming the size when it is too big."""
        if self.matrix is not None:
            return self.matrix
        T = self.n_tasks
        check_dense_task_kernel(T, "the dense task kernel inv(E)")
        return self.block(np.arange(T), np.arange(T))

    def mean_row(self, cols):
        """The mean over all tasks s of inv(E)[s, cols]."""
        if self.matrix is not None:
            return self.matrix[:, cols].mean(axis=0)
        if self._uniform is not None:
            inv_c, g = self._uniform
            return np.full(len(cols), inv_c / self.n_tasks + g)
        if not hasattr(self, "_mean"):  # inv(E) is symmetric: its mean row is inv(E) 1 / T
            self._mean = self._lu.solve(np.ones(self.n_tasks)) / self.n_tasks
        return self._mean[cols]

    def block(self, rows, cols, population_weight=0.0):
        """inv(E)[rows][:, cols], shape (len(rows), len(cols)). A row index T is the
        population task: ``population_weight`` times the mean row."""
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        pop = rows == self.n_tasks
        task_rows = np.where(pop, 0, rows)
        if self.matrix is not None:
            out = self.matrix[np.ix_(task_rows, cols)]
        elif self._uniform is not None:
            inv_c, g = self._uniform
            out = np.where(task_rows[:, None] == cols[None, :], inv_c + g, g)
        else:
            out = self._solved_block(task_rows, cols)
        if pop.any():
            out[pop] = population_weight * self.mean_row(cols)
        return out

    def _solved_block(self, rows, cols):
        T = self.n_tasks
        ucols, col_of = np.unique(cols, return_inverse=True)
        urows, row_of = np.unique(rows, return_inverse=True)
        sub = np.empty((len(urows), len(ucols)))
        step = max(SOLVE_ENTRIES // T, 1)
        for start in range(0, len(ucols), step):
            part = ucols[start : start + step]
            rhs = np.zeros((T, len(part)))
            rhs[part, np.arange(len(part))] = 1.0
            sub[:, start : start + len(part)] = self._lu.solve(rhs)[urows]
        return sub[np.ix_(row_of, col_of)]


def check_dense_task_kernel(n_tasks, what, copies=1):
    """A MemoryError when ``copies`` dense T x T arrays exceed MEMORY_LIMIT."""
    size = copies * 8.0 * n_tasks**2
    if size > MEMORY_LIMIT:
        raise MemoryError(
            f"{what} over {n_tasks} tasks is a {n_tasks} x {n_tasks} array of about "
            f"{size / 2**30:.1f} GiB (more than MEMORY_LIMIT = {MEMORY_LIMIT / 2**30:.0f} "
            "GiB). With task_ids data (one task label per row, 1-D y) the fit, predict and "
            "multitask_kernel compute only the entries of the tasks with rows; multi-output "
            "y (one column per task) needs the whole matrix."
        )


def laplacian_eigh(graph):
    return np.linalg.eigh(graph.laplacian(dense=True))


def check_kernel_matrix(K, what="the kernel matrix", dtype=np.float64):
    """Symmetric and positive semi-definite (to rounding), or a ValueError that says which.

    ``dtype``: that of the data K was computed from (float32 data round at 1e-7)."""
    rounding = 1e4 if dtype == np.float32 else 1.0  # float32 rounds at 1e-7, not 1e-16
    scale = np.abs(K).max(initial=0.0)
    asym = np.abs(K - K.T).max(initial=0.0)
    if asym > 1e-10 * rounding * max(scale, 1e-300):
        raise ValueError(
            f"{what} is not symmetric (max |K - K^T| = {asym:.3g}, max |K| = {scale:.3g}); a "
            "kernel matrix k(X, X) must be symmetric positive semi-definite."
        )
    if scale == 0.0:
        return
    # PSD to rounding: K + tau I has a Cholesky factor when min eig(K) > -tau
    tau = 1e-8 * rounding * max(np.abs(np.diag(K)).max(), scale)
    try:
        np.linalg.cholesky(K + tau * np.eye(K.shape[0]))
    except np.linalg.LinAlgError:
        low = np.linalg.eigvalsh(K)[0]
        raise ValueError(
            f"{what} is not positive semi-definite (smallest eigenvalue {low:.3g}, largest "
            f"|entry| {scale:.3g}); a kernel must give a positive semi-definite matrix k(X, X)."
        ) from None


def solve_dual(K, y, sw):
    """Dual coefficients of weighted kernel ridge with Gram matrix K (Cholesky)."""
    root = np.sqrt(sw)
    A = K * np.outer(root, root)
    A[np.diag_indices_from(A)] += 1.0
    try:
        factor = sla.cho_factor(A, lower=True, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            "the multi-task Gram matrix is not positive semi-definite: the kernel k is not a "
            "valid (positive semi-definite) kernel on these data."
        ) from exc
    rhs = root[:, None] * (y.reshape(len(y), -1))
    return (root[:, None] * sla.cho_solve(factor, rhs, check_finite=False)).reshape(y.shape)


def _check_spectrum(kappa, what):
    if kappa.size and kappa[0] < -1e-8 * max(abs(kappa[-1]), abs(kappa[0])):
        raise ValueError(
            f"{what} is not positive semi-definite (smallest eigenvalue {kappa[0]:.3g}, "
            f"largest {kappa[-1]:.3g}); a kernel must give a positive semi-definite k(X, X)."
        )


def _loo_from_diag(c_tilde, diag, root, y, fitted_zero_weight):
    """Leave-one-out predictions y - e_loo; rows of zero weight keep their fitted value."""
    positive = root > 0
    shape = (-1,) + (1,) * (y.ndim - 1)
    safe = np.where(positive, root, 1.0).reshape(shape)
    e_loo = c_tilde / (safe * diag)
    pred = y - e_loo
    if not positive.all():
        pred[~positive] = fitted_zero_weight(np.flatnonzero(~positive))
    return pred


class KroneckerPath:
    """Multi-output kernel ridge: Gram matrix inv(E) kron k(X, X), exactly, for any (alpha, l2)."""

    def __init__(self, Kx, sw, graph):
        self.Kx, self.root = Kx, np.sqrt(sw)
        self.kappa, self.Q = np.linalg.eigh(Kx * np.outer(self.root, self.root))
        _check_spectrum(self.kappa, "the kernel matrix k(X, X)")
        check_dense_task_kernel(graph.n_tasks, "the eigendecomposition of L", copies=3)
        self.lam, self.V = laplacian_eigh(graph)

    def _solve(self, Y, alpha, l2):
        if not l2 > 0:
            raise SingularProblemError(singular_task_kernel_message(alpha, l2))
        beta = 1.0 / (alpha * self.lam + l2)  # eigenvalues of inv(E)
        denom = np.maximum(self.kappa, 0.0)[:, None] * beta[None, :] + 1.0
        c_tilde = self.Q @ ((self.Q.T @ (self.root[:, None] * Y) @ self.V) / denom) @ self.V.T
        return c_tilde, denom

    def task_covariance(self, alpha, l2):
        return (self.V / (alpha * self.lam + l2)) @ self.V.T

    def dual_coef(self, Y, alpha, l2):
        """C of shape (n, T): f(x, t) = sum_i sum_s C[i, s] k(x, x_i) inv(E)[t, s]."""
        return self.root[:, None] * self._solve(Y, alpha, l2)[0]

    def loo_predictions(self, Y, alpha, l2):
        c_tilde, denom = self._solve(Y, alpha, l2)
        diag = (self.Q**2) @ (1.0 / denom) @ (self.V**2).T
        B = self.task_covariance(alpha, l2)

        def fitted(rows):
            return self.Kx[rows] @ (self.root[:, None] * c_tilde) @ B

        return _loo_from_diag(c_tilde, diag, self.root, Y, fitted)


class GramEigenPath:
    """task_ids kernel ridge with Gram matrix K_rho / l2, for every l2 (rho = alpha / l2 fixed)."""

    def __init__(self, K_rho, sw):
        self.K, self.root = K_rho, np.sqrt(sw)
        self.kappa, self.Q = np.linalg.eigh(K_rho * np.outer(self.root, self.root))
        _check_spectrum(self.kappa, "the multi-task kernel matrix")
        self.kappa = np.maximum(self.kappa, 0.0)

    def _solve(self, y, l2):
        denom = self.kappa / l2 + 1.0
        return self.Q @ ((self.Q.T @ (self.root * y)) / denom), denom

    def dual_coef(self, y, l2):
        return self.root * self._solve(y, l2)[0]

    def loo_predictions(self, y, l2):
        c_tilde, denom = self._solve(y, l2)
        diag = (self.Q**2) @ (1.0 / denom)

        def fitted(rows):
            return self.K[rows] @ (self.root * c_tilde) / l2

        return _loo_from_diag(c_tilde, diag, self.root, y, fitted)
