"""graph="learn": the task-relationship model of Zhang & Yeung (2010), as a core loop.

Minimises J(W, b) with the coupling ``alpha tr(Omega^-1 (W W^T + eps I))`` in place of the
graph penalty, jointly over the models and the task covariance Omega (positive definite,
trace 1), by alternating exact steps: the models given Omega (one fit with coupling
Omega^-1), then Omega given the models (closed form). The objective decreases at every
step; the loop records it.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._graph import TaskCoupling
from .relations import task_covariance_step

LEARN_DEFAULTS = {"epsilon": 1e-3, "max_iter": 200, "tol": 1e-6}


def learn_params(graph_params):
    """The options of graph="learn": ``graph_params`` over the defaults, checked."""
    params = {**LEARN_DEFAULTS, **(graph_params or {})}
    unknown = set(params) - set(LEARN_DEFAULTS)
    if unknown:
        raise ValueError(
            f"graph_params has unknown keys {sorted(unknown)} for "
            f"graph='learn'; known: {sorted(LEARN_DEFAULTS)}."
        )
    return params


def learn_relations(solve, objective, tasks, *, alpha, epsilon, max_iter, tol, stacklevel=2):
    """Alternate model fits and closed-form covariance steps until J stops decreasing.

    ``solve(coupling, start)`` fits the models on a :class:`TaskCoupling` (from ``start``,
    the previous (coef, intercept), or None) and returns (coef, intercept, solver, n_iter);
    ``objective(coef, intercept, coupling)`` is J with that coupling. coef is (T, d), or
    (K, T, d) for K one-vs-rest problems. Returns (coef, intercept, solver, n_iter,
    coupling, omega, objective path); a ConvergenceWarning when ``max_iter`` is reached.
    """
    T = len(tasks)
    omega, path, start = np.eye(T) / T, [], None
    for n_iter in range(1, max_iter + 1):
        coupling = TaskCoupling(tasks, np.linalg.inv(omega))
        coef, intercept, solver, _ = solve(coupling, start)
        start = coef, intercept  # iterative solvers start the next step from here
        path.append(
            objective(coef, intercept, coupling) + alpha * epsilon * np.trace(coupling.coupling)
        )
        if n_iter > 1 and path[-2] - path[-1] <= tol * abs(path[-1]):
            break
        if n_iter < max_iter:
            W = coef if coef.ndim == 2 else np.concatenate(list(coef), axis=1)
            omega = task_covariance_step(W, epsilon)
    else:
        if len(path) > 1:
            warnings.warn(
                f"graph='learn' stopped after max_iter={max_iter} alternations "
                f"with a relative decrease of {(path[-2] - path[-1]) / abs(path[-1]):.1e} > "
                f"tol={tol}; raise max_iter or epsilon in graph_params.",
                ConvergenceWarning,
                stacklevel=stacklevel,
            )
    return coef, intercept, solver, n_iter, coupling, omega, np.array(path)
