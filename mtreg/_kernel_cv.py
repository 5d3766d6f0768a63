"""MultiTaskKernelRidgeCV: alpha and l2 of multi-task kernel ridge by exact leave-one-out or
k-fold cross-validation, with one kernel matrix for the whole search."""

from __future__ import annotations

from numbers import Real

from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions

from ._base import FIXED_GRAPH_DOC, UNSEEN_DOC_KERNEL, restored_on_error
from ._docs import KERNEL_DOC, format_doc
from ._grid import kernel_grid_scores
from ._search import _SEARCH_ATTRIBUTES_DOC, _SEARCH_DOC, _GridSearchMixin
from ._solvers._kernel import task_covariance
from ._typing import ArrayLike, MatrixLike, OptArray
from .kernel import MultiTaskKernelRidge

__all__ = ["MultiTaskKernelRidgeCV"]


class MultiTaskKernelRidgeCV(_GridSearchMixin, MultiTaskKernelRidge):
    """Multi-task kernel ridge with alpha and l2 chosen by cross-validation.

    Selects (alpha, l2) on a grid for the objective of :class:`MultiTaskKernelRidge`, ::

        sum_i s_i (y_i - f(x_i, t_i))^2 + ||f||_K^2,   K = k(x, z) * inv(alpha L + l2 I)[s, t],

    then refits on all the data. The input kernel matrix k(X, X) is computed once for the
    whole search. With multi-output y (every task at the same X) the Gram matrix is
    ``inv(E) kron k(X, X)``: one eigendecomposition of k(X, X) (per fold) and one of L give
    every grid point exactly. With ``task_ids`` the Gram matrix is a Hadamard product that
    has no common eigenbasis over alpha; as K(alpha, l2) = K(alpha / l2, 1) / l2, one
    eigendecomposition (per fold) serves every grid point with the same ratio alpha / l2.
    Leave-one-out (``cv=None``) is exact: e_i / [(S^1/2 K S^1/2 + I)^-1]_ii.

    Parameters
    ----------
    {graph}

    {search}

    {kernel}

    gamma : float, default=None
        Parameter of the "rbf", "laplacian", "poly", "chi2" and "sigmoid" kernels (None:
        scikit-learn's default, 1 / n_features). Ignored by other kernels.

    degree : float, default=3
        Degree of the "poly" kernel.

    coef0 : float, default=1
        Constant term of the "poly" and "sigmoid" kernels.

    kernel_params : dict, default=None
        Keyword arguments of a callable kernel.

    laplacian : {{"unnormalized", "normalized"}}, default="unnormalized"
        ``L = D - A``, or the normalised ``I - D^-1/2 A D^-1/2``.

    tasks : array-like of shape (n_tasks,), default=None
        The task labels and their order; tasks listed without training rows are allowed.

    task_column : int or str, default=None
        Read the task labels from this column of X instead of ``task_ids`` (not with
        ``kernel="precomputed"``).

    {unseen}

        Here alpha and l2 are the chosen ``alpha_`` and ``l2_``.

    solver : {{"auto", "cholesky", "eigen"}}, default="auto"
        Solver of the final refit.

    Attributes
    ----------
    {attributes}
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        Dual coefficients of the refit at (``alpha_``, ``l2_``); see
        :class:`MultiTaskKernelRidge`.
    X_fit_ : ndarray or sparse matrix
        Training inputs (the kernel matrix with ``kernel="precomputed"``).
    task_kernel_ : ndarray of shape (n_tasks, n_tasks)
        ``inv(alpha_ L + l2_ I)``.
    tasks_ : ndarray of shape (n_tasks,)
        Task labels, in the order of the rows of ``task_kernel_`` and of the graph.
    graph_ : TaskGraph
        The validated graph (labels, adjacency, Laplacian kind).
    solver_ : str
        The solver of the refit ("auto" resolved).
    n_features_in_ : int
        Number of columns of X seen in fit (including ``task_column``).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of X, when X has them.

    See Also
    --------
    MultiTaskKernelRidge : The model at a given alpha and l2.
    MultiTaskGraphRegressorCV : The same search for the linear model.
    mtreg.model_selection.LeaveTasksOut : A splitter that holds out whole tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg import MultiTaskKernelRidgeCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(60, 1))
    >>> task_ids = np.repeat(["a", "b", "c"], 20)
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=60)
    >>> est = MultiTaskKernelRidgeCV(alphas=[0.1, 10.0, 1000.0], l2s=[0.01, 0.1, 1.0],
    ...                              gamma=0.5).fit(X, y, task_ids=task_ids)
    >>> est.alpha_, est.l2_
    (10.0, 0.01)
    """

    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in MultiTaskKernelRidge._parameter_constraints.items()
            if k not in ("alpha", "l2", "solver", "n_components", "random_state")
        },
        "alphas": ["array-like", Real],
        "l2s": ["array-like", Real],
        "cv": ["cv_object", None],
        "scoring": [str, callable, None],
        "solver": [StrOptions({"auto", "cholesky", "eigen"})],
    }

    def __init__(
        self,
        graph=None,
        *,
        alphas=(0.1, 1.0, 10.0),
        l2s=(1.0,),
        cv=None,
        scoring=None,
        kernel="rbf",
        gamma=None,
        degree=3,
        coef0=1,
        kernel_params=None,
        laplacian="unnormalized",
        tasks=None,
        task_column=None,
        unseen_tasks="error",
        solver="auto",
    ):
        self.graph = graph
        self.alphas = alphas
        self.l2s = l2s
        self.cv = cv
        self.scoring = scoring
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.laplacian = laplacian
        self.tasks = tasks
        self.task_column = task_column
        self.unseen_tasks = unseen_tasks
        self.solver = solver

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        task_ids: OptArray = None,
        sample_weight: OptArray = None,
        groups: OptArray = None,
    ) -> MultiTaskKernelRidgeCV:
        """Select (alpha, l2) on the grid, then fit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs, or k(X, X) with ``kernel="precomputed"``.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets: 1-D with ``task_ids``, or 2-D multi-output (column t is task t
            observed at the same X).
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each row.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, in the fits and in the scores.
        groups : array-like of shape (n_samples,), default=None
            Groups for a group splitter; by default the task labels.

        Returns
        -------
        self : object
            The estimator, refitted at the chosen (``alpha_``, ``l2_``).
        """
        with restored_on_error(self):
            X_in, weighted = X, sample_weight is not None
            X, y, sw, graph, task_idx = self._validate_fit_data(X, y, task_ids, sample_weight)
            grid = self._grid()
            for alpha, l2 in grid:
                task_covariance(graph, alpha, l2)  # the clear error for l2 = 0, before any work
            Kx = self._train_kernel(X)
            folds = None
            if self.cv is not None:
                labels = None if task_idx is None else graph.tasks[task_idx]
                folds = self._folds(X_in, y, groups, labels)
            scores = kernel_grid_scores(
                Kx, y, task_idx, sw, graph, grid, folds, self.scoring, weighted
            )
            self._store_results(grid, scores, loo=self.cv is None)
            self._fit_exact_or_nystroem(X, y, sw, graph, task_idx, self.alpha_, self.l2_, Kx=Kx)
        return self


MultiTaskKernelRidgeCV.__doc__ = format_doc(
    MultiTaskKernelRidgeCV.__doc__,
    graph=FIXED_GRAPH_DOC,
    unseen=UNSEEN_DOC_KERNEL,
    search=_SEARCH_DOC.format(loo_note="", l2s_shape="", l2s_note=""),
    kernel=KERNEL_DOC.format(default="rbf"),
    attributes=_SEARCH_ATTRIBUTES_DOC,
)
