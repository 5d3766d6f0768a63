"""Multi-task support vector machines (Evgeniou & Pontil 2004) through libsvm.

scikit-learn's ``SVC``/``SVR`` with ``kernel="precomputed"`` are given the multi-task Gram
matrix ``K((x, s), (z, t)) = k(x, z) * inv(E)[s, t]``, ``E = alpha L + l2 I``. libsvm then
solves, over f(x, t) = <w_t, phi(x)> and one intercept b shared by all tasks, ::

    min  C * sum_i s_i loss(y_i, f(x_i, t_i) + b) + 1/2 ||f||_K^2,
    ||f||_K^2 = alpha * sum_{s<t} A_st ||w_s - w_t||^2 + l2 * sum_t ||w_t||^2,

with the hinge loss (SVC) or the epsilon-insensitive loss (SVR). In the convention of
DESIGN.md (J = sum of losses + alpha coupling + l2 ridge) this is C times J with
alpha / (2 C) and l2 / (2 C) in place of alpha and l2. With one task (or alpha = 0 and tasks
that each fix the shared b alike) it is ``SVC(C=C / l2)`` / ``SVR(C=C / l2)`` on k.

Evgeniou & Pontil write w_t = w_0 + v_t with the penalty
lambda_1 / T sum_t ||v_t||^2 + lambda_2 ||w_0||^2; minimising over w_0 gives the complete
graph (the default) with alpha = lambda_1^2 / (T (lambda_1 + lambda_2)) and
l2 = lambda_1 lambda_2 / (T (lambda_1 + lambda_2)).
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.svm import SVC, SVR
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    column_or_1d,
)

from ._base import (
    FIXED_GRAPH_DOC,
    LAPLACIANS,
    UNSEEN_DOC_KERNEL,
    MultiTaskMixin,
    TaskRegressorMixin,
    check_fixed_graph,
    require_y,
    restored_on_error,
)
from ._docs import (
    KERNEL_DOC,
    LIBSVM_DOC,
    SVM_ATTRIBUTES_DOC,
    SVM_COMMON_DOC,
    SVM_TASKS_DOC,
    format_doc,
)
from ._kernel_base import _KernelMixin
from ._kernel_ridge import KERNELS, resolve_gamma
from ._solvers._kernel import task_covariance
from ._typing import ArrayLike, MatrixLike, OptArray

__all__ = ["MultiTaskSVC", "MultiTaskSVR"]

_LIBSVM_PARAMS = ("C", "tol", "shrinking", "cache_size", "max_iter", "verbose")


class _MultiTaskSVM(_KernelMixin, MultiTaskMixin, BaseEstimator):
    """Validation, multi-task Gram matrices and delegation to libsvm."""

    _parameter_constraints: dict = {
        **MultiTaskMixin._common_constraints,
        **{k: SVC._parameter_constraints[k] for k in ("degree", "gamma", "coef0", *_LIBSVM_PARAMS)},
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],  # l2 = 0: a clear error in fit
        "laplacian": [StrOptions(set(LAPLACIANS))],
        "kernel": [StrOptions(set(KERNELS)), callable],
        "kernel_params": [dict, None],
    }

    def _gamma_value(self):
        return getattr(self, "_gamma", None) if isinstance(self.gamma, str) else self.gamma

    def _svm_params(self):
        return {k: getattr(self, k) for k in _LIBSVM_PARAMS}

    def _fit_svm(self, svm, X, y, task_ids, sample_weight):
        require_y(self, y)
        check_fixed_graph(self)
        X, task_ids = self._validate_kernel_X(X, task_ids, reset=True)
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"), warn=True)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} rows but X has {X.shape[0]}.")
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        graph, task_idx = self._task_graph(np.empty(len(y)), task_ids)
        # rows of weight 0 are dropped before libsvm, which mishandles them with a
        # precomputed kernel: the model is the one fitted without them
        kept = np.flatnonzero(sample_weight > 0)
        X = X[np.ix_(kept, kept)] if self.kernel == "precomputed" else X[kept]
        y, task_idx, sample_weight = y[kept], task_idx[kept], sample_weight[kept]
        B = task_covariance(graph, self.alpha, self.l2)
        if isinstance(self.gamma, str):  # "scale" or "auto", computed on the rows kept
            self._gamma = resolve_gamma(X, self.gamma)
        K = self._train_kernel(X) * B[np.ix_(task_idx, task_idx)]
        self.svm_ = svm.fit(K, y, sample_weight=sample_weight)
        self.X_fit_, self.task_kernel_, self._fit_task_idx = X, B, task_idx
        self._kept_rows = kept
        self.tasks_, self.graph_, self._shared_X = graph.tasks, graph, False
        for name in ("dual_coef_", "intercept_", "n_iter_", "fit_status_"):
            setattr(self, name, getattr(self.svm_, name))
        self.support_ = kept[self.svm_.support_]  # among all the rows given to fit
        return self

    def _libsvm(self, method, X, task_ids):
        """``svm_.<method>`` on the multi-task kernel between new rows and the training
        rows; values (not class labels) in float32 for float32 X on a float32 fit."""
        check_is_fitted(self)
        X, task_ids = self._validate_kernel_X(X, task_ids, reset=False)
        task_idx = self._predict_task_index(X, task_ids)
        B = self._task_kernel_rows(task_idx)[:, self._fit_task_idx]
        Xk = X[:, self._kept_rows] if self.kernel == "precomputed" else X  # k(X, rows fitted)
        out = getattr(self.svm_, method)(self._data_kernel(Xk, self.X_fit_) * B)
        labels = method == "predict" and isinstance(self, ClassifierMixin)
        return out if labels else self._in_fit_dtype(X, out)

    def predict(self, X: MatrixLike, task_ids: OptArray = None) -> np.ndarray:
        """Predict with the model of each row's task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs, or k(X, X_fit) with ``kernel="precomputed"``.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row (any task of ``tasks_``); may be omitted for one task.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The prediction of libsvm on the multi-task kernel between X and the
            training rows: a class label (MultiTaskSVC) or a value (MultiTaskSVR).
        """
        return self._libsvm("predict", X, task_ids)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags


class MultiTaskSVR(TaskRegressorMixin, _MultiTaskSVM):
    """Multi-task epsilon-insensitive support vector regression (Evgeniou & Pontil, 2004).

    libsvm's SVR on the multi-task kernel ``K((x, s), (z, t)) = k(x, z) * inv(E)[s, t]``,
    ``E = alpha L + l2 I``. It minimises, over ``f(x, t) = <w_t, phi(x)>`` and one intercept
    b shared by the tasks, ::

        C * sum_i s_i max(0, |y_i - f(x_i, t_i) - b| - epsilon)
        + 1/2 * (alpha * sum_{{s<t}} A_st ||w_s - w_t||^2 + l2 * sum_t ||w_t||^2).

    With one task this is ``sklearn.svm.SVR(C=C / l2)`` on the kernel k.

    Parameters
    ----------
    {common}

    epsilon : float, default=0.1
        Width of the insensitive tube.

    {libsvm}

    {tasks}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    MultiTaskSVC : The classifier on the same kernel.
    MultiTaskKernelRidge : The squared loss on the same kernel, solved exactly.
    multitask_kernel : The Gram matrix of the multi-task kernel.
    sklearn.svm.SVR : One task (``SVR(C=C / l2)``).

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg import MultiTaskSVR
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(60, 1))
    >>> task_ids = np.repeat(["a", "b"], 30)
    >>> y = np.sin(X[:, 0]) + (task_ids == "b")
    >>> est = MultiTaskSVR(C=10.0, alpha=1.0, l2=1.0).fit(X, y, task_ids=task_ids)
    >>> est.predict([[0.0], [0.0]], task_ids=["a", "b"]).round(1)
    array([0.1, 0.9])
    """

    _parameter_constraints: dict = {
        **_MultiTaskSVM._parameter_constraints,
        "epsilon": SVR._parameter_constraints["epsilon"],
    }

    def __init__(
        self,
        graph=None,
        *,
        alpha=1.0,
        l2=1.0,
        laplacian="unnormalized",
        kernel="rbf",
        degree=3,
        gamma="scale",
        coef0=0.0,
        kernel_params=None,
        C=1.0,
        epsilon=0.1,
        tol=1e-3,
        shrinking=True,
        cache_size=200,
        verbose=False,
        max_iter=-1,
        tasks=None,
        task_column=None,
        unseen_tasks="error",
    ):
        self.graph = graph
        self.alpha = alpha
        self.l2 = l2
        self.laplacian = laplacian
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.C = C
        self.epsilon = epsilon
        self.tol = tol
        self.shrinking = shrinking
        self.cache_size = cache_size
        self.verbose = verbose
        self.max_iter = max_iter
        self.tasks = tasks
        self.task_column = task_column
        self.unseen_tasks = unseen_tasks

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: MatrixLike, y: ArrayLike, task_ids: OptArray = None, sample_weight: OptArray = None
    ) -> MultiTaskSVR:
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs, or k(X, X) with ``kernel="precomputed"``.
        y : array-like of shape (n_samples,)
            Targets.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each row (any hashable labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights s_i (they scale C row by row, as in libsvm). Rows of weight 0
            are left out: the model is the one fitted without them.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with restored_on_error(self):
            svm = SVR(kernel="precomputed", epsilon=self.epsilon, **self._svm_params())
            self._fit_svm(svm, X, y, task_ids, sample_weight)
        return self


class MultiTaskSVC(ClassifierMixin, _MultiTaskSVM):
    """Multi-task support vector classification (Evgeniou & Pontil, 2004).

    libsvm's SVC on the multi-task kernel ``K((x, s), (z, t)) = k(x, z) * inv(E)[s, t]``,
    ``E = alpha L + l2 I``. For two classes (y_i in {{-1, +1}}) it minimises, over
    ``f(x, t) = <w_t, phi(x)>`` and one intercept b shared by the tasks, ::

        C * sum_i s_i max(0, 1 - y_i (f(x_i, t_i) + b))
        + 1/2 * (alpha * sum_{{s<t}} A_st ||w_s - w_t||^2 + l2 * sum_t ||w_t||^2);

    more classes are handled one-vs-one, as by ``sklearn.svm.SVC``. With one task this is
    ``SVC(C=C / l2)`` on the kernel k.

    Parameters
    ----------
    {common}

    {libsvm}

    class_weight : dict or "balanced", default=None
        Weights of the classes, as in ``sklearn.svm.SVC``: class c's C is
        ``class_weight[c] * C``; "balanced" weighs the classes inversely to their
        frequencies.

    decision_function_shape : {{"ovo", "ovr"}}, default="ovr"
        Shape of :meth:`decision_function` for more than two classes: one column per
        class ("ovr") or libsvm's one per pair of classes ("ovo").

    break_ties : bool, default=False
        With "ovr" and more than two classes, break the ties of the votes by the
        decision values, as in ``sklearn.svm.SVC``. SVC's ``probability`` is not
        offered (it is deprecated in scikit-learn 1.9): for probabilities wrap the model
        in ``CalibratedClassifierCV``, with ``task_column`` or metadata routing for the
        task labels.

    {tasks}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels seen in fit, sorted.
    n_support_ : ndarray of shape (n_classes,)
        The number of support vectors of each class.
    {attributes}

    See Also
    --------
    MultiTaskSVR : The regressor on the same kernel.
    MultiTaskGraphClassifier : The linear model with the logistic or squared hinge loss.
    multitask_kernel : The Gram matrix of the multi-task kernel.
    sklearn.svm.SVC : One task (``SVC(C=C / l2)``).

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg import MultiTaskSVC
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 2))
    >>> task_ids = np.repeat(["a", "b"], 40)
    >>> y = np.where(task_ids == "a", X[:, 0] > 0, X[:, 0] + 0.3 * X[:, 1] > 0)
    >>> est = MultiTaskSVC(kernel="linear", C=10.0).fit(X, y, task_ids=task_ids)
    >>> est.score(X, y, task_ids=task_ids) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **_MultiTaskSVM._parameter_constraints,
        **{
            k: SVC._parameter_constraints[k]
            for k in ("class_weight", "decision_function_shape", "break_ties")
        },
    }

    def __init__(
        self,
        graph=None,
        *,
        alpha=1.0,
        l2=1.0,
        laplacian="unnormalized",
        kernel="rbf",
        degree=3,
        gamma="scale",
        coef0=0.0,
        kernel_params=None,
        C=1.0,
        tol=1e-3,
        shrinking=True,
        cache_size=200,
        verbose=False,
        max_iter=-1,
        class_weight=None,
        decision_function_shape="ovr",
        break_ties=False,
        tasks=None,
        task_column=None,
        unseen_tasks="error",
    ):
        self.graph = graph
        self.alpha = alpha
        self.l2 = l2
        self.laplacian = laplacian
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.C = C
        self.tol = tol
        self.shrinking = shrinking
        self.cache_size = cache_size
        self.verbose = verbose
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.decision_function_shape = decision_function_shape
        self.break_ties = break_ties
        self.tasks = tasks
        self.task_column = task_column
        self.unseen_tasks = unseen_tasks

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: MatrixLike, y: ArrayLike, task_ids: OptArray = None, sample_weight: OptArray = None
    ) -> MultiTaskSVC:
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs, or k(X, X) with ``kernel="precomputed"``.
        y : array-like of shape (n_samples,)
            Class labels.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each row (any hashable labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights s_i (they scale C row by row, as in libsvm). Rows of weight 0
            are left out: the model is the one fitted without them.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with restored_on_error(self):
            svm = SVC(
                kernel="precomputed",
                class_weight=self.class_weight,
                decision_function_shape=self.decision_function_shape,
                break_ties=self.break_ties,
                **self._svm_params(),
            )
            self._fit_svm(svm, X, y, task_ids, sample_weight)
            self.classes_, self.n_support_ = self.svm_.classes_, self.svm_.n_support_
        return self

    def decision_function(self, X: MatrixLike, task_ids: OptArray = None) -> np.ndarray:
        """Return libsvm's decision values on the multi-task kernel.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs, or k(X, X_fit) with ``kernel="precomputed"``.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row (any task of ``tasks_``); may be omitted for one task.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_scores)
            For two classes, positive for ``classes_[1]``; for more, one column per
            class (``decision_function_shape="ovr"``) or per pair of classes ("ovo"),
            as ``sklearn.svm.SVC.decision_function`` gives them.
        """
        return self._libsvm("decision_function", X, task_ids)

    def score(
        self, X: MatrixLike, y: ArrayLike, task_ids: OptArray = None, sample_weight: OptArray = None
    ) -> float:
        """Return the accuracy of the predictions over all rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test inputs, or k(X, X_fit) with ``kernel="precomputed"``.
        y : array-like of shape (n_samples,)
            True class labels.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row, as in :meth:`predict`.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the score.

        Returns
        -------
        score : float
            The (weighted) fraction of rows predicted right.
        """
        return accuracy_score(y, self.predict(X, task_ids=task_ids), sample_weight=sample_weight)


for _cls in (MultiTaskSVR, MultiTaskSVC):
    _cls.__doc__ = format_doc(
        _cls.__doc__,
        common=SVM_COMMON_DOC.format(
            graph=FIXED_GRAPH_DOC, kernel=KERNEL_DOC.format(default="rbf")
        ),
        libsvm=LIBSVM_DOC,
        tasks=SVM_TASKS_DOC.format(unseen=UNSEEN_DOC_KERNEL),
        attributes=SVM_ATTRIBUTES_DOC,
    )
