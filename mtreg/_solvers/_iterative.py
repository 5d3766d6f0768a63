"""Block-Jacobi preconditioned conjugate gradient for sparse graphs and many tasks.

Never forms the (T d) x (T d) system: one product with the system costs
O(T d^2 + nnz(A) d), and the preconditioner is the inverse of each task's diagonal
block G_t + (alpha L_tt + l2) I.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .. import _jit
from ._direct import cholesky_factors


def solve_pcg(stats, graph, alpha, l2, *, tol=1e-10, max_iter=None, x0=None, **_):
    """Stops when ||R - A(W)||_F <= tol * ||R||_F; warns when ``max_iter`` is reached first."""
    G = stats.task_grams()
    R = stats.xty
    T, d = R.shape
    diag = alpha * graph.laplacian_diagonal() + l2
    # explicit inverses of the diagonal blocks: one stacked solve now, then one cheap
    # batched product per iteration (the temporaries are freed on return)
    precond = _jit.cholesky_solve(
        cholesky_factors(G + diag[:, None, None] * np.eye(d), alpha, l2),
        np.ascontiguousarray(np.broadcast_to(np.eye(d), G.shape)),
    )
    if max_iter is None:
        max_iter = max(1000, 10 * d)

    def system(W):
        return np.matmul(G, W[:, :, None])[:, :, 0] + alpha * graph.laplacian_matvec(W) + l2 * W

    def apply_precond(Res):
        return np.matmul(precond, Res[:, :, None])[:, :, 0]

    norm_rhs = np.linalg.norm(R)
    if norm_rhs == 0.0:
        return np.zeros_like(R), 0
    W = apply_precond(R) if x0 is None else np.array(x0, dtype=np.float64)
    Res = R - system(W)
    Z = apply_precond(Res)
    P = Z.copy()
    rz = np.vdot(Res, Z)
    for n_iter in range(1, max_iter + 1):
        if np.linalg.norm(Res) <= tol * norm_rhs:
            return W, n_iter - 1
        AP = system(P)
        step = rz / np.vdot(P, AP)
        W += step * P
        Res -= step * AP
        Z = apply_precond(Res)
        rz_new = np.vdot(Res, Z)
        P = Z + (rz_new / rz) * P
        rz = rz_new
    if np.linalg.norm(Res) > tol * norm_rhs:
        warnings.warn(
            f"pcg did not reach tol={tol} in max_iter={max_iter} iterations (relative "
            f"residual {np.linalg.norm(Res) / norm_rhs:.2e}); increase max_iter, or use "
            "solver='cholesky' for a small problem.",
            ConvergenceWarning,
            stacklevel=4,
        )
    return W, max_iter
