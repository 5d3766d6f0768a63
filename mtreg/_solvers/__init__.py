"""Solvers of graph-regularised multi-task learning, and the one function that picks them.

Every solver minimises J of DESIGN.md section 1. The squared-loss solvers without l1 work
from the per-task moments of :mod:`mtreg._tasks` (intercepts are recovered afterwards by
:func:`fit_intercepts`); the others work on the rows through :class:`GLMProblem`.
"""

from dataclasses import dataclass

import numpy as np

from .._graph import _show
from .._tasks import task_means
from ._common import SingularProblemError, singular_message
from ._direct import solve_cholesky, solve_eigen, solve_woodbury
from ._glm import (
    DEFAULT_MAX_ITER,
    GLMProblem,
    rows_on_threads,
    solve_fista,
    solve_lbfgs,
    solve_newton,
)
from ._iterative import solve_pcg
from ._scaling import OVERFLOW_WAY_OUT, Scaling, data_scaling
from ._singular import check_rows_not_singular, regularise_moments

__all__ = [
    "MEMORY_LIMIT",
    "SOLVERS",
    "Scaling",
    "SingularProblemError",
    "data_scaling",
    "select_solver",
    "solve_glm",
    "solve_graph_ridge",
]

# Above this many unknowns (T * d) the dense Cholesky, O((T d)^3), is no longer the cheap
# choice: benchmarks/bench_speed.py measured pcg 4.5 ms against cholesky 69 ms at T = 100,
# d = 20 on a kNN graph, and the two level at about T d = 200.
DENSE_LIMIT = 500
# Up to this many features Newton's O(n d^2) data pass per step beats L-BFGS's many steps
# (benchmarks/bench_classifier.py: at d = 50 lbfgs took 0.8 s, newton 1.9 s).
NEWTON_MAX_FEATURES = 20
# Dense arrays beyond this (bytes) are not allocated: "auto" turns to the row solver
# "lbfgs", an explicit solver raises a MemoryError that names the size (see dense_bytes).
MEMORY_LIMIT = 2 * 2**30
ALL_LOSSES = ("squared", "logistic", "squared_hinge")


@dataclass(frozen=True)
class Solver:
    function: object
    losses: tuple = ("squared",)
    l1: bool = False  # handles l1 > 0
    moments: bool = True  # works from the per-task moments (closed form, squared loss)
    exact: bool = True  # direct solver: tol and max_iter play no part
    needs_shared_X: bool = False  # multi-output data only
    needs_uniform_graph: bool = False  # L = a I - b 11^T only


SOLVERS = {
    "cholesky": Solver(solve_cholesky),
    "woodbury": Solver(solve_woodbury, needs_uniform_graph=True),
    "eigen": Solver(solve_eigen, needs_shared_X=True),
    "pcg": Solver(solve_pcg, exact=False),
    "newton": Solver(solve_newton, losses=ALL_LOSSES, moments=False, exact=False),
    "lbfgs": Solver(solve_lbfgs, losses=ALL_LOSSES, moments=False, exact=False),
    "fista": Solver(solve_fista, losses=ALL_LOSSES, l1=True, moments=False, exact=False),
}


def select_solver(solver, *, loss, l1, graph, shared_X, n_features):
    """Return the solver to use: ``solver`` itself once checked, or the choice of "auto".

    "auto": "fista" when l1 > 0; for the squared loss "eigen" on multi-output data, else
    "woodbury" for the complete or empty graph, else "cholesky" while T * d <= DENSE_LIMIT,
    else "pcg"; for the other losses "newton" up to NEWTON_MAX_FEATURES features, else
    "lbfgs". A squared-loss choice whose dense arrays (:func:`dense_bytes`) exceed
    MEMORY_LIMIT becomes "lbfgs" (sparse X with very many columns); an explicit solver
    over it raises a MemoryError naming the size.

    Parameters
    ----------
    solver : str
        "auto" or one of the keys of ``SOLVERS``.
    loss : {"squared", "logistic", "squared_hinge"}
        The loss to minimise.
    l1 : float
        The l1 penalty; only "fista" handles l1 > 0.
    graph : TaskGraph
        The task graph; "woodbury" needs a uniform (complete or empty) one.
    shared_X : bool
        Whether every task is observed at the same X (multi-output y); "eigen" needs it.
    n_features : int
        The number of features d, which sets the size of the dense systems.

    Returns
    -------
    solver : str
        The name of the solver, a key of ``SOLVERS``.

    Raises
    ------
    ValueError
        When the named solver cannot minimise this loss, l1, graph or data layout; the
        message names the solvers that can.
    MemoryError
        When the named solver's dense arrays would exceed ``MEMORY_LIMIT``.

    See Also
    --------
    mtreg.core.graph_ridge : Solve the squared-loss problem with the chosen solver.
    mtreg.core.graph_glm : Solve any loss, with l1, with the chosen solver.
    """
    uniform = graph.uniform_form() is not None
    if solver == "auto":
        if l1 > 0:
            return "fista"
        if loss != "squared":
            return "newton" if n_features <= NEWTON_MAX_FEATURES else "lbfgs"
        if shared_X:
            choice = "eigen"
        elif uniform:
            choice = "woodbury"
        else:
            choice = "cholesky" if graph.n_tasks * n_features <= DENSE_LIMIT else "pcg"
        # wide data (sparse X with 1e5 columns): d x d moments do not fit; the rows do
        fits = dense_bytes(choice, graph.n_tasks, n_features, shared_X) <= MEMORY_LIMIT
        return choice if fits else "lbfgs"
    if solver not in SOLVERS:
        raise ValueError(f"solver must be 'auto' or one of {sorted(SOLVERS)}, got {solver!r}.")
    caps = SOLVERS[solver]
    able = sorted(name for name, c in SOLVERS.items() if loss in c.losses and (c.l1 or l1 == 0))
    if loss not in caps.losses or (l1 > 0 and not caps.l1):
        what = f"loss={loss!r}" + (f" with l1={l1}" if l1 > 0 else "")
        raise ValueError(f"solver={solver!r} cannot minimise {what}; use one of {able}.")
    if caps.needs_shared_X and not shared_X:
        raise ValueError(
            f"solver={solver!r} needs multi-output data (2-D y, every task at the same X); "
            "use another solver for task_ids data."
        )
    if caps.needs_uniform_graph and not uniform:
        raise ValueError(
            f"solver={solver!r} needs the complete graph with equal weights or the empty "
            "graph; use 'cholesky' or 'pcg' for this graph."
        )
    size = dense_bytes(solver, graph.n_tasks, n_features, shared_X)
    if size > MEMORY_LIMIT:
        raise MemoryError(
            f"solver={solver!r} would allocate about {size / 2**30:.1f} GiB of dense "
            f"matrices for {graph.n_tasks} tasks and {n_features} features (more than "
            f"MEMORY_LIMIT = {MEMORY_LIMIT / 2**30:.0f} GiB); use solver='lbfgs' (or 'fista' "
            "with l1 > 0), which works on the rows in O(nnz(X) + n_tasks * n_features) "
            "memory."
        )
    return solver


def dense_bytes(solver, n_tasks, n_features, shared_X=False):
    """Bytes of the dense arrays a solver allocates beyond the data: the per-task d x d
    moments (three stacks of them in pcg, woodbury and newton) and, for "cholesky", the
    (T d) x (T d) system."""
    grams = 8.0 * n_features**2 * (1 if shared_X else n_tasks)
    if solver in ("lbfgs", "fista"):
        return 0.0
    if solver == "cholesky":
        return grams + 8.0 * (n_tasks * n_features) ** 2
    if solver == "eigen":
        return 2 * grams + 8.0 * n_tasks**2
    return 3 * grams


def solve_graph_ridge(
    stats, graph, *, alpha, l2, solver="auto", tol=1e-10, max_iter=None, init=None, scaling=None
):
    """Minimise J (squared loss, no l1) given the moments.

    ``init``: coefficients to start an iterative solver from (the direct ones ignore it).
    ``scaling``: the :class:`Scaling` of the rows the moments were computed from
    (:func:`data_scaling`); the result is that of the unscaled rows.
    Returns (coef, intercept, solver, n_iter).
    """
    if scaling is not None and not scaling.trivial:
        alpha, l2, _ = scaling.penalties(alpha, l2)
        init = None if init is None else scaling.scaled_coef(init, np.zeros(len(init)))[0]
        coef, intercept, name, n_iter = solve_graph_ridge(
            stats, graph, alpha=alpha, l2=l2, solver=solver, tol=tol, max_iter=max_iter, init=init
        )
        return (*scaling.coef(coef, intercept), name, n_iter)
    _check_finite_moments(stats)
    _check_not_singular(stats.observed, graph, alpha, l2)
    stats = regularise_moments(stats, graph, alpha, l2)
    name = select_solver(
        solver,
        loss="squared",
        l1=0.0,
        graph=graph,
        shared_X=stats.shared,
        n_features=stats.xty.shape[1],
    )
    if not SOLVERS[name].moments:
        raise ValueError(f"solver={name!r} works on the rows, not on the moments.")
    coef, n_iter = SOLVERS[name].function(
        stats, graph, float(alpha), float(l2), tol=tol, max_iter=max_iter, x0=init
    )
    if not np.all(np.isfinite(coef)):
        raise SingularProblemError(singular_message(alpha, l2))
    return coef, fit_intercepts(stats, coef, graph), name, n_iter


def solve_glm(
    X,
    y,
    task_idx,
    sample_weight,
    graph,
    *,
    loss,
    alpha,
    l2,
    l1=0.0,
    fit_intercept=True,
    solver,
    tol,
    max_iter=None,
    init=None,
    verbose=0,
):
    """Minimise J with any loss and l1 on the rows; returns (coef, intercept, n_iter).

    Data of extreme magnitude are first rescaled exactly (see :mod:`._scaling`).

    ``solver`` must be one of the row solvers ("newton", "lbfgs", "fista"). For the
    classification losses (y in {-1, +1}) a task whose rows show one class only has no
    finite optimal intercept: its loss vanishes as the intercept runs off to +-infinity.
    Its coefficients then come from the coupling alone (its rows are left out, as for a
    task without rows), and its intercept is +-inf for the logistic loss (the limit) and,
    for the squared hinge, the intercept nearest to its rows at which their loss is 0.
    """
    scaling = data_scaling(X, y, sample_weight, squared=loss == "squared")
    if not scaling.trivial:
        X, y, sample_weight = scaling.rows(X, y, sample_weight)
        alpha, l2, l1 = scaling.penalties(alpha, l2, l1)
        init = None if init is None else scaling.scaled_coef(*init)
    coef, intercept, n_iter = _solve_glm(
        X,
        y,
        task_idx,
        sample_weight,
        graph,
        loss=loss,
        alpha=alpha,
        l2=l2,
        l1=l1,
        fit_intercept=fit_intercept,
        solver=solver,
        tol=tol,
        max_iter=max_iter,
        init=init,
        verbose=verbose,
    )
    coef, intercept = scaling.coef(coef, intercept, squared=loss == "squared")
    return coef, intercept, n_iter


def _solve_glm(
    X, y, task_idx, sample_weight, graph, *, loss, alpha, l2, l1, fit_intercept, solver, **kw
):
    """solve_glm on data of moderate magnitude."""
    tol, max_iter, init, verbose = kw["tol"], kw["max_iter"], kw["init"], kw["verbose"]
    T = graph.n_tasks
    sample_weight_in = sample_weight
    weight = np.bincount(task_idx, weights=sample_weight, minlength=T)
    one_class = np.zeros(T, dtype=bool)
    if loss != "squared" and fit_intercept:
        has_pos = np.bincount(task_idx, weights=sample_weight * (y > 0), minlength=T) > 0
        has_neg = np.bincount(task_idx, weights=sample_weight * (y < 0), minlength=T) > 0
        one_class = (weight > 0) & ~(has_pos & has_neg)
        if one_class.any():
            sample_weight = np.where(one_class[task_idx], 0.0, sample_weight)
    observed = (weight > 0) & ~one_class
    _check_not_singular(observed, graph, alpha, l2, one_class)
    if l2 == 0 and l1 == 0:
        check_rows_not_singular(X, task_idx, sample_weight, graph, alpha, fit_intercept)
    # With intercepts, solve for the intercepts of the rows centred per task (GLMProblem)
    shift = None
    if fit_intercept:
        shift = task_means(X, task_idx, sample_weight, T)
    with rows_on_threads() as n_threads:
        problem = GLMProblem(
            X,
            y,
            task_idx,
            sample_weight,
            graph,
            loss=loss,
            alpha=alpha,
            l2=l2,
            l1=l1,
            fit_intercept=fit_intercept,
            shift=shift,
            n_threads=n_threads,
        )
        W0, b0 = (np.zeros((T, X.shape[1])), np.zeros(T)) if init is None else init
        b0 = problem.centred_intercept(W0, np.where(np.isfinite(b0), b0, 0.0)) * fit_intercept
        coef, intercept, n_iter = SOLVERS[solver].function(
            problem,
            W0,
            b0,
            tol=tol,
            max_iter=DEFAULT_MAX_ITER[solver] if max_iter is None else max_iter,
            verbose=verbose,
        )
    if fit_intercept:
        intercept = problem.raw_intercept(coef, intercept)
        intercept = graph.harmonic_extension(np.where(observed, intercept, 0.0), observed)
        for t in np.flatnonzero(one_class):
            rows = (task_idx == t) & (sample_weight_in > 0)  # rows of weight 0 do not count
            sign = np.sign(y[rows][0])
            if loss == "logistic":
                intercept[t] = sign * np.inf
            else:  # squared hinge: the intercept at which the nearest row has y f = 1
                no_intercept = problem.centred_intercept(coef, np.zeros(T))
                margins = sign - problem.decision(coef, no_intercept)[rows]
                intercept[t] = margins.max() if sign > 0 else margins.min()
    return coef, intercept, n_iter


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


def _check_not_singular(observed, graph, alpha, l2, one_class=None):
    """With l2 = 0, a group of linked tasks none of which has rows is determined by nothing.

    ``one_class``: the tasks whose rows show one class only, left out of a classifier's
    fit (their rows fix no finite intercept), which the message names as such."""
    if l2 > 0:
        return
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


def _check_finite_moments(stats):
    """Moments that overflowed (rows of 1e160 and beyond, streamed or from dask) are
    reported as an overflow, not as a singular problem."""
    for name in ("gram", "xty", "x_mean", "y_mean", "weight_sum"):
        if not np.all(np.isfinite(getattr(stats, name))):
            raise ValueError(
                f"the per-task moments of the data overflow double precision ({name} is "
                "not finite: squares of the values exceed 1.8e308). fit() rescales such "
                f"data by itself; with partial_fit or dask, {OVERFLOW_WAY_OUT}."
            )
