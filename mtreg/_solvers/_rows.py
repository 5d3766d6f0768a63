"""The solvers that work on the rows (any loss, l1), and their entry point."""

import numpy as np
import scipy.sparse as sp

from .._objective import objective
from .._tasks import Rows, task_means
from ._glm import DEFAULT_MAX_ITER, GLMProblem, solve_fista, solve_lbfgs, solve_newton
from ._penalty import as_penalty, smallest
from ._ridge import check_not_singular
from ._scaling import data_scaling
from ._select import MEMORY_LIMIT
from ._singular import check_rows_not_singular
from ._threads import rows_on_threads

ROW_SOLVERS = {"newton": solve_newton, "lbfgs": solve_lbfgs, "fista": solve_fista}


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
    alpha, l2 = as_penalty(alpha, X.shape[1], "alpha"), as_penalty(l2, X.shape[1], "l2")
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
    check_not_singular(observed, graph, alpha, l2, one_class)
    if smallest(l2) == 0 and l1 == 0:
        check_rows_not_singular(X, task_idx, sample_weight, graph, alpha, fit_intercept, l2)
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
        coef, intercept, n_iter = ROW_SOLVERS[solver](
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


def long_format(X, Y, sample_weight):
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
    return Rows(X_long, Y.T.ravel(), np.repeat(np.arange(T), n), np.tile(sample_weight, T))


def squared_objective(coef, intercept, X, y, task_idx, sample_weight, graph, **penalties):
    """J of the squared loss on the rows; multi-output rows (task_idx None) in long format."""
    if task_idx is None:
        X, y, task_idx, sample_weight = long_format(X, y, sample_weight)
    return objective(
        coef, intercept, X, y, task_idx, graph, sample_weight=sample_weight, **penalties
    )
