"""Block-Jacobi preconditioned conjugate gradient for sparse graphs and many tasks.

Never forms the (T d) x (T d) system: one product with the system costs
O(T d^2 + nnz(A) d), and the preconditioner is the inverse of each task's diagonal
block G_t + (alpha L_tt + l2) I (per-feature penalties: G_t + diag(alpha L_tt + l2)).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._direct import cholesky_factors, normal_matvec, rounding_floor, stacked_cho_inverse

MAX_RESTARTS = 10  # of CG from the current W, when the true residual misses tol


def solve_pcg(stats, graph, alpha, l2, *, tol=1e-10, max_iter=None, x0=None, **_):
    """Stops when ||R - A(W)||_F <= tol * ||R||_F, or when it reaches the residual that
    rounding of W leaves (see :func:`rounding_floor`: under a strong coupling tol may lie
    below it); warns when ``max_iter`` is reached first."""
    G = stats.task_grams()
    R = stats.xty
    T, d = R.shape
    # the penalty on the diagonal of each task's block, (T, d): alpha_j L_tt + l2_j
    diag = np.outer(graph.laplacian_diagonal(), np.broadcast_to(alpha, (d,))) + l2
    # explicit inverses of the diagonal blocks: one stacked solve now, then one cheap
    # batched product per iteration (the temporaries are freed on return)
    precond = stacked_cho_inverse(cholesky_factors(G + diag[:, None, :] * np.eye(d), alpha, l2))
    if max_iter is None:
        max_iter = max(1000, 10 * d)

    def system(W):
        return normal_matvec(G, graph, alpha, l2, W)

    def apply_precond(Res):
        return np.matmul(precond, Res[:, :, None])[:, :, 0]

    norm_rhs = np.linalg.norm(R)
    if norm_rhs == 0.0:
        return np.zeros_like(R), 0
    W = apply_precond(R) if x0 is None else np.array(x0, dtype=np.float64)
    n_iter, restarts = 0, 0
    while True:
        W, used = _cg(W, R, system, apply_precond, tol * norm_rhs, max_iter - n_iter)
        n_iter += used
        # the recurrence's residual drifts from the true one when the system is badly
        # conditioned (a strong coupling): restart from W until the true residual is met
        true_norm = np.linalg.norm(R - system(W))
        target = max(tol * norm_rhs, rounding_floor(G, graph, alpha, l2, W))
        if true_norm <= target or n_iter >= max_iter or restarts == MAX_RESTARTS:
            break
        restarts += 1
    if true_norm > target:
        warnings.warn(
            f"pcg did not reach tol={tol} in max_iter={max_iter} iterations (relative "
            f"residual {true_norm / norm_rhs:.2e}); increase max_iter, or use "
            "solver='cholesky' for a small problem.",
            ConvergenceWarning,
            stacklevel=4,
        )
    return W, n_iter


def _cg(W, R, system, apply_precond, threshold, max_iter):
    """Preconditioned CG from W until the recurrence's residual is below ``threshold``:
    (W, iterations used)."""
    Res = R - system(W)
    Z = apply_precond(Res)
    P = Z.copy()
    rz = np.vdot(Res, Z)
    for n_iter in range(max_iter):
        if np.linalg.norm(Res) <= threshold:
            return W, n_iter
        AP = system(P)
        step = rz / np.vdot(P, AP)
        W = W + step * P
        Res = Res - step * AP
        Z = apply_precond(Res)
        rz_new = np.vdot(Res, Z)
        P = Z + (rz_new / rz) * P
        rz = rz_new
    return W, max_iter
