"""The grid searches of the CV estimators as functions: the held-out score of every grid
point of (alpha, l2), and the ``cv_results_`` table with the best point.

:func:`linear_grid_scores` scores graph-regularised ridge (from the paths of
:mod:`mtreg._solvers._cv`), :func:`kernel_grid_scores` multi-task kernel ridge (from those
of :mod:`mtreg._kernel_ridge`), by exact leave-one-out (``folds`` None) or over the given
folds. :func:`grid_scores` applies the user's scoring, or the default (the negative mean
squared error for leave-one-out, R^2 for k-fold, as ``RidgeCV``), to the predictions of
every grid point at once; :func:`grid_results` ranks the points as ``GridSearchCV`` does.
"""

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import get_scorer

from ._kernel_ridge import kernel_kfold_scores, kernel_loo_predictions
from ._solvers._cv import kfold_path_scores, loo_path_predictions


class _Predictions(RegressorMixin, BaseEstimator):
    """Hands held-out predictions to a scorer: ``predict(P)`` returns P."""

    def predict(self, predictions):
        return predictions


def weighted_r2(y, preds, sw):
    """R^2 of each prediction in ``preds`` (sklearn's r2_score, averaged over outputs)."""
    mean = np.average(y, axis=0, weights=sw)
    den = np.tensordot(sw, (y - mean) ** 2, axes=(0, 0))
    num = (
        np.tensordot((preds - y) ** 2, sw, axes=([1], [0]))
        if y.ndim == 1
        else np.einsum("ant,n->at", (preds - y) ** 2, sw)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(
            den != 0, 1.0 - num / np.where(den != 0, den, 1.0), np.where(num == 0, 1.0, 0.0)
        )
    return r2 if y.ndim == 1 else r2.mean(axis=1)


def neg_mse(y, preds, sw):
    """The negative weighted mean squared error of each prediction in ``preds``."""
    err = (preds - y) ** 2
    if y.ndim == 2:
        err = err.mean(axis=2)
    return -(err @ sw) / sw.sum()


def grid_scores(scoring, default, y, preds, sw, weighted):
    """The score of each prediction in ``preds`` (one per grid point) against y.

    ``scoring`` None: ``default`` ("mse" or "r2"); else a scorer name or callable, given
    the sample weights when ``weighted``."""
    if scoring is None:
        return neg_mse(y, preds, sw) if default == "mse" else weighted_r2(y, preds, sw)
    scorer = get_scorer(scoring)
    kw = {"sample_weight": sw} if weighted else {}
    return np.array([scorer(_Predictions(), p, y, **kw) for p in preds], dtype=np.float64)


def _fold_scorer(scoring, y, sw, weighted):
    def score(test, preds):  # the user's scorer, on the rows of one fold
        return grid_scores(scoring, "r2", y[test], preds, sw[test], weighted)

    return score


def linear_grid_scores(X, y, task_idx, sw, graph, grid, folds, scoring, weighted, **path):
    """(scores, moments of all rows) of graph-regularised ridge at every grid point.

    ``folds`` None: exact leave-one-out, scores of shape (n_grid,); else a list of
    (train, test) row indices, scores of shape (n_folds, n_grid). ``path``: fit_intercept,
    tol, max_iter of the paths."""
    if folds is None:
        stats, preds = loo_path_predictions(X, y, task_idx, sw, graph, grid, **path)
        return grid_scores(scoring, "mse", y, preds, sw, weighted), stats
    score = _fold_scorer(scoring, y, sw, weighted)
    return kfold_path_scores(
        X, y, task_idx, sw, graph, grid, folds, score, r2=scoring is None, **path
    )


def kernel_grid_scores(Kx, y, task_idx, sw, graph, grid, folds, scoring, weighted):
    """Scores of multi-task kernel ridge at every grid point, from the input kernel matrix
    ``Kx`` of the training rows: as :func:`linear_grid_scores` (without the moments)."""
    if folds is None:
        preds = kernel_loo_predictions(Kx, y, task_idx, sw, graph, grid)
        return grid_scores(scoring, "mse", y, preds, sw, weighted)
    score = _fold_scorer(scoring, y, sw, weighted)
    return kernel_kfold_scores(Kx, y, task_idx, sw, graph, grid, folds, score)


def l2_value(l2):
    """The l2 of a grid point as the estimator's parameter: a float, or an array for the
    tuple of a per-feature row of ``l2s``."""
    return np.array(l2) if isinstance(l2, tuple) else l2


def _l2_column(values):
    """cv_results_["param_l2"]: floats, or an object array of floats and arrays."""
    if not any(np.ndim(v) for v in values):
        return np.array(values)
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def grid_results(grid, split_scores, loo):
    """(cv_results_, best index) of the grid, as ``GridSearchCV`` reports them.

    ``split_scores``: (n_folds, n_grid) or, for leave-one-out (``loo``), (n_grid,). The
    best point is the first of the highest mean score; NaN scores rank last."""
    split_scores = np.atleast_2d(split_scores)
    mean = split_scores.mean(axis=0)
    results = {
        "params": [{"alpha": a, "l2": l2_value(b)} for a, b in grid],
        "param_alpha": np.array([a for a, _ in grid]),
        "param_l2": _l2_column([l2_value(b) for _, b in grid]),
    }
    if not loo:
        for k, scores in enumerate(split_scores):
            results[f"split{k}_test_score"] = scores
    results["mean_test_score"] = mean
    if not loo:
        results["std_test_score"] = split_scores.std(axis=0)
    if not np.isfinite(mean).any():  # -inf or NaN everywhere: argmax would pick the first
        raise ValueError(
            f"no grid point has a finite mean score (scores {np.unique(mean)}): nothing to "
            "choose from. Squared errors overflow for |y| near 1e154 or beyond: rescale y "
            "(for example to unit scale); else check the data and the scoring."
        )
    ranked = np.nan_to_num(mean, nan=np.nanmin(mean) - 1)
    results["rank_test_score"] = rankdata(-ranked, method="min").astype(np.int32)
    return results, int(np.argmin(results["rank_test_score"]))
