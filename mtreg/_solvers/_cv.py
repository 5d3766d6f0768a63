"""Cross-validation of graph-regularised ridge over a grid of (alpha, l2), from the paths.

* :func:`loo_path_predictions`: exact leave-one-out predictions at every grid point, read
  off one factorisation (e_i / (1 - h_ii)).
* :func:`kfold_path_scores`: the score of every grid point on every fold; each fold's
  training moments come from :class:`FoldMoments`, its solutions from one path. With R^2 on
  task_ids data and intercepts, the held-out squared error comes from the moments of the
  test set, not from predicting its rows: the same number.

The scorer is the caller's (``score(test, predictions)``); it runs in the calling thread.
"""

import contextlib

import numpy as np

from .._tasks import shared_stats, task_stats
from ._folds import FoldMoments
from ._kernel import laplacian_eigh
from ._path import (
    check_loo_rows,
    heldout_sse,
    loo_predictions,
    make_path,
    path_for_l2,
    path_intercepts,
    predict_path,
    run_folds,
)
from ._threads import one_blas_thread


def grid_by_l2(grid):
    """{l2: (positions in the grid, alphas)}: a path is factorised once per l2 at most
    (a per-feature l2 is a tuple, see :func:`path_for_l2`)."""
    out = {}
    for k, (a, b) in enumerate(grid):
        out.setdefault(b, ([], []))
        out[b][0].append(k)
        out[b][1].append(a)
    return {b: (np.array(pos), np.array(al)) for b, (pos, al) in out.items()}


def _small_blocks(stats, graph):
    """The paths made of many small decompositions (see run_folds)."""
    return stats.shared_X or graph.uniform_form() is not None


def loo_path_predictions(X, y, task_idx, sw, graph, grid, *, fit_intercept, tol, max_iter):
    """(moments of all rows, leave-one-out predictions of shape (n_grid,) + y.shape)."""
    check_loo_rows(task_idx, sw, graph.n_tasks, graph.tasks, fit_intercept)
    if task_idx is None:
        stats = shared_stats(X, y, sw, fit_intercept)
    else:
        stats = task_stats(X, y, task_idx, sw, graph.n_tasks, fit_intercept)
    preds = np.empty((len(grid),) + y.shape)
    with one_blas_thread() if _small_blocks(stats, graph) else contextlib.nullcontext():
        options = dict(loo=True, tol=tol, max_iter=max_iter)
        path = make_path(stats, graph, **options)
        for l2, (pos, alphas) in grid_by_l2(grid).items():
            path_l2, l2 = path_for_l2(path, stats, graph, l2, **options)
            preds[pos] = loo_predictions(
                path_l2, X, y, task_idx, sw, stats, graph, alphas, l2, fit_intercept
            )
    return stats, preds


def kfold_path_scores(
    X, y, task_idx, sw, graph, grid, folds, score, *, fit_intercept, tol, max_iter, r2=False
):
    """(scores of shape (n_folds, n_grid), moments of all rows).

    ``score(test, preds)`` scores the predictions ``preds`` (n_grid,) + y[test].shape of the
    rows ``test``. ``r2=True`` says that ``score`` is R^2: then, on task_ids data with
    intercepts, the scores come from the test moments, 1 - SSE / SST (a fold with SST = 0
    takes the rows: sklearn's 0 / 0 rule).
    """
    moments = FoldMoments(X, y, task_idx, sw, graph.n_tasks, fit_intercept, folds)
    stats = moments.full
    by_l2 = grid_by_l2(grid)
    eigh_L = laplacian_eigh(graph) if stats.shared_X else None  # the same for every fold
    by_moments = r2 and task_idx is not None and y.ndim == 1 and fit_intercept
    sst = [_r2_denominator(y[test], sw[test]) if by_moments else 0.0 for _, test in folds]

    def fold_scores(k):
        """(scores, None) from the moments, or (None, predictions) for the scorer."""
        test = folds[k][1]
        train = moments.train(k)
        options = dict(tol=tol, max_iter=max_iter, laplacian_eigh=eigh_L)
        path = make_path(train, graph, **options)
        if sst[k] > 0:
            test_stats = moments.test(k)
            syy = _task_sst(y[test], task_idx[test], sw[test], test_stats)
            scores = np.empty(len(grid))
        else:
            test_idx = None if task_idx is None else task_idx[test]
            preds = np.empty((len(grid), len(test)) + y.shape[1:])
        for l2, (pos, alphas) in by_l2.items():
            path_l2, l2 = path_for_l2(path, train, graph, l2, **options)
            coefs = path_l2.coefs(alphas, l2)
            intercepts = path_intercepts(train, coefs, graph)
            if sst[k] > 0:
                scores[pos] = 1.0 - heldout_sse(test_stats, syy, coefs, intercepts) / sst[k]
            else:
                preds[pos] = predict_path(X[test], test_idx, coefs, intercepts)
        return (scores, None) if sst[k] > 0 else (None, preds)

    # the folds may run on threads; the (user's) scorer runs here, in this thread
    done = run_folds(fold_scores, len(folds), _small_blocks(stats, graph))
    scores = np.array(
        [
            s if s is not None else score(test, p)
            for (_, test), (s, p) in zip(folds, done, strict=True)
        ]
    )
    return scores.reshape(len(folds), len(grid)), stats


def _r2_denominator(y, sw):
    """sum_i s_i (y_i - ybar)^2, as in ``_weighted_r2``; 0 where R^2 needs the rows."""
    if not sw.sum() > 0:
        return 0.0
    mean = np.average(y, axis=0, weights=sw)
    return float(np.tensordot(sw, (y - mean) ** 2, axes=(0, 0)))


def _task_sst(y, task_idx, sw, test):
    """sum_i s_i (y_i - mu_t)^2 per task t, mu_t the task's mean in the test set."""
    return np.bincount(
        task_idx, weights=sw * (y - test.y_mean[task_idx]) ** 2, minlength=len(test.y_mean)
    )
