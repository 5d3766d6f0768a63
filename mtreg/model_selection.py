"""Cross-validation for multi-task data: task-aware splitters, and estimators that select
alpha (and l2) by exact leave-one-out or k-fold cross-validation over a whole grid at the cost
of a few fits (defined in private modules, public here)."""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples

from ._graph import sorted_labels
from ._splits import interleaved, stratified_folds, task_folds
from ._task_column import take_task_column
from ._typing import MatrixLike, OptArray

__all__ = [
    "LeaveTasksOut",
    "MultiTaskGraphRegressorCV",
    "MultiTaskKernelRidgeCV",
    "TaskStratifiedKFold",
]


class TaskStratifiedKFold(BaseCrossValidator):
    """K-fold cross-validation stratified by task: every task is in every fold.

    The rows of each task are dealt out over the ``n_splits`` test folds in turn, so each
    test fold holds about ``1 / n_splits`` of every task and each training set holds the
    rest. A multi-task model then never meets a task at test time that it did not see in
    training, and each fold's score weighs the tasks as the whole data set does. Fold
    sizes differ by at most one row.

    The task labels come from ``groups`` in :meth:`split` or, with ``task_column``, from
    a column of X (as for :class:`mtreg.MultiTaskGraphRegressor`). ``groups`` is requested
    by default under metadata routing, as in scikit-learn's group splitters.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2. Every task needs at least ``n_splits`` rows.

    shuffle : bool, default=False
        Shuffle the rows of each task before dealing them out; otherwise they keep their
        order in the data.

    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle; only with ``shuffle=True``.

    task_column : int or str, default=None
        Read the task labels from this column of X (position, or name when X is a
        DataFrame) instead of ``groups``.

    See Also
    --------
    LeaveTasksOut : Hold out whole tasks instead of rows of every task.
    sklearn.model_selection.StratifiedKFold : Stratified by class instead of by task.
    sklearn.model_selection.GroupKFold : Every group (task) in one test fold only.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg import TaskStratifiedKFold
    >>> X = np.zeros((6, 2))
    >>> tasks = ["a", "a", "a", "b", "b", "b"]
    >>> for train, test in TaskStratifiedKFold(n_splits=3).split(X, groups=tasks):
    ...     print(train, test)
    [1 4 2 5] [0 3]
    [0 3 2 5] [1 4]
    [0 3 1 4] [2 5]
    """

    __metadata_request__split = {"groups": True, "task_ids": True}

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None, task_column=None):
        # validated here, as scikit-learn's splitters do: they are not cloned or tuned
        if not isinstance(n_splits, Integral) or isinstance(n_splits, bool) or n_splits < 2:
            raise ValueError(f"n_splits must be an integer of at least 2, got {n_splits!r}.")
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}.")
        if not shuffle and random_state is not None:
            raise ValueError(
                "random_state has no effect when shuffle=False; leave it at None or set "
                "shuffle=True."
            )
        if task_column is not None and (
            isinstance(task_column, bool) or not isinstance(task_column, (Integral, str))
        ):
            raise ValueError(f"task_column must be an int, a str or None, got {task_column!r}.")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state
        self.task_column = task_column

    def get_n_splits(
        self,
        X: MatrixLike | None = None,
        y: OptArray = None,
        groups: OptArray = None,
        task_ids: OptArray = None,
    ) -> int:
        """Return the number of splits, ``n_splits``.

        Parameters
        ----------
        X : object, default=None
            Ignored; for compatibility with scikit-learn's splitters.
        y : object, default=None
            Ignored.
        groups : object, default=None
            Ignored.
        task_ids : object, default=None
            Ignored.

        Returns
        -------
        n_splits : int
            The number of folds.
        """
        return self.n_splits

    def split(
        self, X: MatrixLike, y: OptArray = None, groups: OptArray = None, task_ids: OptArray = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate (train, test) row indices of each fold.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            The data; only its number of rows is used, and its ``task_column`` if set.
        y : array-like of shape (n_samples,), default=None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Task label of each row; required unless ``task_ids`` or ``task_column`` gives
            them.
        task_ids : array-like of shape (n_samples,), default=None
            The same as ``groups``: under metadata routing the ``task_ids`` passed to the
            search's fit reach the splitter too.

        Yields
        ------
        train : ndarray
            The training row indices of the fold, in turn over the tasks (the first rows
            of every task, then the second ones, ...), so that any leading part of them,
            as :func:`sklearn.model_selection.learning_curve` takes, spans every task it can.
        test : ndarray
            The test row indices of the fold.
        """
        labels = self._task_labels(X, _one_of(groups, task_ids))
        fold, codes = self._fold_of_rows(labels)
        for k in range(self.n_splits):
            train = np.flatnonzero(fold != k)
            yield interleaved(train, codes[train]), np.flatnonzero(fold == k)

    def _fold_of_rows(self, labels):
        """The test fold of each row, and its task's position."""
        tasks, codes = sorted_labels(labels, return_inverse=True)
        rng = check_random_state(self.random_state) if self.shuffle else None
        return stratified_folds(tasks, codes, self.n_splits, rng), codes

    def _task_labels(self, X, groups):
        n_samples = _num_samples(X)
        if self.task_column is not None:
            if groups is not None:
                raise ValueError(
                    "task labels were given twice: in groups and in task_column="
                    f"{self.task_column!r}; pass only one."
                )
            labels = take_task_column(X, self.task_column)[1]
        elif groups is None:
            raise ValueError(
                f"{type(self).__name__} needs the task labels: pass groups=task_ids to split "
                "(under metadata routing, pass groups to the fit of the search or "
                "cross_validate), or set task_column."
            )
        else:
            labels = np.asarray(groups)
        if labels.shape != (n_samples,):
            raise ValueError(
                f"the task labels have shape {labels.shape} but X has {n_samples} rows."
            )
        return labels


def _one_of(groups, task_ids):
    """The task labels from ``groups`` or ``task_ids`` (equal if both are given)."""
    if groups is None or task_ids is None:
        return task_ids if groups is None else groups
    if not np.array_equal(np.asarray(groups, dtype=object), np.asarray(task_ids, dtype=object)):
        raise ValueError("groups and task_ids differ: pass the task labels once.")
    return groups


class LeaveTasksOut(BaseCrossValidator):
    """Cross-validation over tasks: each test set is every row of a group of whole tasks.

    The tasks are dealt out over ``n_splits`` groups in turn (in sorted order, or shuffled),
    so each fold holds out about ``n_tasks / n_splits`` tasks, none of which the training
    set has seen: this measures how well the task graph carries a model to new tasks. A
    model evaluated this way must know the held-out tasks (through ``tasks=`` or a labelled
    graph, as :class:`MultiTaskGraphRegressorCV` arranges by itself).

    The task labels come from ``groups`` in :meth:`split` or, with ``task_column``, from a
    column of X. ``groups`` is requested by default under metadata routing.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2 and at most the number of tasks.

    shuffle : bool, default=False
        Shuffle the tasks before dealing them out.

    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle; only with ``shuffle=True``.

    task_column : int or str, default=None
        Read the task labels from this column of X instead of ``groups``.

    See Also
    --------
    TaskStratifiedKFold : Every task in every fold instead.
    sklearn.model_selection.GroupKFold : Whole groups held out, folds balanced by rows.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg import LeaveTasksOut
    >>> X = np.zeros((6, 2))
    >>> tasks = ["a", "b", "c", "a", "b", "c"]
    >>> for train, test in LeaveTasksOut(n_splits=3).split(X, groups=tasks):
    ...     print(train, test)
    [1 2 4 5] [0 3]
    [0 2 3 5] [1 4]
    [0 1 3 4] [2 5]
    """

    __metadata_request__split = {"groups": True, "task_ids": True}
    __init__ = TaskStratifiedKFold.__init__
    get_n_splits = TaskStratifiedKFold.get_n_splits
    _task_labels = TaskStratifiedKFold._task_labels

    def split(
        self, X: MatrixLike, y: OptArray = None, groups: OptArray = None, task_ids: OptArray = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate (train, test) row indices of each fold.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            The data; only its number of rows is used, and its ``task_column`` if set.
        y : array-like of shape (n_samples,), default=None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Task label of each row; required unless ``task_ids`` or ``task_column`` gives
            them.
        task_ids : array-like of shape (n_samples,), default=None
            The same as ``groups``: under metadata routing the ``task_ids`` passed to the
            search's fit reach the splitter too.

        Yields
        ------
        train : ndarray
            The training row indices of the fold.
        test : ndarray
            The test row indices of the fold.
        """
        yield from super().split(X, y, _one_of(groups, task_ids))

    def _iter_test_indices(self, X, y=None, groups=None):
        labels = self._task_labels(X, groups)
        tasks, codes = sorted_labels(labels, return_inverse=True)
        if len(tasks) < self.n_splits:
            raise ValueError(
                f"LeaveTasksOut(n_splits={self.n_splits}) needs at least n_splits tasks, but "
                f"the data have {len(tasks)}. Lower n_splits."
            )
        order = np.arange(len(tasks))
        if self.shuffle:
            order = check_random_state(self.random_state).permutation(len(tasks))
        fold = task_folds(codes, self.n_splits, order)
        for k in range(self.n_splits):
            yield np.flatnonzero(fold == k)


# the search estimators import the estimators they tune, which do not import this module
from ._kernel_cv import MultiTaskKernelRidgeCV  # noqa: E402
from ._linear_cv import MultiTaskGraphRegressorCV  # noqa: E402
