"""Exact direct solvers of the squared-loss normal equations (DESIGN.md section 2).

Each solves, for W of shape (n_tasks, d),

    G_t w_t + alpha (L W)_t + l2 w_t = r_t      for every task t,

from the per-task centred moments (intercepts are eliminated by centring).
"""

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .. import _jit
from ._common import SingularProblemError, singular_message


def solve_cholesky(stats, graph, alpha, l2, **_):
    """Cholesky factorisation of the dense (T d) x (T d) system."""
    G = stats.task_grams()
    T, d, _ = G.shape
    L = graph.laplacian()
    L = L.toarray() if sp.issparse(L) else L
    M = np.kron(alpha * L, np.eye(d))
    blocks = M.reshape(T, d, T, d)
    tasks = np.arange(T)
    blocks[tasks, :, tasks, :] += G
    M[np.diag_indices_from(M)] += l2
    try:
        factor = sla.cho_factor(M, lower=True, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError as exc:
        raise SingularProblemError(singular_message(alpha, l2)) from exc
    W = sla.cho_solve(factor, stats.xty.ravel(), check_finite=False)
    return W.reshape(T, d), None


def solve_woodbury(stats, graph, alpha, l2, **_):
    """Graphs whose Laplacian is a I - b 11^T (complete with equal weights, or empty).

    With M_t = G_t + (alpha a + l2) I and u = sum_t w_t, every w_t = M_t^-1 (r_t + alpha b u)
    and u solves the d x d system C u = sum_t M_t^-1 r_t, where
    C = I - alpha b sum_t M_t^-1 is computed as (1/T) sum_t M_t^-1 (G_t + (alpha (a - b T) + l2) I)
    so that no digits are lost to cancellation when alpha is large.
    """
    G = stats.task_grams()
    T, d, _ = G.shape
    a, b = graph.uniform_form()
    eye = np.eye(d)
    factor = cholesky_factors(G + (alpha * a + l2) * eye, alpha, l2)
    R = stats.xty[:, :, None]
    if alpha * b == 0.0:
        return _jit.cholesky_solve(factor, R)[:, :, 0], None
    rhs = np.concatenate([R, G + (alpha * (a - b * T) + l2) * eye], axis=2)
    P = _jit.cholesky_solve(factor, rhs)
    C = P[:, :, 1:].sum(axis=0) / T
    h = P[:, :, 0].sum(axis=0)
    if l2 == 0.0 and np.linalg.cond(C) > 1e12:
        raise SingularProblemError(singular_message(alpha, l2))
    u = np.linalg.solve(C, h)
    correction = _jit.cholesky_solve(
        factor, np.ascontiguousarray(np.broadcast_to((alpha * b) * u[:, None], (T, d, 1)))
    )
    return P[:, :, 0] + correction[:, :, 0], None


def solve_eigen(stats, graph, alpha, l2, **_):
    """Multi-output data (one X for all tasks): the Sylvester equation W G + alpha L W + l2 W = R.

    With G = U diag(g) U^T and L = V diag(lam) V^T the solution is
    W = V [(V^T R U) / (g_j + alpha lam_i + l2)] U^T: O(d^3 + T^3) after the data pass.
    """
    g, U = np.linalg.eigh(stats.gram)
    L = graph.laplacian()
    lam, V = np.linalg.eigh(L.toarray() if sp.issparse(L) else L)
    denom = g[None, :] + alpha * lam[:, None] + l2
    scale = max(np.abs(g).max(initial=0.0) + alpha * np.abs(lam).max(initial=0.0) + l2, 1.0)
    if denom.min() <= 1e-12 * scale:
        raise SingularProblemError(singular_message(alpha, l2))
    W = V @ ((V.T @ stats.xty @ U) / denom) @ U.T
    return W, None


def cholesky_factors(blocks, alpha, l2):
    """Lower Cholesky factors of a stack of SPD blocks; a singular block is a singular problem."""
    try:
        return np.linalg.cholesky(blocks)
    except np.linalg.LinAlgError as exc:
        raise SingularProblemError(singular_message(alpha, l2)) from exc
