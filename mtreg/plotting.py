"""Pictures of task relations: heat maps, task graphs, per-task coefficients.

matplotlib is an optional dependency (``pip install "mtreg[plot]"``) and networkx too, for
:func:`plot_task_graph` (``pip install "mtreg[graph]"``); both are imported only when a
function is called. Every function draws into ``ax`` when given, else into a new Figure,
and returns the Axes; none calls ``plt.show()``, so all of them work headless (Agg).

The relations of a fitted estimator are read as follows: ``adjacency_`` and ``tasks_``;
for ``graph="learn"`` the correlations of the learned task covariance ``task_covariance_``
(signed in :func:`plot_task_matrix`, their positive part as edge weights in
:func:`plot_task_graph`).

The public functions and their documentation are here; their parts are in the private
modules ``_plot_base`` (shared checks, axes and tick labels), ``_plot_graph`` and
``_plot_coef``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform

from ._plot_base import (
    check_order,
    estimator_relations,
    import_networkx,
    is_estimator,
    label_axis,
    needs_rotation,
    new_axes,
    square_matrix,
    task_labels,
)
from ._plot_coef import coefficient_matrix, draw_coefficient_lines, draw_coefficient_scatter

if TYPE_CHECKING:  # matplotlib is optional: imported when a function draws
    from matplotlib.axes import Axes
from ._plot_graph import graph_relations, label_nodes, node_positions
from ._typing import ArrayLike, MatrixLike, OptArray


def cluster_order(M: ArrayLike) -> np.ndarray:
    """Order of the tasks that puts related tasks next to each other.

    The leaves, in order, of average-linkage hierarchical clustering (with optimal leaf
    ordering) on the distances ``d_st = 1 - S_st / max|S|``, where S is the symmetric part
    of ``M`` without its diagonal: the most related pair is at distance 0, unrelated tasks
    at distance 1, and negatively related tasks (e.g. negative correlations) beyond.

    Parameters
    ----------
    M : {array-like, sparse matrix} of shape (n_tasks, n_tasks)
        Relations between tasks, larger meaning closer: a similarity, an adjacency, a
        correlation matrix.

    Returns
    -------
    order : ndarray of shape (n_tasks,)
        A permutation of ``0 .. n_tasks - 1``; ``M[order][:, order]`` shows the blocks.

    See Also
    --------
    plot_task_matrix : Draw a task matrix, optionally in this order.
    scipy.cluster.hierarchy.optimal_leaf_ordering : The leaf ordering used.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg.plotting import cluster_order
    >>> A = np.array([[0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]])
    >>> order = cluster_order(A)
    >>> sorted(map(sorted, (order[:2].tolist(), order[2:].tolist())))
    [[0, 2], [1, 3]]
    """
    S = square_matrix(M)
    S = (S + S.T) / 2.0
    np.fill_diagonal(S, 0.0)
    T, scale = len(S), np.abs(S).max()
    if T < 3 or scale == 0:
        return np.arange(T)
    D = 1.0 - S / scale
    np.fill_diagonal(D, 0.0)
    Z = linkage(squareform(D, checks=False), method="average", optimal_ordering=True)
    return leaves_list(Z)


def plot_task_matrix(
    M: MatrixLike,
    *,
    tasks: OptArray = None,
    order: OptArray = None,
    cluster: bool = False,
    ax: Axes | None = None,
    cmap: Any = None,
    title: str | None = None,
    colorbar: bool = True,
) -> Axes:
    """Draw a task-relation, similarity or adjacency matrix as a heat map.

    Parameters
    ----------
    M : {array-like, sparse matrix} of shape (n_tasks, n_tasks), or fitted estimator
        The matrix, e.g. from :func:`mtreg.relations.task_similarity` or an estimator's
        ``adjacency_``. A fitted estimator shows its ``adjacency_``, or for
        ``graph="learn"`` the correlations of its learned ``task_covariance_``, with its
        ``tasks_`` as labels.
    tasks : array-like of shape (n_tasks,), default=None
        Task labels of the rows of ``M`` (default: ``0 .. n_tasks - 1``, or the
        estimator's ``tasks_``).
    order : array-like of int of shape (n_tasks,), default=None
        Show the tasks in this order: a permutation of the row positions.
    cluster : bool, default=False
        Order the tasks by :func:`cluster_order` (average-linkage hierarchical clustering
        on ``1 - M / max|M|``) so that groups of related tasks show as blocks. Not
        together with ``order``.
    ax : matplotlib Axes, default=None
        Where to draw; a new Figure when None.
    cmap : str or Colormap, default=None
        None: "viridis" from 0 to the maximum when ``M`` is non-negative, else the
        diverging "RdBu_r" centred at 0.
    title : str, default=None
        Axes title (for an estimator, by default what is shown).
    colorbar : bool, default=True
        Draw a colour bar beside the heat map.

    Returns
    -------
    ax : matplotlib Axes
        ``ax.images[0]`` holds the (reordered) matrix; the tick labels name the tasks.

    See Also
    --------
    plot_task_graph : Draw the task graph as nodes and edges.
    cluster_order : The order that puts related tasks together.
    mtreg.relations.task_similarity : A similarity matrix to draw.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg.plotting import plot_task_matrix
    >>> S = np.array([[1.0, 0.1, 0.9], [0.1, 1.0, 0.2], [0.9, 0.2, 1.0]])
    >>> ax = plot_task_matrix(S, tasks=["a", "b", "c"], cluster=True)
    >>> [label.get_text() for label in ax.get_xticklabels()]
    ['b', 'c', 'a']
    >>> ax.figure.savefig("similarity.png")  # doctest: +SKIP
    """
    if is_estimator(M):
        M, labels, learned = estimator_relations(M)
        tasks = labels if tasks is None else tasks
        if title is None:
            title = "learned task correlations" if learned else "task adjacency"
    M = square_matrix(M)
    T = len(M)
    tasks = task_labels(tasks, T)
    if order is not None and cluster:
        raise ValueError("pass either order or cluster=True, not both.")
    order = (
        cluster_order(M) if cluster else (np.arange(T) if order is None else check_order(order, T))
    )
    shown = M[np.ix_(order, order)]
    limits = {}
    if cmap is None:
        top, signed = np.abs(shown).max() or 1.0, shown.min() < 0
        cmap = "RdBu_r" if signed else "viridis"
        limits = {"vmin": -top if signed else 0.0, "vmax": top}
    side = float(np.clip(2.5 + 0.22 * T, 4.0, 9.0))
    ax = new_axes(ax, (side + (1.3 if colorbar else 0.0), side))
    image = ax.imshow(shown, cmap=cmap, interpolation="nearest", **limits)
    labels = tasks[order]
    label_axis(ax.xaxis, labels, rotate=needs_rotation(labels))
    label_axis(ax.yaxis, labels, rotate=False)
    if T > 20:
        ax.tick_params(labelsize="small")
    ax.set_xlabel("task")
    ax.set_ylabel("task")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8)
    return ax


def plot_task_graph(
    graph_or_estimator: Any,
    *,
    tasks: OptArray = None,
    layout: str | Mapping = "spring",
    ax: Axes | None = None,
    node_color: Any = None,
    with_labels: bool = True,
    seed: int = 0,
    edge_width: float = 4.0,
    title: str | None = None,
) -> Axes:
    """Node-link drawing of the task graph, edge widths proportional to the weights.

    Parameters
    ----------
    graph_or_estimator : graph or fitted estimator
        Any ``graph`` the estimators accept: a (T, T) array or sparse adjacency matrix, a
        networkx graph, a dict of neighbours, a list of edges, or ``"complete"`` /
        ``"none"`` with ``tasks``. A directed input is symmetrised as ``(A + A^T) / 2``.
        A fitted estimator draws its ``adjacency_`` over its ``tasks_``; one fitted with
        ``graph="learn"`` has no adjacency, and the positive part of the correlations of
        its ``task_covariance_`` is drawn instead (negative correlations are left out).
    tasks : array-like of shape (n_tasks,), default=None
        Task labels of the rows of a matrix (default ``0 .. n_tasks - 1``) or of the
        estimator's tasks; the order of the tasks of a labelled graph.
    layout : {"spring", "kamada_kawai", "circular", "shell", "spectral"} or dict, \
            default="spring"
        The networkx layout. "spring" and "spectral" use the weights (heavier edges pull
        harder; the weights are scaled to a maximum of 1 first); "kamada_kawai" uses
        the links only. A dict maps each task label to its (x, y) position.
    ax : matplotlib Axes, default=None
        Where to draw; a new Figure when None.
    node_color : color, sequence of colors or of numbers, default=None
        Node colours (numbers, e.g. cluster labels, go through the default colormap).
    with_labels : bool, default=True
        Write the task labels on the nodes.
    seed : int, default=0
        Seed of the "spring" layout, so that the picture is reproducible.
    edge_width : float, default=4.0
        Line width of the heaviest edge; an edge of weight w is ``edge_width * w / w_max``
        wide.
    title : str, default=None
        Axes title (by default, for a learned graph, what is drawn).

    Returns
    -------
    ax : matplotlib Axes
        The nodes are ``ax.collections[0]`` (offsets in the order of the tasks) and the
        edges ``ax.collections[1]`` (absent when there are no edges).

    See Also
    --------
    plot_task_matrix : Draw the adjacency as a heat map.
    plot_task_coefficients : Draw the coefficients of each task.

    Examples
    --------
    >>> from mtreg.plotting import plot_task_graph
    >>> graph = {"a": {"b": 2.0}, "b": {"c": 1.0}, "c": {}}
    >>> ax = plot_task_graph(graph)
    >>> [float(w) for w in ax.collections[1].get_linewidths()]
    [4.0, 2.0]
    """
    nx = import_networkx()
    A, tasks, learned = graph_relations(graph_or_estimator, tasks)
    tasks = np.asarray(tasks)
    T = len(tasks)
    upper = sp.triu(sp.coo_matrix(A), k=1).tocoo()
    keep = upper.data > 0
    rows, cols, weights = upper.row[keep], upper.col[keep], upper.data[keep]
    scale = weights.max() if weights.size else 1.0
    G = nx.Graph()
    G.add_nodes_from(range(T))
    edges = list(zip(rows.tolist(), cols.tolist(), strict=True))
    G.add_weighted_edges_from((s, t, w / scale) for (s, t), w in zip(edges, weights, strict=True))
    pos = node_positions(nx, G, layout, seed, tasks)
    side = float(np.clip(3.0 + 0.15 * T, 4.5, 9.0))
    ax = new_axes(ax, (side, side))
    node_size = float(np.clip(6000.0 / max(T, 1), 60.0, 500.0))
    nx.draw_networkx_nodes(
        G,
        pos,
        ax=ax,
        node_size=node_size,
        node_color="C0" if node_color is None else node_color,
        edgecolors="white",
    )
    if edges:
        nx.draw_networkx_edges(
            G,
            pos,
            ax=ax,
            edgelist=edges,
            node_size=node_size,
            width=edge_width * weights / scale,
            edge_color="0.4",
            alpha=0.8,
        )
    if with_labels:
        label_nodes(ax, pos, tasks, node_size, font_size=10 if T <= 20 else 7)
    ax.set_axis_off()
    ax.margins(0.08)
    title = learned if title is None else title
    if title is not None:
        ax.set_title(title)
    return ax


def plot_task_coefficients(
    estimator_or_coef: Any,
    *,
    tasks: OptArray = None,
    feature_names: OptArray = None,
    class_index: int | None = None,
    kind: str = "lines",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Per-task coefficients w_t against their mean over the tasks.

    The spread of the w_t around the mean shows how much the tasks differ and in which
    features (with the default complete graph the penalty is
    ``alpha * sum_t ||w_t - mean(w)||^2``, so that ``alpha`` shrinks this spread).

    Parameters
    ----------
    estimator_or_coef : fitted estimator or array-like of shape (n_tasks, n_features) \
            or (n_classes, n_tasks, n_features)
        A fitted estimator (its ``coef_``, ``tasks_`` and ``feature_names_in_``) or the
        coefficients themselves.
    tasks : array-like of shape (n_tasks,), default=None
        Task labels (default: the estimator's ``tasks_``, else ``0 .. n_tasks - 1``).
    feature_names : array-like of shape (n_features,), default=None
        Feature names (default: the estimator's ``feature_names_in_`` without the task
        column, else ``x0, x1, ...``).
    class_index : int, default=None
        Which class's coefficients to show when they have one block per class
        (``coef_`` of shape (n_classes, n_tasks, n_features), one-vs-rest); required then.
    kind : {"lines", "scatter"}, default="lines"
        - "lines": one line with markers per task over the features, the mean in bold
          black (tasks are named in the legend up to 10 tasks, else drawn in grey).
        - "scatter": one point per task and feature, ``w_tj`` against the mean
          ``mean_t w_tj``, with the diagonal ``w_t = mean w``; suits many features.
    ax : matplotlib Axes, default=None
        Where to draw; a new Figure when None.
    title : str, default=None
        Axes title (by default, for one class of several, which class).

    Returns
    -------
    ax : matplotlib Axes
        With ``kind="lines"`` the line labelled "mean over tasks" holds the mean.

    See Also
    --------
    plot_task_graph : Draw the task graph that couples them.
    plot_task_matrix : Draw a task-relation matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg.plotting import plot_task_coefficients
    >>> W = np.array([[1.0, 2.0, 0.0], [1.2, 1.8, 0.5]])
    >>> ax = plot_task_coefficients(W, tasks=["a", "b"], feature_names=["u", "v", "w"])
    >>> mean = [line for line in ax.lines if line.get_label() == "mean over tasks"][0]
    >>> mean.get_ydata()
    array([1.1 , 1.9 , 0.25])
    """
    if kind not in ("lines", "scatter"):
        raise ValueError(f"kind must be 'lines' or 'scatter', got {kind!r}.")
    W, tasks, names, what = coefficient_matrix(estimator_or_coef, tasks, feature_names, class_index)
    T, d = W.shape
    mean = W.mean(axis=0)
    if kind == "lines":
        width = float(np.clip(2.5 + 0.3 * d, 5.0, 12.0))
        ax = new_axes(ax, (width + (1.5 if T <= 10 else 0.0), 4.5))
        draw_coefficient_lines(ax, W, mean, tasks, names)
    else:
        ax = new_axes(ax, (5.5 + (1.5 if T <= 10 else 0.0), 5.0))
        draw_coefficient_scatter(ax, W, mean, tasks)
    title = what if title is None else title
    if title is not None:
        ax.set_title(title)
    return ax


__all__ = ["cluster_order", "plot_task_coefficients", "plot_task_graph", "plot_task_matrix"]
