"""Singular and nearly singular problems: one rule for every solver.

The coupling makes W constant on each connected component of the graph (every task on
its own when alpha = 0) in the directions it does not penalise, so the normal equations
are singular exactly when, on some component C, the summed data Gram matrix
S_C = sum_{t in C} G_t has a null direction v and l2 = 0: then W = 1 v^T changes
nothing. Directions where S_C + |C| l2 is below RCOND times its largest eigenvalue are
taken as null (duplicated or collinear columns, fewer rows than features).

* l2 = 0 (and l1 = 0): a :class:`SingularProblemError` from every solver.
* l2 > 0 so small that such directions are fixed by l2 alone: the answer is the
  minimiser of J with zero coefficients along them, the minimum-norm answer (the one
  the iterative solvers reach from zero), computed here by projecting the moments.
"""

import numpy as np

from .._graph import _show
from .._tasks import TaskStats
from ._errors import SingularProblemError

RCOND = 1e-12
MAX_CHECKED_FEATURES = 2000  # beyond, the rows are counted instead (d x d Grams too big)


def _component_grams(gram, comp, shared_X):
    """S_C for each component (labels 0..k-1): shape (k, d, d)."""
    k = comp.max(initial=-1) + 1
    if shared_X:
        counts = np.bincount(comp, minlength=k).astype(float)
        return counts[:, None, None] * gram[None]
    S = np.zeros((k,) + gram.shape[1:])
    np.add.at(S, comp, gram)
    return S


def null_directions(gram, comp, l2, shared_X=False):
    """Per component, the orthonormal directions (d, m) that the data and l2 leave
    (nearly) undetermined; ``None`` when there is none at all."""
    S = _component_grams(gram, comp, shared_X)
    sizes = np.bincount(comp, minlength=len(S)).astype(float)
    # every eigenvalue of S_C + |C| l2 is at least |C| l2 and at most tr S_C + |C| l2: where
    # the first is above RCOND times the second, no direction is near null (no eigh needed)
    floor = sizes * l2
    unsure = np.flatnonzero(floor <= RCOND * (np.trace(S, axis1=1, axis2=2) + floor))
    if not len(unsure):
        return None
    values, vectors = np.linalg.eigh(S[unsure])
    values = values + floor[unsure, None]
    top = values[:, -1:]
    near = (values <= RCOND * top) & (top > 0)
    if not near.any():
        return None
    d = S.shape[-1]
    directions = [np.zeros((d, 0)) for _ in range(len(S))]
    for k, c in enumerate(unsure):
        directions[c] = vectors[k][:, near[k]]
    return directions


def _singular_error(graph, comp, bad, alpha):
    """The error naming the tasks of the components ``bad``."""
    tasks = graph.tasks[np.isin(comp, bad)].tolist()
    linked = "the linked tasks" if alpha > 0 else "the tasks"
    return SingularProblemError(
        f"the problem is singular (l2=0): on {linked} {_show(tasks)} the data leave "
        "some direction of the coefficients undetermined (their centred, weighted "
        f"Gram matrix has a null direction to within {RCOND:g} of its largest "
        "eigenvalue: duplicated, collinear or constant columns, or fewer rows than "
        "features), and l2=0 penalises nothing there. Set l2 > 0 (for tiny l2 the "
        "minimum-norm answer is returned), or remove the dependent columns."
    )


def regularise_moments(stats, graph, alpha, l2):
    """``stats`` with the (nearly) undetermined directions projected out (see the module
    docstring); raises when l2 = 0 leaves such a direction."""
    comp = graph.components() if alpha > 0 else np.arange(graph.n_tasks)
    gram = stats.gram
    if gram.shape[-1] == 0:
        return stats
    directions = null_directions(gram, comp, l2, stats.shared_X)
    if directions is None:
        return stats
    if l2 == 0:
        raise _singular_error(graph, comp, _bad(directions), alpha)
    if stats.shared_X:  # one X for every task: every component has the same directions
        P, fill = _projector(directions[0], gram)
        gram = P @ gram @ P + fill
        xty = stats.xty @ P
    else:
        gram, xty = gram.copy(), stats.xty.copy()
        for c, V in enumerate(directions):
            if V.shape[1]:
                tasks = comp == c
                P, fill = _projector(V, gram[tasks].sum(axis=0))
                gram[tasks] = P @ gram[tasks] @ P + fill
                xty[tasks] = xty[tasks] @ P
    return TaskStats(gram, xty, stats.x_mean, stats.y_mean, stats.weight_sum)


def _projector(V, S):
    """I - V V^T, and a well-scaled positive block on span(V) so that the projected
    system stays positive definite with a zero solution along V."""
    P = np.eye(V.shape[0]) - V @ V.T
    scale = max(np.linalg.eigvalsh(S)[-1], 1.0) / max(len(S), 1)
    return P, scale * (V @ V.T)


def check_rows_not_singular(X, task_idx, sample_weight, graph, alpha, fit_intercept):
    """The l2 = 0 check of the row solvers, from the rows' per-task Grams (or, for very
    wide X, the row counts: a component with fewer rows than features is singular)."""
    from .._tasks import task_stats

    comp = graph.components() if alpha > 0 else np.arange(graph.n_tasks)
    d = X.shape[1]
    if d > MAX_CHECKED_FEATURES:
        has = sample_weight > 0
        rows = np.bincount(comp[task_idx[has]], minlength=comp.max() + 1)
        tasks_with_rows = np.bincount(comp[np.unique(task_idx[has])], minlength=len(rows))
        free = rows - (tasks_with_rows if fit_intercept else 0)
        if (free < d).any():
            raise _singular_error(graph, comp, np.flatnonzero(free < d), alpha)
        return
    y = np.zeros(X.shape[0])
    stats = task_stats(X, y, task_idx, sample_weight, graph.n_tasks, fit_intercept)
    directions = null_directions(stats.gram, comp, 0.0)
    if directions is not None:
        raise _singular_error(graph, comp, _bad(directions), alpha)


def _bad(directions):
    return [c for c, V in enumerate(directions) if V.shape[1]]
