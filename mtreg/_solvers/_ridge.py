"""The squared-loss solvers that work from the per-task moments, and their entry point.

Intercepts are recovered after the solve (:func:`fit_intercepts`); with ``l2 = 0`` a problem
that the data do not determine is refused before it is solved (:func:`check_not_singular`).
"""

import numpy as np

from .._graph import _show
from ._direct import solve_cholesky, solve_eigen, solve_woodbury
from ._errors import SingularProblemError, singular_message
from ._pcg import solve_pcg
from ._penalty import as_penalty, is_per_feature, smallest
from ._scaling import OVERFLOW_WAY_OUT
from ._select import select_solver
from ._singular import regularise_moments
from ._threads import threads_for

MOMENT_SOLVERS = {
    "cholesky": solve_cholesky,
    "woodbury": solve_woodbury,
    "eigen": solve_eigen,
    "pcg": solve_pcg,
}


def solve_graph_ridge(
    stats, graph, *, alpha, l2, solver="auto", tol=1e-10, max_iter=None, init=None, scaling=None
):
    """Minimise J (squared loss, no l1) given the moments.

    ``init``: coefficients to start an iterative solver from (the direct ones ignore it).
    ``scaling``: the :class:`Scaling` of the rows the moments were computed from
    (:func:`data_scaling`); the result is that of the unscaled rows.
    ``alpha`` and ``l2``: floats or arrays of shape (n_features,) (see :mod:`._penalty`).
    Returns (coef, intercept, solver, n_iter).
    """
    n_features = stats.xty.shape[1]
    alpha, l2 = as_penalty(alpha, n_features, "alpha"), as_penalty(l2, n_features, "l2")
    if scaling is not None and not scaling.trivial:
        alpha, l2, _ = scaling.penalties(alpha, l2)
        init = None if init is None else scaling.scaled_coef(init, np.zeros(len(init)))[0]
        coef, intercept, name, n_iter = solve_graph_ridge(
            stats, graph, alpha=alpha, l2=l2, solver=solver, tol=tol, max_iter=max_iter, init=init
        )
        return (*scaling.coef(coef, intercept), name, n_iter)
    check_finite_moments(stats)
    check_not_singular(stats.observed, graph, alpha, l2)
    stats = regularise_moments(stats, graph, alpha, l2)
    name = select_solver(
        solver,
        loss="squared",
        l1=0.0,
        graph=graph,
        shared_X=stats.shared_X,
        n_features=n_features,
        per_feature=is_per_feature(alpha),
    )
    if name not in MOMENT_SOLVERS:
        raise ValueError(f"solver={name!r} works on the rows, not on the moments.")
    with threads_for(name, graph.n_tasks, stats.xty.shape[1]):  # one BLAS thread if small
        coef, n_iter = MOMENT_SOLVERS[name](
            stats, graph, alpha, l2, tol=tol, max_iter=max_iter, x0=init
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


def check_not_singular(observed, graph, alpha, l2, one_class=None):
    """With l2 = 0, a group of linked tasks none of which has rows is determined by nothing.

    ``one_class``: the tasks whose rows show one class only, left out of a classifier's
    fit (their rows fix no finite intercept), which the message names as such. With
    per-feature penalties, the features with l2_j = 0 decide: the tasks are on their own
    if one of them has alpha_j = 0, else the groups of linked tasks."""
    if smallest(l2) > 0:
        return
    if is_per_feature(l2):  # only the features that l2 leaves free count
        alpha = np.broadcast_to(alpha, l2.shape)[l2 == 0]
    alpha = smallest(alpha)
    comp = graph.components() if alpha > 0 else np.arange(graph.n_tasks)
    lonely = ~np.isin(comp, comp[observed])
    if lonely.any():
        one_class = np.zeros_like(lonely) if one_class is None else one_class
        parts, target = [], "a task with rows"
        if (lonely & one_class).any():
            names = _show(graph.tasks[lonely & one_class].tolist())
            parts.append(
                f"tasks {names} have training rows of one class only (left out of the fit, "
                "since no finite intercept fits them)"
            )
            target = "a task with rows of both classes"
        if (lonely & ~one_class).any():
            parts.append(
                f"tasks {_show(graph.tasks[lonely & ~one_class].tolist())} have no training rows"
            )
        raise SingularProblemError(
            f"{' and '.join(parts)} and no path in the graph to {target}, and l2=0: nothing "
            "determines their coefficients. Set l2 > 0 or connect them in the graph."
        )


def check_finite_moments(stats):
    """Moments that overflowed (rows of 1e160 and beyond, streamed or from dask) are
    reported as an overflow, not as a singular problem."""
    names = ("gram", "xty", "x_mean", "y_mean", "weight_sum")
    with np.errstate(over="ignore", invalid="ignore"):  # a finite sum: all finite
        if np.isfinite(sum(getattr(stats, name).sum() for name in names)):
            return
    for name in names:
        if not np.all(np.isfinite(getattr(stats, name))):
            raise ValueError(
                f"the per-task moments of the data overflow double precision ({name} is "
                "not finite: squares of the values exceed 1.8e308). fit() rescales such "
                f"data by itself; with partial_fit or dask, {OVERFLOW_WAY_OUT}."
            )
