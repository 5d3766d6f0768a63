"""The objective J of DESIGN.md section 1: value and gradient, in plain NumPy.

This is the one definition every solver is judged by: tests check solutions against it,
and benchmarks minimise it with generic optimisers.

    J(W, b) = sum_i s_i loss(y_i, x_i . w_{t_i} + b_{t_i})
            + alpha tr(W^T L W) + l2 ||W||_F^2 + l1 ||W||_1

``alpha`` and ``l2`` may also be arrays of shape (n_features,): the penalty is then
sum_j alpha_j w_{:,j}^T L w_{:,j} + l2_j ||w_{:,j}||^2 (a float is every alpha_j equal).
"""

import numpy as np
import scipy.sparse as sp

from ._losses import LOSSES, get_loss

__all__ = ["LOSSES", "gradient", "objective", "smooth_penalty"]


def _decision(W, b, X, task_idx):
    rows = W[task_idx]  # (n, d): the plain NumPy route, one copy of w_t per row
    if sp.issparse(X):
        return np.asarray(X.multiply(rows).sum(axis=1)).ravel() + b[task_idx]
    return np.einsum("ij,ij->i", X, rows) + b[task_idx]


def _loss_and_derivative(loss, y, f):
    return get_loss(loss).value_and_derivative(y, f)


def _penalty_matvec(laplacian, W):
    if hasattr(laplacian, "laplacian_matvec"):
        return laplacian.laplacian_matvec(W)
    return laplacian @ W


def smooth_penalty(W, laplacian, *, alpha, l2):
    """sum_j alpha_j w_j^T L w_j + l2_j ||w_j||^2 (the columns w_j of W) and its gradient
    with respect to W; ``alpha`` and ``l2`` are floats or arrays of shape (n_features,)."""
    LW = np.asarray(_penalty_matvec(laplacian, W))
    if np.ndim(alpha) == 0 and np.ndim(l2) == 0:
        value = alpha * np.vdot(W, LW) + l2 * np.vdot(W, W)
        return float(value), 2.0 * alpha * LW + 2.0 * l2 * W
    alpha, l2 = np.asarray(alpha, dtype=float), np.asarray(l2, dtype=float)
    value = np.vdot(W, LW * alpha) + np.vdot(W, W * l2)
    return float(value), 2.0 * (alpha * LW + l2 * W)


def objective(
    W, b, X, y, task_idx, laplacian, *, alpha, l2, l1=0.0, loss="squared", sample_weight=None
):
    """J(W, b).

    Parameters
    ----------
    W : ndarray of shape (n_tasks, n_features)
    b : ndarray of shape (n_tasks,)
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    task_idx : ndarray of shape (n_samples,), integer task positions
    laplacian : ndarray, sparse matrix or TaskGraph (anything that gives L @ W)
    """
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    values, _ = _loss_and_derivative(loss, y, _decision(W, b, X, task_idx))
    penalty, _ = smooth_penalty(W, laplacian, alpha=alpha, l2=l2)
    return float(s @ values) + penalty + l1 * float(np.abs(W).sum())


def gradient(W, b, X, y, task_idx, laplacian, *, alpha, l2, loss="squared", sample_weight=None):
    """Gradient of the smooth part of J (everything but the l1 term): (dJ/dW, dJ/db)."""
    T = W.shape[0]
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    _, deriv = _loss_and_derivative(loss, y, _decision(W, b, X, task_idx))
    g = s * deriv
    onehot = sp.csr_matrix((g, (task_idx, np.arange(len(y)))), shape=(T, len(y)))
    gW = np.asarray(onehot @ X)
    gW = gW.toarray() if sp.issparse(gW) else gW
    gW += smooth_penalty(W, laplacian, alpha=alpha, l2=l2)[1]
    gb = np.bincount(task_idx, weights=g, minlength=T)
    return gW, gb
