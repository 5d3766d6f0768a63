"""Task label encoding and per-task sufficient statistics.

Squared-loss fits need only, for each task t, the weighted row count, the means of x
and y, and the centred moments G_t = X_t^T S_t X_t and r_t = X_t^T S_t y_t (after
centring). They are computed in one pass over the rows by the kernels in ``_jit``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from . import _jit
from ._labels import encode_tasks  # noqa: F401  (re-exported)

# From this many features the products of tasks of BLAS_MIN_ROWS rows or more go to BLAS,
# MOMENT_BLOCK rows of a task at a time; below, and for smaller tasks, the rank-4 loop is
# faster (at 10 rows a task the product calls cost 8x it). Measured (scratch timings,
# issue 16) at n = 10^6 against X.T @ X in the same run: d = 20 sorted rows 0.40 -> 0.49
# of its rate, d = 50 0.33 -> 0.47.
BLAS_MOMENT_FEATURES = 16
MOMENT_BLOCK = 128
BLAS_MIN_ROWS = 64
# Multiply-adds (rows x features^2) below which one thread makes all the moments: handing
# work to the pool costs about what 10^6 of them do.
MOMENTS_PER_THREAD = 10**6
# Blocks of rows of task_stats (see block_rows): 32 MB of X, 256 rows a task at least.
BLOCK_BYTES = 2**25
BLOCK_ROWS_PER_TASK = 256


class Rows(NamedTuple):
    """The training rows of a fit, as the estimators pass them to their solvers.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The rows.
    y : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        Targets; 2-D (one column per task) when every task is at the same X.
    task_idx : ndarray of shape (n_samples,) or None
        Task index of each row; None when every task is at the same X.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weight of each row.

    Attributes
    ----------
    shared_X : bool
        Whether every task is observed at the same X (``task_idx is None``).
    """

    X: object
    y: np.ndarray
    task_idx: object
    sample_weight: np.ndarray

    @property
    def shared_X(self):
        """Whether every task is observed at the same X (``task_idx is None``)."""
        return self.task_idx is None


@dataclass
class TaskStats:
    """Weighted per-task moments of (X, y).

    The sufficient statistics of the squared loss, for each task t: the weighted row count,
    the means of x and y, and the (centred, when fitting intercepts) moments
    ``G_t = X_t^T S_t X_t`` and ``r_t = X_t^T S_t y_t``. They add up over chunks of rows
    with :meth:`merge`. Build them with :func:`mtreg.core.task_stats`.

    Parameters
    ----------
    gram : ndarray of shape (n_tasks, d, d), or (d, d) when every task shares X
        The Gram matrices G_t of the rows of each task.
    xty : ndarray of shape (n_tasks, d)
        The products r_t of the rows of each task with its targets.
    x_mean : ndarray of shape (n_tasks, d), or (d,) when every task shares X
        The weighted mean row of each task (zeros without centring).
    y_mean : ndarray of shape (n_tasks,)
        The weighted mean target of each task (zeros without centring).
    weight_sum : ndarray of shape (n_tasks,)
        The sum of the sample weights of each task's rows (0 for a task without rows).

    Attributes
    ----------
    shared_X : bool
        Whether every task is observed at the same X (one (d, d) Gram matrix).
    shared : bool
        The former name of ``shared_X``, kept as an alias.
    observed : ndarray of bool of shape (n_tasks,)
        Which tasks have rows of positive weight.

    See Also
    --------
    mtreg.core.task_stats : Compute the moments from (X, y, task_idx).
    mtreg.core.graph_ridge : Solve the squared-loss problem from the moments.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg.core import task_stats
    >>> X = np.array([[1.0], [3.0], [2.0]])
    >>> stats = task_stats(X, [1.0, 2.0, 5.0], [0, 0, 1], n_tasks=2)
    >>> stats.weight_sum, stats.x_mean.ravel()
    (array([2., 1.]), array([2., 2.]))
    >>> merged = task_stats(X[:2], [1.0, 2.0], [0, 0], n_tasks=2).merge(
    ...     task_stats(X[2:], [5.0], [1], n_tasks=2)
    ... )
    >>> bool(np.allclose(merged.gram, stats.gram))
    True
    """

    gram: np.ndarray
    xty: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    weight_sum: np.ndarray

    @property
    def shared_X(self) -> bool:
        """Whether every task is observed at the same X (one (d, d) Gram matrix)."""
        return self.gram.ndim == 2

    @property
    def shared(self) -> bool:
        """The former name of ``shared_X``, kept as an alias (public in mtreg.core)."""
        return self.shared_X

    @property
    def observed(self) -> np.ndarray:
        """Which tasks have rows of positive weight."""
        return self.weight_sum > 0

    def task_grams(self) -> np.ndarray:
        """Return the per-task Gram matrices, one per task even when X is shared.

        Returns
        -------
        grams : ndarray of shape (n_tasks, d, d)
            The Gram matrices; a read-only broadcast view when every task shares X.
        """
        if self.shared_X:
            return np.broadcast_to(self.gram, (len(self.y_mean),) + self.gram.shape)
        return self.gram

    def merge(self, other: TaskStats) -> TaskStats:
        """The moments of the rows of both (Chan, Golub & LeVeque's pairwise update).

        Centred moments add up with a correction for the shift of the means,
        ``G = G_a + G_b + (n_a n_b / n) (m_b - m_a)(m_b - m_a)^T``: exact, and stable where
        summing raw products and centring at the end would lose digits.

        Parameters
        ----------
        other : TaskStats
            The moments of other rows, for the same tasks and features.

        Returns
        -------
        merged : TaskStats
            The moments of the rows of ``self`` and ``other`` together.
        """
        return self._merged(other)

    def _merged(self, other, reuse=False):
        """:meth:`merge`; with ``reuse``, the Gram matrices written over ``self.gram`` (the
        blocks of :func:`task_stats`: one T d^2 array less at a time)."""
        na, nb = self.weight_sum, other.weight_sum
        if self.shared_X:
            na, nb = na[:1], nb[:1]  # every task shares the rows
        n = na + nb
        share = np.divide(nb, n, out=np.zeros_like(n), where=n > 0)
        factor = na * share  # n_a n_b / n
        dx = other.x_mean - self.x_mean
        dy = other.y_mean - self.y_mean
        if self.shared_X:
            gram = self.gram + other.gram + factor[0] * np.outer(dx, dx)
            x_mean = self.x_mean + share[0] * dx
        else:
            out = self.gram if reuse else np.empty_like(self.gram)
            gram = _jit.combine_grams(self.gram, other.gram, 1.0, factor, dx, out)
            x_mean = self.x_mean + share[:, None] * dx
        xty = self.xty + other.xty + (factor * dy)[:, None] * dx
        y_mean = self.y_mean + share * dy
        return TaskStats(gram, xty, x_mean, y_mean, self.weight_sum + other.weight_sum)

    def task_x_mean(self) -> np.ndarray:
        """Return the mean row of each task, one per task even when X is shared.

        Returns
        -------
        x_mean : ndarray of shape (n_tasks, d)
            The weighted mean rows; a read-only broadcast view when every task shares X.
        """
        if self.shared_X:
            return np.broadcast_to(self.x_mean, (len(self.y_mean), self.x_mean.shape[0]))
        return self.x_mean


def task_means(X, task_idx, sample_weight, n_tasks):
    """Weighted mean of the rows of each task, shape (n_tasks, n_features); 0 for tasks
    without weight."""
    sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
    task_idx = np.ascontiguousarray(task_idx, dtype=np.int64)
    if not sp.issparse(X):
        X = np.ascontiguousarray(X, dtype=np.float64)
        return _jit.task_means(X, task_idx, sample_weight, n_tasks)[1]
    rows = sp.csr_matrix(
        (sample_weight, (task_idx, np.arange(len(task_idx)))), shape=(n_tasks, X.shape[0])
    )
    weight = np.asarray(rows.sum(axis=1)).ravel()
    sums = np.asarray((rows @ X).todense())
    return sums / np.where(weight > 0, weight, 1.0)[:, None]


def task_stats(X, y, task_idx, sample_weight, n_tasks, fit_intercept):
    """Per-task moments of long-format data (rows of any task, in any order).

    Dense X of many more rows than :func:`block_rows` is taken a block of rows at a time,
    the blocks' moments merged (:meth:`TaskStats.merge`, exact): the rows of a task then
    lie close together in memory (measured, 10^7 shuffled rows of 1,000 tasks, d = 20:
    1.28 s in one pass, 0.47 s by blocks of 262,144 rows; 0.40 s for X.T @ X).
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    task_idx = np.ascontiguousarray(task_idx, dtype=np.int64)
    sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        out = _jit.task_moments_csr(
            X.data,
            X.indices.astype(np.int64),
            X.indptr.astype(np.int64),
            X.shape[1],
            y,
            task_idx,
            sample_weight,
            n_tasks,
            fit_intercept,
        )
        return _as_stats(out, fit_intercept)
    n = X.shape[0]
    step = block_rows(n_tasks, X.shape[1])
    step = step if n > 2 * step else max(n, 1)  # one block, of every row (or of none)
    stats = None
    for lo in range(0, max(n, 1), step):
        rows = slice(lo, lo + step)
        X_rows = np.ascontiguousarray(X[rows], dtype=np.float64)  # a copy of a block at most
        out = _dense_moments(
            X_rows, y[rows], task_idx[rows], sample_weight[rows], n_tasks, fit_intercept
        )
        block = _as_stats(out, fit_intercept)
        stats = block if stats is None else stats._merged(block, reuse=True)
    return stats


def block_rows(n_tasks, n_features):
    """Rows of a block of :func:`task_stats`: :data:`BLOCK_BYTES` of X, and at least
    :data:`BLOCK_ROWS_PER_TASK` per task (a merge costs T d^2, a block's rows n d^2)."""
    return max(BLOCK_ROWS_PER_TASK * n_tasks, BLOCK_BYTES // (8 * max(n_features, 1)))


def _as_stats(out, fit_intercept):
    weight_sum, x_mean, y_mean, gram, xty = out
    if not fit_intercept:
        x_mean[:] = 0.0
        y_mean[:] = 0.0
    return TaskStats(gram, xty, x_mean, y_mean, weight_sum)


def _dense_moments(X, y, task_idx, sample_weight, n_tasks, center):
    """The kernel's moments of dense X, ranges of tasks of about equal work side by side
    on mtreg's threads (as many as BLAS may use; each range calls BLAS on one thread)."""
    from ._solvers._threads import blas_threads, map_chunks, one_blas_thread  # (a cycle)

    n, d = X.shape
    order, start = _jit.group_rows(task_idx, n_tasks)
    out = tuple(np.empty((n_tasks, *shape)) for shape in ((), (d,), (), (d, d), (d,)))
    min_rows = BLAS_MIN_ROWS if d >= BLAS_MOMENT_FEATURES else n + 1
    work = n * d * d
    n_chunks = (
        1 if work < 2 * MOMENTS_PER_THREAD else min(blas_threads(), work // MOMENTS_PER_THREAD)
    )
    bounds = (0, n_tasks)
    if n_chunks > 1:  # the work of a task: its rows, and its d^2 moments to write
        cost = start + np.arange(n_tasks + 1)
        cuts = np.searchsorted(cost, np.linspace(0, cost[-1], n_chunks + 1)[1:-1])
        bounds = np.concatenate(([0], cuts, [n_tasks]))

    def tasks(k):
        lo, hi = bounds[k], bounds[k + 1]
        _jit.task_moments_range(
            X, y, sample_weight, order, start, lo, hi, center, MOMENT_BLOCK, min_rows, out
        )

    blas = n_chunks > 1 or d >= BLAS_MOMENT_FEATURES
    with one_blas_thread() if blas else contextlib.nullcontext():
        map_chunks(tasks, n_chunks)
    return out


def shared_stats(X, Y, sample_weight, fit_intercept):
    """Moments of multi-output data: every column of Y is a task observed at the same X."""
    s = np.asarray(sample_weight, dtype=np.float64)
    total = s.sum()
    d = X.shape[1]
    if fit_intercept and total > 0:
        x_mean = np.asarray(X.T @ s).ravel() / total
        y_mean = (Y.T @ s) / total
    else:
        x_mean, y_mean = np.zeros(d), np.zeros(Y.shape[1])
    if sp.issparse(X):
        Xs = X.multiply(s[:, None]).tocsr()
        gram = np.asarray((X.T @ Xs).todense()) - total * np.outer(x_mean, x_mean)
        xty = np.asarray((Xs.T @ Y).T) - total * np.outer(y_mean, x_mean)
    else:
        Xc = X - x_mean if fit_intercept else X
        Xs = Xc * s[:, None]
        gram = Xc.T @ Xs
        # Y^T S Xc needs no centring of Y: the weighted columns of Xc sum to zero
        xty = Y.T @ Xs
    weight_sum = np.full(Y.shape[1], total)
    return TaskStats(gram, xty, x_mean, y_mean, weight_sum)


def predict_rows(X, task_idx, coef, intercept):
    """x_i . w_{t_i} + b_{t_i} for every row (the numba kernels, in float64), or
    X W^T + b, shape (n, T), for every task at once when ``task_idx`` is None."""
    coef = np.ascontiguousarray(coef, dtype=np.float64)
    intercept = np.ascontiguousarray(intercept, dtype=np.float64)
    if task_idx is None:
        return np.asarray(X @ coef.T) + intercept
    task_idx = np.ascontiguousarray(task_idx, dtype=np.int64)
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        return _jit.predict_rows_csr(
            X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64), task_idx, coef, intercept
        )
    X = np.ascontiguousarray(X, dtype=np.float64)
    return _jit.predict_rows(X, task_idx, coef, intercept)
