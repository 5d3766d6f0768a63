"""The functional core of mtreg: graphs, moments, the objective and the solvers as functions.

The estimators are thin wrappers around these functions; benchmarks and researchers can call
them directly, on integer task positions instead of labels (celer's and scikit-learn's
``ridge_regression`` style). Every function minimises or evaluates the one objective of
DESIGN.md section 1, ::

    J(W, b) = sum_i s_i loss(y_i, x_i . w_{t_i} + b_{t_i})
            + alpha tr(W^T L W) + l2 ||W||_F^2 + l1 ||W||_1.

A typical squared-loss fit is three calls::

    graph = task_graph("complete", n_tasks=T)            # or any graph input and its labels
    stats = task_stats(X, y, task_idx, n_tasks=T)        # one pass over the rows
    fit = graph_ridge(stats, graph, alpha=1.0, l2=1.0)   # fit.coef (T, d), fit.intercept (T,)

``task_stats`` results add up with :meth:`TaskStats.merge` (streaming, dask, CV folds).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._fit import Fit
from ._graph import TaskGraph
from ._graph_input import make_task_graph
from ._objective import LOSSES
from ._objective import gradient as _gradient
from ._objective import objective as _objective
from ._solvers import SOLVERS, select_solver, solve_glm, solve_graph_ridge
from ._solvers._path import make_path, path_for_l2, path_intercepts
from ._solvers._penalty import as_penalty
from ._tasks import TaskStats, shared_stats
from ._tasks import task_stats as _task_stats
from ._typing import ArrayLike, MatrixLike, OptArray

__all__ = [
    "LOSSES",
    "SOLVERS",
    "Fit",
    "TaskGraph",
    "TaskStats",
    "gradient",
    "graph_glm",
    "graph_ridge",
    "graph_ridge_path",
    "objective",
    "select_solver",
    "task_graph",
    "task_stats",
]


def task_graph(
    graph: Any = None,
    tasks: OptArray = None,
    *,
    n_tasks: int | None = None,
    laplacian: str = "unnormalized",
) -> TaskGraph:
    """Validate a task-relation graph into a :class:`TaskGraph`.

    Parameters
    ----------
    graph : None, str, array-like, sparse matrix, networkx graph, dict or list, default=None
        Any graph input of :class:`mtreg.MultiTaskGraphRegressor` but the ones built from
        data ("knn", "similarity", "learn"): None or "complete", "none", a (T, T) matrix,
        a networkx graph, a dict of neighbours or a list of edges.
    tasks : array-like of shape (n_tasks,), default=None
        The task labels, in the order of the rows of a matrix ``graph`` and of the
        solutions. Default: the labels a labelled graph names, else ``range(n_tasks)``.
    n_tasks : int, default=None
        The number of tasks when ``tasks`` is not given and the graph does not name them
        (default: the size of a matrix ``graph``).
    laplacian : {"unnormalized", "normalized"}, default="unnormalized"
        ``L = D - A`` or ``I - D^-1/2 A D^-1/2``.

    Returns
    -------
    graph : TaskGraph
        ``graph.tasks`` (labels), ``graph.n_tasks``, ``graph.laplacian()``,
        ``graph.adjacency_matrix()``.

    See Also
    --------
    task_stats : The per-task moments a graph-ridge solve needs.
    graph_ridge : Solve the squared-loss problem on this graph.

    Examples
    --------
    >>> from mtreg.core import task_graph
    >>> task_graph([(0, 1), (1, 2)]).laplacian().toarray()
    array([[ 1., -1.,  0.],
           [-1.,  2., -1.],
           [ 0., -1.,  1.]])
    """
    matrix = hasattr(graph, "shape") and not hasattr(graph, "columns")  # array, sparse
    if tasks is None and n_tasks is None and matrix and len(graph.shape) == 2:
        n_tasks = graph.shape[0]
    if tasks is None and n_tasks is not None:
        tasks = np.arange(n_tasks)
    observed = np.asarray([] if tasks is None else tasks)
    return make_task_graph(graph, observed, tasks=tasks, laplacian=laplacian)


def task_stats(
    X: MatrixLike,
    y: ArrayLike,
    task_idx: OptArray = None,
    *,
    n_tasks: int | None = None,
    sample_weight: OptArray = None,
    fit_intercept: bool = True,
) -> TaskStats:
    """The weighted per-task moments of (X, y): the sufficient statistics of the squared loss.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The rows, of any task, in any order.
    y : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        Targets. 2-D with ``task_idx=None``: every column is a task observed at the same X.
    task_idx : ndarray of shape (n_samples,), default=None
        Integer task position of each row (0 <= task_idx < n_tasks).
    n_tasks : int, default=None
        Number of tasks (default ``task_idx.max() + 1``); tasks without rows are allowed.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative row weights (default 1).
    fit_intercept : bool, default=True
        Centre the moments on the per-task weighted means (for intercepts).

    Returns
    -------
    stats : TaskStats
        ``gram`` (T, d, d) or (d, d) for a shared X, ``xty``, ``x_mean``, ``y_mean``,
        ``weight_sum``; ``stats.merge(other)`` gives the moments of the rows of both.

    See Also
    --------
    graph_ridge : Solve from these moments.
    graph_ridge_path : Solve for a grid of alphas from them.
    """
    X_is_sparse = hasattr(X, "tocsr")
    X = X if X_is_sparse else np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sample_weight = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight)
    if task_idx is None:
        Y = y if y.ndim == 2 else y[:, None]
        return shared_stats(X, Y, sample_weight, fit_intercept)
    task_idx = np.asarray(task_idx, dtype=np.int64)
    n_tasks = int(task_idx.max(initial=-1)) + 1 if n_tasks is None else n_tasks
    return _task_stats(X, y, task_idx, sample_weight, n_tasks, fit_intercept)


def graph_ridge(
    stats: TaskStats,
    graph: TaskGraph,
    alpha: float | ArrayLike = 1.0,
    l2: float | ArrayLike = 1.0,
    *,
    solver: str = "auto",
    tol: float = 1e-10,
    max_iter: int | None = None,
    init: OptArray = None,
) -> Fit:
    """Minimise J with the squared loss (no l1) from the per-task moments.

    Parameters
    ----------
    stats : TaskStats
        The moments, from :func:`task_stats`.
    graph : TaskGraph
        From :func:`task_graph`, with as many tasks as ``stats``.
    alpha : float or ndarray of shape (n_features,), default=1.0
        Strength of the graph coupling; an array gives each feature its own,
        ``sum_j alpha_j w_{:,j}^T L w_{:,j}`` ("eigen" cannot take it: "auto" passes over
        it, an explicit "eigen" is a ValueError).
    l2 : float or ndarray of shape (n_features,), default=1.0
        Ridge penalty on every w_t; an array gives each feature its own,
        ``sum_j l2_j ||w_{:,j}||^2`` (every solver takes it).
    solver : {"auto", "cholesky", "woodbury", "eigen", "pcg"}, default="auto"
        As in :class:`mtreg.MultiTaskGraphRegressor`.
    tol : float, default=1e-10
        For "pcg": the residual of the normal equations relative to its value at 0.
    max_iter : int, default=None
        Iteration cap of "pcg".
    init : ndarray of shape (n_tasks, n_features), default=None
        Coefficients to start "pcg" from.

    Returns
    -------
    fit : Fit
        ``coef``, ``intercept``, ``solver``, ``n_iter``.

    See Also
    --------
    graph_ridge_path : The solutions for a grid of alphas.
    graph_glm : Other losses, l1, and solvers on the rows.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg.core import graph_ridge, task_graph, task_stats
    >>> rng = np.random.default_rng(0)
    >>> X, t = rng.normal(size=(30, 2)), np.repeat([0, 1, 2], 10)
    >>> fit = graph_ridge(task_stats(X, X @ [1.0, 2.0], t), task_graph(n_tasks=3), alpha=10.0)
    >>> fit.coef.shape, fit.solver
    ((3, 2), 'woodbury')
    """
    return Fit(
        *solve_graph_ridge(
            stats,
            graph,
            alpha=alpha,
            l2=l2,
            solver=solver,
            tol=tol,
            max_iter=max_iter,
            init=init,
        )
    )


def graph_ridge_path(
    stats: TaskStats,
    graph: TaskGraph,
    alphas: ArrayLike,
    l2: float | ArrayLike = 1.0,
    *,
    tol: float = 1e-10,
    max_iter: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The squared-loss solutions for a grid of alphas, from one factorisation.

    The path fits the structure of the problem: per-task eigendecompositions for the
    complete and empty graphs, a generalised eigendecomposition for small general graphs,
    warm-started pcg for large ones (the path the CV estimators use).

    Parameters
    ----------
    stats : TaskStats
        The moments, from :func:`task_stats`.
    graph : TaskGraph
        From :func:`task_graph`.
    alphas : array-like of shape (n_alphas,)
        Coupling strengths (non-negative).
    l2 : float or ndarray of shape (n_features,), default=1.0
        Ridge penalty, shared by the path; an array gives each feature its own (the
        path is then that of the moments with diag(l2) added to every Gram).
    tol : float, default=1e-10
        Tolerance of the pcg path (large general graphs).
    max_iter : int, default=None
        Iteration cap of the pcg path.

    Returns
    -------
    coefs : ndarray of shape (n_alphas, n_tasks, n_features)
        The solution at each alpha.
    intercepts : ndarray of shape (n_alphas, n_tasks)
        The intercepts at each alpha.

    See Also
    --------
    graph_ridge : One alpha.
    mtreg.MultiTaskGraphRegressorCV : Chooses alpha on this path.
    """
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    l2 = as_penalty(l2, stats.xty.shape[1], "l2")
    options = dict(tol=tol, max_iter=max_iter)
    path = make_path(stats, graph, **options)
    l2 = tuple(l2.tolist()) if np.ndim(l2) else l2  # as a grid point of the CV search
    path, l2 = path_for_l2(path, stats, graph, l2, **options)
    coefs = path.coefs(alphas, l2)
    return coefs, path_intercepts(stats, coefs, graph)


def graph_glm(
    X: MatrixLike,
    y: ArrayLike,
    task_idx: ArrayLike,
    graph: TaskGraph,
    *,
    loss: str = "logistic",
    alpha: float | ArrayLike = 1.0,
    l2: float | ArrayLike = 1.0,
    l1: float = 0.0,
    sample_weight: OptArray = None,
    fit_intercept: bool = True,
    solver: str = "auto",
    tol: float = 1e-6,
    max_iter: int | None = None,
    init: tuple[ArrayLike, ArrayLike] | None = None,
    verbose: int = 0,
) -> Fit:
    """Minimise J for any loss, with l1, by the solvers on the rows.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The rows.
    y : ndarray of shape (n_samples,)
        Targets; for "logistic" and "squared_hinge" in {-1, +1}.
    task_idx : ndarray of shape (n_samples,)
        Integer task position of each row.
    graph : TaskGraph
        From :func:`task_graph`.
    loss : {"squared", "logistic", "squared_hinge"}, default="logistic"
        The loss of J.
    alpha : float or ndarray of shape (n_features,), default=1.0
        Strength of the graph coupling (an array: one per feature, as in
        :func:`graph_ridge`).
    l2 : float or ndarray of shape (n_features,), default=1.0
        Ridge penalty (an array: one per feature).
    l1 : float, default=0.0
        Lasso penalty (solved by "fista").
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative row weights.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task.
    solver : {"auto", "newton", "lbfgs", "fista"}, default="auto"
        As in :class:`mtreg.MultiTaskGraphClassifier`.
    tol : float, default=1e-6
        Stop when the optimality residual falls below ``tol`` times its value at 0.
    max_iter : int, default=None
        Iteration cap (solver-dependent default).
    init : tuple of (ndarray, ndarray), default=None
        (coef, intercept) to start from.
    verbose : int, default=0
        Print the progress.

    Returns
    -------
    fit : Fit
        ``coef``, ``intercept``, ``solver``, ``n_iter``.

    See Also
    --------
    graph_ridge : The squared loss without l1, exactly, from the moments.
    objective : The J this minimises.
    """
    y = np.asarray(y, dtype=np.float64)
    task_idx = np.asarray(task_idx, dtype=np.int64)
    sample_weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
    name = select_solver(
        solver, loss=loss, l1=l1, graph=graph, shared_X=False, n_features=X.shape[1]
    )
    if SOLVERS[name].moments:
        raise ValueError(f"solver={name!r} works from the moments: use graph_ridge.")
    coef, intercept, n_iter = solve_glm(
        X,
        y,
        task_idx,
        sample_weight,
        graph,
        loss=loss,
        alpha=alpha,
        l2=l2,
        l1=l1,
        fit_intercept=fit_intercept,
        solver=name,
        tol=tol,
        max_iter=max_iter,
        init=init,
        verbose=verbose,
    )
    return Fit(coef, intercept, name, n_iter)


def objective(
    coef: ArrayLike,
    intercept: ArrayLike,
    X: MatrixLike,
    y: ArrayLike,
    task_idx: ArrayLike,
    graph: TaskGraph | MatrixLike,
    *,
    alpha: float | ArrayLike,
    l2: float | ArrayLike,
    l1: float = 0.0,
    loss: str = "squared",
    sample_weight: OptArray = None,
) -> float:
    """The value of J(W, b), in plain NumPy: the one definition every solver is judged by.

    Parameters
    ----------
    coef : ndarray of shape (n_tasks, n_features)
        The coefficients W, one row w_t per task.
    intercept : ndarray of shape (n_tasks,)
        The intercepts b, one b_t per task.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The rows.
    y : ndarray of shape (n_samples,)
        Targets ({-1, +1} for the classification losses).
    task_idx : ndarray of shape (n_samples,)
        Integer task position of each row.
    graph : TaskGraph, ndarray or sparse matrix
        The graph, or its Laplacian L.
    alpha : float or ndarray of shape (n_features,)
        Strength of the coupling (an array: ``sum_j alpha_j w_{:,j}^T L w_{:,j}``).
    l2 : float or ndarray of shape (n_features,)
        Ridge penalty (an array: ``sum_j l2_j ||w_{:,j}||^2``).
    l1 : float, default=0.0
        Lasso penalty.
    loss : {"squared", "logistic", "squared_hinge"}, default="squared"
        The loss.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    value : float
        J(W, b).

    See Also
    --------
    gradient : Its gradient.
    """
    return _objective(
        coef,
        intercept,
        X,
        np.asarray(y, dtype=np.float64),
        np.asarray(task_idx),
        graph,
        alpha=alpha,
        l2=l2,
        l1=l1,
        loss=loss,
        sample_weight=sample_weight,
    )


def gradient(
    coef: ArrayLike,
    intercept: ArrayLike,
    X: MatrixLike,
    y: ArrayLike,
    task_idx: ArrayLike,
    graph: TaskGraph | MatrixLike,
    *,
    alpha: float | ArrayLike,
    l2: float | ArrayLike,
    loss: str = "squared",
    sample_weight: OptArray = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The gradient of the smooth part of J (all but the l1 term), in plain NumPy.

    Parameters
    ----------
    coef : ndarray of shape (n_tasks, n_features)
        The coefficients W, one row w_t per task.
    intercept : ndarray of shape (n_tasks,)
        The intercepts b, one b_t per task.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The rows.
    y : ndarray of shape (n_samples,)
        Targets.
    task_idx : ndarray of shape (n_samples,)
        Integer task position of each row.
    graph : TaskGraph, ndarray or sparse matrix
        The graph, or its Laplacian L.
    alpha : float or ndarray of shape (n_features,)
        Strength of the coupling (an array: ``sum_j alpha_j w_{:,j}^T L w_{:,j}``).
    l2 : float or ndarray of shape (n_features,)
        Ridge penalty (an array: ``sum_j l2_j ||w_{:,j}||^2``).
    loss : {"squared", "logistic", "squared_hinge"}, default="squared"
        The loss.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    grad_coef : ndarray of shape (n_tasks, n_features)
        The gradient with respect to the coefficients, dJ/dW.
    grad_intercept : ndarray of shape (n_tasks,)
        The gradient with respect to the intercepts, dJ/db.

    See Also
    --------
    objective : The value of J.
    """
    return _gradient(
        coef,
        intercept,
        X,
        np.asarray(y, dtype=np.float64),
        np.asarray(task_idx),
        graph,
        alpha=alpha,
        l2=l2,
        loss=loss,
        sample_weight=sample_weight,
    )
