"""Independent dense references, written from DESIGN.md section 1 without mtreg's code."""

import numpy as np


def laplacian(A, normalized=False):
    A = np.asarray(A, dtype=float)
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0)
    deg = A.sum(axis=1)
    if not normalized:
        return np.diag(deg) - A
    inv = np.where(deg > 0, 1 / np.sqrt(np.where(deg > 0, deg, 1)), 0)
    return np.diag((deg > 0).astype(float)) - inv[:, None] * A * inv


def dense_solve(
    X,
    y,
    task_idx,
    n_tasks,
    A,
    alpha,
    l2,
    *,
    fit_intercept=True,
    sample_weight=None,
    normalized=False,
):
    """Minimise J by its normal equations in (vec W, b), built row by row.

    Returns (W, b) with b = NaN for tasks that have no rows of positive weight (their
    intercept is not determined by J). ``alpha`` and ``l2`` may be arrays of shape (d,):
    the penalty is then sum_j alpha_j w_j^T L w_j + l2_j ||w_j||^2, i.e. the block
    L kron diag(alpha) + I kron diag(l2) in vec(W) (W row by row).
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    T = n_tasks
    observed = np.unique(task_idx[s > 0])
    n_b = len(observed) if fit_intercept else 0
    Phi = np.zeros((n, T * d + n_b))
    for i in range(n):
        t = task_idx[i]
        Phi[i, t * d : (t + 1) * d] = X[i]
        if fit_intercept and s[i] > 0:
            Phi[i, T * d + np.searchsorted(observed, t)] = 1.0
    P = np.zeros((T * d + n_b, T * d + n_b))
    alpha_d = np.diag(np.broadcast_to(np.asarray(alpha, float), (d,)))
    l2_d = np.diag(np.broadcast_to(np.asarray(l2, float), (d,)))
    P[: T * d, : T * d] = np.kron(laplacian(A, normalized), alpha_d) + np.kron(np.eye(T), l2_d)
    M = Phi.T @ (s[:, None] * Phi) + P
    theta = np.linalg.solve(M, Phi.T @ (s * y))
    W = theta[: T * d].reshape(T, d)
    b = np.full(T, np.nan) if fit_intercept else np.zeros(T)
    if fit_intercept:
        b[observed] = theta[T * d :]
    return W, b


def objective_value(W, b, X, y, task_idx, A, alpha, l2, sample_weight=None):
    """J written as in DESIGN.md: pairwise differences, not the Laplacian (per-feature
    alpha and l2 weigh each column's differences and squares)."""
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    f = np.einsum("ij,ij->i", X, W[task_idx]) + b[task_idx]
    A = (np.asarray(A, float) + np.asarray(A, float).T) / 2
    alpha = np.broadcast_to(np.asarray(alpha, float), W.shape[1:])
    l2 = np.broadcast_to(np.asarray(l2, float), W.shape[1:])
    coupling = sum(
        A[u, v] * np.sum(alpha * (W[u] - W[v]) ** 2)
        for u in range(len(W))
        for v in range(u + 1, len(W))
    )
    return s @ (y - f) ** 2 + coupling + np.sum(l2 * W**2)


def make_long_data(rng, n_tasks=4, n_per_task=12, d=3, feature_scale=1.0):
    task_idx = np.repeat(np.arange(n_tasks), n_per_task)
    rng.shuffle(task_idx)
    X = rng.normal(size=(len(task_idx), d)) * feature_scale + rng.normal(size=d) * feature_scale
    W = rng.normal(size=(n_tasks, d))
    y = np.einsum("ij,ij->i", X, W[task_idx]) + rng.normal(size=n_tasks)[task_idx]
    y += 0.1 * rng.normal(size=len(y))
    return X, y, task_idx


def make_classification_data(rng, n_tasks=4, n_per_task=40, d=3):
    """Labels +-1 from per-task linear models that share a common part."""
    task_idx = np.repeat(np.arange(n_tasks), n_per_task)
    rng.shuffle(task_idx)
    X = rng.normal(size=(len(task_idx), d))
    W = rng.normal(size=d) + 0.5 * rng.normal(size=(n_tasks, d))
    f = np.einsum("ij,ij->i", X, W[task_idx]) + 0.3 * rng.normal(size=n_tasks)[task_idx]
    y = np.where(f + 0.5 * rng.normal(size=len(f)) > 0, 1.0, -1.0)
    return X, y, task_idx


def exact_solve(X, y, task_idx, n_tasks, A, alpha, l2, *, sample_weight=None):
    """Minimise J (squared loss, with intercepts) in exact rational arithmetic.

    The normal equations of ``dense_solve`` built and solved with ``fractions.Fraction``:
    exact whatever the conditioning (alpha = 1e15, l2 = 1e-15, extreme scales), for small
    problems only. Every task must have rows; returns (W, b) rounded to float.
    """
    from fractions import Fraction

    n, d = np.shape(X)
    T = n_tasks
    s = [Fraction(1)] * n if sample_weight is None else [Fraction(float(v)) for v in sample_weight]
    Lap = laplacian(A)
    size = T * d + T
    M = [[Fraction(0)] * size for _ in range(size)]
    rhs = [Fraction(0)] * size
    for i in range(n):
        t = int(task_idx[i])
        cols = [t * d + j for j in range(d)] + [T * d + t]
        vals = [Fraction(float(v)) for v in X[i]] + [Fraction(1)]
        for a, va in zip(cols, vals, strict=True):
            rhs[a] += s[i] * va * Fraction(float(y[i]))
            for c, vc in zip(cols, vals, strict=True):
                M[a][c] += s[i] * va * vc
    alpha, l2 = Fraction(float(alpha)), Fraction(float(l2))
    for u in range(T):
        for v in range(T):
            for j in range(d):
                M[u * d + j][v * d + j] += alpha * Fraction(float(Lap[u, v]))
    for k in range(T * d):
        M[k][k] += l2
    for k in range(size):  # Gauss-Jordan elimination, exact
        p = next(r for r in range(k, size) if M[r][k] != 0)
        M[k], M[p], rhs[k], rhs[p] = M[p], M[k], rhs[p], rhs[k]
        for r in range(size):
            if r != k and M[r][k] != 0:
                f = M[r][k] / M[k][k]
                M[r] = [a - f * b for a, b in zip(M[r], M[k], strict=True)]
                rhs[r] -= f * rhs[k]
    theta = np.array([float(rhs[k] / M[k][k]) for k in range(size)])
    return theta[: T * d].reshape(T, d), theta[T * d :]


def dense_reml(
    X, y, task_idx, n_tasks, A, alpha, l2, intercept, sample_weight=None, normalized=False
):
    """The profiled REML log-likelihood of the graph-prior model, written out with the n x n
    covariance of the rows, and the posterior mean (BLUP) of every task's coefficients.

    Coordinate k of [x, 1] (the 1 when ``intercept == "coupled"``) has the prior precision
    ``P_k = alpha[k] L + l2[k] I`` over sigma^2; y ~ N(X_f beta, sigma^2 V) with
    ``V = S^-1 + sum_k D_k P_k^+ D_k^T`` and X_f the flat directions: per coordinate the
    null space of P_k (component indicators; orthonormal for the normalised Laplacian), and
    with ``intercept == "flat"`` one free intercept per task with rows.

    Returns (F, sigma2, W, b): F with sigma^2 profiled out, sigma2 its REML estimate, W
    (T, d) and b (T,) the posterior means (b of a task without rows: NaN when flat).
    """
    from scipy.sparse.csgraph import connected_components

    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    keep = s > 0
    X, y, t, s = np.asarray(X, float)[keep], np.asarray(y, float)[keep], task_idx[keep], s[keep]
    n, d = X.shape
    T = n_tasks
    L = laplacian(A, normalized)
    Z = np.column_stack([X, np.ones(n)]) if intercept == "coupled" else X
    V = np.diag(1.0 / s)
    fixed, covs, designs, nulls = [], [], [], []
    for k in range(Z.shape[1]):
        P = alpha[k] * L + l2[k] * np.eye(T)
        lam, U = np.linalg.eigh(P)
        null = lam <= 1e-10 * max(1.0, lam.max())
        if normalized or not null.any():
            N = U[:, null]
        else:
            _, labels = connected_components(np.asarray(A) + np.asarray(A).T, directed=False)
            N = np.eye(labels.max() + 1)[labels]
        D = np.zeros((n, T))
        D[np.arange(n), t] = Z[:, k]
        cov = np.linalg.pinv(P, rcond=1e-10, hermitian=True)
        V += D @ cov @ D.T
        fixed.append(D @ N)
        covs.append(cov)
        designs.append(D)
        nulls.append(N)
    observed = np.unique(t)
    if intercept == "flat":
        fixed.append(np.eye(T)[t][:, observed])
    Xf = np.column_stack(fixed)
    p = Xf.shape[1]
    Vinv = np.linalg.inv(V)
    XVX = Xf.T @ Vinv @ Xf
    beta = np.linalg.solve(XVX, Xf.T @ Vinv @ y)
    r = y - Xf @ beta
    Q = r @ Vinv @ r
    F = (
        -(n - p) / 2 * (np.log(2 * np.pi * Q / (n - p)) + 1)
        - np.linalg.slogdet(V)[1] / 2
        - np.linalg.slogdet(XVX)[1] / 2
    )
    theta, start = [], 0
    for N, cov, D in zip(nulls, covs, designs, strict=True):
        theta.append(N @ beta[start : start + N.shape[1]] + cov @ D.T @ Vinv @ r)
        start += N.shape[1]
    theta = np.column_stack(theta)
    W = theta[:, :d]
    if intercept == "coupled":
        b = theta[:, d]
    elif intercept == "flat":
        b = np.full(T, np.nan)
        b[observed] = beta[start:]
    else:
        b = np.zeros(T)
    return F, Q / (n - p), W, b
