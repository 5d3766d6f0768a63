"""Multi-task data sets: synthetic ones with a planted task structure, and real ones.

The generators draw one coefficient vector per task so that related tasks, in the sense
of a known task graph, have similar coefficients, and return that graph with the data
(real targets, or 0/1 labels from the sign of the same planted model):
what a graph-regularised model should recover, and what benchmarks need at any size.
Every step is vectorised over tasks and rows (no Python loop over tasks).

The loaders of the real data sets (school, landmine, computer survey, Parkinson's,
SARCOS; files not bundled, checksum-verified) live in :mod:`mtreg._loaders`.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._generators import generator, planted_linear_model
from ._loaders import (
    get_data_home,
    load_computer_survey,
    load_landmine,
    load_parkinsons,
    load_sarcos,
    load_school,
)
from ._typing import ArrayLike

__all__ = [
    "get_data_home",
    "load_computer_survey",
    "load_landmine",
    "load_parkinsons",
    "load_sarcos",
    "load_school",
    "make_multitask_classification",
    "make_multitask_regression",
]

STRUCTURES = ("clusters", "chain", "grid", "knn", "complete", "none")

# Latent positions of the "knn" structure live in the unit square; the coefficients vary
# over it like a Gaussian process with this RBF length scale.


_GENERATOR_PARAMS = {
    "n_tasks": [Interval(Integral, 1, None, closed="left")],
    "n_samples": [Interval(Integral, 1, None, closed="left"), tuple, list],
    "n_features": [Interval(Integral, 1, None, closed="left")],
    "structure": [StrOptions(set(STRUCTURES))],
    "n_clusters": [Interval(Integral, 1, None, closed="left")],
    "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    "spread": [Interval(Real, 0, None, closed="left")],
    "noise": [Interval(Real, 0, None, closed="left")],
    "intercept": [Interval(Real, 0, None, closed="left")],
    "feature_scale": [
        None,
        StrOptions({"mixed"}),
        Interval(Real, 0, None, closed="neither"),
        "array-like",
    ],
    "shared_X": ["boolean"],
    "shuffle": ["boolean"],
    "coef": ["boolean"],
    "random_state": ["random_state", np.random.Generator],
}


@validate_params(_GENERATOR_PARAMS, prefer_skip_nested_validation=True)
def make_multitask_regression(
    n_tasks: int = 20,
    n_samples: int | ArrayLike = 50,
    n_features: int = 10,
    *,
    structure: str = "clusters",
    n_clusters: int = 3,
    n_neighbors: int = 10,
    spread: float = 0.1,
    noise: float = 1.0,
    intercept: float = 1.0,
    feature_scale: float | None = None,
    shared_X: bool = False,
    shuffle: bool = True,
    coef: bool = False,
    random_state: int | np.random.RandomState | None = None,
) -> tuple:
    """Multi-task linear regression data whose task coefficients follow a task graph.

    Task t has coefficients w_t and intercept b_t, and its rows follow
    ``y = x . w_t + b_t + noise * e`` with standard normal e. The w_t are drawn with the
    planted ``structure``, and ``graph`` is the task graph of that structure.

    Coefficients are drawn in units of the feature standard deviations (each is the
    drawn value divided by its column's standard deviation), so that ``feature_scale``
    changes the conditioning of the problem but not its signal-to-noise ratio.

    Parameters
    ----------
    n_tasks : int, default=20
        Number of tasks T; labelled 0, ..., T - 1.
    n_samples : int or tuple (low, high), default=50
        Rows per task: the same number for every task, or a number drawn uniformly per
        task from ``low`` to ``high`` inclusive. With ``shared_X=True`` it must be an int,
        the number of rows of the shared X.
    n_features : int, default=10
        Number of features d.
    structure : {"clusters", "chain", "grid", "knn", "complete", "none"}, \
            default="clusters"
        How the task coefficients are related (w_0, centres and steps are standard
        normal vectors, e independent standard normal vectors):

        - "clusters": ``n_clusters`` balanced groups of tasks at random;
          ``w_t = centre of its group + spread * e_t``. Graph: each group a clique
          with weight 1/size of the group, so that the penalty is the within-group
          variance of the coefficients.
        - "chain": a random walk along the tasks, ``w_t = w_{t-1} + spread * e_t``.
          Graph: the path 0 - 1 - ... - (T-1), weight 1.
        - "grid": tasks on a grid of ``ceil(sqrt(T))`` columns, filled row by row;
          ``w_t = a_row + c_column`` with random walks a and c of steps
          ``spread * e`` along the rows and the columns, so that grid neighbours differ
          by one step. Graph: the 4-neighbour grid, weight 1.
        - "knn": tasks at uniform random positions in the unit square; the
          coefficients are a smooth random function of the position (a Gaussian
          process with RBF length scale 0.25, by random Fourier features) plus
          ``spread * e_t``. Graph: the symmetric ``n_neighbors``-nearest-neighbour
          graph of the positions (:func:`mtreg.relations.knn_graph`), weight 1.
        - "complete": ``w_t = w_0 + spread * e_t`` (Evgeniou & Pontil, 2004).
          Graph: the complete graph with weight 1/T, the default graph of
          :class:`mtreg.MultiTaskGraphRegressor`.
        - "none": independent ``w_t = e_t``. Graph: no edges.
    n_clusters : int, default=3
        Number of groups of the "clusters" structure; at most ``n_tasks``.
    n_neighbors : int, default=10
        Neighbours per task of the "knn" graph (capped at ``n_tasks - 1``).
    spread : float, default=0.1
        Standard deviation of each task's own deviation from the structure.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise on y.
    intercept : float, default=1.0
        Standard deviation of the (independent, normal) per-task intercepts b_t.
    feature_scale : None, float, array-like of shape (n_features,) or "mixed", default=None
        - None: standard normal features.
        - float or array: normal features with these standard deviations.
        - "mixed": unscaled features like those of the school data: every fifth
          column (0, 5, 10, ...) integers from 0 to 100, the others 0/1 indicators
          with a frequency drawn per column between 0.1 and 0.9.
    shared_X : bool, default=False
        If True, every task is observed at the same X: ``y`` has shape
        (n_samples, n_tasks) (multi-output) and ``task_ids`` is None.
    shuffle : bool, default=True
        Shuffle the rows (otherwise the rows of task 0 come first, then task 1, ...).
    coef : bool, default=False
        Also return the true coefficients and intercepts.
    random_state : int, RandomState instance, numpy Generator or None, default=None
        Seed of the generator: pass an int for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
        ``n_rows`` is the sum of the rows of all tasks (or n_samples when shared).
    y : ndarray of shape (n_rows,), or (n_samples, n_tasks) when ``shared_X``
        The targets ``x . w_t + b_t + noise * e``; with ``shared_X``, column t is task t.
    task_ids : ndarray of shape (n_rows,) of int64, or None when ``shared_X``
        The task label (0, ..., T - 1) of each row.
    graph : scipy.sparse.csr_matrix of shape (n_tasks, n_tasks)
        The true task graph: symmetric, non-negative, zero diagonal; rows in the order
        of the task labels 0, ..., T - 1. The "complete" and "clusters" graphs store
        O(T^2) entries; prefer "knn" or "chain" for very many tasks.
    coef : ndarray of shape (n_tasks, n_features)
        True w_t, returned only if ``coef=True``.
    intercept : ndarray of shape (n_tasks,)
        True b_t, returned only if ``coef=True``.

    See Also
    --------
    make_multitask_classification : Labels from the same planted model.
    mtreg.MultiTaskGraphRegressor : Fit the data with the returned graph.
    sklearn.datasets.make_regression : Single-task regression data.

    Examples
    --------
    >>> from mtreg import MultiTaskGraphRegressor
    >>> from mtreg.datasets import make_multitask_regression
    >>> X, y, task_ids, graph = make_multitask_regression(
    ...     n_tasks=6, n_samples=30, n_features=4, structure="chain", random_state=0)
    >>> X.shape, y.shape, task_ids.shape, graph.shape
    ((180, 4), (180,), (180,), (6, 6))
    >>> est = MultiTaskGraphRegressor(graph, alpha=1.0).fit(X, y, task_ids=task_ids)
    >>> est.coef_.shape
    (6, 4)
    """
    rng = generator(random_state)
    X, y, task_ids, graph, W, b = planted_linear_model(
        rng,
        n_tasks,
        n_samples,
        n_features,
        structure=structure,
        n_clusters=n_clusters,
        n_neighbors=n_neighbors,
        spread=spread,
        intercept=intercept,
        feature_scale=feature_scale,
        shared_X=shared_X,
        shuffle=shuffle,
    )
    y += noise * rng.standard_normal(y.shape)
    if coef:
        return X, y, task_ids, graph, W, b
    return X, y, task_ids, graph


@validate_params(
    {**_GENERATOR_PARAMS, "flip_y": [Interval(Real, 0, 1, closed="both")]},
    prefer_skip_nested_validation=True,
)
def make_multitask_classification(
    n_tasks: int = 20,
    n_samples: int | ArrayLike = 50,
    n_features: int = 10,
    *,
    structure: str = "clusters",
    n_clusters: int = 3,
    n_neighbors: int = 10,
    spread: float = 0.1,
    noise: float = 1.0,
    flip_y: float = 0.0,
    intercept: float = 1.0,
    feature_scale: float | None = None,
    shared_X: bool = False,
    shuffle: bool = True,
    coef: bool = False,
    random_state: int | np.random.RandomState | None = None,
) -> tuple:
    """Multi-task binary classification data whose task coefficients follow a task graph.

    The planted linear model of :func:`make_multitask_regression` (same parameters, same
    coefficients, intercepts, features and graph for the same ``random_state``) labels
    the rows: ``y = 1`` where ``x . w_t + b_t + noise * e > 0`` with standard normal e,
    else 0 (a probit model), and then each label is flipped with probability ``flip_y``.

    Parameters
    ----------
    n_tasks : int, default=20
        Number of tasks T; labelled 0, ..., T - 1.
    n_samples : int or tuple (low, high), default=50
        Rows per task, or the range a number of rows per task is drawn from; see
        :func:`make_multitask_regression`.
    n_features : int, default=10
        Number of features d.
    structure : {"clusters", "chain", "grid", "knn", "complete", "none"}, \
            default="clusters"
        How the task coefficients are related, and the graph returned; see
        :func:`make_multitask_regression`.
    n_clusters : int, default=3
        Number of groups of the "clusters" structure; at most ``n_tasks``.
    n_neighbors : int, default=10
        Neighbours per task of the "knn" graph (capped at ``n_tasks - 1``).
    spread : float, default=0.1
        Standard deviation of each task's own deviation from the structure.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise added to the score before its sign is
        taken: 0 gives labels that the planted model separates exactly.
    flip_y : float in [0, 1], default=0.0
        Probability that a label is flipped after thresholding (label noise that no
        linear model can explain). Unlike ``sklearn.datasets.make_classification``, where
        ``flip_y`` is the fraction of labels drawn at random, this is the flip
        probability itself.
    intercept : float, default=1.0
        Standard deviation of the (independent, normal) per-task intercepts b_t.
    feature_scale : None, float, array-like of shape (n_features,) or "mixed", default=None
        Scale of the features: standard normal (None), normal with these standard
        deviations, or school-like "mixed" columns; see
        :func:`make_multitask_regression`.
    shared_X : bool, default=False
        If True, every task is observed at the same X: ``y`` has shape
        (n_samples, n_tasks) (multi-output) and ``task_ids`` is None.
    shuffle : bool, default=True
        Shuffle the rows (otherwise the rows of task 0 come first, then task 1, ...).
    coef : bool, default=False
        Also return the true coefficients and intercepts.
    random_state : int, RandomState instance, numpy Generator or None, default=None
        Seed of the generator: pass an int for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
        The features; ``n_rows`` is the sum of the rows of all tasks (or n_samples when
        shared).
    y : ndarray of shape (n_rows,), or (n_samples, n_tasks) when ``shared_X``
        Labels 0 and 1, of dtype int64.
    task_ids : ndarray of shape (n_rows,) of int64, or None when ``shared_X``
        The task label (0, ..., T - 1) of each row.
    graph : scipy.sparse.csr_matrix of shape (n_tasks, n_tasks)
        The true task graph; see :func:`make_multitask_regression`.
    coef : ndarray of shape (n_tasks, n_features)
        True w_t, returned only if ``coef=True``.
    intercept : ndarray of shape (n_tasks,)
        True b_t, returned only if ``coef=True``.

    See Also
    --------
    make_multitask_regression : The planted model's scores as regression targets.
    mtreg.MultiTaskGraphClassifier : Fit the data with the returned graph.
    sklearn.datasets.make_classification : Single-task classification data.

    Examples
    --------
    >>> from mtreg import MultiTaskGraphClassifier
    >>> from mtreg.datasets import make_multitask_classification
    >>> X, y, task_ids, graph = make_multitask_classification(
    ...     n_tasks=6, n_samples=40, n_features=4, structure="chain", random_state=0)
    >>> X.shape, sorted(set(y.tolist())), graph.shape
    ((240, 4), [0, 1], (6, 6))
    >>> clf = MultiTaskGraphClassifier(graph).fit(X, y, task_ids=task_ids)
    >>> clf.coef_.shape
    (6, 4)
    """
    rng = generator(random_state)
    X, score, task_ids, graph, W, b = planted_linear_model(
        rng,
        n_tasks,
        n_samples,
        n_features,
        structure=structure,
        n_clusters=n_clusters,
        n_neighbors=n_neighbors,
        spread=spread,
        intercept=intercept,
        feature_scale=feature_scale,
        shared_X=shared_X,
        shuffle=shuffle,
    )
    score += noise * rng.standard_normal(score.shape)
    y = (score > 0).astype(np.int64)
    if flip_y > 0:
        y ^= (rng.random(y.shape) < flip_y).astype(np.int64)
    if coef:
        return X, y, task_ids, graph, W, b
    return X, y, task_ids, graph
