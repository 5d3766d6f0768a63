"""MultiTaskGraphClassifier: graph-regularised multi-task linear classification."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
)

from ._base import GRAPH_DOC, UNSEEN_DOC_LINEAR, restored_on_error
from ._linear_base import _COMMON_CONSTRAINTS, _GraphLinearModel
from ._objective import objective
from ._solvers import select_solver, solve_glm


class MultiTaskGraphClassifier(ClassifierMixin, _GraphLinearModel):
    """Graph-regularised multi-task linear classification.

    Every task t has its own linear decision function ``x . w_t + b_t``; a task-relation
    graph A pulls the models of related tasks together. For labels coded y in {-1, +1}
    the fit minimises

        sum_i s_i loss(y_i, x_i . w_{t_i} + b_{t_i})
        + alpha * sum_{s<t} A_st ||w_s - w_t||^2 + l2 * sum_t ||w_t||^2
        + l1 * sum_t ||w_t||_1

    with the logistic loss ``log(1 + exp(-y f))`` or the squared hinge
    ``max(0, 1 - y f)^2``. With ``alpha=0`` and ``l1=0`` the logistic model is one
    ``sklearn.linear_model.LogisticRegression(C=1 / (2 * l2))`` per task. More than two
    classes: one-vs-rest over the classes seen in the whole training set, one such
    problem per class.

    Parameters
    ----------
    {graph}

    graph_params : dict, default=None
        Options of the graphs built in fit. "knn" and "similarity": ``method`` ("coef" or
        "distribution"), ``metric``, ``sigma``, ``l2`` of
        :func:`mtreg.relations.task_similarity`, and ``n_neighbors`` (default
        min(5, T - 1)), ``mode``, ``threshold``, ``weighted`` of
        :func:`mtreg.relations.similarity_graph`. "learn": ``epsilon`` (1e-3), ``max_iter``
        (200 alternations), ``tol`` (1e-6, on the relative decrease of the objective per
        alternation). A smaller ``epsilon`` (the smoothing of Omega, in units of the
        squared coefficients) makes Omega closer to singular and the alternation slower.

    loss : {"logistic", "squared_hinge"}, default="logistic"

    alpha : float, default=1.0
        Strength of the graph coupling. Non-negative.

    l2 : float, default=1.0
        Ridge penalty on every w_t. Non-negative.

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
    coef_ : ndarray of shape (n_tasks, n_features), or (n_classes, n_tasks, n_features)
        One row per task; one such block per class for more than two classes.
    intercept_ : ndarray of shape (n_tasks,) or (n_classes, n_tasks)
    tasks_ : ndarray of shape (n_tasks,)
    adjacency_, laplacian_, graph_ :
        The task graph used; see :class:`MultiTaskGraphRegressor`.
    solver_ : str
    n_iter_ : ndarray of shape (n_problems,)
        Iterations of each binary problem (one, or one per class); with
        ``graph="learn"``, the number of alternations.
    task_covariance_, objective_path_ :
        With ``graph="learn"``; see :class:`MultiTaskGraphRegressor`.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

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
        **_COMMON_CONSTRAINTS,
        "loss": [StrOptions({"logistic", "squared_hinge"})],
    }

    def __init__(
        self,
        graph=None,
        *,
        graph_params=None,
        loss="logistic",
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
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (any type).
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
            y = column_or_1d(y, warn=True)
            if y.shape[0] != X.shape[0]:
                raise ValueError(f"y has {y.shape[0]} rows but X has {X.shape[0]}.")
            try:
                classes = np.unique(y)
            except TypeError as exc:
                kinds = sorted({type(label).__name__ for label in y.tolist()})
                raise ValueError(
                    f"y mixes label types {kinds}; the class labels must be all strings "
                    "or all numbers."
                ) from exc
            check_classification_targets(classes)  # y's type is that of its values
            if len(classes) < 2:
                raise ValueError(
                    "This solver needs samples of at least 2 classes in the data, but the "
                    f"data contains only one class: {classes[0]!r}."
                )
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            graph, task_idx = self._task_graph(y, task_ids, X)
            self._positives = classes[1:] if len(classes) == 2 else classes
            rows = (X, y, task_idx, sample_weight)
            coef, intercept, solver, n_iter, graph = self._fit_rows(rows, graph)
            self.classes_, self.coef_, self.intercept_ = classes, coef, intercept
            self.tasks_, self.graph_ = graph.tasks, graph
            self.solver_, self.n_iter_ = solver, n_iter
            self._multi_output = False
        return self

    def _solve(self, rows, graph, start=None):
        """One binary problem per class (one in all for two classes)."""
        X, y, task_idx, sample_weight = rows
        solver = select_solver(
            self.solver,
            loss=self.loss,
            l1=self.l1,
            graph=graph,
            shared_X=False,
            n_features=X.shape[1],
        )
        fits = [
            solve_glm(
                X,
                np.where(y == c, 1.0, -1.0),
                task_idx,
                sample_weight,
                graph,
                loss=self.loss,
                solver=solver,
                init=self._init(graph, X, k, start),
                **self._glm_params(),
            )
            for k, c in enumerate(self._positives)
        ]
        coef, intercept, n_iter = (np.array(v) for v in zip(*fits, strict=True))
        if len(self._positives) == 1:
            coef, intercept = coef[0], intercept[0]
        return coef, intercept, solver, n_iter

    def _objective(self, rows, coef, intercept, graph):
        X, y, task_idx, sample_weight = rows
        coef, intercept = coef.reshape(-1, *coef.shape[-2:]), intercept.reshape(-1, coef.shape[-2])
        return sum(
            objective(
                W,
                b,
                X,
                np.where(y == c, 1.0, -1.0),
                task_idx,
                graph,
                alpha=self.alpha,
                l2=self.l2,
                l1=self.l1,
                loss=self.loss,
                sample_weight=sample_weight,
            )
            for W, b, c in zip(coef, intercept, self._positives, strict=True)
        )

    def decision_function(self, X, task_ids=None):
        """Signed distance to each task's decision boundary.

        Returns
        -------
        scores : ndarray of shape (n_samples,), or (n_samples, n_classes) for more
            than two classes (one-vs-rest).
        """
        check_is_fitted(self)
        X, task_ids = self._validate_X(X, task_ids, reset=False)
        task_idx = self._predict_task_index(X, task_ids)
        if self.coef_.ndim == 2:
            return self._linear_predict(X, task_idx, self.coef_, self.intercept_)
        return np.column_stack(
            [
                self._linear_predict(X, task_idx, W, b)
                for W, b in zip(self.coef_, self.intercept_, strict=True)
            ]
        )

    def predict(self, X, task_ids=None):
        """Class label of each row, by the model of its task."""
        scores = self.decision_function(X, task_ids=task_ids)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    @available_if(lambda self: self.loss == "logistic")
    def predict_proba(self, X, task_ids=None):
        """Class probabilities (logistic loss); one-vs-rest ones normalised to sum to 1.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        scores = self.decision_function(X, task_ids=task_ids)
        p = 0.5 * (1.0 + np.tanh(0.5 * scores))  # sigmoid, without overflow; inf -> 1
        if scores.ndim == 1:
            return np.column_stack([1.0 - p, p])
        return p / p.sum(axis=1, keepdims=True)

    @available_if(lambda self: self.loss == "logistic")
    def predict_log_proba(self, X, task_ids=None):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, task_ids=task_ids))

    def score(self, X, y, task_ids=None, sample_weight=None):
        """Accuracy of the predictions over all rows."""
        return accuracy_score(y, self.predict(X, task_ids=task_ids), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


MultiTaskGraphClassifier.__doc__ = MultiTaskGraphClassifier.__doc__.replace(
    "{graph}", GRAPH_DOC
).replace("{unseen}", UNSEEN_DOC_LINEAR)
