"""The moments of every cross-validation training and test set, from one pass over the data.

Fold k's training moments are the merge (:meth:`TaskStats.merge`) of the moments of the
blocks of rows that fold k does not test, made from K disjoint blocks at once; test moments
are made on demand. The held-out squared error of every model of a path then follows from the
test set's moments (:func:`mtreg._solvers._path.heldout_sse`) instead of its rows.
"""

import numpy as np

from .. import _jit
from .._tasks import TaskStats, shared_stats, task_stats


class _Parts:
    """Moments of K disjoint row sets, stacked, to merge any subset of them at once.

    The K-way form of :meth:`TaskStats.merge`: G = sum_k [G_k + S_k (m_k - m)(m_k - m)^T]
    over the chosen parts, in one vectorised step rather than K - 1 pairwise ones (a
    k-fold search merges K - 1 parts per fold).
    """

    def __init__(self, parts, shared_X):
        """``parts``: the moments of each part stacked along a first axis (a TaskStats
        of arrays (K, T, d, d), ... or (K, d, d), ... for shared rows)."""
        self.shared_X = shared_X
        self.S = parts.weight_sum  # (K, T)
        self.m = parts.x_mean  # (K, T, d), or (K, d) for shared rows
        self.y = parts.y_mean
        self.G = parts.gram
        self.r = parts.xty
        self.G_all, self.r_all = self.G.sum(axis=0), self.r.sum(axis=0)

    @classmethod
    def of(cls, parts):
        """From a list of :class:`TaskStats`, the moments of each part."""
        fields = ("gram", "xty", "x_mean", "y_mean", "weight_sum")
        return cls(
            TaskStats(*(np.array([getattr(p, f) for p in parts]) for f in fields)),
            parts[0].shared_X,
        )

    def union(self, mask):
        """Merged moments of the parts where ``mask`` is True."""
        left = np.flatnonzero(~mask)
        # the sum over the kept parts as the total less the rest: each G_k is positive
        # semi-definite, so no more than a digit is lost to the subtraction
        G = self.G_all - self.G[left].sum(axis=0) if left.size else self.G_all.copy()
        r = self.r_all - self.r[left].sum(axis=0) if left.size else self.r_all.copy()
        S_k = self.S[mask]
        S = S_k.sum(axis=0)
        safe = np.where(S > 0, S, 1.0)
        y_k = self.y[mask]
        y_mean = (S_k * y_k).sum(axis=0) / safe
        dy = y_k - y_mean
        m_k = self.m[mask]
        if self.shared_X:  # one x mean, one weight per row for all tasks
            w = S_k[:, 0]
            x_mean = w @ m_k / safe[0]
            dm = m_k - x_mean
            G += (w[:, None] * dm).T @ dm
            r += (w[:, None] * dy).T @ dm
        else:
            x_mean = (S_k[:, :, None] * m_k).sum(axis=0) / safe[:, None]
            dm = (m_k - x_mean).transpose(1, 0, 2)  # (T, K, d)
            weighted = (S_k.T[:, :, None] * dm).transpose(0, 2, 1)
            G += np.matmul(weighted, dm)
            r += np.matmul(weighted, dy.T[:, :, None])[:, :, 0]
        return TaskStats(G, r, x_mean, y_mean, S)

    def without(self, k, full):
        """Moments of all the parts but part k, from ``full`` (the union of all of them).

        The pairwise update run backwards: G = G_full - G_k - (S S_k / S_full) dm dm^T with
        dm = m - m_k. Part k is one test fold, a minority of each task's rows, so the
        subtractions lose at most a digit; a task with all its rows in part k gets exact
        zeros. Without intercepts every mean is 0 and this is G_full - G_k.
        """
        S_k = self.S[k]
        S = np.delete(self.S, k, axis=0).sum(axis=0)  # the kept weights, summed exactly
        keep = S > 0
        safe = np.where(keep, S, 1.0)
        factor = S * S_k / np.where(S + S_k > 0, S + S_k, 1.0)
        y_mean = (full.weight_sum * full.y_mean - S_k * self.y[k]) / safe
        dy = y_mean - self.y[k]
        if self.shared_X:  # one x mean and one weight for every task
            x_mean = (full.weight_sum[0] * full.x_mean - S_k[0] * self.m[k]) / safe[0]
            dm = x_mean - self.m[k]
            G = full.gram - self.G[k] - factor[0] * np.outer(dm, dm)
            r = full.xty - self.r[k] - np.outer(factor * dy, dm)
        else:
            x_mean = (full.weight_sum[:, None] * full.x_mean - S_k[:, None] * self.m[k]) / safe[
                :, None
            ]
            dm = x_mean - self.m[k]
            G = full.gram - self.G[k] - factor[:, None, None] * dm[:, :, None] * dm[:, None, :]
            r = full.xty - self.r[k] - (factor * dy)[:, None] * dm
        if not keep.all():  # tasks with every row in part k (all tasks, for shared rows)
            r[~keep] = 0.0
            y_mean[~keep] = 0.0
            if self.shared_X:
                G[:], x_mean[:] = 0.0, 0.0
            else:
                G[~keep], x_mean[~keep] = 0.0, 0.0
        return TaskStats(G, r, x_mean, y_mean, np.where(keep, S, 0.0))

    def downdates(self, n, full):
        """What :meth:`without` needs for parts 0..n-1 (rows with task ids), at once, but
        the Gram matrices: (factor, dm, xty, x_mean, y_mean, weight_sum), each stacked
        over the parts; :meth:`without_gram` then makes part k's Gram matrices."""
        S_k = self.S[:n]
        # the kept weights, summed exactly (a task with every row in part k gets 0)
        S = np.array([np.delete(self.S, k, axis=0).sum(axis=0) for k in range(n)])
        keep = S > 0
        safe = np.where(keep, S, 1.0)
        factor = S * S_k / np.where(S + S_k > 0, S + S_k, 1.0)
        y_mean = (full.weight_sum * full.y_mean - S_k * self.y[:n]) / safe
        dy = y_mean - self.y[:n]
        x_mean = (full.weight_sum[:, None] * full.x_mean - S_k[..., None] * self.m[:n]) / safe[
            ..., None
        ]
        dm = x_mean - self.m[:n]  # (n, T, d)
        r = full.xty - self.r[:n] - (factor * dy)[..., None] * dm
        r[~keep], y_mean[~keep], x_mean[~keep] = 0.0, 0.0, 0.0
        return factor, dm, r, x_mean, y_mean, np.where(keep, S, 0.0)

    def without_gram(self, k, full, factor, dm, weight_sum):
        """Gram matrices of all the parts but part k (see :meth:`without`)."""
        G = _jit.combine_grams(full.gram, self.G[k], -1.0, factor, dm, np.empty_like(full.gram))
        G[weight_sum == 0] = 0.0  # tasks with every row in part k
        return G


class FoldMoments:
    """The moments of all the rows, of each test set and each training set of ``folds``.

    When the test sets partition (part of) the data and each training set is the rest, as
    for k-fold splitters, the moments of each (test set, task) come from one pass over the
    data and each training set's are merged from them; otherwise each training set (and
    test set) is passed over on its own. ``full`` is made at once; :meth:`train` and
    :meth:`test` make fold k's on demand (on the thread that asks, see :func:`run_folds`).
    """

    def __init__(self, X, y, task_idx, sw, n_tasks, fit_intercept, folds):
        self._data = (X, y, task_idx, sw, n_tasks, fit_intercept)
        self._folds = folds
        n = X.shape[0]
        block = _complementary_partition(folds, n)
        self._stacked = None
        if block is None:
            self.full = _subset_stats(*self._data, np.arange(n))
            return
        n_blocks = len(folds) + 1
        if task_idx is None:
            parts = [
                _subset_stats(X, y, None, sw, n_tasks, fit_intercept, np.flatnonzero(block == k))
                for k in range(n_blocks)
            ]
            stacked = _Parts.of(parts)
        else:
            joint = task_stats(
                X, y, block * n_tasks + task_idx, sw, n_blocks * n_tasks, fit_intercept
            )
            d = X.shape[1]
            stacked = _Parts(
                TaskStats(
                    joint.gram.reshape(n_blocks, n_tasks, d, d),
                    joint.xty.reshape(n_blocks, n_tasks, d),
                    joint.x_mean.reshape(n_blocks, n_tasks, d),
                    joint.y_mean.reshape(n_blocks, n_tasks),
                    joint.weight_sum.reshape(n_blocks, n_tasks),
                ),
                shared_X=False,
            )
        self._stacked = stacked
        # without intercepts the means are 0 and this is a plain sum
        self.full = stacked.union(np.ones(n_blocks, dtype=bool))
        self._downdates = None if stacked.shared_X else stacked.downdates(len(folds), self.full)

    def train(self, k):
        """Moments of the training set of fold k."""
        stacked = self._stacked
        if stacked is None:
            return _subset_stats(*self._data, self._folds[k][0])
        if stacked.shared_X:
            return stacked.without(k, self.full)
        factor, dm, r, x_mean, y_mean, S = (a[k] for a in self._downdates)
        G = stacked.without_gram(k, self.full, factor, dm, S)
        return TaskStats(G, r, x_mean, y_mean, S)

    def test(self, k):
        """Moments of the test set of fold k."""
        stacked = self._stacked
        if stacked is None:
            return _subset_stats(*self._data, self._folds[k][1])
        return TaskStats(stacked.G[k], stacked.r[k], stacked.m[k], stacked.y[k], stacked.S[k])


def _complementary_partition(folds, n):
    """Fold of each row's test set (len(folds) if none), or None unless every test set is
    disjoint from the others and every training set is the rest of the data."""
    block = np.full(n, len(folds), dtype=np.int64)
    for k, (train, test) in enumerate(folds):
        if len(train) + len(test) != n or np.any(block[test] != len(folds)):
            return None
        block[test] = k
        seen = np.zeros(n, dtype=bool)
        seen[train] = True
        seen[test] = True
        if not seen.all():
            return None
    return block


def _subset_stats(X, y, task_idx, sw, n_tasks, fit_intercept, rows):
    if task_idx is None:
        return shared_stats(X[rows], y[rows], sw[rows], fit_intercept)
    return task_stats(X[rows], y[rows], task_idx[rows], sw[rows], n_tasks, fit_intercept)
