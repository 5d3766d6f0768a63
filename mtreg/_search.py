"""What the search estimators share: the grid parameters, the folds, cv_results_ (computed
by :mod:`mtreg._grid`)."""

import numpy as np
from sklearn.model_selection import check_cv

from ._grid import grid_results, l2_value
from ._solvers._penalty import as_penalty


def _check_grid(values, name):
    try:
        values = np.atleast_1d(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number or a 1-D list of numbers.") from exc
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D list of numbers, got {values!r}.")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{name} must be finite and non-negative, got {values}.")
    return values


def _per_feature_l2(row, n_features):
    """A row of a 2-D ``l2s``: a float when constant, else a tuple (hashable, for
    grid_by_l2); the errors of :func:`as_penalty`, naming ``l2s``."""
    value = as_penalty(row, n_features, "each row of l2s")
    return tuple(value.tolist()) if np.ndim(value) else value


def _split_groups(cv, groups, labels):
    """Groups for cv.split: as given, else the task labels for a splitter that asks for
    groups (and does not read them from a task column itself)."""
    if groups is not None:
        return groups
    if getattr(cv, "task_column", None) is not None:
        return None
    try:
        wants_groups = "groups" in cv.get_metadata_routing().split.requests
    except AttributeError:  # an iterable of folds, or a splitter outside sklearn's routing
        wants_groups = False
    return labels if wants_groups else None


class _GridSearchMixin:
    """Grid parameters, cv_results_ and the best grid point, as GridSearchCV reports them."""

    def _grid(self, n_features=None):
        """[(alpha, l2)], alpha-major; with ``n_features`` (the linear search) a 2-D
        ``l2s`` gives one per-feature l2 per row, as a tuple (a constant row: its float)."""
        alphas = _check_grid(self.alphas, "alphas")
        if n_features is not None and np.ndim(self.l2s) == 2:
            l2s = [_per_feature_l2(row, n_features) for row in np.asarray(self.l2s)]
        else:
            l2s = [float(b) for b in _check_grid(self.l2s, "l2s")]
        return [(float(a), b) for a in alphas for b in l2s]

    def _folds(self, X, y, groups, labels):
        cv = check_cv(self.cv)
        return list(cv.split(X, y, groups=_split_groups(cv, groups, labels)))

    def _store_results(self, grid, split_scores, loo):
        self.cv_results_, self.best_index_ = grid_results(grid, split_scores, loo)
        self.alpha_, self.l2_ = grid[self.best_index_][0], l2_value(grid[self.best_index_][1])
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])


_SEARCH_DOC = """\
alphas : array-like of shape (n_alphas,) or float, default=(0.1, 1.0, 10.0)
        Values of alpha (graph coupling) to try. Non-negative floats (one alpha for every
        feature; for per-feature alphas search :class:`MultiTaskGraphRegressor`, which
        takes them, with ``GridSearchCV``).

    l2s : array-like of shape (n_l2s,){l2s_shape} or float, default=(1.0,)
        Values of l2 (ridge penalty) to try. Every (alpha, l2) pair is a grid point, in
        the order alpha-major (as ``GridSearchCV`` orders
        ``{{"alpha": ..., "l2": ...}}``).{l2s_note}

    cv : int, cross-validation generator, iterable or None, default=None
        None: exact leave-one-out{loo_note}. An int k: ``KFold(k)``. A splitter (e.g.
        :class:`TaskStratifiedKFold`, :class:`LeaveTasksOut`, ``GroupKFold``) is given the
        task labels as ``groups`` unless ``groups`` is passed to :meth:`fit` (or the splitter
        reads a ``task_column`` itself).

    scoring : str, callable or None, default=None
        A scikit-learn scorer name or callable, applied to the held-out predictions of each
        fold (with leave-one-out: to all the leave-one-out predictions at once); a
        :func:`mtreg.metrics.task_scorer` scores as the scorer it wraps. None: the
        negative mean squared error for leave-one-out, R^2 for k-fold (as ``RidgeCV``).
        Sample weights, when given, weigh the scores too."""

_SEARCH_ATTRIBUTES_DOC = """\
alpha_ : float
        Selected alpha.
    l2_ : float or ndarray of shape (n_features,)
        Selected l2 (an array when ``l2s`` gives per-feature rows).
    best_score_ : float
        Mean held-out score at the selected grid point.
    best_index_ : int
        Position of the selected grid point in ``cv_results_["params"]``.
    cv_results_ : dict of ndarrays
        As ``GridSearchCV.cv_results_``: "params", "param_alpha", "param_l2",
        "split{k}_test_score" and "std_test_score" (k-fold only), "mean_test_score",
        "rank_test_score"."""
