"""Graph-regularised multi-task linear models."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted

from . import _jit
from ._base import GRAPH_DOC, LAPLACIANS, MultiTaskMixin, restored_on_error
from ._solvers import SOLVERS, solve_graph_ridge
from ._tasks import shared_stats, task_stats


class MultiTaskGraphRegressor(MultiTaskMixin, RegressorMixin, BaseEstimator):
    """Graph-regularised multi-task ridge regression, solved exactly.

    Every task t has its own linear model ``x . w_t + b_t``; a task-relation graph A pulls
    the models of related tasks together. The fit minimises

        sum_i s_i (y_i - x_i . w_{t_i} - b_{t_i})^2
        + alpha * sum_{s<t} A_st ||w_s - w_t||^2 + l2 * sum_t ||w_t||^2

    where ``sum_{s<t} A_st ||w_s - w_t||^2 = tr(W^T L W)`` with the graph Laplacian L.
    With ``alpha=0`` this is one ``sklearn.linear_model.Ridge(alpha=l2)`` per task; as
    ``alpha`` grows on a connected graph the tasks share one w and keep their intercepts.

    Parameters
    ----------
    {graph}

    alpha : float, default=1.0
        Strength of the graph coupling. Non-negative.

    l2 : float, default=1.0
        Ridge penalty on every w_t. Non-negative; with ``l2=0`` the problem must still
        have a unique solution (a clear error says when it has not).

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
        DataFrame) instead of ``task_ids``; that column is not a feature. This makes
        plain Pipelines, scorers and CV splitters work without metadata routing.

    solver : {"auto", "cholesky", "woodbury", "eigen", "pcg"}, default="auto"
        - "cholesky": dense Cholesky of the (T d) x (T d) system.
        - "woodbury": complete graph with equal weights (the default) or no graph; T
          solves of size d and one of size d.
        - "eigen": multi-output y (every task at the same X); eigendecompositions of
          X^T X and L, O(n d^2 + d^3 + T^3).
        - "pcg": block-Jacobi preconditioned conjugate gradient for sparse graphs and
          many tasks; never forms the (T d) x (T d) system.
        - "auto": "eigen" for multi-output data, else "woodbury" when it applies, else
          "cholesky" for T d <= 4000, else "pcg".

    tol : float, default=1e-10
        "pcg" stops when the residual of the normal equations falls below
        ``tol * ||X^T y||`` (Frobenius norms, after centring). The direct solvers are
        exact and ignore it.

    max_iter : int, default=None
        Iteration cap of "pcg" (None: max(1000, 10 d)). A ``ConvergenceWarning`` is
        raised when it is reached.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        w_t, one row per task, in the order of ``tasks_``.
    intercept_ : ndarray of shape (n_tasks,)
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
        Iterations of "pcg"; None for the direct solvers.
    n_features_in_ : int
        Number of columns of X seen in fit (including ``task_column``).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of X, when X has them.

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

    _parameter_constraints: dict = {
        **MultiTaskMixin._common_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "laplacian": [StrOptions(set(LAPLACIANS))],
        "solver": [StrOptions({"auto", *SOLVERS})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        graph=None,
        *,
        alpha=1.0,
        l2=1.0,
        fit_intercept=True,
        laplacian="unnormalized",
        tasks=None,
        task_column=None,
        solver="auto",
        tol=1e-10,
        max_iter=None,
    ):
        self.graph = graph
        self.alpha = alpha
        self.l2 = l2
        self.fit_intercept = fit_intercept
        self.laplacian = laplacian
        self.tasks = tasks
        self.task_column = task_column
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            1-D: one target per row, of the task given by ``task_ids`` (or of the only
            task). 2-D: multi-output, column t is task t observed at the same X.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each row (any hashable labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : object
        """
        if y is None:
            raise ValueError(
                f"This {type(self).__name__} estimator requires y to be passed, but the "
                "target y is None."
            )
        with restored_on_error(self):
            X, task_ids = self._validate_X(X, task_ids, reset=True)
            y = check_array(
                y, ensure_2d=False, dtype=np.float64, input_name="y", ensure_min_samples=0
            )
            if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
                raise ValueError(
                    f"y has shape {y.shape} but X has {X.shape[0]} rows; y must be 1-D or 2-D "
                    "with one row per row of X."
                )
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            graph, task_idx = self._task_graph(y, task_ids)
            if task_idx is None:
                stats = shared_stats(X, y, sample_weight, self.fit_intercept)
            else:
                stats = task_stats(X, y, task_idx, sample_weight, graph.n_tasks, self.fit_intercept)
            coef, intercept, solver, n_iter = solve_graph_ridge(
                stats, graph, alpha=self.alpha, l2=self.l2, solver=self.solver,
                tol=self.tol, max_iter=self.max_iter,
            )
            self.coef_, self.intercept_ = coef, intercept
            self.tasks_, self.graph_ = graph.tasks, graph
            self.solver_, self.n_iter_ = solver, n_iter
            self._multi_output = task_idx is None
        return self

    def predict(self, X, task_ids=None):
        """Predict with the model of each row's task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row. May be omitted for a single-task model, and for a model
            fitted on multi-output y, which then predicts every task.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,), or (n_samples, n_tasks) for a
            multi-output model called without task_ids.
        """
        check_is_fitted(self)
        X, task_ids = self._validate_X(X, task_ids, reset=False)
        task_idx = self._predict_task_index(X, task_ids)
        if task_idx is None:
            return np.asarray(X @ self.coef_.T) + self.intercept_
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=np.float64)
            return _jit.predict_rows_csr(
                X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64), task_idx,
                self.coef_, self.intercept_,
            )
        X = np.ascontiguousarray(X, dtype=np.float64)
        return _jit.predict_rows(X, task_idx, self.coef_, self.intercept_)

    def score(self, X, y, task_ids=None, sample_weight=None):
        """R^2 of the predictions over all rows (averaged over columns for 2-D y)."""
        return r2_score(y, self.predict(X, task_ids=task_ids), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags


MultiTaskGraphRegressor.__doc__ = MultiTaskGraphRegressor.__doc__.replace("{graph}", GRAPH_DOC)
