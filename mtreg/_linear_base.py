"""What the linear estimators share: parameters, graph="learn", warm starts."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import LAPLACIANS, MultiTaskMixin
from ._learn import learn_params, learn_relations
from ._solvers import MEMORY_LIMIT, SOLVERS

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


def _long_format(X, Y, sample_weight):
    """Multi-output rows as long-format rows: X repeated once per task (column of Y)."""
    n, T = Y.shape
    size = (X.nnz * 12 if sp.issparse(X) else X.size * 8) * T
    if size > MEMORY_LIMIT:
        raise MemoryError(
            f"multi-output y with {T} columns needs X repeated once per column for the "
            f"row solvers (l1 > 0, or solver='newton', 'lbfgs' or 'fista'): about "
            f"{size / 2**30:.1f} GiB. Use l1=0 with solver='auto' (solved from X^T X "
            "once), or fit groups of columns separately."
        )
    X_long = sp.vstack([X] * T, format="csr") if sp.issparse(X) else np.tile(X, (T, 1))
    return X_long, Y.T.ravel(), np.repeat(np.arange(T), n), np.tile(sample_weight, T)


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
