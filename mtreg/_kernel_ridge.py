"""Multi-task kernel ridge as functions: the input kernel, the fits, the predictions, the
cross-validation of (alpha, l2); the estimators of :mod:`mtreg.kernel` and
:mod:`mtreg._kernel_cv` validate and store, these compute.

The multi-task Gram matrix is ``K = k(X, X) * inv(E)[t_i, t_j]``, ``E = alpha L + l2 I``;
``task_kernel`` is a :class:`TaskKernel` (the entries of inv(E) asked for). Exact fits solve
for dual coefficients (:func:`dual_coef`); "nystroem" fits the linear multi-task ridge on
Nystroem features (:func:`nystroem_fit`).
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.kernel_approximation import Nystroem
from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS, pairwise_kernels

from ._graph_input import make_task_graph
from ._labels import encode_tasks, unique_labels
from ._solvers import select_solver, solve_graph_ridge
from ._solvers._kernel import (
    GramEigenPath,
    KroneckerPath,
    TaskKernel,
    check_kernel_matrix,
    solve_dual,
    task_covariance,
)
from ._tasks import shared_stats, task_stats

KERNELS = frozenset(PAIRWISE_KERNEL_FUNCTIONS) | {"precomputed"}
# kernels positive semi-definite by construction; the others are checked at fit
PSD_KERNELS = frozenset({"linear", "rbf", "laplacian", "chi2", "cosine"})


def data_kernel(X, Y, kernel, params):
    """k(X, Y) as a dense float array, with clear errors for a misbehaving callable."""
    n, m = X.shape[0], (X if Y is None else Y).shape[0]
    try:
        K = pairwise_kernels(X, Y, metric=kernel, filter_params=True, **params)
    except (ValueError, TypeError) as exc:
        if not callable(kernel):
            raise
        raise ValueError(
            f"the kernel callable {kernel!r} failed ({exc}); it must take two rows x and z "
            "(1-D arrays) and return one number, as sklearn.metrics.pairwise_kernels calls it."
        ) from exc
    K = np.asarray(K.toarray() if sp.issparse(K) else K, dtype=np.float64)
    if K.shape != (n, m):
        raise ValueError(
            f"the kernel returned an array of shape {K.shape} for {n} and {m} rows; expected "
            f"shape ({n}, {m})."
        )
    if not np.all(np.isfinite(K)):
        raise ValueError(
            "the kernel returned NaN or infinite values: with finite X, its entries or the "
            "distances between rows overflow double precision (|X| near 1e154 or beyond); "
            "rescale X (for example with sklearn.preprocessing.StandardScaler)."
        )
    return K


def check_train_kernel(K, kernel, dtype=np.float64):
    """k(X, X) of the training rows, checked where k is not PSD by construction (to the
    rounding of ``dtype``, that of X)."""
    if callable(kernel) or kernel not in PSD_KERNELS:
        what = (
            "the precomputed kernel matrix"
            if kernel == "precomputed"
            else (f"the kernel matrix of kernel={kernel!r}")
        )
        check_kernel_matrix(K, what, dtype)
    return K


def input_kernel(X, Y, kernel, params):
    """k(X, Y) by :func:`data_kernel`; with kernel="precomputed", X is already that matrix."""
    if kernel == "precomputed":
        return np.asarray(X, dtype=np.float64)
    return data_kernel(X, Y, kernel, params)


def resolve_gamma(X, gamma):
    """The value of libsvm's gamma "scale" (1 / (d var(X)), 1 when X is constant) or
    "auto" (1 / d), as ``sklearn.svm.SVC`` computes it; a number is returned as is."""
    if gamma == "scale":
        var = (X.multiply(X)).mean() - X.mean() ** 2 if sp.issparse(X) else X.var()
        return 1.0 / (X.shape[1] * var) if var != 0 else 1.0
    if gamma == "auto":
        return 1.0 / X.shape[1]
    return gamma


def multitask_gram(Kx, task_ids, task_ids_Y, graph, alpha, l2, *, tasks, laplacian):
    """``Kx * inv(E)[t_i, t_j]`` for the labels ``task_ids`` of the rows and
    ``task_ids_Y`` of the columns of k(X, Y); an array graph follows ``tasks`` if given,
    else the sorted labels of both. Only the entries of inv(E) asked for are formed."""
    both = (
        np.concatenate([task_ids, task_ids_Y])
        if task_ids.dtype == task_ids_Y.dtype
        else np.concatenate([task_ids.astype(object), task_ids_Y.astype(object)])
    )
    # with tasks given, the order is given: no need to sort (possibly mixed) labels
    observed = unique_labels(both, sort=tasks is None)[0]
    task_graph = make_task_graph(graph, observed, tasks=tasks, laplacian=laplacian)
    B = TaskKernel(task_graph, alpha, l2)  # only the entries asked for (T may be 1e5)
    rows = encode_tasks(both, task_graph.tasks)  # one pass over the (many) task labels
    return Kx * B.block(rows[: len(task_ids)], rows[len(task_ids) :])


class KernelFit(NamedTuple):
    """A multi-task kernel ridge fit: the solver used and the task kernel inv(E), with the
    dual coefficients (exact solvers) or the Nystroem map and its coefficients."""

    solver: str
    task_kernel: TaskKernel
    dual_coef: np.ndarray = None
    nystroem: Nystroem = None
    coef: np.ndarray = None


def fit_kernel_ridge(
    X, y, sw, graph, task_idx, alpha, l2, *, solver, kernel, params, nystroem_params, Kx=None
):
    """Multi-task kernel ridge by the solver ``solver`` ("auto" resolved here): a
    :class:`KernelFit`.

    ``kernel`` and ``params`` define k (as for :func:`input_kernel`); ``Kx``, when given,
    is k(X, X) already computed (and checked). ``nystroem_params``: ``kernel_params``,
    ``n_components`` (at most the number of rows) and ``random_state`` of "nystroem".
    """
    solver = select_solver(
        solver, family="kernel", shared_X=task_idx is None, has_inputs=kernel != "precomputed"
    )
    task_kernel = TaskKernel(graph, alpha, l2)  # also the error for l2 = 0
    if solver == "nystroem":
        options = {**nystroem_params, "kernel": kernel, **({} if callable(kernel) else params)}
        options["n_components"] = min(options["n_components"], X.shape[0])
        nystroem, coef = nystroem_fit(X, y, sw, graph, task_idx, alpha, l2, **options)
        return KernelFit(solver, task_kernel, nystroem=nystroem, coef=coef)
    if Kx is None:
        Kx = input_kernel(X, None, kernel, params)
        Kx = check_train_kernel(Kx, kernel, X.dtype) if solver == "cholesky" else Kx
    dual = dual_coef(Kx, y, sw, graph, task_idx, task_kernel, alpha, l2, eigen=solver == "eigen")
    return KernelFit(solver, task_kernel, dual_coef=dual)


def dual_coef(Kx, y, sw, graph, task_idx, task_kernel, alpha, l2, *, eigen=False):
    """Dual coefficients c: (n,) for task_ids data, (n, T) for multi-output y (task_idx
    None): by "eigen" (multi-output only), else one Cholesky factorisation."""
    if eigen:
        return KroneckerPath(Kx, sw, graph).dual_coef(y, alpha, l2)
    if task_idx is None:  # multi-output through the (n T) x (n T) long-format system
        n, T = y.shape
        K = np.kron(task_kernel.dense(), Kx)
        c = solve_dual(K, y.T.ravel(), np.tile(sw, T))
        return c.reshape(T, n).T
    return solve_dual(Kx * task_kernel.block(task_idx, task_idx), y, sw)


def predict_dual(Kx, dual, task_kernel, task_idx, fit_task_idx, population_weight):
    """f(x, t) from k(X, X_fit) and the dual coefficients. ``fit_task_idx`` None: a
    multi-output model (then ``task_idx`` None predicts every task). A task position T is
    the population task (``TaskKernel.block``)."""
    if fit_task_idx is None:
        if task_idx is None:
            return Kx @ dual @ task_kernel.dense()
        B = task_kernel.block(task_idx, np.arange(task_kernel.n_tasks), population_weight)
        return np.einsum("ij,ij->i", Kx @ dual, B)  # f(x_i, t_i) = k_i C B[t_i]^T
    return (Kx * task_kernel.block(task_idx, fit_task_idx, population_weight)) @ dual


def nystroem_fit(X, y, sw, graph, task_idx, alpha, l2, **nystroem_params):
    """(fitted Nystroem map, coef (T, m)): the exact linear multi-task ridge, no intercept,
    on the Nystroem features phi(x) of the input kernel."""
    nystroem = Nystroem(**nystroem_params).fit(X)
    Phi = nystroem.transform(X)
    if task_idx is None:
        stats = shared_stats(Phi, y, sw, False)
    else:
        stats = task_stats(Phi, y, task_idx, sw, graph.n_tasks, False)
    return nystroem, solve_graph_ridge(stats, graph, alpha=alpha, l2=l2)[0]


def predict_features(Phi, coef, task_idx, population_weight):
    """f(x, t) = phi(x) . w_t; a task position T is the population task, whose row is
    ``population_weight`` times the mean of the rows of coef."""
    if task_idx is None:
        return Phi @ coef.T
    if task_idx.size and task_idx.max() == coef.shape[0]:
        coef = np.vstack([coef, population_weight * coef.mean(axis=0)])
    return np.einsum("ij,ij->i", Phi, coef[task_idx])


def _by_ratio(grid):
    """{alpha / l2: [(grid position, l2), ...]}: one eigendecomposition per ratio."""
    out = {}
    for k, (a, b) in enumerate(grid):
        out.setdefault(a / b, []).append((k, b))
    return out


def kernel_loo_predictions(Kx, y, task_idx, sw, graph, grid):
    """Exact leave-one-out predictions at every grid point, shape (n_grid,) + y.shape."""
    out = np.empty((len(grid),) + y.shape)
    if task_idx is None:
        path = KroneckerPath(Kx, sw, graph)
        for k, (a, b) in enumerate(grid):
            out[k] = path.loo_predictions(y, a, b)
        return out
    for rho, members in _by_ratio(grid).items():
        B = task_covariance(graph, rho, 1.0)
        path = GramEigenPath(Kx * B[np.ix_(task_idx, task_idx)], sw)
        for k, b in members:
            out[k] = path.loo_predictions(y, b)
    return out


def kernel_kfold_scores(Kx, y, task_idx, sw, graph, grid, folds, score):
    """Scores (n_folds, n_grid); ``score(test, preds)`` scores the predictions of the rows
    ``test`` at every grid point, shape (n_grid,) + y[test].shape."""
    scores = np.empty((len(folds), len(grid)))
    for f, (train, test) in enumerate(folds):
        K_train, K_test = Kx[np.ix_(train, train)], Kx[np.ix_(test, train)]
        preds = np.empty((len(grid), len(test)) + y.shape[1:])
        if task_idx is None:
            path = KroneckerPath(K_train, sw[train], graph)
            for k, (a, b) in enumerate(grid):
                C = path.dual_coef(y[train], a, b)
                preds[k] = K_test @ C @ path.task_covariance(a, b)
        else:
            t_train, t_test = task_idx[train], task_idx[test]
            for rho, members in _by_ratio(grid).items():
                B = task_covariance(graph, rho, 1.0)
                K_rho = K_train * B[np.ix_(t_train, t_train)]
                K_rho_test = K_test * B[np.ix_(t_test, t_train)]
                path = GramEigenPath(K_rho, sw[train]) if len(members) > 1 else None
                for k, b in members:
                    c = (
                        path.dual_coef(y[train], b)
                        if path is not None
                        else solve_dual(K_rho / b, y[train], sw[train])
                    )
                    preds[k] = K_rho_test @ c / b
        scores[f] = score(test, preds)
    return scores
