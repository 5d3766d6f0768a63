"""MultiTaskGraphRegressorCV: alpha and l2 of graph-regularised ridge by exact leave-one-out
or k-fold cross-validation, the whole grid from one factorisation per fold."""

from __future__ import annotations

from numbers import Real
from typing import NoReturn

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_sample_weight

from ._base import (
    FIXED_GRAPH_DOC,
    UNSEEN_DOC_LINEAR,
    check_fixed_graph,
    check_targets,
    require_y,
    restored_on_error,
)
from ._docs import format_doc
from ._grid import l2_value, linear_grid_scores
from ._search import (
    _SEARCH_ATTRIBUTES_DOC,
    _SEARCH_DOC,
    _GridSearchMixin,
)
from ._solvers import SingularProblemError, data_scaling, solve_graph_ridge
from ._solvers._lazy import fitted_dtype
from ._task_column import frame_columns
from ._typing import ArrayLike, MatrixLike, OptArray
from .linear import MultiTaskGraphRegressor

__all__ = ["MultiTaskGraphRegressorCV"]


class MultiTaskGraphRegressorCV(_GridSearchMixin, MultiTaskGraphRegressor):
    """Graph-regularised multi-task ridge with alpha and l2 chosen by cross-validation.

    Selects (alpha, l2) on a grid for the objective of :class:`MultiTaskGraphRegressor`, ::

        sum_i s_i (y_i - x_i . w_{{t_i}} - b_{{t_i}})^2
        + alpha * sum_{{s<t}} A_st ||w_s - w_t||^2 + l2 * sum_t ||w_t||^2,

    then refits on all the data. The grid costs about as much as a few fits, not one fit per
    grid point and fold:

    - each fold's training moments come from one pass over the data (merged from the
      moments of the test sets when the folds partition the rows);
    - per fold, what does not depend on alpha is factorised once: one eigendecomposition per
      task Gram matrix G_t on the complete or empty graph (then every alpha costs one d x d
      solve), eigendecompositions of G and L for multi-output y, a generalised
      eigendecomposition per l2 for other graphs with T d <= 2000; larger graphs use
      warm-started "pcg" from one alpha to the next;
    - leave-one-out (``cv=None``) is exact: e_i / (1 - h_ii), with the leverages h_ii read
      off the same factorisations. It equals refitting n times (and, for multi-output y,
      leaves out single entries (i, t));
    - with k-fold and the default scoring (R^2, task_ids data, intercepts fitted), the
      held-out squared error of every grid point comes from the moments of the test set,
      not from predicting its rows: the same number.

    On the complete or empty graph and for multi-output y the folds run side by side on as
    many threads as BLAS may use, each with one BLAS thread (``threadpoolctl``'s limits
    apply: ``threadpool_limits(1)`` makes the search serial).

    Parameters
    ----------
    {graph}

    {search}

    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task, as :class:`MultiTaskGraphRegressor` does.

    laplacian : {{"unnormalized", "normalized"}}, default="unnormalized"
        ``L = D - A``, or the normalised ``I - D^-1/2 A D^-1/2``.

    tasks : array-like of shape (n_tasks,), default=None
        The task labels and their order (the rows of ``coef_`` and of an array
        ``graph``); see :class:`MultiTaskGraphRegressor`.

    task_column : int or str, default=None
        Read the task labels from this column of X instead of ``task_ids``; see
        :class:`MultiTaskGraphRegressor`.

    {unseen}

        Here alpha and l2 are the chosen ``alpha_`` and ``l2_``.

    solver : {{"auto", "cholesky", "woodbury", "eigen", "pcg"}}, default="auto"
        Solver of the final refit (the search picks its path by structure, see above).

    tol : float, default=1e-10
        Tolerance of "pcg" (the residual of the normal equations relative to its value
        at W = 0), in the search and in the refit; the direct solvers ignore it.

    max_iter : int, default=None
        Iteration cap of "pcg", in the search and in the refit.

    Attributes
    ----------
    {attributes}
    coef_ : ndarray of shape (n_tasks, n_features)
        w_t, one row per task, refitted on all the data at (``alpha_``, ``l2_``).
    intercept_ : ndarray of shape (n_tasks,)
        b_t, one per task, of the same refit.
    tasks_ : ndarray of shape (n_tasks,)
        Task labels, in the order of ``coef_`` rows and of the graph.
    graph_ : TaskGraph
        The validated graph (labels, adjacency, Laplacian kind).
    solver_ : str
        The solver of the refit ("auto" resolved).
    n_iter_ : int or None
        Iterations of "pcg" in the refit; None for the direct solvers.
    n_features_in_ : int
        Number of columns of X seen in fit (including ``task_column``).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of X, when X has them.

    See Also
    --------
    MultiTaskGraphRegressor : The model at a given alpha and l2.
    MultiTaskKernelRidgeCV : The same search for the kernel form.
    mtreg.core.graph_ridge_path : The solutions for a grid of alphas, as a function.
    mtreg.model_selection.LeaveTasksOut : A splitter that holds out whole tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg import MultiTaskGraphRegressorCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(90, 3))
    >>> task_ids = np.repeat(["a", "b", "c"], 30)
    >>> y = X @ [1.0, 2.0, 0.0] + 0.3 * (task_ids == "c") * X[:, 2] + rng.normal(size=90)
    >>> est = MultiTaskGraphRegressorCV(alphas=np.logspace(-2, 3, 11)).fit(
    ...     X, y, task_ids=task_ids)
    >>> est.alpha_, est.l2_
    (1000.0, 1.0)
    >>> est.predict(X[:2], task_ids=["a", "c"]).shape
    (2,)
    """

    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in MultiTaskGraphRegressor._parameter_constraints.items()
            if k
            in (
                "graph",
                "tasks",
                "task_column",
                "unseen_tasks",
                "fit_intercept",
                "laplacian",
                "solver",
                "tol",
                "max_iter",
            )
        },
        "alphas": ["array-like", Real],
        "l2s": ["array-like", Real],
        "cv": ["cv_object", None],
        "scoring": [str, callable, None],
        "solver": [StrOptions({"auto", "cholesky", "woodbury", "eigen", "pcg"})],
    }

    def __init__(
        self,
        graph=None,
        *,
        alphas=(0.1, 1.0, 10.0),
        l2s=(1.0,),
        cv=None,
        scoring=None,
        fit_intercept=True,
        laplacian="unnormalized",
        tasks=None,
        task_column=None,
        unseen_tasks="error",
        solver="auto",
        tol=1e-10,
        max_iter=None,
    ):
        self.graph = graph
        self.alphas = alphas
        self.l2s = l2s
        self.cv = cv
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.laplacian = laplacian
        self.tasks = tasks
        self.task_column = task_column
        self.unseen_tasks = unseen_tasks
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    @property
    def partial_fit(self) -> NoReturn:
        """Not available: the search needs all the rows at once (held-out folds)."""
        raise AttributeError(
            "MultiTaskGraphRegressorCV has no partial_fit; stream the data into "
            "MultiTaskGraphRegressor.partial_fit at a chosen alpha instead."
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        task_ids: OptArray = None,
        sample_weight: OptArray = None,
        groups: OptArray = None,
    ) -> MultiTaskGraphRegressorCV:
        """Select (alpha, l2) on the grid, then fit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, the rows of every task.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets: 1-D with ``task_ids``, or 2-D multi-output (column t is task t
            observed at the same X), as in :meth:`MultiTaskGraphRegressor.fit`.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each row (any hashable labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, in the fits and in the scores.
        groups : array-like of shape (n_samples,), default=None
            Groups for a group splitter; by default the task labels.

        Returns
        -------
        self : object
            The estimator, refitted at the chosen (``alpha_``, ``l2_``).
        """
        require_y(self, y)
        check_fixed_graph(self)
        with restored_on_error(self):
            X_in = X
            X, task_ids = self._validate_X(X, task_ids, reset=True)
            X = X.tocsr() if sp.issparse(X) else X  # rows are taken fold by fold
            columns = frame_columns(y)  # a 2-D y frame names its tasks
            y = check_targets(y, X)
            weighted = sample_weight is not None
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            grid = self._grid(X.shape[1])
            graph, task_idx = self._task_graph(y, task_ids, columns=columns)
            folds = None if self.cv is None else self._folds(X_in, y, groups, task_ids)
            path = dict(fit_intercept=self.fit_intercept, tol=self.tol, max_iter=self.max_iter)
            # X and weights of extreme magnitude are rescaled exactly, as by the regressor
            # (see _solvers._scaling); y is not, so the predictions and scores are the same
            scaling = data_scaling(X, y, sw, squared=False)
            X_fit, _, sw_fit = scaling.rows(X, y, sw)
            fit_grid = [_scaled_point(scaling, alpha, l2) for alpha, l2 in grid]
            try:
                scores, stats = linear_grid_scores(
                    X_fit,
                    y,
                    task_idx,
                    sw_fit,
                    graph,
                    fit_grid,
                    folds,
                    self.scoring,
                    weighted,
                    **path,
                )
            except SingularProblemError as exc:
                if scaling.trivial:
                    raise
                raise SingularProblemError(
                    f"{exc} (alpha and l2 as they are for X / 2^{scaling.ex} and sample_weight"
                    f" / 2^{scaling.es}: against data of this magnitude the grid's penalties "
                    "are negligible; rescale X or sample_weight, or scale alphas and l2s up.)"
                ) from exc
            self._store_results(grid, scores, loo=self.cv is None)
            alpha, l2 = fit_grid[self.best_index_]
            coef, intercept, solver, n_iter = solve_graph_ridge(
                stats,
                graph,
                alpha=alpha,
                l2=l2_value(l2),
                solver=self.solver,
                tol=self.tol,
                max_iter=self.max_iter,
            )
            coef, intercept = scaling.coef(coef, intercept)
            self.coef_, self.intercept_ = fitted_dtype(coef, intercept, X.dtype)
            self.tasks_, self.graph_ = graph.tasks, graph
            self.solver_, self.n_iter_ = solver, n_iter
            self._shared_X = task_idx is None
        return self


def _scaled_point(scaling, alpha, l2):
    """(alpha, l2) of a grid point for the rows rescaled by ``scaling`` (a per-feature l2
    stays a tuple)."""
    alpha, scaled_l2, _ = scaling.penalties(alpha, l2_value(l2))
    return alpha, tuple(scaled_l2) if isinstance(l2, tuple) else scaled_l2


_PER_FEATURE_L2S_NOTE = """ A 2-D array gives per-feature l2
        vectors, one grid point per row (``l2_`` is then that row, an array of shape
        (n_features,)); each factorisation of the path then carries diag(l2) (one per row
        and fold), and the alphas stay floats."""

MultiTaskGraphRegressorCV.__doc__ = format_doc(
    MultiTaskGraphRegressorCV.__doc__,
    graph=FIXED_GRAPH_DOC,
    unseen=UNSEEN_DOC_LINEAR,
    search=_SEARCH_DOC.format(
        loo_note=" (for T d <= 2000 on a general graph)",
        l2s_shape=" or (n_l2s, n_features)",
        l2s_note=_PER_FEATURE_L2S_NOTE,
    ),
    attributes=_SEARCH_ATTRIBUTES_DOC,
)
