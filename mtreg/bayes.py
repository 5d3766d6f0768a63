"""Empirical Bayes for the graph-regularised linear model: the coupling learned from the data
by the exact restricted marginal likelihood, with predictive uncertainty."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import GRAPH_DOC, LAPLACIANS, MultiTaskMixin, TaskRegressorMixin, restored_on_error
from ._dask import dask_moments, dask_rows, dask_task_graph, is_dask
from ._docs import fill_doc
from ._linear_base import _GraphLinearModel
from ._posterior import (
    FITTED,
    SNAPSHOT,
    LazyEvidenceFit,
    Settings,
    chunk_stats,
    evidence_stats,
    predictive_std,
    with_population,
)
from ._task_column import frame_columns
from ._task_index import DATA_GRAPHS, predict_linear
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
    of l2 with ``l2="learn"``) by L-BFGS-B with the exact gradient; per feature, from the
    maximum of the shared model (one alpha and one l2 for every feature, a special case
    of the per-feature model) unless ``alpha_init`` is given: on Parkinson's voice data,
    one of four forecast origins reached F = -6452 from the default start, -6003 from
    there. On the complete and empty graphs, a precision that runs to infinity (a
    variance going to 0) is pinned where F is a hundredth of the gradient tolerance of
    ``tol`` below its limit, once F is seen to rise to it, and released if it fails its
    KKT condition. On the complete
    and empty graphs F costs O(T q^3) (Woodbury and the matrix determinant lemma on the
    (q, q) blocks of the tasks, q = d or d + 1); other graphs factorise the T q x T q
    posterior precision H densely up to T q = 6000, and above by a sparse LU (exact: log
    det H from its diagonal, the diagonal blocks of H^-1 and the traces of the gradient
    from T q column solves, O(T q nnz(LU)) per evaluation), with the Laplacian's spectrum
    computed once densely (at most 5000 tasks). Sample weights are precision weights
    (``s_i = 2``: a row with half the noise variance), as in statsmodels' WLS. F needs
    only the per-task moments (G_t, r_t, the weighted sum of squares of y and the weight
    sum of each task, the number of rows and the sum of their log weights), which add up
    over chunks of rows: :meth:`partial_fit` and ``fit`` on dask arrays give the fit on
    all rows at once.

    Parameters
    ----------
    {graph}

    graph_params : dict, default=None
        Parameters of the ``"knn"`` and ``"similarity"`` graphs (see
        :class:`MultiTaskGraphRegressor`). ``graph="learn"`` is not available.

    feature_scales : {"per_feature", "shared"}, default="per_feature"
        One alpha (and l2, when learned) per feature, or one for all features.

    l2 : float, array-like of shape (n_features,) or "learn", default="learn"
        Precision (times sigma^2) of the prior on every w_t beyond the graph: "learn"
        maximises the evidence over it as well (a proper prior: collinear features and
        fewer rows than features are fine, and one task is BayesianRidge); a float or
        one value per feature fixes it (``l2_`` is then that array); 0 leaves the mean
        of the task models flat, a fixed effect as in a mixed model (REML), which the
        data must then determine.

    fit_intercept : bool, default=True
        Fit an intercept per task.

    couple_intercepts : bool, default=True
        Give the intercepts the graph prior ``alpha_intercept L`` (a random intercept),
        learned with the rest; False leaves each task's intercept flat, as in J.

    alpha_init : float or array-like of shape (n_features,), default=None
        Starting alpha (one per feature, or one for all); None: the median over the
        tasks of each feature's weighted sum of squares (a prior worth one task's data).
        With ``optimizer=None`` the fixed values: an array fixes one alpha per feature
        (``alpha_`` is then an array even with ``feature_scales="shared"``), so that
        with a fixed ``l2`` array the posterior mean is MultiTaskGraphRegressor's with
        the same per-feature ``alpha`` and ``l2``. With ``feature_scales="shared"`` and
        an optimizer it must be a float.

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
        derivative of F in the log parameters is below ``1e-4 + tol * |F|`` (a change of
        1 % in a parameter then moves F by less than 1e-6; at 1e-3, variances drifting to
        0 or infinity stopped F 0.012 below its maximum on Parkinson's data).

    max_iter : int, default=500
        Iteration cap of L-BFGS-B; a ``ConvergenceWarning`` is raised when reached.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Posterior mean of w_t, one row per task.
    intercept_ : ndarray of shape (n_tasks,)
        Posterior mean of b_t (zeros when ``fit_intercept=False``).
    alpha_ : float or ndarray of shape (n_features,)
        The learned (or, with ``optimizer=None``, fixed) graph precision(s), in units of
        1 / sigma^2 (a float with ``feature_scales="shared"``, unless ``alpha_init`` is
        an array kept fixed). On the default complete graph (weights 1/T, unnormalised
        Laplacian) the tasks' coefficients j spread around their mean with variance
        ``noise_variance_ / (alpha_[j] + l2_[j])``: with ``l2=0``, the variance
        ``noise_variance_ / alpha_[j]`` of the random slope j of the mixed model.
    l2_ : float or ndarray of shape (n_features,)
        The l2 precision(s) used (learned with ``l2="learn"``): an array when learned
        per feature or given as an array.
    alpha_intercept_ : float or None
        The graph precision of the coupled intercepts; None when they are flat.
    noise_variance_ : float
        sigma^2, the REML estimate ``J_min / (n - p)``.
    log_marginal_likelihood_ : float
        F at the returned hyper-parameters.
    scores_ : ndarray of shape (``n_iter_ + 1``,)
        F at the start and after each iteration (those of the shared model's search
        first, where the per-feature search starts from it).
    n_iter_ : int
        Iterations of L-BFGS-B (of both searches).
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
        "l2": [Interval(Real, 0, None, closed="left"), StrOptions({"learn"}), "array-like"],
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
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data, the rows of every task. Dask arrays (X, y and the others) are
            reduced to the per-task moments by dask, chunk by chunk; the rest is local.
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
            for name in ("_stats_", "_pending_fit"):
                self.__dict__.pop(name, None)
            self._check_graph()
            if is_dask(X, y, task_ids, sample_weight):
                return self._fit_dask(X, y, task_ids, sample_weight)
            X, task_ids = self._validate_X(X, task_ids, reset=True)
            columns = frame_columns(y)
            y, sample_weight = self._validate_y(X, y, sample_weight)
            graph, task_idx = self._task_graph(y, task_ids, X, columns=columns)
            stats = self._chunk_stats(X, y, task_idx, sample_weight, graph.n_tasks)
            self._shared_X, self._X_dtype = task_idx is None, X.dtype
            self.tasks_, self.graph_ = graph.tasks, graph
            self.__dict__.update(self._lazy(stats, graph).result(stacklevel=4))
            self._stats_ = stats  # what partial_fit adds later chunks to
        return self

    def _check_graph(self, streaming=False):
        if isinstance(self.graph, str) and self.graph == "learn":
            raise ValueError(
                "graph='learn' is not available for BayesianMultiTaskGraphRegressor: "
                "give a graph (the default complete graph learns one alpha per feature)."
            )
        if streaming and isinstance(self.graph, str) and self.graph in DATA_GRAPHS:
            raise ValueError(
                f"graph={self.graph!r} is built from all rows at once: give the graph to "
                "fit chunk by chunk (partial_fit, dask arrays)."
            )

    def _intercept_kind(self):
        if not self.fit_intercept:
            return "none"
        return "coupled" if self.couple_intercepts else "flat"

    def _chunk_stats(self, X, y, task_idx, sample_weight, n_tasks):
        return chunk_stats(X, y, task_idx, sample_weight, n_tasks, self._intercept_kind())

    def _lazy(self, stats, graph):
        settings = Settings(**{name: getattr(self, name) for name in Settings.names()})
        return LazyEvidenceFit(stats, graph, self._intercept_kind(), settings)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: MatrixLike, y: ArrayLike, task_ids: OptArray = None, sample_weight: OptArray = None
    ) -> BayesianMultiTaskGraphRegressor:
        """Add a chunk of rows: the result equals one fit on all chunks so far.

        Only the per-task moments are kept (O(T q^2) memory, whatever the number of
        rows): G_t, r_t, the weighted sum of squares of y and the weight sum of each task,
        the number of rows and the sum of their log weights, added up chunk by chunk. The
        hyper-parameters and the posterior are computed from them when first asked for
        after a chunk (``coef_``, ``alpha_``, ``predict``, ...), once, by the first of the
        threads that ask. The tasks are fixed by the first call (by the graph, ``tasks``
        and the first chunk's labels); a chunk with a bad value, a wrong width or an
        unknown task is rejected with an error and leaves the model as it was. The graph
        must be given (not "knn" or "similarity", which need all rows at once). ``fit``
        starts over; partial_fit after fit adds to the rows of the fit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training rows, with the width of the first chunk.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            The targets of the chunk, as in :meth:`fit` (every chunk 1-D, or every chunk
            2-D with the same tasks).
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each row of the chunk, one of the tasks fixed by the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative precision weights of the chunk's rows.

        Returns
        -------
        self : object
            The estimator, with the chunk's moments added.
        """
        first = not hasattr(self, "_stats_")
        with restored_on_error(self):
            self._check_graph(streaming=True)
            X, task_ids = self._validate_X(X, task_ids, reset=first)
            columns = frame_columns(y)
            y, sample_weight = self._validate_y(X, y, sample_weight, allow_all_zero=not first)
            if first:
                graph, task_idx = self._task_graph(y, task_ids, X, columns=columns)
                self._X_dtype = X.dtype
            else:
                graph = self.graph_
                if (y.ndim == 2) != self._shared_X or (y.ndim == 2 and y.shape[1] != graph.n_tasks):
                    raise ValueError(f"y has shape {y.shape}, unlike the earlier chunks.")
                task_idx = (
                    None if y.ndim == 2 else self._predict_task_index(X, task_ids, chunk=True)
                )
            chunk = self._chunk_stats(X, y, task_idx, sample_weight, graph.n_tasks)
            self._stats_ = chunk if first else self._stats_.merge(chunk)
            self.tasks_, self.graph_ = graph.tasks, graph
            self._shared_X = task_idx is None
            # fitted again on demand; the new fit is in place before the old result goes
            self._pending_fit = self._lazy(self._stats_, graph)
            for name in FITTED:
                self.__dict__.pop(name, None)
        return self

    def __getattr__(self, name):
        """The fit after partial_fit, computed when first asked for."""
        pending = self.__dict__.get("_pending_fit")
        if name not in FITTED or pending is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return pending.result(stacklevel=3)[name]

    def _fit_dask(self, X, y, task_ids, sample_weight):
        """fit on dask arrays: the moments are computed by dask, the fit is local."""
        if self.task_column is not None:
            raise ValueError("task_column is not supported for dask arrays; pass task_ids.")
        self._check_graph(streaming=True)
        X, y = dask_rows(X, y)
        graph = dask_task_graph(self.graph, y, task_ids, tasks=self.tasks, laplacian=self.laplacian)
        stats = dask_moments(
            X,
            y,
            task_ids,
            sample_weight,
            tasks=graph.tasks,
            fit_intercept=self._intercept_kind() != "none",
            moments=evidence_stats,
        )
        self.__dict__.pop("feature_names_in_", None)
        self.n_features_in_ = X.shape[1]
        self._shared_X, self._X_dtype = y.ndim == 2, X.dtype
        self.tasks_, self.graph_ = graph.tasks, graph
        self.__dict__.update(self._lazy(stats, graph).result(stacklevel=5))
        self._stats_ = stats
        return self

    def _snapshot(self):
        """(coef_, intercept_, posterior_covariance_, _population, noise_variance_) of one
        and the same fit, also while partial_fit adds a chunk on another thread."""
        pending = self.__dict__.get("_pending_fit")
        fitted = self.__dict__ if pending is None else pending.result(stacklevel=4)
        return [fitted[name] for name in SNAPSHOT]

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
            The posterior mean ``x_i . w_{t_i} + b_{t_i}``, float32 for float32 X on a
            model fitted on float32 X (the fit itself runs in float64).
        y_std : ndarray of the shape of y_mean
            Only with ``return_std=True``.
        """
        check_is_fitted(self)
        X, task_ids = self._validate_X(X, task_ids, reset=False)
        task_idx = self._predict_task_index(X, task_ids)
        coef, intercept, cov, population, noise = self._snapshot()
        if task_idx is not None:
            coef, intercept = with_population(coef, intercept, population)
        mean = predict_linear(X, task_idx, coef, intercept, 1.0)
        float32 = X.dtype == self._X_dtype == np.float32  # as BayesianRidge and the others
        mean = mean.astype(np.float32 if float32 else np.float64, copy=False)
        if not return_std:
            return mean
        Z = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
        std = predictive_std(Z, task_idx, cov, population, noise)
        return mean, std.astype(mean.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags


BayesianMultiTaskGraphRegressor.__doc__ = fill_doc(
    BayesianMultiTaskGraphRegressor.__doc__, graph=GRAPH_DOC
)
