"""The index arithmetic of the task-aware splitters of :mod:`mtreg.model_selection`.

Rows are dealt out over ``n_splits`` folds in turn: every row of every task
(:func:`stratified_folds`, each task in every test fold), or whole tasks
(:func:`task_folds`, each task in one test fold). The splitters validate their parameters
and read the task labels; these functions take the integer task code of every row.
"""

import numpy as np

from ._graph import _show


def stratified_folds(tasks, codes, n_splits, rng=None):
    """The test fold of every row: the rows of each task, in row order or shuffled by the
    RandomState ``rng``, go to consecutive folds. ``tasks`` (the labels of the codes) name
    the tasks too small for every fold in the error."""
    counts = np.bincount(codes, minlength=len(tasks))
    short = counts < n_splits
    if short.any():
        raise ValueError(
            f"tasks {_show(tasks[short].tolist())} have fewer rows than "
            f"n_splits={n_splits} (the fewest: {counts.min()}); every task needs at "
            "least n_splits rows to be in every fold. Lower n_splits."
        )
    keys = np.arange(len(codes)) if rng is None else rng.permutation(len(codes))
    # rows sorted by task (then by key): consecutive positions go to consecutive folds,
    # so each task, having at least n_splits rows, reaches every fold
    order = np.lexsort((keys, codes))
    fold = np.empty(len(codes), dtype=np.int64)
    fold[order] = np.arange(len(codes)) % n_splits
    return fold


def rank_within(codes):
    """The position of each row among the rows of its task, in row order."""
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], codes[order])
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = np.arange(len(codes)) - starts
    return rank


def interleaved(rows, codes):
    """``rows`` in turn over the tasks: the first row of every task, then the second ones,
    ... (``codes`` the task code of each of them)."""
    return rows[np.lexsort((codes, rank_within(codes)))]


def task_folds(codes, n_splits, order):
    """The test fold of every row when whole tasks are dealt out over the folds, in the
    order ``order`` of the task codes (a permutation of 0, ..., T - 1)."""
    group = np.empty(len(order), dtype=np.int64)
    group[order] = np.arange(len(order)) % n_splits
    return group[codes.ravel()]
