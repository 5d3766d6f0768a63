"""Graph-regularised multi-task linear models: the regressor here, the classifier in
:mod:`mtreg._classifier` (both importable from here)."""

from __future__ import annotations

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    check_is_fitted,
)

from ._base import GRAPH_DOC, UNSEEN_DOC_LINEAR, TaskRegressorMixin, restored_on_error
from ._classifier import MultiTaskGraphClassifier
from ._dask import dask_moments, dask_rows, dask_task_graph, is_dask
from ._docs import GRAPH_PARAMS_DOC, LINEAR_SOLVER_DOC, PER_FEATURE_DOCS, fill_doc
from ._linear_base import PER_FEATURE_CONSTRAINTS, _GraphLinearModel, streaming_obstacle
from ._solvers import (
    SOLVERS,
    data_scaling,
    select_solver,
    solve_glm,
    solve_graph_ridge,
)
from ._solvers._lazy import LazySolve, UnsolvableChunksError, fitted_dtype  # noqa: F401
from ._solvers._penalty import as_penalty, is_per_feature
from ._solvers._rows import long_format, squared_objective
from ._task_column import frame_columns
from ._tasks import Rows, shared_stats, task_stats
from ._typing import ArrayLike, MatrixLike, OptArray

__all__ = ["MultiTaskGraphClassifier", "MultiTaskGraphRegressor"]

_SOLVED = ("coef_", "intercept_", "solver_", "n_iter_")  # what partial_fit leaves to solve


class MultiTaskGraphRegressor(TaskRegressorMixin, _GraphLinearModel):
    """Graph-regularised multi-task ridge regression, solved exactly.

    Every task t has its own linear model ``x . w_t + b_t``; a task-relation graph A pulls
    the models of related tasks together. The fit minimises::

        sum_i s_i (y_i - x_i . w_{t_i} - b_{t_i})^2
        + alpha * sum_{s<t} A_st ||w_s - w_t||^2 + l2 * sum_t ||w_t||^2
        + l1 * sum_t ||w_t||_1

    where ``sum_{s<t} A_st ||w_s - w_t||^2 = tr(W^T L W)`` with the graph Laplacian L.
    With ``alpha=0`` this is one ``sklearn.linear_model.Ridge(alpha=l2)`` per task; as
    ``alpha`` grows on a connected graph the tasks share one w and keep their intercepts.
    Rows of weight 0 count nowhere (a task whose rows all weigh 0 is a task without
    rows). float32 X gives float32 ``coef_``, ``intercept_`` and predictions, as with
    ``Ridge``; the solvers work in float64.

    Parameters
    ----------
    {graph}

    {graph_params}

    alpha : float or array-like of shape (n_features,), default=1.0
        Strength of the graph coupling. Non-negative. {per_feature_alpha}

    l2 : float or array-like of shape (n_features,), default=1.0
        Ridge penalty on every w_t. Non-negative. With ``l2=0`` the problem must still
        have a unique solution: every solver raises ``SingularProblemError`` when the data
        leave a direction of the coefficients undetermined (duplicated or collinear
        columns, fewer rows than features, on a task or, with ``alpha > 0``, on a group
        of linked tasks; to within 1e-12 of the largest eigenvalue of their Gram
        matrix). With an ``l2 > 0`` so small that such directions are fixed by l2 alone
        every solver returns the minimum-norm answer (zero coefficients along them).
        Data of extreme magnitude (beyond about 1e30 or 1e-30) are rescaled exactly
        by powers of two before the solve; an error names the overflow when the
        answer itself does not fit in double precision. {per_feature_l2}

    l1 : float, default=0.0
        Lasso penalty on every w_t (sparse structure-regularised multi-task learning);
        solved by "fista".

    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task. A task that has no training rows (named
        only by ``graph`` or ``tasks``) gets its coefficients through the coupling, and
        as intercept the harmonic extension over the graph of the intercepts of the
        tasks with rows (the mean of those on the complete and empty graphs, and where
        no path of the graph leads to a task with rows).

    laplacian : {"unnormalized", "normalized"}, default="unnormalized"
        ``L = D - A``, or the normalised ``I - D^-1/2 A D^-1/2``.

    tasks : array-like of shape (n_tasks,), default=None
        The task labels and their order (the rows of ``coef_`` and of an array
        ``graph``). Tasks listed here without training rows are allowed. By default the
        sorted labels of the training data (and of a labelled graph).

    task_column : int or str, default=None
        Read the task labels from this column of X (position, or name when X is a
        pandas or polars DataFrame or a pyarrow Table) instead of ``task_ids``; that
        column is not a feature. This makes plain Pipelines, scorers and CV splitters
        work without metadata routing. A bool is not a position.

    {unseen}

    {solver}

    tol : float, default=1e-10
        Iterative solvers stop when the optimality residual falls below ``tol`` times
        its value at W = 0: for "pcg" the residual of the centred normal equations,
        for "newton" and "lbfgs" the gradient of J, for "fista" the proximal gradient
        mapping. The direct solvers are exact and ignore it.

    max_iter : int, default=None
        Iteration cap of the iterative solvers (None: max(1000, 10 d) for "pcg", 100
        for "newton", 1000 for "lbfgs", 10000 for "fista"). A ``ConvergenceWarning`` is
        raised when it is reached.

    warm_start : bool, default=False
        Start the iterative solvers from the previous solution.

    verbose : int, default=0
        Print the progress of "newton", "lbfgs" and "fista".

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        w_t, one row per task, in the order of ``tasks_``.
    intercept_ : ndarray of shape (n_tasks,)
        b_t, one per task, in the order of ``tasks_`` (zeros when ``fit_intercept=False``).
    tasks_ : ndarray of shape (n_tasks,)
        Task labels, in the order of ``coef_`` rows and of the graph.
    adjacency_ : ndarray or sparse matrix of shape (n_tasks, n_tasks)
        The symmetrised adjacency matrix used.
    laplacian_ : ndarray or sparse matrix of shape (n_tasks, n_tasks)
        The Laplacian used in the penalty.
    graph_ : TaskGraph
        The validated graph (labels, adjacency, Laplacian kind).
    solver_ : str
        The solver used ("auto" resolved).
    n_iter_ : int or None
        Iterations of the iterative solver; None for the direct solvers. With
        ``graph="learn"``: the number of alternations.
    task_covariance_ : ndarray of shape (n_tasks, n_tasks)
        With ``graph="learn"``: the learned task covariance Omega (trace 1); its
        correlations say which tasks go together.
    objective_path_ : ndarray of shape (``n_iter_``,)
        With ``graph="learn"``: the objective after each alternation (non-increasing).
    n_features_in_ : int
        Number of columns of X seen in fit (including ``task_column``).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of X, when X has them.

    See Also
    --------
    MultiTaskGraphRegressorCV : The same model with alpha and l2 chosen by cross-validation.
    MultiTaskGraphClassifier : The same penalty with the logistic or squared hinge loss.
    MultiTaskKernelRidge : The kernel form, equal to this model for a linear kernel and no
        intercept.
    mtreg.core.graph_ridge : The functional form of the solve, on integer task positions.
    mtreg.relations.task_similarity : Measure task relations to build a graph from.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg import MultiTaskGraphRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> task_ids = np.repeat(["a", "b", "c"], 20)
    >>> y = X @ [1.0, 2.0, 0.0] + (task_ids == "c") * X[:, 2]
    >>> graph = {"a": ["b"], "b": ["c"], "c": []}
    >>> est = MultiTaskGraphRegressor(graph, alpha=1.0, l2=0.1).fit(X, y, task_ids=task_ids)
    >>> est.tasks_
    array(['a', 'b', 'c'], dtype='<U1')
    >>> est.coef_.shape
    (3, 3)
    >>> est.predict(X[:2], task_ids=["a", "c"]).shape
    (2,)
    """

    _parameter_constraints: dict = dict(PER_FEATURE_CONSTRAINTS)

    def __init__(
        self,
        graph=None,
        *,
        graph_params=None,
        alpha=1.0,
        l2=1.0,
        l1=0.0,
        fit_intercept=True,
        laplacian="unnormalized",
        tasks=None,
        task_column=None,
        unseen_tasks="error",
        solver="auto",
        tol=1e-10,
        max_iter=None,
        warm_start=False,
        verbose=0,
    ):
        self.graph = graph
        self.graph_params = graph_params
        self.alpha = alpha
        self.l2 = l2
        self.l1 = l1
        self.fit_intercept = fit_intercept
        self.laplacian = laplacian
        self.tasks = tasks
        self.task_column = task_column
        self.unseen_tasks = unseen_tasks
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: MatrixLike, y: ArrayLike, task_ids: OptArray = None, sample_weight: OptArray = None
    ) -> MultiTaskGraphRegressor:
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, the rows of every task.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            1-D: one target per row, of the task given by ``task_ids`` (or of the only
            task). 2-D: multi-output, column t is task t observed at the same X; the
            column names of a DataFrame (pandas, polars) are the task labels, unless
            ``tasks`` is set.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each row (any hashable labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with restored_on_error(self):
            for name in ("_stats_", "_pending_solve", "_chunk_dtype", "_scaling"):
                self.__dict__.pop(name, None)
            if is_dask(X, y, task_ids, sample_weight):
                return self._fit_dask(X, y, task_ids, sample_weight)
            X, task_ids = self._validate_X(X, task_ids, reset=True)
            self._check_penalties(X.shape[1])
            columns = frame_columns(y)
            y, sample_weight = self._validate_y(X, y, sample_weight)
            graph, task_idx = self._task_graph(y, task_ids, X, columns=columns)
            rows = Rows(X, y, task_idx, sample_weight)
            coef, intercept, solver, n_iter, graph = self._fit_rows(rows, graph)
            self.coef_, self.intercept_ = fitted_dtype(coef, intercept, X.dtype)
            self.tasks_, self.graph_ = graph.tasks, graph
            self.solver_, self.n_iter_ = solver, n_iter
            self._shared_X = rows.shared_X
            self._chunk_dtype = X.dtype  # of the coefficients after further partial_fit
        return self

    def _solve(self, rows, graph, start=None):
        """Exact (moments) or row solver for the squared loss on one graph."""
        solver = self._select_solver(graph, rows.shared_X, rows.X.shape[1], self.l1)
        init = self._init(graph, rows.X, start=start)
        if SOLVERS[solver].moments:
            # data of extreme magnitude are rescaled exactly before the moments are taken
            self._scaling = data_scaling(rows.X, rows.y, rows.sample_weight, squared=True)
            return self._solve_moments(
                self._moments(rows, graph.n_tasks), graph, solver, None if init is None else init[0]
            )
        long_rows = long_format(rows.X, rows.y, rows.sample_weight) if rows.shared_X else rows
        coef, intercept, n_iter = solve_glm(
            *long_rows, graph, loss="squared", solver=solver, init=init, **self._glm_params()
        )
        return coef, intercept, solver, n_iter

    def _select_solver(self, graph, shared_X, n_features, l1):
        return select_solver(
            self.solver,
            loss="squared",
            l1=l1,
            graph=graph,
            shared_X=shared_X,
            n_features=n_features,
            per_feature=is_per_feature(as_penalty(self.alpha, n_features, "alpha")),
        )

    def _moments(self, rows, n_tasks):
        X, y, sample_weight = self._scaling.rows(rows.X, rows.y, rows.sample_weight)
        if rows.shared_X:
            return shared_stats(X, y, sample_weight, self.fit_intercept)
        return task_stats(X, y, rows.task_idx, sample_weight, n_tasks, self.fit_intercept)

    def _solve_moments(self, stats, graph, solver, init=None):
        self._stats_ = stats  # what partial_fit adds the next chunk to
        return solve_graph_ridge(
            stats,
            graph,
            alpha=self.alpha,
            l2=self.l2,
            solver=solver,
            tol=self.tol,
            max_iter=self.max_iter,
            init=init,
            scaling=self.__dict__.get("_scaling"),
        )

    def _streamable(self):
        return streaming_obstacle(self) is None

    @available_if(_streamable)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: MatrixLike, y: ArrayLike, task_ids: OptArray = None, sample_weight: OptArray = None
    ) -> MultiTaskGraphRegressor:
        """Add a chunk of rows to the model: the result equals one fit on all chunks so far.

        Only the per-task moments of the rows are kept (O(T d^2) memory, whatever the
        number of rows), added up chunk by chunk; the model is solved from them on demand,
        when ``coef_``, ``predict`` or ``score`` is first used after a chunk (so a problem
        without a unique solution is reported there), once, by the first of the threads
        that ask; a predict on another thread while a chunk is added uses the solution
        of the chunks before it or with it, never a mix (add the chunks themselves from
        one thread at a time). The tasks are fixed by the first
        call (by the graph, ``tasks`` and the first chunk's labels): to stream tasks that
        appear later, name them in ``graph`` or ``tasks``. A chunk with a bad value, a
        wrong width or an unknown task is rejected with an error and leaves the model as
        it was; a chunk whose weights are all 0 adds nothing. ``coef_`` and
        ``intercept_`` have the dtype of the first chunk's X. ``fit`` starts over.
        Available when the fit needs only the moments:
        ``l1 = 0``, a direct solver or "pcg", and a graph that is given (not "knn",
        "similarity" or "learn", which need all rows at once).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training rows, with the width of the first chunk.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            The targets of the chunk, as in :meth:`fit`: 1-D with ``task_ids``, 2-D for
            multi-output data (every chunk then 2-D, with the same tasks).
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each row of the chunk; every label must be one of the tasks
            fixed by the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the chunk's rows.

        Returns
        -------
        self : object
            The estimator, with the chunk's moments added.
        """
        first = not hasattr(self, "_stats_")
        with restored_on_error(self):
            X, task_ids = self._validate_X(X, task_ids, reset=first)
            self._check_penalties(X.shape[1])
            columns = frame_columns(y)
            y, sample_weight = self._validate_y(X, y, sample_weight, allow_all_zero=not first)
            if first:
                graph, task_idx = self._task_graph(y, task_ids, X, columns=columns)
                self._chunk_dtype = X.dtype
            else:
                graph = self.graph_
                if (y.ndim == 2) != self._shared_X or (y.ndim == 2 and y.shape[1] != graph.n_tasks):
                    raise ValueError(f"y has shape {y.shape}, unlike the earlier chunks.")
                task_idx = (
                    None if y.ndim == 2 else self._predict_task_index(X, task_ids, chunk=True)
                )
            solver = self._select_solver(graph, task_idx is None, X.shape[1], self.l1)
            if first:  # later chunks are scaled as the first one (see _solvers._scaling)
                self._scaling = data_scaling(X, y, sample_weight, squared=True)
            chunk = self._moments(Rows(X, y, task_idx, sample_weight), graph.n_tasks)
            self._stats_ = chunk if first else self._stats_.merge(chunk)
            self.tasks_, self.graph_ = graph.tasks, graph
            self._shared_X = task_idx is None
            # solved again on demand, from all chunks so far; the new solve is in place
            # before the old solution goes, so that a predict on another thread sees one
            self._pending_solve = LazySolve(
                self._stats_, graph, solver, self._scaling, self._chunk_dtype
            )
            for name in _SOLVED:
                self.__dict__.pop(name, None)
        return self

    def __getattr__(self, name):
        """The solution after partial_fit, computed when first asked for."""
        pending = self.__dict__.get("_pending_solve")
        if name == "partial_fit":  # here when available_if refused it: say why
            raise AttributeError(f"partial_fit is not available: {streaming_obstacle(self)}.")
        if name not in _SOLVED or pending is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self._solution(pending)[name]

    def _coef_intercept(self):
        """(coef_, intercept_) of one and the same solve, also while partial_fit adds a
        chunk on another thread (it sets the new solve before it drops the old solution)."""
        pending = self.__dict__.get("_pending_solve")
        if pending is None:
            coef, intercept = self.coef_, self.intercept_
            pending = self.__dict__.get("_pending_solve")
            if pending is None:  # no chunk came between the two reads
                return coef, intercept
        solution = self._solution(pending)
        return solution["coef_"], solution["intercept_"]

    def _solution(self, pending):
        """{name: value} of _SOLVED, solved (once) with the current parameters."""
        solution = pending.solution(
            self.alpha, self.l2, self.tol, self.max_iter, solve=solve_graph_ridge
        )
        return dict(zip(_SOLVED, solution, strict=True))

    def _fit_dask(self, X, y, task_ids, sample_weight):
        """fit on dask arrays: the moments are computed by dask, the solve is local."""
        if self.task_column is not None:
            raise ValueError("task_column is not supported for dask arrays; pass task_ids.")
        if not self._streamable():
            raise ValueError(
                "dask arrays are fitted from the per-task moments: that needs "
                "l1=0, a direct solver or 'pcg', and a given graph."
            )
        X, y = dask_rows(X, y)
        self._check_penalties(X.shape[1])
        graph = dask_task_graph(self.graph, y, task_ids, tasks=self.tasks, laplacian=self.laplacian)
        stats = dask_moments(
            X, y, task_ids, sample_weight, tasks=graph.tasks, fit_intercept=self.fit_intercept
        )
        solver = self._select_solver(graph, stats.shared_X, X.shape[1], 0.0)
        coef, intercept, solver, n_iter = self._solve_moments(stats, graph, solver)
        self.__dict__.pop("feature_names_in_", None)
        self.n_features_in_ = X.shape[1]
        self.coef_, self.intercept_ = fitted_dtype(coef, intercept, X.dtype)
        self.tasks_, self.graph_ = graph.tasks, graph
        self.solver_, self.n_iter_ = solver, n_iter
        self._shared_X = stats.shared_X
        self._chunk_dtype = X.dtype
        return self

    def _objective(self, rows, coef, intercept, graph):
        penalties = dict(alpha=self.alpha, l2=self.l2, l1=self.l1)
        return squared_objective(coef, intercept, *rows, graph, **penalties)

    def predict(self, X: MatrixLike, task_ids: OptArray = None) -> np.ndarray:
        """Predict with the model of each row's task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to predict, of the width seen in fit.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row. May be omitted for a single-task model, and for a model
            fitted on multi-output y, which then predicts every task.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            ``x_i . w_{t_i} + b_{t_i}`` for each row; 2-D, one column per task, for a
            multi-output model called without task_ids.
        """
        check_is_fitted(self)
        X, task_ids = self._validate_X(X, task_ids, reset=False)
        task_idx = self._predict_task_index(X, task_ids)
        return self._linear_predict(X, task_idx, *self._coef_intercept())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags


MultiTaskGraphRegressor.__doc__ = fill_doc(
    MultiTaskGraphRegressor.__doc__,
    **PER_FEATURE_DOCS,
    graph=GRAPH_DOC,
    unseen=UNSEEN_DOC_LINEAR,
    graph_params=GRAPH_PARAMS_DOC,
    solver=LINEAR_SOLVER_DOC,
)
