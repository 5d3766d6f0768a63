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

from ._errors import SingularProblemError


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
    L = graph.laplacian()
    E = alpha * (L.toarray() if sp.issparse(L) else L) + l2 * np.eye(T)
    return sla.cho_solve(sla.cho_factor(E, lower=True), np.eye(T))


def laplacian_eigh(graph):
    L = graph.laplacian()
    return np.linalg.eigh(L.toarray() if sp.issparse(L) else np.asarray(L, dtype=np.float64))


def check_kernel_matrix(K, what="the kernel matrix"):
    """Symmetric and positive semi-definite (to rounding), or a ValueError that says which."""
    scale = np.abs(K).max(initial=0.0)
    asym = np.abs(K - K.T).max(initial=0.0)
    if asym > 1e-10 * max(scale, 1e-300):
        raise ValueError(
            f"{what} is not symmetric (max |K - K^T| = {asym:.3g}, max |K| = {scale:.3g}); a "
            "kernel matrix k(X, X) must be symmetric positive semi-definite."
        )
    if scale == 0.0:
        return
    # PSD to rounding: K + tau I has a Cholesky factor when min eig(K) > -tau
    tau = 1e-8 * max(np.abs(np.diag(K)).max(), scale)
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
