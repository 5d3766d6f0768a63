"""The exact (restricted) marginal likelihood of the graph-prior linear model, from the
per-task moments, with its gradient; and the posterior that predictions need.

The model, for rows (x_i, y_i, t_i) of positive weight s_i::

    y_i = z_i . theta_{t_i} + e_i,   e_i ~ N(0, sigma^2 / s_i),   z_i = x_i (and 1),

with theta_t = w_t (and b_t). Coordinate k of the tasks' parameters, theta_{:,k}, has the
Gaussian prior of precision ``P_k / sigma^2 = (alpha_k L + l2_k I) / sigma^2``. The
posterior precision (times sigma^2) is ``H = blockdiag_t(G_t) + sum_k P_k kron E_kk`` with
G_t the moments of [X_t, 1]; the posterior mean minimises J of DESIGN.md.

Where a P_k is singular (``l2_k = 0``: the mean of each connected component; the empty
graph: every task) the prior is flat along its null space N, and the evidence is the
restricted one of REML: those directions are integrated out with the Lebesgue measure of
the coefficients beta of ``theta_{:,k} = N beta + u``, ``u ~ N(0, sigma^2 P_k^+)`` on the
range of P_k; N holds the indicator vectors of the components (for the normalised
Laplacian: orthonormal null vectors). Flat intercepts (one free b_t per task with rows) are
integrated out the same way, with N = I. With sigma^2 profiled out (its maximiser is
``J_min / (n - p)``), the log evidence is::

    F = -(n - p) / 2 * (log(2 pi J_min / (n - p)) + 1) + 1/2 sum_i log s_i
        - 1/2 log det H + 1/2 sum_k [log pdet P_k - log det N_k^T N_k]

with n the rows of positive weight and p the flat directions: statsmodels MixedLM's REML
log-likelihood on the equivalent random-effects model.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg  # noqa: F401  (sp.linalg)

from . import _jit
from ._solvers._direct import stacked_cho_inverse

# How far (in log) each hyper-parameter may move from its start: variances run to 0 or to
# infinity (a feature pruned by its l2, tasks tied by their alpha). The Woodbury evidence stays
# exact out there (Parkinson's: F rose by 8 beyond e^30, some l2 at 1e17 times their start);
# the factorised H of other graphs loses digits (F noisy by 0.02 at alpha = 1.4e15, and
# L-BFGS-B's line search failed on it): e^30, where F is flat to the digits that count.
LOG_RANGE = {"woodbury": 200.0, "factorised": 30.0}
DENSE_LIMIT = 6000  # largest T * q solved with one dense Cholesky of H (sparse LU above)
SPECTRUM_LIMIT = 5000  # most tasks of a graph that is not uniform (a dense eigvalsh of L)


class EvidenceError(ValueError):
    """The posterior is improper: the data and the prior leave a direction undetermined."""


@dataclass
class Moments:
    """Per-task moment blocks of the coordinates that carry a prior.

    ``gram`` (T, q, q), ``xty`` (T, q), ``yty`` (T,): the moments of [X_t] (centred, with
    flat intercepts) or of [X_t, 1] (coupled intercepts); ``n_rows`` rows of positive
    weight, ``log_weight`` the sum of their log weights, ``n_flat_intercepts`` tasks with rows
    whose intercept is flat (then ``weight_sum`` and the means give the intercepts back).
    """

    gram: np.ndarray
    xty: np.ndarray
    yty: np.ndarray
    n_rows: int
    log_weight: float
    x_mean: np.ndarray
    y_mean: np.ndarray
    weight_sum: np.ndarray
    intercept: str  # "flat", "coupled" or "none"

    @property
    def n_flat_intercepts(self):
        return int(np.count_nonzero(self.weight_sum > 0)) if self.intercept == "flat" else 0


def spectrum(graph):
    """(eigenvalues, multiplicities, log det N^T N per flat coordinate, n_components) of the
    graph's Laplacian: in closed form for the uniform graphs, else dense."""
    T = graph.n_tasks
    form = graph.uniform_form()
    if form is not None:
        a, b = form
        if a == 0.0:  # the empty graph (or one task): every task its own component
            return np.zeros(1), np.array([T]), 0.0, T
        null = 0.0 if graph.kind == "normalized" else np.log(T)
        return np.array([a, 0.0]), np.array([T - 1, 1]), null, 1
    L = graph.laplacian(dense=True)
    lam = np.linalg.eigvalsh(L)
    lam[np.abs(lam) <= 1e-10 * max(1.0, np.abs(lam).max())] = 0.0
    labels = graph.components()
    n_comp = int(labels.max()) + 1
    null = 0.0 if graph.kind == "normalized" else float(np.log(np.bincount(labels)).sum())
    return lam, np.ones(T, dtype=np.int64), null, n_comp


def prior_term(alpha, l2, spec):
    """(sum_k [log pdet P_k - log det N^T N], flat directions p, d/d alpha, d/d l2)."""
    lam, mult, null, _ = spec
    total, flat = 0.0, 0
    d_alpha, d_l2 = np.zeros(len(alpha)), np.zeros(len(alpha))
    for k, (a, ridge) in enumerate(zip(alpha, l2, strict=True)):
        eig = a * lam + ridge
        ok = eig > 0
        flat += int(mult[~ok].sum())
        total += float((mult[ok] * np.log(eig[ok])).sum())
        d_alpha[k] = (mult[ok] * lam[ok] / eig[ok]).sum()
        d_l2[k] = (mult[ok] / eig[ok]).sum()
        if not ok.all():
            total -= null
    return total, flat, d_alpha, d_l2


@dataclass
class Posterior:
    """The posterior at one (alpha, l2), all in units of sigma^2 where a covariance.

    ``theta`` (T, q) the mean; ``cov`` (T, q, q) the diagonal blocks of H^-1 (given as
    an array, or as a function that computes them when first read: the maximisation
    needs only their traces); ``cov_sum`` (q, q) the sum of all blocks of H^-1 (the
    covariance of sum_t theta_t over sigma^2); ``logdet`` log det H; ``fit`` J_min;
    ``trace_L``, ``trace_I`` (q,) tr(H^-1 (L kron E_kk)) and tr(H^-1 (I kron E_kk));
    ``quad_L`` (q,) theta_{:,k}^T L theta_{:,k}.
    """

    theta: np.ndarray
    blocks: object  # cov, or the function that computes it
    cov_sum: np.ndarray
    logdet: float
    fit: float
    trace_L: np.ndarray
    trace_I: np.ndarray
    quad_L: np.ndarray

    @property
    def cov(self):
        if callable(self.blocks):
            self.blocks = self.blocks()
        return self.blocks


def _improper(what):
    return EvidenceError(
        f"the posterior is improper ({what}): the data leave a direction of the "
        "coefficients without information and the prior leaves it flat. Give l2 > 0 "
        "(or l2='learn'), couple the intercepts, or drop the constant or collinear "
        "features."
    )


def uniform_posterior(mom, alpha, l2, form):
    """The posterior for L = a I - b 11^T (complete and empty graphs): Woodbury and the
    matrix determinant lemma on the stacked (T, q, q) blocks, O(T q^3)."""
    a, b = form
    T, q = mom.xty.shape
    D = alpha * a + l2  # the diagonal of P per task (0: a coordinate flat in every task)
    # B_t = G_t + D = s (Ghat_t + D / s^2) s with s = sqrt(D) (1 where D = 0); the
    # capacitance K = I - b Da^1/2 C Da^1/2 (C = sum_t B_t^-1) is written as
    # (I - R) + R^1/2 mean_t(I - s B_t^-1 s) R^1/2 with R = T b alpha / D <= 1: a sum of
    # PSD terms, exact even where alpha dwarfs the data (K -> 0 would otherwise come out
    # of a difference of two numbers near 1)
    root_d = np.sqrt(np.where(D > 0, D, 1.0))
    Ghat = mom.gram / (root_d[:, None] * root_d[None, :])
    I_G = Ghat + np.diag(np.where(D > 0, 1.0, 0.0))
    try:
        chol = np.linalg.cholesky(I_G)
    except np.linalg.LinAlgError:
        raise _improper("a task's block is singular") from None
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum()
    logdet += 2.0 * T * np.log(root_d).sum()
    # (I + Ghat_t)^-1 from the factors (numba's stacked solves: np.linalg.inv's LU of 139
    # blocks of 23 x 23 was a third of an evaluation on school)
    Minv = stacked_cho_inverse(chol)
    Binv = Minv / (root_d[:, None] * root_d[None, :])
    v = (Binv @ mom.xty[:, :, None])[:, :, 0]
    C = Binv.sum(axis=0)
    R = np.divide(T * b * alpha, D, out=np.zeros(q), where=D > 0)
    # 1 - R and mean_t (I + Ghat_t)^-1 Ghat_t without differences of numbers near 1 (the
    # smallest eigenvalue a - T b of L is 0, or a for the empty graph): digits that count
    # where alpha is huge (the rows and columns of D = 0 are multiplied by R = 0)
    lowest = 0.0 if b > 0 else a
    rest = np.divide(alpha * lowest + l2, D, out=np.ones(q), where=D > 0)
    # sum_t Minv_t Ghat_t as one product (q x T q) (T q x q), Minv_t being symmetric
    shrunk = Minv.reshape(T * q, q).T @ Ghat.reshape(T * q, q) / T
    K = np.diag(rest) + np.sqrt(R)[:, None] * shrunk * np.sqrt(R)[None, :]
    K = (K + K.T) / 2
    try:
        Kc = np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        Kc = None
    # a direction of the shared mean that neither the data nor the prior determine makes K
    # singular, which rounding may leave at a pivot of +-eps relative to its diagonal entry
    # (K itself may be small: it shrinks as 1 / alpha)
    if Kc is None or np.any(np.diag(Kc) ** 2 <= 64 * q * np.finfo(float).eps * np.diag(K)):
        raise _improper("the tasks' shared mean is undetermined")
    logdet += 2.0 * np.log(np.diag(Kc)).sum()
    M = scipy.linalg.cho_solve((Kc, True), np.eye(q))
    root = np.sqrt(b * alpha)
    Q = root[:, None] * M * root[None, :]
    # S = sum_t theta_t solves (I - b C diag(alpha)) S = sum_t v_t, that is
    # Da^-1/2 K Da^1/2 S = sum_t v_t
    ra = np.sqrt(alpha)
    S = scipy.linalg.cho_solve((Kc, True), ra * v.sum(axis=0)) / ra
    theta = v + Binv @ (b * alpha * S)
    cov_sum = C + C @ Q @ C
    # tr(H^-1 (L kron E_kk)) and theta_k^T L theta_k, L = a I - b 11^T, written with the
    # deviations from the mean over tasks: a trace_I - b diag(cov_sum) and
    # a sum theta^2 - b (sum theta)^2 are differences of numbers that agree where the
    # tasks are tied together (alpha = 1e14: digits lost at 1e-13, then multiplied by alpha
    # in the gradient, which then pointed where F is flat)
    dev, mean = Binv - C / T, C / T
    Q_dev, Q_mean = Q @ dev, Q @ mean  # the one T q^3 product here
    gap = a - b * T  # the smallest eigenvalue of L (0 for the complete graph)
    trace_L = (a - b) * np.diag(C) + a * (dev * Q_dev).sum(axis=(0, 1))
    trace_L += gap * T * (mean * Q_mean).sum(axis=0)
    # the diagonals of the blocks Binv_t + Binv_t Q Binv_t, summed (Binv_t symmetric); the
    # blocks themselves only when read (the fitted posterior): T q^3 fewer per evaluation
    trace_I = np.diag(C) + (Binv * (Q_dev + Q_mean)).sum(axis=(0, 1))
    centred = theta - theta.mean(axis=0)
    quad_L = a * (centred**2).sum(axis=0) + gap * T * theta.mean(axis=0) ** 2
    fit = mom.yty.sum() - np.einsum("tk,tk->", theta, mom.xty)
    blocks = lambda: Binv + Binv @ Q @ Binv  # noqa: E731
    return Posterior(theta, blocks, cov_sum, logdet, fit, trace_L, trace_I, quad_L)


def dense_posterior(mom, alpha, l2, L):
    """The posterior for any graph: one dense Cholesky of the T q x T q matrix H."""
    T, q = mom.xty.shape
    H = np.zeros((T, q, T, q))
    idx = np.arange(T)
    H[idx, :, idx, :] = mom.gram
    for k in range(q):
        H[:, k, :, k] += alpha[k] * L + l2[k] * np.eye(T)
    H = H.reshape(T * q, T * q)
    try:
        factor = scipy.linalg.cho_factor(H, lower=True, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise _improper("H is singular") from None
    logdet = 2.0 * np.log(np.diag(factor[0])).sum()
    theta = scipy.linalg.cho_solve(factor, mom.xty.ravel(), check_finite=False).reshape(T, q)
    # H^-1 from the factor by LAPACK's potri, a third of the work of T q solves (survey's
    # 10-NN graph, T q = 2660: 1.0 s -> 0.3 s an evaluation). It fills one triangle of a
    # Fortran-ordered array: the upper one of its C-ordered transpose, mirrored below
    Hinv, info = scipy.linalg.lapack.dpotri(factor[0], lower=True, overwrite_c=True)
    if info != 0:
        raise _improper("H is singular")
    Hinv = _jit.mirror_upper(Hinv.T).reshape(T, q, T, q)
    cov = Hinv[idx, :, idx, :]
    cov_sum = Hinv.sum(axis=(0, 2))
    trace_I = np.einsum("tkk->k", cov)
    trace_L = np.einsum("tksk,st->k", Hinv, L)
    quad_L = np.einsum("tk,ts,sk->k", theta, L, theta)
    fit = mom.yty.sum() - np.einsum("tk,tk->", theta, mom.xty)
    return Posterior(theta, cov, cov_sum, logdet, fit, trace_L, trace_I, quad_L)


def sparse_posterior(mom, alpha, l2, L, batch=256):
    """The posterior for a large sparse graph: one sparse LU factorisation of H (SuperLU,
    symmetric mode, no pivoting: for a positive definite H the Cholesky factor up to a
    diagonal scaling), log det H exact from its diagonal; the diagonal blocks of H^-1 and
    the traces tr(H^-1 (L kron E_kk)) exact from the columns of H^-1, solved ``batch`` at
    a time: O(T q nnz(LU)) time per evaluation and O(nnz(LU) + T q batch) memory."""
    T, q = mom.xty.shape
    L = sp.csc_matrix(L, dtype=np.float64)
    blocks = sp.block_diag(list(mom.gram), format="csc")
    H = blocks + sp.kron(L, sp.diags(alpha)) + sp.kron(sp.eye(T), sp.diags(l2))
    try:
        lu = sp.linalg.splu(
            sp.csc_matrix(H),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options=dict(SymmetricMode=True),
        )
    except RuntimeError:
        raise _improper("H is singular") from None
    diag = lu.U.diagonal()
    if np.any(diag <= 0):
        raise _improper("H is singular")
    logdet = float(np.log(diag).sum())
    theta = lu.solve(mom.xty.ravel()).reshape(T, q)
    cov, trace_L = np.zeros((T, q, q)), np.zeros(q)
    for start in range(0, T * q, batch):
        j = np.arange(start, min(start + batch, T * q))
        rhs = np.zeros((T * q, len(j)))
        rhs[j, np.arange(len(j))] = 1.0
        cols = lu.solve(rhs).reshape(T, q, len(j))  # H^-1[:, j]
        task, k = np.divmod(j, q)
        cov[task, :, k] = cols[task, :, np.arange(len(j))]
        own = cols[:, k, np.arange(len(j))]  # H^-1[(t, k_j), j] for every t
        np.add.at(trace_L, k, np.asarray(L[:, task].multiply(own).sum(axis=0)).ravel())
    ones = np.zeros((T * q, q))
    ones[np.arange(T * q), np.tile(np.arange(q), T)] = 1.0  # 1 kron I
    cov_sum = ones.T @ lu.solve(ones)
    trace_I = np.einsum("tkk->k", cov)
    quad_L = np.einsum("tk,tk->k", theta, L @ theta)
    fit = mom.yty.sum() - np.einsum("tk,tk->", theta, mom.xty)
    return Posterior(theta, cov, cov_sum, logdet, fit, trace_L, trace_I, quad_L)


class Evidence:
    """The log evidence F(alpha, l2) of one data set and graph (see the module docstring).

    ``__call__(alpha, l2)`` returns (F, dF/dalpha, dF/dl2, posterior); the gradients are
    exact: envelope theorem for J_min and traces of H^-1 dH for log det H. The complete
    and empty graphs use Woodbury; other graphs a dense Cholesky of H up to
    ``T q = DENSE_LIMIT``, a sparse LU above (:func:`sparse_posterior`).
    """

    def __init__(self, mom, graph):
        self.mom = mom
        self.form = graph.uniform_form()
        T, q = mom.xty.shape
        if self.form is None and T > SPECTRUM_LIMIT:
            raise ValueError(
                f"the evidence of a graph that is not complete or empty needs the spectrum "
                f"of its Laplacian, computed densely for at most {SPECTRUM_LIMIT} tasks; "
                f"this graph has {T}: use the default complete graph, or fewer tasks."
            )
        self.spec = spectrum(graph)
        if self.form is None:
            self.sparse = T * q > DENSE_LIMIT
            if self.sparse:
                self.L = sp.csc_matrix(graph.laplacian(), dtype=np.float64)
            else:
                self.L = graph.laplacian(dense=True)

    def posterior(self, alpha, l2):
        if self.form is not None:
            return uniform_posterior(self.mom, alpha, l2, self.form)
        if self.sparse:
            return sparse_posterior(self.mom, alpha, l2, self.L)
        return dense_posterior(self.mom, alpha, l2, self.L)

    def __call__(self, alpha, l2):
        alpha, l2 = np.asarray(alpha, dtype=float), np.asarray(l2, dtype=float)
        prior, flat, dp_alpha, dp_l2 = prior_term(alpha, l2, self.spec)
        mom = self.mom
        m = mom.n_rows - flat - mom.n_flat_intercepts
        if m <= 0:
            raise _improper(
                f"n_samples = {mom.n_rows} rows of positive weight for "
                f"{flat + mom.n_flat_intercepts} flat effects"
            )
        post = self.posterior(alpha, l2)
        # an exact fit (sigma^2 -> 0, F -> inf) is held at 1e-12 of the sum of squares of y
        scale = mom.yty.sum() + (mom.weight_sum * mom.y_mean**2).sum()
        floor = 1e-12 * (scale if scale > 0 else 1.0)
        fit = max(post.fit, floor)
        post.exact = post.fit <= 10 * floor
        logdet = post.logdet
        if mom.intercept == "flat":  # the flat intercepts integrated out: det of W_t
            logdet += np.log(mom.weight_sum[mom.weight_sum > 0]).sum()
        F = (
            -0.5 * m * (np.log(2 * np.pi * fit / m) + 1.0)
            + 0.5 * mom.log_weight
            - 0.5 * logdet
            + 0.5 * prior
        )
        g_alpha = -0.5 * m * post.quad_L / fit - 0.5 * post.trace_L + 0.5 * dp_alpha
        g_l2 = -0.5 * m * (post.theta**2).sum(axis=0) / fit - 0.5 * post.trace_I + 0.5 * dp_l2
        post.noise_variance = fit / m
        return float(F), g_alpha, g_l2, post
