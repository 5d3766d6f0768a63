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
    intercept is not determined by J).
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
    P[: T * d, : T * d] = alpha * np.kron(laplacian(A, normalized), np.eye(d)) + l2 * np.eye(T * d)
    M = Phi.T @ (s[:, None] * Phi) + P
    theta = np.linalg.solve(M, Phi.T @ (s * y))
    W = theta[: T * d].reshape(T, d)
    b = np.full(T, np.nan) if fit_intercept else np.zeros(T)
    if fit_intercept:
        b[observed] = theta[T * d :]
    return W, b


def objective_value(W, b, X, y, task_idx, A, alpha, l2, sample_weight=None):
    """J written as in DESIGN.md: pairwise differences, not the Laplacian."""
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    f = np.einsum("ij,ij->i", X, W[task_idx]) + b[task_idx]
    A = (np.asarray(A, float) + np.asarray(A, float).T) / 2
    coupling = sum(
        A[u, v] * np.sum((W[u] - W[v]) ** 2) for u in range(len(W)) for v in range(u + 1, len(W))
    )
    return s @ (y - f) ** 2 + alpha * coupling + l2 * np.sum(W**2)


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
