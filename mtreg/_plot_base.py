"""What every picture of :mod:`mtreg.plotting` shares.

The optional imports (matplotlib, networkx) with the error that names the extra, a new
Axes when none is given, the relations of a fitted estimator, the checks of a task matrix,
its task labels and an order, and tick labels that stay readable for many tasks.
"""

import numpy as np
import scipy.sparse as sp

MAX_TICK_LABELS = 40  # beyond this many tasks or features, label a readable subset


def import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            'mtreg.plotting needs matplotlib; install it with: pip install "mtreg[plot]"'
        ) from exc
    return plt


def import_networkx():
    try:
        import networkx as nx
    except ImportError as exc:
        raise ImportError(
            'plot_task_graph needs networkx; install it with: pip install "mtreg[graph]"'
        ) from exc
    return nx


def new_axes(ax, figsize):
    if ax is not None:
        return ax
    _, ax = import_pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


def is_estimator(obj):
    return hasattr(obj, "fit") and hasattr(obj, "get_params")


def estimator_relations(estimator):
    """(relation matrix, task labels, whether learned) of a fitted estimator."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "tasks_")
    omega = getattr(estimator, "task_covariance_", None)
    if omega is None:
        return estimator.adjacency_, estimator.tasks_, False
    scale = np.sqrt(np.diag(omega))
    return omega / np.outer(scale, scale), estimator.tasks_, True


def square_matrix(M):
    M = M.toarray() if sp.issparse(M) else np.asarray(M)
    try:
        M = M.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("M must be a numeric square matrix.") from exc
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"M must be a non-empty square matrix, got shape {M.shape}.")
    if not np.all(np.isfinite(M)):
        raise ValueError("M contains NaN or infinite values.")
    return M


def task_labels(tasks, n):
    if tasks is None:
        return np.arange(n)
    tasks = np.asarray(tasks)
    if tasks.shape != (n,):
        raise ValueError(f"tasks has {tasks.size} labels but there are {n} tasks.")
    return tasks


def label_axis(axis, labels, rotate):
    """Ticks at 0..n-1 named by labels: all of them, or a subset chosen by matplotlib."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

    labels = [str(x) for x in labels]
    n = len(labels)
    if n <= MAX_TICK_LABELS:
        axis.set_major_locator(FixedLocator(np.arange(n)))
    else:
        axis.set_major_locator(MaxNLocator(nbins=MAX_TICK_LABELS // 2, integer=True))

    def name(x, _pos):
        k = int(round(x))
        return labels[k] if abs(x - k) < 1e-9 and 0 <= k < n else ""

    axis.set_major_formatter(FuncFormatter(name))
    if rotate:
        axis.set_tick_params(labelrotation=90)


def needs_rotation(labels):
    """Whether horizontal tick labels would run into each other."""
    shown = min(len(labels), MAX_TICK_LABELS)
    return shown * (max((len(str(x)) for x in labels), default=0) + 1) > 50


def check_order(order, T):
    order = np.asarray(order)
    if (
        order.shape != (T,)
        or order.dtype.kind not in "iu"
        or not np.array_equal(np.sort(order), np.arange(T))
    ):
        raise ValueError(
            f"order must be a permutation of the task positions 0..{T - 1} (integers, e.g. "
            "from cluster_order); to order by labels use np.argsort or tasks.index."
        )
    return order
