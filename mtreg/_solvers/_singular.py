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

Per-feature penalties (arrays, :mod:`._penalty`) do not penalise every direction alike,
so the minimiser need not vanish along a data-null direction: the moments are not
projected, and the system (positive definite when every l2_j > 0) is solved as it is.
With some l2_j = 0 the problem is singular exactly when some W != 0 on those features
alone has zero data term and zero coupling: constant on each component in the features
with alpha_j > 0 (c), free per task in those with alpha_j = 0 (u_t). That is checked by
:func:`check_per_feature` (a singular u-block of a task, or a singular Schur complement
of the c-block summed over a component).
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
    largest_trace = np.trace(gram) * len(comp) if shared_X else np.einsum("tii->", gram)
    if l2 > RCOND * (largest_trace + l2):  # then |C| l2 > RCOND (tr S_C + |C| l2) for all C
        return None
    k = comp.max(initial=-1) + 1
    sizes = np.bincount(comp, minlength=k).astype(float)
    # every eigenvalue of S_C + |C| l2 is at least |C| l2 and at most tr S_C + |C| l2: where
    # the first is above RCOND times the second, no direction is near null (no eigh needed;
    # the traces come from the tasks' own, and S_C is summed only where it is needed)
    floor = sizes * l2
    if shared_X:
        trace = sizes * np.trace(gram)
    else:
        trace = np.bincount(comp, weights=np.trace(gram, axis1=1, axis2=2), minlength=k)
    unsure = np.flatnonzero(floor <= RCOND * (trace + floor))
    if not len(unsure):
        return None
    S = _component_grams(gram, comp, shared_X)
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
    if np.ndim(alpha) or np.ndim(l2):
        check_per_feature(stats, graph, alpha, l2)
        return stats
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


def check_per_feature(stats, graph, alpha, l2):
    """The l2 = 0 check for per-feature penalties (see the module docstring)."""
    d = stats.xty.shape[1]
    free = np.broadcast_to(l2, (d,)) == 0
    if not free.any():
        return
    G = stats.task_grams()[:, free][:, :, free]
    coupled = np.broadcast_to(alpha, (d,))[free] > 0
    T = G.shape[0]
    own = ~coupled
    Gcc = G[:, coupled][:, :, coupled]
    schur = Gcc
    if own.any():  # u_t alone (c = 0): a singular block of some task (rows: see check_not_singular)
        Guu = G[:, own][:, :, own]
        values = np.linalg.eigvalsh(Guu)
        bad = np.flatnonzero(stats.observed & (values[:, 0] <= RCOND * values[:, -1]))
        if len(bad):
            raise _singular_error(graph, np.arange(T), bad, 0.0)
        if coupled.any():  # eliminate u_t: the Schur complement of each observed task
            seen = stats.observed
            Gcu = G[:, coupled][:, :, own]
            schur = Gcc.copy()
            schur[seen] -= Gcu[seen] @ np.linalg.solve(Guu[seen], Gcu[seen].transpose(0, 2, 1))
    if coupled.any():
        # per component, the smallest eigenvalue of the summed Schur complements against
        # the largest of the summed blocks before elimination (the elimination may cancel
        # every digit: rounding then leaves values of about eps times that scale)
        comp = graph.components()
        sums = [np.zeros((comp.max() + 1,) + Gcc.shape[1:]) for _ in range(2)]
        np.add.at(sums[0], comp, schur)
        np.add.at(sums[1], comp, Gcc)
        low = np.linalg.eigvalsh(sums[0])[:, 0]
        bad = np.flatnonzero(low <= RCOND * np.linalg.eigvalsh(sums[1])[:, -1])
        if len(bad):
            raise _singular_error(graph, comp, bad, 1.0)


def _projector(V, S):
    """I - V V^T, and a well-scaled positive block on span(V) so that the projected
    system stays positive definite with a zero solution along V."""
    P = np.eye(V.shape[0]) - V @ V.T
    scale = max(np.linalg.eigvalsh(S)[-1], 1.0) / max(len(S), 1)
    return P, scale * (V @ V.T)


def check_rows_not_singular(X, task_idx, sample_weight, graph, alpha, fit_intercept, l2=0.0):
    """The l2 = 0 check of the row solvers, from the rows' per-task Grams (or, for very
    wide X, the row counts: a component with fewer rows than features is singular; with
    per-feature penalties counted with the smallest alpha_j of the features l2 leaves
    free, which may refuse a problem that the coupling of the others determines)."""
    from .._tasks import task_stats

    per_feature = np.ndim(alpha) or np.ndim(l2)
    if per_feature and X.shape[1] <= MAX_CHECKED_FEATURES:
        y = np.zeros(X.shape[0])
        stats = task_stats(X, y, task_idx, sample_weight, graph.n_tasks, fit_intercept)
        check_per_feature(stats, graph, alpha, l2)
        return
    if per_feature:
        alpha = float(
            np.min(np.broadcast_to(alpha, (X.shape[1],))[np.broadcast_to(l2, (X.shape[1],)) == 0])
        )

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
