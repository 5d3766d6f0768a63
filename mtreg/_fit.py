"""The result of the solvers of :mod:`mtreg.core` (public there)."""

from typing import NamedTuple

import numpy as np


class Fit(NamedTuple):
    """The result of a solver: unpacks as ``coef, intercept, solver, n_iter``.

    A named tuple: the fields below are also its attributes, and ``coef, intercept, solver,
    n_iter = graph_ridge(...)`` unpacks it. The estimators store the same values as
    ``coef_``, ``intercept_``, ``solver_`` and ``n_iter_``.

    Parameters
    ----------
    coef : ndarray of shape (n_tasks, n_features)
        One row w_t per task.
    intercept : ndarray of shape (n_tasks,)
        The intercepts b_t (zeros without intercepts).
    solver : str
        The solver used ("auto" resolved).
    n_iter : int or None
        Iterations of an iterative solver; None for a direct one.

    See Also
    --------
    graph_ridge : Returns a Fit for the squared loss.
    graph_glm : Returns a Fit for any loss.
    graph_ridge_path : Returns one Fit per alpha.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg.core import Fit
    >>> coef, intercept, solver, n_iter = Fit(np.eye(2), np.zeros(2), "cholesky", None)
    >>> solver, n_iter
    ('cholesky', None)
    """

    coef: np.ndarray
    intercept: np.ndarray
    solver: str
    n_iter: int | None
