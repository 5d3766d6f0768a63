"""Solvers of graph-regularised multi-task learning, and the one function that picks them.

Every solver minimises J of DESIGN.md section 1. The squared-loss solvers without l1 work
from the per-task moments of :mod:`mtreg._tasks` (:mod:`._ridge`: cholesky, woodbury, eigen,
pcg; intercepts are recovered afterwards); the others work on the rows (:mod:`._rows`:
newton, lbfgs, fista, on :class:`GLMProblem`). :mod:`._select` holds the capability table
and ``select_solver``; :mod:`._threads` all thread control.
"""

from ._errors import SingularProblemError
from ._ridge import MOMENT_SOLVERS, fit_intercepts, solve_graph_ridge
from ._rows import ROW_SOLVERS, solve_glm
from ._scaling import Scaling, data_scaling
from ._select import MEMORY_LIMIT, SOLVERS, dense_bytes, select_solver

__all__ = [
    "MEMORY_LIMIT",
    "MOMENT_SOLVERS",
    "ROW_SOLVERS",
    "SOLVERS",
    "Scaling",
    "SingularProblemError",
    "data_scaling",
    "dense_bytes",
    "fit_intercepts",
    "select_solver",
    "solve_glm",
    "solve_graph_ridge",
]
