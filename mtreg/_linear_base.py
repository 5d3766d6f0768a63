"""What the linear estimators share: parameters, graph="learn", warm starts."""

import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

from ._base import LAPLACIANS, MultiTaskMixin, check_targets, require_y
from ._learn import learn_params, learn_relations
from ._solvers import SOLVERS
from ._solvers._penalty import as_penalty, is_per_feature
from ._task_index import DATA_GRAPHS

# scikit-learn >= 1.8 refuses all-zero weights unless told; older versions accept them
_ALL_ZERO = "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters

_COMMON_CONSTRAINTS = {
    **MultiTaskMixin._common_constraints,
    "graph_params": [dict, None],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "l2": [Interval(Real, 0, None, closed="left")],
    "l1": [Interval(Real, 0, None, closed="left")],
    "fit_intercept": ["boolean"],
    "laplacian": [StrOptions(set(LAPLACIANS))],
    "solver": [StrOptions({"auto", *SOLVERS})],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "max_iter": [Interval(Integral, 1, None, closed="left"), None],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
}

# those of the estimators whose alpha and l2 may be per-feature arrays (_solvers._penalty)
PER_FEATURE_CONSTRAINTS = {
    **_COMMON_CONSTRAINTS,
    "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
    "l2": [Interval(Real, 0, None, closed="left"), "array-like"],
}


class _GraphLinearModel(MultiTaskMixin, BaseEstimator):
    """What the linear estimators share beyond task handling: the iterative solvers' knobs."""

    def _fit_rows(self, rows, graph):
        """(coef, intercept, solver, n_iter, graph used): one fit, or graph="learn"."""
        if not (isinstance(self.graph, str) and self.graph == "learn"):
            for name in ("task_covariance_", "objective_path_"):  # of an earlier "learn" fit
                self.__dict__.pop(name, None)
            return (*self._solve(rows, graph), graph)
        return self._learn_relations(rows, graph)

    def _learn_relations(self, rows, graph):
        """graph="learn" (Zhang & Yeung 2010): see :func:`mtreg._learn.learn_relations`."""
        params = learn_params(self.graph_params)
        *fit, omega, path = learn_relations(
            lambda coupling, start: self._solve(rows, coupling, start),
            lambda coef, intercept, coupling: self._objective(rows, coef, intercept, coupling),
            graph.tasks,
            alpha=self.alpha,
            **params,
            stacklevel=5,  # the frame the warning named before it moved to the core
        )
        self.task_covariance_, self.objective_path_ = omega, path
        return tuple(fit)

    def _check_penalties(self, n_features):
        """A per-feature alpha or l2 of the wrong shape, non-finite or negative is a
        ValueError naming it (see :func:`mtreg._solvers._penalty.as_penalty`)."""
        alpha = as_penalty(self.alpha, n_features, "alpha")
        as_penalty(self.l2, n_features, "l2")
        if is_per_feature(alpha) and isinstance(self.graph, str) and self.graph == "learn":
            raise ValueError(
                "graph='learn' needs a float alpha (it scales the learned task covariance); "
                "pass a float alpha, or give the graph."
            )

    def _validate_y(self, X, y, sample_weight, allow_all_zero=False):
        require_y(self, y)
        y = check_targets(y, X)
        if sample_weight is None:  # what _check_sample_weight makes of it
            return y, np.ones(X.shape[0], dtype=np.float64)
        extra = {"allow_all_zero_weights": True} if allow_all_zero and _ALL_ZERO else {}
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True, **extra
        )
        return y, sample_weight

    def _glm_params(self):
        return dict(
            alpha=self.alpha,
            l2=self.l2,
            l1=self.l1,
            fit_intercept=self.fit_intercept,
            tol=self.tol,
            max_iter=self.max_iter,
            verbose=self.verbose,
        )

    def _init(self, graph, X, k=None, start=None):
        """``start`` (coef, intercept), else the previous solution when warm starting;
        of problem k, when the shapes agree."""
        if start is None and not (self.warm_start and hasattr(self, "coef_")):
            return None
        coef, intercept = (self.coef_, self.intercept_) if start is None else start
        coef = coef if k is None or coef.ndim == 2 else coef[k]
        intercept = intercept if k is None or intercept.ndim == 1 else intercept[k]
        if coef.shape != (graph.n_tasks, X.shape[1]):
            return None
        return coef, intercept


def streaming_obstacle(est):
    """Why ``est`` cannot be fitted chunk by chunk (partial_fit, dask): that needs only the
    moments and a given graph. None when it can."""
    if est.l1 != 0:
        return f"l1={est.l1} needs all rows at once (set l1=0)"
    if est.solver in SOLVERS and not SOLVERS[est.solver].moments:
        return f"solver={est.solver!r} works on the rows (use 'auto' or a direct solver)"
    if isinstance(est.graph, str) and est.graph in DATA_GRAPHS:
        return f"graph={est.graph!r} is built from all rows at once (give the graph)"
    return None
