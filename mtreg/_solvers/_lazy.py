"""The solve that partial_fit leaves for later, from the moments of the chunks so far."""

import threading

import numpy as np

from ._errors import SingularProblemError
from ._ridge import solve_graph_ridge


class UnsolvableChunksError(SingularProblemError, AttributeError):
    """The chunks given to partial_fit so far do not determine the model.

    An AttributeError too, so that ``hasattr(est, "coef_")`` is False rather than an error.
    """


def fitted_dtype(coef, intercept, dtype):
    """coef and intercept in the dtype of X (float32 or float64), as sklearn's Ridge returns
    them; the solvers work in float64 (their kernels compile once)."""
    dtype = np.float32 if dtype == np.float32 else np.float64
    return coef.astype(dtype, copy=False), intercept.astype(dtype, copy=False)


class LazySolve:
    """Run once, by the first thread that asks for the solution (the others wait for it);
    a failed solve is tried again."""

    def __init__(self, stats, graph, solver, scaling, dtype):
        self.stats, self.graph, self.solver = stats, graph, solver
        self.scaling, self.dtype = scaling, dtype  # of the chunks (see partial_fit)
        self._solution = None
        self._lock = threading.Lock()

    def solution(self, alpha, l2, tol, max_iter, solve=solve_graph_ridge):
        """(coef, intercept, solver, n_iter), coef and intercept in the chunks' dtype;
        ``solve`` is :func:`solve_graph_ridge` or a stand-in with its signature."""
        with self._lock:
            if self._solution is None:
                try:
                    coef, intercept, solver, n_iter = solve(
                        self.stats,
                        self.graph,
                        alpha=alpha,
                        l2=l2,
                        solver=self.solver,
                        tol=tol,
                        max_iter=max_iter,
                        scaling=self.scaling,
                    )
                except SingularProblemError as exc:  # hasattr says False; the message says why
                    raise UnsolvableChunksError(str(exc)) from exc
                coef, intercept = fitted_dtype(coef, intercept, self.dtype)
                self._solution = (coef, intercept, solver, n_iter)
            return self._solution

    def __getstate__(self):  # a lock does not pickle
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state):
        self.__dict__.update(state, _lock=threading.Lock())
