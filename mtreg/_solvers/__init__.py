"""Solvers of graph-regularised multi-task ridge, and the one function that picks them.

Every solver minimises J of DESIGN.md section 1 with squared loss, from the per-task
moments of :mod:`mtreg._tasks`; intercepts are recovered afterwards by
:func:`fit_intercepts`.
"""

from dataclasses import dataclass

import numpy as np

from .._graph import _show
from ._common import SingularProblemError, singular_message
from ._direct import solve_cholesky, solve_eigen, solve_woodbury
from ._iterative import solve_pcg

__all__ = ["SOLVERS", "SingularProblemError", "select_solver", "solve_graph_ridge"]

# Above this many unknowns (T * d) the dense Cholesky is no longer the cheap choice.
DENSE_LIMIT = 4000


@dataclass(frozen=True)
class Solver:
    function: object
    exact: bool  # direct solver: tol and max_iter play no part
    needs_shared_X: bool = False  # multi-output data only
    needs_uniform_graph: bool = False  # L = a I - b 11^T only


SOLVERS = {
    "cholesky": Solver(solve_cholesky, exact=True),
    "woodbury": Solver(solve_woodbury, exact=True, needs_uniform_graph=True),
    "eigen": Solver(solve_eigen, exact=True, needs_shared_X=True),
    "pcg": Solver(solve_pcg, exact=False),
}


def select_solver(solver, stats, graph):
    """The solver to use: ``solver`` itself after checking it applies, or the choice of "auto".

    "auto": "eigen" for multi-output data, "woodbury" for the complete or empty graph,
    "cholesky" while T * d <= DENSE_LIMIT, else "pcg".
    """
    uniform = graph.uniform_form() is not None
    if solver == "auto":
        T, d = stats.xty.shape
        if stats.shared:
            return "eigen"
        if uniform:
            return "woodbury"
        return "cholesky" if T * d <= DENSE_LIMIT else "pcg"
    if solver not in SOLVERS:
        raise ValueError(f"solver must be 'auto' or one of {sorted(SOLVERS)}, got {solver!r}.")
    caps = SOLVERS[solver]
    if caps.needs_shared_X and not stats.shared:
        raise ValueError(
            f"solver={solver!r} needs multi-output data (2-D y, every task at the same X); "
            "use another solver for task_ids data."
        )
    if caps.needs_uniform_graph and not uniform:
        raise ValueError(
            f"solver={solver!r} needs the complete graph with equal weights or the empty "
            "graph; use 'cholesky' or 'pcg' for this graph."
        )
    return solver


def solve_graph_ridge(stats, graph, *, alpha, l2, solver="auto", tol=1e-10, max_iter=None):
    """Minimise J (squared loss) given the moments; returns (coef, intercept, solver, n_iter)."""
    _check_not_singular(stats, graph, alpha, l2)
    name = select_solver(solver, stats, graph)
    coef, n_iter = SOLVERS[name].function(
        stats, graph, float(alpha), float(l2), tol=tol, max_iter=max_iter
    )
    if not np.all(np.isfinite(coef)):
        raise SingularProblemError(singular_message(alpha, l2))
    return coef, fit_intercepts(stats, coef, graph), name, n_iter


def fit_intercepts(stats, coef, graph):
    """b_t = ybar_t - xbar_t . w_t for tasks with rows.

    A task without rows has no data to fix its (unpenalised) intercept; it takes the
    harmonic extension over the graph of the intercepts of the tasks with rows, and the
    plain mean of those where no graph path leads to one (always so on the complete and
    empty graphs).
    """
    x_mean = stats.task_x_mean()
    intercept = stats.y_mean - np.einsum("td,td->t", x_mean, coef)
    observed = stats.observed
    return graph.harmonic_extension(np.where(observed, intercept, 0.0), observed)


def _check_not_singular(stats, graph, alpha, l2):
    """With l2 = 0, a group of linked tasks none of which has rows is determined by nothing."""
    if l2 > 0:
        return
    comp = graph.components() if alpha > 0 else np.arange(graph.n_tasks)
    lonely = ~np.isin(comp, comp[stats.observed])
    if lonely.any():
        raise SingularProblemError(
            f"tasks {_show(graph.tasks[lonely].tolist())} have no training rows and no path "
            "in the graph to a task with rows, and l2=0: nothing determines their "
            "coefficients. Set l2 > 0 or connect them in the graph."
        )
