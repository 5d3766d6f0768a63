"""Exact direct solvers of the squared-loss normal equations (DESIGN.md section 2).

Each solves, for W of shape (n_tasks, d),

    G_t w_t + alpha (L W)_t + l2 w_t = r_t      for every task t,

from the per-task centred moments (intercepts are eliminated by centring). ``alpha`` and
``l2`` are floats, or arrays of shape (d,) (per-feature penalties, :mod:`._penalty`) that
multiply the columns: ``(L W) * alpha + W * l2``; "eigen" takes a per-feature ``l2`` only.
"""

import functools

import numpy as np
import scipy.linalg as sla

from .. import _jit
from ._errors import SingularProblemError, singular_message
from ._penalty import diagonal, largest, smallest

REFINE_STEPS = 10  # at most, of iterative refinement (see refine)
# Beyond this many features the stacked triangular solves go to LAPACK one block at a time:
# the numba loop (fastest for many small blocks: 0.46 ms against 2.8 ms for 139 blocks of
# 27 x 27 with 28 right-hand sides; 8 blocks of 128: 2.0 ms against 3.9 ms) falls behind
# BLAS-3 on 2 threads from about d = 160 (3 blocks of 500: 46 ms against 20 ms), measured
# on this project's 2-core machine.
LAPACK_SOLVE_FEATURES = 128


def stacked_cho_solve(factor, B):
    """Solve ``F_t F_t^T X_t = B_t`` for a stack of lower Cholesky factors, shape (T, d, k)."""
    if factor.shape[-1] <= LAPACK_SOLVE_FEATURES:
        return _jit.cholesky_solve(factor, B)
    return np.stack(
        [sla.cho_solve((F, True), b, check_finite=False) for F, b in zip(factor, B, strict=True)]
    )


def stacked_cho_inverse(factor):
    """``M_t^-1`` for a stack of lower Cholesky factors ``F_t`` (``M_t = F_t F_t^T``), shape
    (T, d, d): the stacked solves on the identity, or LAPACK's potri block by block beyond
    :data:`LAPACK_SOLVE_FEATURES` (a third of the work: 5 blocks of 301, 12 ms -> 5 ms)."""
    T, d, _ = factor.shape
    if d <= LAPACK_SOLVE_FEATURES:
        return _jit.cholesky_solve(factor, np.broadcast_to(np.eye(d), (T, d, d)))
    (potri,) = _lapack("potri")
    out = np.empty_like(factor)
    for F, block in zip(factor, out, strict=True):
        inverse, info = potri(F, lower=True)  # fills the lower triangle, Fortran-ordered
        if info != 0:  # not reached: F is the Cholesky factor of a positive definite block
            raise np.linalg.LinAlgError(f"LAPACK's potri failed (info {info})")
        block[...] = _jit.mirror_upper(inverse.T)
    return out


def solve_cholesky(stats, graph, alpha, l2, **_):
    """Cholesky factorisation of the dense (T d) x (T d) system."""
    G = stats.task_grams()
    T, d, _ = G.shape
    L = graph.laplacian(dense=True)
    M = _jit.graph_system(G, L, diagonal(alpha, d), diagonal(l2, d))
    # LAPACK itself (the routines scipy's cho_factor and cho_solve call, got once): the
    # wrappers' checks cost more than the solve of a small system
    potrf, potrs = _lapack("potrf", "potrs")
    factor, info = potrf(M, lower=True, overwrite_a=True, clean=False)
    if info > 0:
        raise SingularProblemError(singular_message(alpha, l2))
    if info < 0:  # not reached: M is square, finite and float64
        raise ValueError(f"illegal value in argument {-info} of LAPACK's potrf")

    def solve(Res):
        out, info = potrs(factor, Res.ravel(), lower=True)
        if info != 0:  # not reached (see above)
            raise ValueError(f"illegal value in argument {-info} of LAPACK's potrs")
        return out.reshape(T, d)

    W = refine(solve, lambda W: normal_matvec(G, graph, alpha, l2, W), stats.xty)
    return W, None


@functools.cache
def _lapack(*names):
    """The float64 LAPACK routines ``names`` (scipy.linalg.get_lapack_funcs), got once."""
    return sla.get_lapack_funcs(names, (np.zeros(1),))


def normal_matvec(G, graph, alpha, l2, W):
    """The left-hand side of the normal equations: G_t w_t + alpha (L W)_t + l2 w_t
    (per feature: the columns of L W and W times alpha_j and l2_j)."""
    return np.matmul(G, W[:, :, None])[:, :, 0] + graph.laplacian_matvec(W) * alpha + W * l2


def rounding_floor(G, graph, alpha, l2, W):
    """The norm of the residual of the normal equations that rounding W to double
    precision leaves: about eps * ||system|| * ||W||, with alpha ||L|| <= 2 alpha max deg.
    Under a strong coupling no W reaches a smaller one."""
    gram = np.sqrt(np.einsum("tjk,tjk->t", G, G).max(initial=0.0))
    coupling = 2.0 * largest(alpha) * np.abs(graph.laplacian_diagonal()).max(initial=0.0)
    size = gram + coupling + largest(l2)
    return 16.0 * np.finfo(float).eps * size * np.linalg.norm(W)


def refine(solve, system, R, max_steps=REFINE_STEPS):
    """``solve(R)`` improved by iterative refinement: W += solve(R - system(W)) while the
    corrections shrink (by half at least) and the next one would still change W.

    A strong coupling (alpha = 1e15) makes the factorised system ill-conditioned, and
    its solution loses digits (errors of 1e-2 measured); the residual, computed with
    :meth:`TaskGraph.laplacian_matvec` (accurate under strong coupling), recovers them
    in a few steps, each one back-substitution and one product. The corrections, not
    the residual, decide: rounding of W alone leaves a residual of about
    eps * alpha * ||L|| ||W||, which no W can beat. Refinement converges linearly, each
    correction about rate times the one before, and the first one's rate is about its
    size over ||W|| (the relative error of the first solve, eps times the condition
    number): the loop stops once the next correction would be below eps ||W||, which on
    a well-conditioned system is after the first (one solve and one product fewer).
    """
    eps = np.finfo(float).eps
    W = solve(R)
    scale, previous = np.linalg.norm(W), np.inf  # what the first correction is set against
    for _ in range(max_steps):
        correction = solve(R - system(W))
        size = np.linalg.norm(correction)
        if not size < 0.5 * previous:
            break
        W = W + correction
        if size * size <= eps * np.linalg.norm(W) * min(scale, previous):
            break  # the next correction, about size * (size / previous), changes nothing
        previous = size
    return W


def solve_woodbury(stats, graph, alpha, l2, **_):
    """Graphs whose Laplacian is a I - b 11^T (complete with equal weights, or empty).

    With M_t = G_t + (alpha a + l2) I and u = sum_t w_t, every w_t = M_t^-1 (r_t + alpha b u)
    and u solves the d x d system C u = sum_t M_t^-1 r_t, where
    C = I - alpha b sum_t M_t^-1 is computed as (1/T) sum_t M_t^-1 (G_t + (alpha (a - b T) + l2) I)
    so that no digits are lost to cancellation when alpha is large. Per-feature penalties
    put diag(alpha) and diag(l2) in place of alpha I and l2 I throughout (then
    C = I - b sum_t M_t^-1 diag(alpha), not symmetric).
    """
    G = stats.task_grams()
    T, d, _ = G.shape
    a, b = graph.uniform_form()
    eye = np.eye(d)
    factor = cholesky_factors(G + eye * (alpha * a + l2), alpha, l2)
    R = stats.xty[:, :, None]
    if np.all(alpha * b == 0.0):
        return stacked_cho_solve(factor, R)[:, :, 0], None
    rhs = np.concatenate([R, G + eye * (alpha * (a - b * T) + l2)], axis=2)
    P = stacked_cho_solve(factor, rhs)
    C = P[:, :, 1:].sum(axis=0) / T
    h = P[:, :, 0].sum(axis=0)
    if smallest(l2) == 0.0 and np.linalg.cond(C) > 1e12:
        raise SingularProblemError(singular_message(alpha, l2))
    u = np.linalg.solve(C, h)
    correction = stacked_cho_solve(
        factor, np.ascontiguousarray(np.broadcast_to((alpha * b * u)[:, None], (T, d, 1)))
    )
    return P[:, :, 0] + correction[:, :, 0], None


def solve_eigen(stats, graph, alpha, l2, **_):
    """Multi-output data (one X for all tasks): the Sylvester equation W G + alpha L W + l2 W = R.

    With G = U diag(g) U^T and L = V diag(lam) V^T the solution is
    W = V [(V^T R U) / (g_j + alpha lam_i + l2)] U^T: O(d^3 + T^3) after the data pass.
    A per-feature l2 joins the data: G + diag(l2) = U diag(g) U^T, and the l2 of the
    denominator is 0. A per-feature alpha has no such form (the capability table routes
    it to another solver).
    """
    if np.ndim(alpha):
        raise ValueError("solver='eigen' takes a per-feature l2 but not a per-feature alpha.")
    if np.ndim(l2):
        d = len(l2)
        g, U = np.linalg.eigh(stats.gram + np.eye(d) * l2)
        return _eigen_solve(stats, graph, alpha, 0.0, g, U, float(l2.min())), None
    g, U = np.linalg.eigh(stats.gram)
    return _eigen_solve(stats, graph, alpha, l2, g, U, l2), None


def _eigen_solve(stats, graph, alpha, l2, g, U, l2_min):
    """W = V [(V^T R U) / (g_j + alpha lam_i + l2)] U^T; ``l2_min`` names the penalty in
    the error of a singular problem."""
    lam, V = np.linalg.eigh(graph.laplacian(dense=True))
    # the Laplacian's zero eigenvalues (one per component) are exact: rounding leaves
    # them at about eps * max(lam), which alpha = 1e15 would turn into a coupling
    lam[: _n_components(graph)] = 0.0
    denom = g[None, :] + alpha * lam[:, None] + l2
    # the coupling's size is no yardstick here: alpha = 1e15 must not make the data's
    # own directions look singular (the shared ones have alpha * lam = 0 exactly)
    scale = max(np.abs(g).max(initial=0.0) + l2, 1.0)
    if denom.min() <= 1e-12 * scale:
        raise SingularProblemError(singular_message(alpha, l2_min))
    return V @ ((V.T @ stats.xty @ U) / denom) @ U.T


def cholesky_factors(blocks, alpha, l2):
    """Lower Cholesky factors of a stack of SPD blocks; a singular block is a singular problem."""
    try:
        return np.linalg.cholesky(blocks)
    except np.linalg.LinAlgError as exc:
        raise SingularProblemError(singular_message(alpha, l2)) from exc


def _n_components(graph):
    """Multiplicity of the zero eigenvalue of the Laplacian (0 for a TaskCoupling)."""
    if getattr(graph, "coupling", None) is not None:
        return 0
    return len(np.unique(graph.components()))
