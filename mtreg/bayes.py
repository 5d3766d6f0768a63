"""Empirical Bayes for the graph-regularised linear model: the coupling learned from the data
by the exact restricted marginal likelihood, with predictive uncertainty."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import GRAPH_DOC, LAPLACIANS, MultiTaskMixin, TaskRegressorMixin, restored_on_error
from ._evidence import Evidence, evidence_moments, maximise_evidence
from ._linear_base import _GraphLinearModel
from ._solvers._rows import long_format
from ._task_column import frame_columns
from ._task_index import predict_linear
from ._typing import ArrayLike, MatrixLike, OptArray

__all__ = ["BayesianMultiTaskGraphRegressor"]


class BayesianMultiTaskGraphRegressor(TaskRegressorMixin, _GraphLinearModel):
    """Graph-coupled multi-task linear regression with the coupling learned by empirical Bayes.

    The probabilistic reading of :class:`MultiTaskGraphRegressor` (squared loss): for rows
    ``(x_i, y_i, t_i)`` of weight ``s_i > 0``::

        y_i = x_i . w_{t_i} + b_{t_i} + e_i,    e_i ~ N(0, sigma^2 / s_i),

    and for each feature j the column ``w_{:,j}`` of the task models has the Gaussian
    prior of precision ``(alpha_j L + l2_j I) / sigma^2`` (L the graph Laplacian). The
    posterior mean minimises J of MultiTaskGraphRegressor with the same alpha and l2
    (``alpha_j = alpha``, ``l2_j = l2``). The intercepts are either flat (unpenalised,
    as in J) or coupled: ``b`` with the prior precision ``alpha_intercept L / sigma^2``,
    its mean flat. On the default complete graph with ``l2=0`` and coupled intercepts
    this is the linear mixed model with a random intercept and independent random
    slopes per task, ``w_t = beta + u_t``, ``u_t ~ N(0, sigma^2 / alpha)`` (statsmodels'
    MixedLM, lme4's ``(1 + x || task)``).

    What fit maximises is the restricted (REML) log marginal likelihood of y, sigma^2
    profiled out: the prior directions that are flat (the mean of each connected
    component of the graph when ``l2_j = 0``, every flat intercept) are integrated out
    with the Lebesgue measure on the coefficients beta of ``theta_{:,k} = N beta + u``
    (N the indicator vectors of the components; orthonormal null vectors for the
    normalised Laplacian), ``u ~ N(0, sigma^2 P^+)`` on the range of the prior
    precision P. With n rows of positive weight, p flat directions and ``H`` the
    posterior precision times sigma^2 (the Hessian of J / 2)::

        F = -(n - p)/2 (log(2 pi J_min / (n - p)) + 1) + 1/2 sum_i log s_i
            - 1/2 log det H + 1/2 sum_k (log pdet P_k - log det N_k^T N_k)

    the REML log-likelihood of statsmodels' MixedLM (``llf``) on the equivalent model;
    ``noise_variance_ = J_min / (n - p)``. F is maximised over the logs of alpha (and
    of l2 with ``l2="learn"``) by L-BFGS-B with the exact gradient. On the complete
    and empty graphs F costs O(T q^3) (Woodbury and the matrix determinant lemma on the
    (q, q) blocks of the tasks, q = d or d + 1); other graphs factorise the T q x T q
    posterior precision densely (T q <= 6000). Sample weights are precision weights
    (``s_i = 2``: a row with half the noise variance), as in statsmodels' WLS.

    Parameters
    ----------
    {graph}

    graph_params : dict, default=None
        Parameters of the ``"knn"`` and ``"similarity"`` graphs (see
        :class:`MultiTaskGraphRegressor`). ``graph="learn"`` is not available.

    feature_scales : {"per_feature", "shared"}, default="per_feature"
        One alpha (and l2, when learned) per feature, or one for all features.

    l2 : float or "learn", default="learn"
        Precision (times sigma^2) of the prior on every w_t beyond the graph: "learn"
        maximises the evidence over it as well (a proper prior: collinear features and
        fewer rows than features are fine, and one task is BayesianRidge); a float fixes
        it; 0 leaves the mean of the task models flat, a fixed effect as in a mixed model
        (REML), which the data must then determine.

    fit_intercept : bool, default=True
        Fit an intercept per task.

    couple_intercepts : bool, default=True
        Give the intercepts the graph prior ``alpha_intercept L`` (a random intercept),
        learned with the rest; False leaves each task's intercept flat, as in J.

    alpha_init : float or array-like of shape (n_features,), default=None
        Starting alpha (per feature); None: the median over the tasks of each feature's
        weighted sum of squares (a prior worth one task's data).

    alpha_intercept_init : float, default=None
        Starting ``alpha_intercept``; None: the median weight of a task's rows.

    optimizer : {"L-BFGS-B"} or None, default="L-BFGS-B"
        None keeps alpha, l2 and alpha_intercept at their starting values (sigma^2 is
        still estimated), as GaussianProcessRegressor's ``optimizer=None``.

    laplacian : {"unnormalized", "normalized"}, default="unnormalized"
        ``L = D - A``, or the normalised ``I - D^-1/2 A D^-1/2``.

    tasks : array-like of shape (n_tasks,), default=None
        The task labels and their order (see :class:`MultiTaskGraphRegressor`).

    task_column : int or str, default=None
        Read the task labels from this column of X instead of ``task_ids``.

    unseen_tasks : {"error", "population"}, default="error"
        "population": rows of a task never seen get the prediction of a new task joined
        to every fitted task by an edge of weight 1/T: ``w ~ N(alpha / (alpha + l2) *
        mean_t w_t, sigma^2 / (alpha + l2))`` per feature, given the posterior of the
        fitted tasks (a new random effect), so a larger standard deviation; the
        intercept likewise when coupled, else the mean intercept with the spread of the
        fitted intercepts as variance. "error": a ValueError that names the tasks.

    tol : float, default=1e-10
        Relative tolerance of L-BFGS-B on F (its ``ftol``); it also stops when every
        derivative of F in the log parameters is below ``1e-3 + tol * |F|`` (a change of
        1 % in a parameter then moves F by less than 1e-5).

    max_iter : int, default=500
        Iteration cap of L-BFGS-B; a ``ConvergenceWarning`` is raised when reached.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Posterior mean of w_t, one row per task.
    intercept_ : ndarray of shape (n_tasks,)
        Posterior mean of b_t (zeros when ``fit_intercept=False``).
    alpha_ : float or ndarray of shape (n_features,)
        The learned graph precision(s), in units of 1 / sigma^2 (a float with
        ``feature_scales="shared"``). In mixed-model terms the variance of the random
        slope j is ``noise_variance_ / alpha_[j]``.
    l2_ : float or ndarray of shape (n_features,)
        The l2 precision(s) used (learned with ``l2="learn"``).
    alpha_intercept_ : float or None
        The graph precision of the coupled intercepts; None when they are flat.
    noise_variance_ : float
        sigma^2, the REML estimate ``J_min / (n - p)``.
    log_marginal_likelihood_ : float
        F at the returned hyper-parameters.
    scores_ : ndarray of shape (``n_iter_ + 1``,)
        F at the start and after each iteration.
    n_iter_ : int
        Iterations of L-BFGS-B.
    posterior_covariance_ : ndarray of shape (n_tasks, q, q)
        The posterior covariance of each task's ``[w_t, b_t]`` (q = n_features + 1; q =
        n_features without intercept).
    tasks_ : ndarray of shape (n_tasks,)
        Task labels, in the order of ``coef_`` rows and of the graph.
    graph_ : TaskGraph
        The validated graph.
    n_features_in_ : int
        Number of columns of X seen in fit (including ``task_column``).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of X, when X has them.

    See Also
    --------
    MultiTaskGraphRegressor : The posterior mean with alpha and l2 given.
    MultiTaskGraphRegressorCV : The alpha and l2 chosen by cross-validation instead.
    sklearn.linear_model.BayesianRidge : The one-task analogue.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg import BayesianMultiTaskGraphRegressor
    >>> rng = np.random.default_rng(0)
    >>> task_ids = np.repeat(np.arange(20), 30)
    >>> X = rng.normal(size=(600, 2))
    >>> W = [1.0, -1.0] + 0.3 * rng.normal(size=(20, 2))
    >>> y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.5 * rng.normal(size=600)
    >>> est = BayesianMultiTaskGraphRegressor(unseen_tasks="population")
    >>> est = est.fit(X, y, task_ids=task_ids)
    >>> mean, std = est.predict(X[:2], task_ids=[0, "new"], return_std=True)
    >>> bool(std[1] > std[0])
    True
    """

    _parameter_constraints: dict = {
        **MultiTaskMixin._common_constraints,
        "graph_params": [dict, None],
        "feature_scales": [StrOptions({"per_feature", "shared"})],
        "l2": [Interval(Real, 0, None, closed="left"), StrOptions({"learn"})],
        "fit_intercept": ["boolean"],
        "couple_intercepts": ["boolean"],
        "alpha_init": [Interval(Real, 0, None, closed="neither"), "array-like", None],
        "alpha_intercept_init": [Interval(Real, 0, None, closed="neither"), None],
        "optimizer": [StrOptions({"L-BFGS-B"}), None],
        "laplacian": [StrOptions(set(LAPLACIANS))],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        graph=None,
        *,
        graph_params=None,
        feature_scales="per_feature",
        l2="learn",
        fit_intercept=True,
        couple_intercepts=True,
        alpha_init=None,
        alpha_intercept_init=None,
        optimizer="L-BFGS-B",
        laplacian="unnormalized",
        tasks=None,
        task_column=None,
        unseen_tasks="error",
        tol=1e-10,
        max_iter=500,
    ):
        self.graph = graph
        self.graph_params = graph_params
        self.feature_scales = feature_scales
        self.l2 = l2
        self.fit_intercept = fit_intercept
        self.couple_intercepts = couple_intercepts
        self.alpha_init = alpha_init
        self.alpha_intercept_init = alpha_intercept_init
        self.optimizer = optimizer
        self.laplacian = laplacian
        self.tasks = tasks
        self.task_column = task_column
        self.unseen_tasks = unseen_tasks
        self.tol = tol
        self.max_iter = max_iter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: MatrixLike, y: ArrayLike, task_ids: OptArray = None, sample_weight: OptArray = None
    ) -> BayesianMultiTaskGraphRegressor:
        """Fit the model: learn the hyper-parameters, then the posterior.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, the rows of every task.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            1-D: one target per row, of the task given by ``task_ids``. 2-D: column t
            is task t observed at the same X.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each row (any hashable labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative precision weights (noise variance sigma^2 / s_i); rows of
            weight 0 count nowhere.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with restored_on_error(self):
            if isinstance(self.graph, str) and self.graph == "learn":
                raise ValueError(
                    "graph='learn' is not available for BayesianMultiTaskGraphRegressor: "
                    "give a graph (the default complete graph learns one alpha per feature)."
                )
            X, task_ids = self._validate_X(X, task_ids, reset=True)
            columns = frame_columns(y)
            y, sample_weight = self._validate_y(X, y, sample_weight)
            graph, task_idx = self._task_graph(y, task_ids, X, columns=columns)
            self._shared_X = task_idx is None
            if task_idx is None:
                X, y, task_idx, sample_weight = long_format(X, y, sample_weight)
            self._fit_moments(X, y, task_idx, sample_weight, graph)
        return self

    def _intercept_kind(self):
        if not self.fit_intercept:
            return "none"
        return "coupled" if self.couple_intercepts else "flat"

    def _start(self, mom, d):
        """(alpha, l2, groups) per coordinate: starting values and the free parameters."""
        q = mom.gram.shape[1]
        observed = mom.weight_sum > 0
        diag = np.diagonal(mom.gram[observed], axis1=1, axis2=2)
        scale = np.median(diag, axis=0) if observed.any() else np.ones(q)
        scale = np.where(scale > 0, scale, 1.0)
        alpha = scale.copy()
        if self.alpha_init is not None:
            given = np.asarray(self.alpha_init, dtype=np.float64)
            if given.ndim > 1 or given.size not in (1, d) or not np.all(given > 0):
                raise ValueError(
                    f"alpha_init must be a positive float or {d} positive values (one per "
                    f"feature), got {self.alpha_init!r}."
                )
            alpha[:d] = given
        if q > d and self.alpha_intercept_init is not None:
            alpha[d] = self.alpha_intercept_init
        shared = self.feature_scales == "shared"
        if shared and self.alpha_init is None:
            alpha[:d] = np.exp(np.log(alpha[:d]).mean())
        learn_l2 = isinstance(self.l2, str)
        l2 = np.zeros(q)
        l2[:d] = _l2_start(mom, d, alpha) if learn_l2 else float(self.l2)
        groups = -np.ones((2, q), dtype=np.int64)
        if self.optimizer is not None:
            groups[0, :d] = 0 if shared else np.arange(d)
            n = groups[0].max() + 1
            if q > d:
                groups[0, d], n = n, n + 1
            if learn_l2:
                groups[1, :d] = n if shared else n + np.arange(d)
        return alpha, l2, groups

    def _fit_moments(self, X, y, task_idx, sample_weight, graph):
        d, T = X.shape[1], graph.n_tasks
        mom = evidence_moments(X, y, task_idx, sample_weight, T, self._intercept_kind())
        alpha, l2, groups = self._start(mom, d)
        alpha, l2, F, post, scores, n_iter, converged = maximise_evidence(
            Evidence(mom, graph), alpha, l2, groups, tol=self.tol, max_iter=self.max_iter
        )
        if not converged:
            warnings.warn(
                f"the evidence maximisation stopped after {n_iter} iterations without "
                "converging; raise max_iter or tol.",
                ConvergenceWarning,
                stacklevel=4,
            )
        sigma2 = post.noise_variance
        coef, intercept, cov = _task_posterior(mom, post, sigma2, d)
        shared = self.feature_scales == "shared"
        self.coef_, self.intercept_ = coef, intercept
        self.alpha_ = float(alpha[0]) if shared else alpha[:d].copy()
        per_feature_l2 = isinstance(self.l2, str) and not shared
        self.l2_ = l2[:d].copy() if per_feature_l2 else float(l2[0])
        self.alpha_intercept_ = float(alpha[d]) if mom.intercept == "coupled" else None
        self.noise_variance_ = float(sigma2)
        self.log_marginal_likelihood_ = F
        self.scores_, self.n_iter_ = scores, n_iter
        self.posterior_covariance_ = cov
        self.tasks_, self.graph_ = graph.tasks, graph
        self._population = _population(mom, post, alpha, l2, sigma2, coef, intercept, d)

    def _linear_predict(self, X, task_idx, coef, intercept):
        """x_i . w_{t_i} + b_{t_i} per row; position T is the posterior population model
        (``unseen_tasks``), not the regressor's shrunk mean."""
        if task_idx is not None:
            w, b, _ = self._population
            coef, intercept = np.vstack([coef, w]), np.append(intercept, b)
        return predict_linear(X, task_idx, coef, intercept, 1.0)

    def predict(
        self, X: MatrixLike, task_ids: OptArray = None, return_std: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Posterior predictive mean (and standard deviation) of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to predict, of the width seen in fit.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row; may be omitted for a single-task model and for a model
            fitted on multi-output y (which then predicts every task).
        return_std : bool, default=False
            Also return the standard deviation of the predictive distribution of y
            (the posterior uncertainty of the model plus the noise sigma^2, as
            BayesianRidge), for a row of weight 1.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            The posterior mean ``x_i . w_{t_i} + b_{t_i}``.
        y_std : ndarray of the shape of y_mean
            Only with ``return_std=True``.
        """
        check_is_fitted(self)
        X, task_ids = self._validate_X(X, task_ids, reset=False)
        task_idx = self._predict_task_index(X, task_ids)
        mean = self._linear_predict(X, task_idx, self.coef_, self.intercept_)
        if not return_std:
            return mean
        Z = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
        if self.posterior_covariance_.shape[1] > Z.shape[1]:
            Z = np.column_stack([Z, np.ones(Z.shape[0])])
        if task_idx is None:
            var = np.einsum("ni,tij,nj->nt", Z, self.posterior_covariance_, Z)
        else:
            cov = np.concatenate([self.posterior_covariance_, self._population[2][None]])
            var = np.einsum("ni,nij,nj->n", Z, cov[task_idx], Z)
        std = np.sqrt(np.maximum(var, 0.0) + self.noise_variance_)
        return mean, std.astype(mean.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags


def _l2_start(mom, d, alpha):
    """l2 with which the prior variance of the tasks' mean, sigma^2 / (T l2), is the square
    of the pooled least-squares coefficient (an empirical Bayes guess from the moments),
    within [1e-8, 1] times alpha."""
    gram, xty = mom.gram.sum(axis=0), mom.xty.sum(axis=0)
    ridge = 1e-10 * max(np.trace(gram), 1e-300) * np.eye(len(gram))
    pooled = np.linalg.solve(gram + ridge, xty)
    rows = max(mom.n_rows, 1)
    sigma2 = max(mom.yty.sum() - pooled @ xty, 1e-12 * mom.yty.sum()) / rows
    T = len(mom.xty)
    guess = sigma2 / np.maximum(T * pooled[:d] ** 2, 1e-300)
    return np.clip(guess, 1e-8 * alpha[:d], alpha[:d])


def _task_posterior(mom, post, sigma2, d):
    """(coef, intercept, covariance of [w_t, b_t]) from the posterior of the coordinates."""
    theta, cov = post.theta, sigma2 * post.cov
    if mom.intercept != "flat":
        coef = theta[:, :d]
        intercept = theta[:, d] if mom.intercept == "coupled" else np.zeros(len(theta))
        return coef.copy(), intercept.copy(), cov
    # flat intercepts: b_t = ybar_t - xbar_t . w_t, with variance sigma^2 / W_t beyond w_t's
    T = len(theta)
    observed = mom.weight_sum > 0
    coef = theta.copy()
    xbar = np.where(observed[:, None], mom.x_mean, 0.0)
    intercept = mom.y_mean - np.einsum("tj,tj->t", xbar, coef)
    full = np.zeros((T, d + 1, d + 1))
    full[:, :d, :d] = cov
    full[:, :d, d] = full[:, d, :d] = -np.einsum("tij,tj->ti", cov, xbar)
    inv_w = np.divide(sigma2, mom.weight_sum, out=np.zeros(T), where=observed)
    full[:, d, d] = np.einsum("ti,tij,tj->t", xbar, cov, xbar) + inv_w
    if observed.any() and not observed.all():  # tasks without rows: the mean intercept
        b, spread = intercept[observed].mean(), intercept[observed].var()
        intercept[~observed] = b
        full[~observed, d, d] = spread + sigma2 / max(observed.sum(), 1)
    return coef, intercept, full


def _population(mom, post, alpha, l2, sigma2, coef, intercept, d):
    """(w, b, covariance of [w, b]) of a new task joined to every task by weight 1/T."""
    T, q = post.theta.shape
    precision = alpha + l2
    shrink = np.divide(alpha, precision, out=np.ones(q), where=precision > 0)
    mean = shrink * post.theta.mean(axis=0)
    cov = sigma2 * shrink[:, None] * post.cov_sum * shrink[None, :] / T**2
    cov += np.diag(np.divide(sigma2, precision, out=np.zeros(q), where=precision > 0))
    if mom.intercept != "flat":
        w = mean[:d]
        b = mean[d] if mom.intercept == "coupled" else 0.0
        return w, b, cov
    observed = mom.weight_sum > 0
    full = np.zeros((d + 1, d + 1))
    full[:d, :d] = cov
    b = intercept[observed].mean() if observed.any() else 0.0
    full[d, d] = intercept[observed].var() + sigma2 / max(observed.sum(), 1)
    return mean, b, full


BayesianMultiTaskGraphRegressor.__doc__ = BayesianMultiTaskGraphRegressor.__doc__.replace(
    "{graph}", GRAPH_DOC
)
