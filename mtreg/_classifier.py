"""MultiTaskGraphClassifier: graph-regularised multi-task linear classification."""

from __future__ import annotations

import functools
import types

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.utils import assert_all_finite
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
)

from ._base import GRAPH_DOC, UNSEEN_DOC_LINEAR, require_y, restored_on_error
from ._docs import GRAPH_PARAMS_DOC, PER_FEATURE_DOCS, fill_doc
from ._labels import is_missing
from ._linear_base import PER_FEATURE_CONSTRAINTS, _GraphLinearModel
from ._losses import CLASSIFICATION_LOSSES
from ._solvers import select_solver
from ._solvers._lazy import fitted_dtype
from ._solvers._ovr import (
    class_log_proba,
    class_proba,
    class_weighted,
    one_vs_rest_objective,
    solve_one_vs_rest,
)
from ._tasks import Rows
from ._typing import ArrayLike, MatrixLike, OptArray


class _logistic_only:
    """A method that exists only with ``loss="logistic"``; otherwise an AttributeError
    that says why (so ``hasattr`` is False, as with ``available_if``)."""

    def __init__(self, method):
        self.method = method
        functools.update_wrapper(self, method)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.method
        if obj.loss != "logistic":
            raise AttributeError(
                f"{self.method.__name__} is available only with loss='logistic': "
                f"loss={obj.loss!r} fits no probability model. Use decision_function, "
                "or wrap the classifier in sklearn.calibration.CalibratedClassifierCV."
            )
        return types.MethodType(self.method, obj)


def _classes(y):
    """The sorted classes of y, with clear errors for missing labels, mixed types and a
    single class."""
    if y.dtype == object:
        missing = np.flatnonzero(np.frompyfunc(is_missing, 1, 1)(y).astype(bool))
        if missing.size:
            where = ", ".join(str(k) for k in missing[:10])
            raise ValueError(
                f"a class label is missing (None, NaN or NA) in y, at position"
                f"{'s' if missing.size > 1 else ''} {where}: drop these rows, or label them."
            )
    try:
        classes = np.unique(y)
    except TypeError as exc:
        kinds = sorted({type(label).__name__ for label in y.tolist()})
        raise ValueError(
            f"y mixes label types {kinds}; the class labels must be all strings or all numbers."
        ) from exc
    check_classification_targets(classes)  # y's type is that of its values
    if len(classes) < 2:
        found = f"only one class: {classes[0]!r}" if len(classes) else "no class"
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data (rows of "
            f"positive weight), but the data contains {found}."
        )
    return classes


class MultiTaskGraphClassifier(ClassifierMixin, _GraphLinearModel):
    """Graph-regularised multi-task linear classification.

    Every task t has its own linear decision function ``x . w_t + b_t``; a task-relation
    graph A pulls the models of related tasks together. For labels coded y in {-1, +1}
    the fit minimises::

        sum_i s_i loss(y_i, x_i . w_{t_i} + b_{t_i})
        + alpha * sum_{s<t} A_st ||w_s - w_t||^2 + l2 * sum_t ||w_t||^2
        + l1 * sum_t ||w_t||_1

    with the logistic loss ``log(1 + exp(-y f))`` or the squared hinge
    ``max(0, 1 - y f)^2``. With ``alpha=0`` and ``l1=0`` the logistic model is one
    ``sklearn.linear_model.LogisticRegression(C=1 / (2 * l2))`` per task. More than two
    classes: one-vs-rest over the classes seen in the whole training set, one such
    problem per class. Rows of weight 0 count nowhere: the model is the one fitted
    without them (classes, one-class tasks, intercepts); a task whose rows all weigh 0
    is a task without rows. float32 X gives float32 ``coef_``, ``intercept_`` and
    scores (the solvers work in float64).

    Parameters
    ----------
    {graph}

    {graph_params}

    loss : {"logistic", "squared_hinge"}, default="logistic"
        The loss of each row: ``log(1 + exp(-y f))`` (which gives probabilities,
        :meth:`predict_proba`) or ``max(0, 1 - y f)^2`` (margins only).

    class_weight : dict or "balanced", default=None
        Weights of the classes, as in ``sklearn.linear_model.LogisticRegression``: row i
        weighs ``class_weight[y_i] * sample_weight[i]`` in every binary problem (classes
        not in the dict weigh 1). "balanced": ``class_weight[c] = sum_i s_i /
        (n_classes * sum_{i: y_i = c} s_i)`` (``sklearn.utils.compute_class_weight`` with
        the sample weights; ``n / (n_classes * np.bincount(y))`` without them). Passing
        these weights as ``sample_weight`` gives the same model.

    alpha : float or array-like of shape (n_features,), default=1.0
        Strength of the graph coupling. Non-negative. {per_feature_alpha}

    l2 : float or array-like of shape (n_features,), default=1.0
        Ridge penalty on every w_t. Non-negative; with ``l2=0`` (and ``l1=0``) the data
        must determine every direction of the coefficients, as for
        :class:`MultiTaskGraphRegressor` (a ``SingularProblemError`` says when they do
        not). Data of extreme magnitude are rescaled exactly before the solve. {per_feature_l2}

    l1 : float, default=0.0
        Lasso penalty on every w_t; solved by "fista".

    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task. A task without training rows gets its
        coefficients through the coupling and the harmonic extension of the other
        intercepts (as in :class:`MultiTaskGraphRegressor`). A task whose training rows
        show one class only (of a binary problem) has no finite optimal intercept: J
        decreases as it runs off to infinity. Its coefficients then come from the
        coupling (its rows are left out), and its intercept is +-inf with the logistic
        loss (the limit: the task predicts its one class with probability 1) and, with
        the squared hinge, the finite intercept at which its nearest row reaches the
        margin (a minimiser).

    laplacian : {"unnormalized", "normalized"}, default="unnormalized"
        ``L = D - A``, or the normalised ``I - D^-1/2 A D^-1/2``.

    tasks : array-like of shape (n_tasks,), default=None
        The task labels and their order; see :class:`MultiTaskGraphRegressor`.

    task_column : int or str, default=None
        Read the task labels from this column of X; see
        :class:`MultiTaskGraphRegressor`.

    {unseen}

    solver : {"auto", "newton", "lbfgs", "fista"}, default="auto"
        - "newton": damped Newton; every step is one exact graph-ridge solve whose
          per-task moments are the Hessian blocks of the loss, by the squared-loss
          solvers of :class:`MultiTaskGraphRegressor`. A handful of steps; each costs
          one pass of O(n d^2) over the rows (kept in a copy grouped by task).
        - "lbfgs": limited-memory BFGS on (W, b) (10 pairs, backtracking line search);
          each evaluation is one numba pass over the rows, O(n d).
        - "fista": accelerated proximal gradient with backtracking and adaptive
          restart; the solver for ``l1 > 0``.
        - "auto": "fista" when ``l1 > 0``, else "newton" up to 20 features, else
          "lbfgs".

        The passes over the rows run on as many threads as BLAS may use
        (``threadpoolctl.threadpool_limits`` limits both).

    tol : float, default=1e-6
        Stop when the optimality residual falls below ``tol`` times its value at
        W = 0, b = 0: the norm of the gradient of J ("newton", "lbfgs"), of the
        proximal gradient mapping ("fista"). Where rounding leaves nothing to gain (J
        and the residual stop improving for 5 steps in a row) the solver stops early
        with a ``ConvergenceWarning``.

    max_iter : int, default=None
        Iteration cap (None: 100 for "newton", 1000 for "lbfgs", 10000 for "fista");
        a ``ConvergenceWarning`` is raised when it is reached.

    warm_start : bool, default=False
        Start from the previous solution when the shapes agree.

    verbose : int, default=0
        Print the progress of the solver.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels seen in fit (over all tasks), sorted; a binary model's
        decision function is positive for ``classes_[1]``.
    coef_ : ndarray of shape (n_tasks, n_features), or (n_classes, n_tasks, n_features)
        One row per task; one such block per class for more than two classes.
    intercept_ : ndarray of shape (n_tasks,) or (n_classes, n_tasks)
        One intercept per task (per class and task for more than two classes); +-inf
        for a task of one class with the logistic loss (see ``fit_intercept``).
    tasks_ : ndarray of shape (n_tasks,)
        Task labels, in the order of the rows of ``coef_`` and of the graph.
    adjacency_ : ndarray or sparse matrix of shape (n_tasks, n_tasks)
        The symmetrised adjacency matrix used.
    laplacian_ : ndarray or sparse matrix of shape (n_tasks, n_tasks)
        The Laplacian used in the penalty.
    graph_ : TaskGraph
        The validated graph (labels, adjacency, Laplacian kind).
    solver_ : str
        The solver used ("auto" resolved).
    n_iter_ : ndarray of shape (n_problems,)
        Iterations of each binary problem (one, or one per class); with
        ``graph="learn"``, the number of alternations.
    task_covariance_ : ndarray of shape (n_tasks, n_tasks)
        With ``graph="learn"``: the learned task covariance Omega (trace 1).
    objective_path_ : ndarray of shape (n_alternations,)
        With ``graph="learn"``: the objective after each alternation (non-increasing).
    n_features_in_ : int
        Number of columns of X seen in fit (including ``task_column``).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of X, when X has them.

    See Also
    --------
    MultiTaskGraphRegressor : The same penalty with the squared loss.
    MultiTaskSVC : A kernel support vector classifier with a multi-task kernel.
    mtreg.core.graph_glm : The functional form of the solve, on integer task positions.
    sklearn.linear_model.LogisticRegression : One task at a time (``alpha=0``).

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg import MultiTaskGraphClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(90, 2))
    >>> task_ids = np.repeat(["a", "b", "c"], 30)
    >>> y = np.where(X[:, 0] + (task_ids == "c") * X[:, 1] > 0, "yes", "no")
    >>> clf = MultiTaskGraphClassifier(alpha=1.0, l2=0.1).fit(X, y, task_ids=task_ids)
    >>> clf.classes_
    array(['no', 'yes'], dtype='<U3')
    >>> clf.predict_proba(X[:2], task_ids=["a", "c"]).sum(axis=1)
    array([1., 1.])
    """

    _parameter_constraints: dict = {
        **PER_FEATURE_CONSTRAINTS,
        "loss": [StrOptions(set(CLASSIFICATION_LOSSES))],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        graph=None,
        *,
        graph_params=None,
        loss="logistic",
        class_weight=None,
        alpha=1.0,
        l2=1.0,
        l1=0.0,
        fit_intercept=True,
        laplacian="unnormalized",
        tasks=None,
        task_column=None,
        unseen_tasks="error",
        solver="auto",
        tol=1e-6,
        max_iter=None,
        warm_start=False,
        verbose=0,
    ):
        self.graph = graph
        self.graph_params = graph_params
        self.loss = loss
        self.class_weight = class_weight
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
    ) -> MultiTaskGraphClassifier:
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, the rows of every task.
        y : array-like of shape (n_samples,)
            Class labels (any type).
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each row (any hashable labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        require_y(self, y)
        with restored_on_error(self):
            X, task_ids = self._validate_X(X, task_ids, reset=True)
            self._check_penalties(X.shape[1])
            y = column_or_1d(y, warn=True)
            assert_all_finite(y, input_name="y")  # before the labels are inspected
            if y.shape[0] != X.shape[0]:
                raise ValueError(f"y has {y.shape[0]} rows but X has {X.shape[0]}.")
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            classes = _classes(y[sample_weight > 0])  # rows of weight 0 do not count
            sample_weight = class_weighted(y, classes, sample_weight, self.class_weight)
            graph, task_idx = self._task_graph(y, task_ids, X)
            self._positives = classes[1:] if len(classes) == 2 else classes
            rows = Rows(X, y, task_idx, sample_weight)
            coef, intercept, solver, n_iter, graph = self._fit_rows(rows, graph)
            self.classes_ = classes
            self.coef_, self.intercept_ = fitted_dtype(coef, intercept, X.dtype)
            self.tasks_, self.graph_ = graph.tasks, graph
            self.solver_, self.n_iter_ = solver, n_iter
            self._shared_X = False
        return self

    def _solve(self, rows, graph, start=None):
        """One binary problem per class (one in all for two classes)."""
        solver = select_solver(
            self.solver,
            loss=self.loss,
            l1=self.l1,
            graph=graph,
            shared_X=False,
            n_features=rows.X.shape[1],
        )
        coef, intercept, n_iter = solve_one_vs_rest(
            *rows,
            graph,
            self._positives,
            lambda k: self._init(graph, rows.X, k, start),
            loss=self.loss,
            solver=solver,
            **self._glm_params(),
        )
        return coef, intercept, solver, n_iter

    def _objective(self, rows, coef, intercept, graph):
        return one_vs_rest_objective(
            coef,
            intercept,
            *rows,
            graph,
            self._positives,
            alpha=self.alpha,
            l2=self.l2,
            l1=self.l1,
            loss=self.loss,
        )

    def decision_function(self, X: MatrixLike, task_ids: OptArray = None) -> np.ndarray:
        """Return the signed score of each row by its task's decision function.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows, of the width seen in fit.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row; may be omitted for a single-task model.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``x_i . w_{t_i} + b_{t_i}``, positive for ``classes_[1]``; one column per
            class (one-vs-rest) for more than two classes.
        """
        check_is_fitted(self)
        X, task_ids = self._validate_X(X, task_ids, reset=False)
        task_idx = self._predict_task_index(X, task_ids)
        return self._linear_predict(X, task_idx, self.coef_, self.intercept_)

    def predict(self, X: MatrixLike, task_ids: OptArray = None) -> np.ndarray:
        """Return the class label of each row, by the model of its task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows, of the width seen in fit.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row; may be omitted for a single-task model.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The class of each row (of ``classes_``): the sign of the binary decision
            function, or the class of the largest one-vs-rest score.
        """
        scores = self.decision_function(X, task_ids=task_ids)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    @_logistic_only
    def predict_proba(self, X: MatrixLike, task_ids: OptArray = None) -> np.ndarray:
        """Return the class probabilities (logistic loss only).

        With more than two classes the one-vs-rest probabilities are normalised to sum
        to 1.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows, of the width seen in fit.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row; may be omitted for a single-task model.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class of ``classes_``, per row.
        """
        return class_proba(self.decision_function(X, task_ids=task_ids))

    @_logistic_only
    def predict_log_proba(self, X: MatrixLike, task_ids: OptArray = None) -> np.ndarray:
        """Return the logarithm of :meth:`predict_proba`, computed without underflow.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows, of the width seen in fit.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row; may be omitted for a single-task model.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class of ``classes_``, per row.
        """
        return class_log_proba(self.decision_function(X, task_ids=task_ids))

    def score(
        self, X: MatrixLike, y: ArrayLike, task_ids: OptArray = None, sample_weight: OptArray = None
    ) -> float:
        """Return the accuracy of the predictions over all rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test rows.
        y : array-like of shape (n_samples,)
            True class labels.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row, as in :meth:`predict`.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the accuracy.

        Returns
        -------
        score : float
            The (weighted) fraction of rows predicted right, over the rows of all tasks.
        """
        return accuracy_score(y, self.predict(X, task_ids=task_ids), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


MultiTaskGraphClassifier.__doc__ = fill_doc(
    MultiTaskGraphClassifier.__doc__,
    **PER_FEATURE_DOCS,
    graph=GRAPH_DOC,
    unseen=UNSEEN_DOC_LINEAR,
    graph_params=GRAPH_PARAMS_DOC,
)
