"""Multi-task kernels (Evgeniou, Micchelli & Pontil 2005) and multi-task kernel ridge.

With E = alpha L + l2 I, the graph-regularised problem of DESIGN.md section 1 (squared loss,
no intercept) is kernel ridge regression with the multi-task kernel::

    K((x, s), (z, t)) = k(x, z) * inv(E)[s, t],

where k is any kernel on the inputs: the penalty alpha tr(W^T L W) + l2 ||W||^2 is the RKHS
norm ||f||_K^2 = tr(W^T E W) of f(x, t) = <w_t, phi(x)>.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted

from ._base import (
    FIXED_GRAPH_DOC,
    LAPLACIANS,
    UNSEEN_DOC_KERNEL,
    MultiTaskMixin,
    TaskRegressorMixin,
    check_fixed_graph,
    check_targets,
    require_y,
    restored_on_error,
)
from ._docs import KERNEL_DOC, format_doc
from ._kernel_base import _KernelMixin
from ._kernel_ridge import (
    KERNELS,
    data_kernel,
    fit_kernel_ridge,
    multitask_gram,
    predict_dual,
    predict_features,
)
from ._labels import as_labels
from ._task_column import frame_columns
from ._typing import ArrayLike, MatrixLike, OptArray

__all__ = ["MultiTaskKernelRidge", "multitask_kernel"]


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "task_ids": ["array-like"],
        "Y": ["array-like", "sparse matrix", None],
        "task_ids_Y": ["array-like", None],
        "graph": "no_validation",
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "tasks": ["array-like", None],
        "laplacian": [StrOptions(set(LAPLACIANS))],
        "kernel": [StrOptions(set(KERNELS)), callable],
    },
    prefer_skip_nested_validation=True,
)
def multitask_kernel(
    X: MatrixLike,
    task_ids: ArrayLike,
    Y: MatrixLike | None = None,
    task_ids_Y: OptArray = None,
    *,
    graph: Any = None,
    alpha: float = 1.0,
    l2: float = 1.0,
    tasks: OptArray = None,
    laplacian: str = "unnormalized",
    kernel: str | Callable = "rbf",
    **kernel_params: Any,
) -> np.ndarray:
    """Gram matrix of the multi-task kernel K((x, s), (z, t)) = k(x, z) * inv(E)[s, t].

    E = alpha L + l2 I, with L the Laplacian of the task graph (Evgeniou, Micchelli &
    Pontil, 2005). Kernel methods with K minimise ``loss + ||f||_K^2`` with
    ``||f||_K^2 = alpha * sum_{s<t} A_st ||w_s - w_t||^2 + l2 * sum_t ||w_t||^2`` for
    ``f(x, t) = <w_t, phi(x)>``. The result can be given to any estimator that takes a
    precomputed kernel: ``sklearn.svm.SVC(kernel="precomputed")``, ``SVR``,
    ``KernelRidge``, or ``GaussianProcessRegressor`` through a kernel object.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples_X, n_features)
        Inputs; with ``kernel="precomputed"``, the matrix k(X, Y) of shape
        (n_samples_X, n_samples_Y).
    task_ids : array-like of shape (n_samples_X,)
        Task label of each row of X.
    Y : {array-like, sparse matrix} of shape (n_samples_Y, n_features), default=None
        Second set of inputs; None means Y = X.
    task_ids_Y : array-like of shape (n_samples_Y,), default=None
        Task label of each row of Y; required with Y (and with a non-square precomputed
        kernel), else ``task_ids``.
    graph : see :class:`MultiTaskKernelRidge`, default=None
        Task graph; an array follows ``tasks`` if given, else the sorted labels of
        ``task_ids`` and ``task_ids_Y`` together.
    alpha : float, default=1.0
        Strength of the graph coupling.
    l2 : float, default=1.0
        Ridge penalty; must be positive (E is singular otherwise).
    tasks : array-like of shape (n_tasks,), default=None
        Task labels and their order.
    laplacian : {"unnormalized", "normalized"}, default="unnormalized"
        ``L = D - A``, or the normalised ``I - D^-1/2 A D^-1/2``.
    kernel : str or callable, default="rbf"
        Input kernel k, as for ``sklearn.metrics.pairwise.pairwise_kernels``, or
        "precomputed".
    **kernel_params
        Parameters of k (``gamma``, ``degree``, ``coef0``, or a callable's keywords).

    Returns
    -------
    K : ndarray of shape (n_samples_X, n_samples_Y)
        ``K[i, j] = k(x_i, y_j) * inv(E)[t_i, t_j]``, symmetric positive semi-definite
        when Y is None and k is a positive semi-definite kernel.

    See Also
    --------
    MultiTaskKernelRidge : Kernel ridge regression with this kernel.
    MultiTaskSVC : Support vector classification with this kernel.
    MultiTaskSVR : Support vector regression with this kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg import multitask_kernel
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> K = multitask_kernel(X, ["a", "a", "b"], kernel="linear", alpha=1.0, l2=1.0)
    >>> K.round(3)
    array([[0.  , 0.  , 0.  ],
           [0.  , 0.75, 0.5 ],
           [0.  , 0.5 , 3.  ]])
    """
    if kernel == "precomputed":
        if Y is not None:
            raise ValueError("with kernel='precomputed', X is k(X, Y) and Y must be None.")
        Kx = check_array(X, dtype=np.float64, accept_sparse=False, input_name="X")
    else:
        X = check_array(X, accept_sparse=["csr", "csc"], dtype=np.float64, input_name="X")
        if Y is not None:
            Y = check_array(Y, accept_sparse=["csr", "csc"], dtype=np.float64, input_name="Y")
            if Y.shape[1] != X.shape[1]:
                raise ValueError(f"X has {X.shape[1]} features but Y has {Y.shape[1]}.")
        Kx = data_kernel(X, Y, kernel, kernel_params)
    task_ids = as_labels(task_ids)
    if task_ids.shape != (Kx.shape[0],):
        raise ValueError(f"task_ids has shape {task_ids.shape} but X has {Kx.shape[0]} rows.")
    if task_ids_Y is None:
        if Y is not None or Kx.shape[0] != Kx.shape[1]:
            raise ValueError("task_ids_Y is required with Y (or a non-square precomputed X).")
        task_ids_Y = task_ids
    task_ids_Y = as_labels(task_ids_Y, "task_ids_Y")
    if task_ids_Y.shape != (Kx.shape[1],):
        raise ValueError(f"task_ids_Y has shape {task_ids_Y.shape} but Y has {Kx.shape[1]} rows.")
    return multitask_gram(
        Kx, task_ids, task_ids_Y, graph, alpha, l2, tasks=tasks, laplacian=laplacian
    )


class MultiTaskKernelRidge(_KernelMixin, MultiTaskMixin, TaskRegressorMixin, BaseEstimator):
    """Multi-task kernel ridge regression with a task graph (Evgeniou, Micchelli & Pontil).

    Kernel ridge regression with the multi-task kernel
    ``K((x, s), (z, t)) = k(x, z) * inv(E)[s, t]``, ``E = alpha L + l2 I``: the fit minimises::

        sum_i s_i (y_i - f(x_i, t_i))^2 + ||f||_K^2,
        ||f||_K^2 = alpha * sum_{{s<t}} A_st ||w_s - w_t||^2 + l2 * sum_t ||w_t||^2

    over ``f(x, t) = <w_t, phi(x)>`` in the feature space of k. There is no intercept (as in
    ``sklearn.kernel_ridge.KernelRidge``): centre y, or add a constant to k, if needed. With
    ``kernel="linear"`` this is :class:`mtreg.MultiTaskGraphRegressor` with
    ``fit_intercept=False``; with one task it is ``KernelRidge(alpha=l2)``. A task named by
    the graph or ``tasks`` but without training rows is predicted through the coupling.

    Parameters
    ----------
    {graph}

    alpha : float, default=1.0
        Strength of the graph coupling. Non-negative.

    l2 : float, default=1.0
        Ridge penalty on every w_t. Must be positive: with ``l2=0``, E is singular and the
        multi-task kernel does not exist.

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

    solver : {{"auto", "cholesky", "eigen", "nystroem"}}, default="auto"
        - "cholesky": exact; one Cholesky factorisation of the n x n system (n x T rows for
          multi-output y).
        - "eigen": exact, multi-output y only (every task at the same X): the Gram matrix is
          ``inv(E) kron k(X, X)``; eigendecompositions of k(X, X) and L solve it in
          O(n^3 + T^3) instead of O((n T)^3).
        - "nystroem": approximate; ``n_components`` Nystroem features phi(x) of k
          (``sklearn.kernel_approximation.Nystroem``), then the exact linear multi-task
          ridge on them, O(n m^2) time and O(n m) memory. Never chosen by "auto".
        - "auto": "eigen" for multi-output y, else "cholesky".

    n_components : int, default=100
        Number of Nystroem features ("nystroem" only; at most n_samples).

    random_state : int, RandomState instance or None, default=None
        Seed of the Nystroem landmark sampling ("nystroem" only).

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        Dual coefficients c: ``f(x, t) = sum_i c_i k(x, x_i) inv(E)[t, t_i]``; for
        multi-output y, ``f(x, t) = sum_i sum_s c_is k(x, x_i) inv(E)[t, s]``. Not set by
        "nystroem".
    X_fit_ : {{ndarray, sparse matrix}} of shape (n_samples, n_features)
        Training inputs (the kernel matrix with ``kernel="precomputed"``).
    task_kernel_ : ndarray of shape (n_tasks, n_tasks)
        ``inv(alpha L + l2 I)``, formed when read: fit and predict use only its entries of
        the tasks with rows, so 1e5 tasks fit; reading it then raises a MemoryError.
    coef_ : ndarray of shape (n_tasks, n_components)
        Weights on the Nystroem features ("nystroem" only).
    nystroem_ : sklearn.kernel_approximation.Nystroem
        The fitted feature map ("nystroem" only).
    tasks_ : ndarray of shape (n_tasks,)
        Task labels, in the order of the rows of ``task_kernel_`` and of the graph.
    graph_ : TaskGraph
        The validated graph (labels, adjacency, Laplacian kind).
    solver_ : str
        The solver used ("auto" resolved).
    n_features_in_ : int
        Number of columns of X seen in fit (including ``task_column``).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of X, when X has them.

    See Also
    --------
    MultiTaskKernelRidgeCV : The same model with alpha and l2 chosen by cross-validation.
    MultiTaskGraphRegressor : The linear form, with intercepts and other solvers.
    multitask_kernel : The Gram matrix of the multi-task kernel, for other kernel methods.
    sklearn.kernel_ridge.KernelRidge : One task (``KernelRidge(alpha=l2)``).

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg import MultiTaskKernelRidge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(60, 1))
    >>> task_ids = np.repeat(["a", "b", "c"], 20)
    >>> y = np.sin(X[:, 0]) + 0.1 * (task_ids == "c")
    >>> est = MultiTaskKernelRidge(alpha=10.0, l2=0.1, gamma=0.5).fit(X, y, task_ids=task_ids)
    >>> est.dual_coef_.shape
    (60,)
    >>> est.predict([[0.0], [1.5]], task_ids=["a", "c"]).round(2)
    array([0.02, 1.04])
    """

    _parameter_constraints: dict = {
        **MultiTaskMixin._common_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],  # l2 = 0: a clear error in fit
        "kernel": [StrOptions(set(KERNELS)), callable],
        "gamma": [Interval(Real, 0, None, closed="left"), None],
        "degree": [Interval(Real, 0, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "kernel_params": [dict, None],
        "laplacian": [StrOptions(set(LAPLACIANS))],
        "solver": [StrOptions({"auto", "cholesky", "eigen", "nystroem"})],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        graph=None,
        *,
        alpha=1.0,
        l2=1.0,
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
        n_components=100,
        random_state=None,
    ):
        self.graph = graph
        self.alpha = alpha
        self.l2 = l2
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
        self.n_components = n_components
        self.random_state = random_state

    def _validate_fit_data(self, X, y, task_ids, sample_weight):
        """(X, y, weights, TaskGraph, task index per row or None for multi-output)."""
        require_y(self, y)
        check_fixed_graph(self)
        X, task_ids = self._validate_kernel_X(X, task_ids, reset=True)
        columns = frame_columns(y)  # a 2-D y frame names its tasks
        y = check_targets(y, X)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        graph, task_idx = self._task_graph(y, task_ids, columns=columns)
        return X, y, sample_weight, graph, task_idx

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: MatrixLike, y: ArrayLike, task_ids: OptArray = None, sample_weight: OptArray = None
    ) -> MultiTaskKernelRidge:
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs, or the kernel matrix k(X, X) with ``kernel="precomputed"``.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            1-D: one target per row, of the task in ``task_ids``. 2-D: multi-output, column
            t is task t observed at the same X.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each row.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights s_i.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with restored_on_error(self):
            X, y, sw, graph, task_idx = self._validate_fit_data(X, y, task_ids, sample_weight)
            self._fit_exact_or_nystroem(X, y, sw, graph, task_idx, self.alpha, self.l2)
        return self

    def _fit_exact_or_nystroem(self, X, y, sw, graph, task_idx, alpha, l2, Kx=None):
        # the search (MultiTaskKernelRidgeCV) has no "nystroem", nor its parameters
        names = ("kernel_params", "n_components", "random_state")
        nystroem = {name: getattr(self, name, None) for name in names}
        fit = fit_kernel_ridge(
            X,
            y,
            sw,
            graph,
            task_idx,
            alpha,
            l2,
            solver=self.solver,
            kernel=self.kernel,
            params=self._kernel_params(),
            nystroem_params=nystroem,
            Kx=Kx,
        )
        self._task_kernel, self.solver_ = fit.task_kernel, fit.solver
        self.tasks_, self.graph_, self.X_fit_ = graph.tasks, graph, X
        self._shared_X, self._fit_task_idx = task_idx is None, task_idx
        if fit.solver == "nystroem":
            self.nystroem_, self.coef_ = fit.nystroem, fit.coef
        else:
            self.dual_coef_ = fit.dual_coef

    def predict(self, X: MatrixLike, task_ids: OptArray = None) -> np.ndarray:
        """Predict with the model of each row's task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs, or k(X, X_fit) of shape (n_samples, n_samples_fit) with
            ``kernel="precomputed"``.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row: any task of ``tasks_``, with or without training rows. May
            be omitted for a single-task model, and for a multi-output model, which then
            predicts every task.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            ``f(x_i, t_i)`` for each row; 2-D, one column per task, for a multi-output
            model called without task_ids. float32 when X and the training X are float32
            (the kernels and solvers work in float64).
        """
        check_is_fitted(self)
        X, task_ids = self._validate_kernel_X(X, task_ids, reset=False)
        task_idx = self._predict_task_index(X, task_ids)
        if self.solver_ == "nystroem":
            Phi = self.nystroem_.transform(X)
            y = predict_features(Phi, self.coef_, task_idx, self._population_weight())
        else:
            y = predict_dual(
                self._data_kernel(X, self.X_fit_),
                self.dual_coef_,
                self._task_kernel,
                task_idx,
                None if self._shared_X else self._fit_task_idx,
                self._population_weight(),
            )
        return self._in_fit_dtype(X, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags


MultiTaskKernelRidge.__doc__ = format_doc(
    MultiTaskKernelRidge.__doc__,
    graph=FIXED_GRAPH_DOC,
    kernel=KERNEL_DOC.format(default="rbf"),
    unseen=UNSEEN_DOC_KERNEL,
)
