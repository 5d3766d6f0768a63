"""Pictures of task relations: heat maps, task graphs, per-task coefficients.

matplotlib is an optional dependency (``pip install "mtreg[plot]"``) and networkx too, for
:func:`plot_task_graph` (``pip install "mtreg[graph]"``); both are imported only when a
function is called. Every function draws into ``ax`` when given, else into a new Figure,
and returns the Axes; none calls ``plt.show()``, so all of them work headless (Agg).

The relations of a fitted estimator are read as follows: ``adjacency_`` and ``tasks_``;
for ``graph="learn"`` the correlations of the learned task covariance ``task_covariance_``
(signed in :func:`plot_task_matrix`, their positive part as edge weights in
:func:`plot_task_graph`).
"""

from functools import partial

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform

from ._graph_input import make_task_graph

LAYOUTS = ("spring", "kamada_kawai", "circular", "shell", "spectral")
MAX_TICK_LABELS = 40  # beyond this many tasks or features, label a readable subset


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            'mtreg.plotting needs matplotlib; install it with: pip install "mtreg[plot]"'
        ) from exc
    return plt


def _networkx():
    try:
        import networkx as nx
    except ImportError as exc:
        raise ImportError(
            'plot_task_graph needs networkx; install it with: pip install "mtreg[graph]"'
        ) from exc
    return nx


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


def _is_estimator(obj):
    return hasattr(obj, "fit") and hasattr(obj, "get_params")


def _estimator_relations(estimator):
    """(relation matrix, task labels, whether learned) of a fitted estimator."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "tasks_")
    omega = getattr(estimator, "task_covariance_", None)
    if omega is None:
        return estimator.adjacency_, estimator.tasks_, False
    scale = np.sqrt(np.diag(omega))
    return omega / np.outer(scale, scale), estimator.tasks_, True


def _square(M):
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


def _task_labels(tasks, n):
    if tasks is None:
        return np.arange(n)
    tasks = np.asarray(tasks)
    if tasks.shape != (n,):
        raise ValueError(f"tasks has {tasks.size} labels but there are {n} tasks.")
    return tasks


def _label_axis(axis, labels, rotate):
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


def _needs_rotation(labels):
    """Whether horizontal tick labels would run into each other."""
    shown = min(len(labels), MAX_TICK_LABELS)
    return shown * (max((len(str(x)) for x in labels), default=0) + 1) > 50


def cluster_order(M):
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
    S = _square(M)
    S = (S + S.T) / 2.0
    np.fill_diagonal(S, 0.0)
    T, scale = len(S), np.abs(S).max()
    if T < 3 or scale == 0:
        return np.arange(T)
    D = 1.0 - S / scale
    np.fill_diagonal(D, 0.0)
    Z = linkage(squareform(D, checks=False), method="average", optimal_ordering=True)
    return leaves_list(Z)


def _check_order(order, T):
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


def plot_task_matrix(
    M, *, tasks=None, order=None, cluster=False, ax=None, cmap=None, title=None, colorbar=True
):
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
    if _is_estimator(M):
        M, labels, learned = _estimator_relations(M)
        tasks = labels if tasks is None else tasks
        if title is None:
            title = "learned task correlations" if learned else "task adjacency"
    M = _square(M)
    T = len(M)
    tasks = _task_labels(tasks, T)
    if order is not None and cluster:
        raise ValueError("pass either order or cluster=True, not both.")
    order = (
        cluster_order(M) if cluster else (np.arange(T) if order is None else _check_order(order, T))
    )
    shown = M[np.ix_(order, order)]
    limits = {}
    if cmap is None:
        top, signed = np.abs(shown).max() or 1.0, shown.min() < 0
        cmap = "RdBu_r" if signed else "viridis"
        limits = {"vmin": -top if signed else 0.0, "vmax": top}
    side = float(np.clip(2.5 + 0.22 * T, 4.0, 9.0))
    ax = _new_axes(ax, (side + (1.3 if colorbar else 0.0), side))
    image = ax.imshow(shown, cmap=cmap, interpolation="nearest", **limits)
    labels = tasks[order]
    _label_axis(ax.xaxis, labels, rotate=_needs_rotation(labels))
    _label_axis(ax.yaxis, labels, rotate=False)
    if T > 20:
        ax.tick_params(labelsize="small")
    ax.set_xlabel("task")
    ax.set_ylabel("task")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8)
    return ax


def _graph_relations(graph, tasks):
    """(symmetric adjacency, task labels, title) of any graph input or fitted estimator."""
    if _is_estimator(graph):
        A, labels, learned = _estimator_relations(graph)
        labels = labels if tasks is None else _task_labels(tasks, len(labels))
        if not learned:
            return A, labels, None
        A = np.clip(A, 0.0, None)
        np.fill_diagonal(A, 0.0)
        return A, labels, "positive part of the learned task correlations"
    if graph is None or isinstance(graph, str):
        if tasks is None:
            raise ValueError(f"graph={graph!r} needs tasks=[...] to name the tasks.")
    elif tasks is None and (sp.issparse(graph) or isinstance(graph, np.ndarray)):
        tasks = np.arange(graph.shape[0])
    elif (
        tasks is None
        and isinstance(graph, list)
        and len(graph)
        and all(isinstance(row, list) and len(row) == len(graph) for row in graph)
    ):
        tasks = np.arange(len(graph))  # a nested list is a matrix
        graph = np.asarray(graph, dtype=np.float64)  # not also an edge list between 0..T-1
    observed = np.asarray([] if tasks is None else tasks)
    parsed = make_task_graph(graph, observed, tasks=tasks)
    return parsed.adjacency_matrix(), parsed.tasks, None


def _layout(nx, G, layout, seed, tasks):
    """{node: (x, y)}; a layout that reads the edges lays out each connected component
    apart (in a grid, the isolated tasks together), since spring and spectral layouts
    otherwise push the components far apart and squash each of them into a point."""
    if isinstance(layout, dict):
        missing = [t for t in tasks.tolist() if t not in layout]
        if missing:
            raise ValueError(f"layout has no position for tasks {missing[:10]}.")
        return {k: np.asarray(layout[t], dtype=float) for k, t in enumerate(tasks.tolist())}
    if layout == "circular":
        return nx.circular_layout(G)
    if layout == "shell":
        return nx.shell_layout(G)
    if layout == "spring":
        place = partial(nx.spring_layout, weight="weight", seed=seed)
    elif layout == "kamada_kawai":  # its weights are lengths, not strengths: ignore them
        place = partial(nx.kamada_kawai_layout, weight=None)
    elif layout == "spectral":
        place = partial(nx.spectral_layout, weight="weight")
    else:
        raise ValueError(f"layout must be one of {LAYOUTS} or a dict of positions, got {layout!r}.")
    parts = [sorted(c) for c in nx.connected_components(G) if len(c) > 1]
    parts.sort(key=len, reverse=True)
    isolated = sorted(n for n in G if G.degree(n) == 0)
    if not isolated and len(parts) == 1:
        return place(G)
    # spectral_layout puts both nodes of a two-node graph at one point
    groups = [
        (place(G.subgraph(c)) if len(c) > 2 else nx.circular_layout(G.subgraph(c)), len(c))
        for c in parts
    ]
    if isolated:
        groups.append((nx.circular_layout(G.subgraph(isolated)), len(isolated)))
    cols, largest = int(np.ceil(np.sqrt(len(groups)))), max(n for _, n in groups)
    pos = {}
    for i, (group, n) in enumerate(groups):
        xy = np.array([group[k] for k in group], dtype=float)
        xy -= xy.mean(axis=0)
        reach = np.linalg.norm(xy, axis=1).max()
        radius = 0.42 * max(np.sqrt(n / largest), 0.5)
        xy = xy * (radius / reach if reach > 0 else 0.0) + [i % cols, -(i // cols)]
        pos.update(zip(group, xy, strict=True))
    return pos


def plot_task_graph(
    graph_or_estimator,
    *,
    tasks=None,
    layout="spring",
    ax=None,
    node_color=None,
    with_labels=True,
    seed=0,
    edge_width=4.0,
    title=None,
):
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
    nx = _networkx()
    A, tasks, learned = _graph_relations(graph_or_estimator, tasks)
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
    pos = _layout(nx, G, layout, seed, tasks)
    side = float(np.clip(3.0 + 0.15 * T, 4.5, 9.0))
    ax = _new_axes(ax, (side, side))
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
        _label_nodes(ax, pos, tasks, node_size, font_size=10 if T <= 20 else 7)
    ax.set_axis_off()
    ax.margins(0.08)
    title = learned if title is None else title
    if title is not None:
        ax.set_title(title)
    return ax


def _label_nodes(ax, pos, tasks, node_size, font_size):
    """Short labels on the nodes; longer ones just above them, on a light background."""
    labels = [str(t) for t in tasks]
    short = max(len(label) for label in labels) <= 3
    lift = 0.0 if short else np.sqrt(node_size) / 2 + 1.0  # node radius, in points
    for k, label in enumerate(labels):
        ax.annotate(
            label,
            pos[k],
            xytext=(0.0, lift),
            textcoords="offset points",
            ha="center",
            va="center" if short else "bottom",
            fontsize=font_size,
            bbox=None
            if short
            else dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.7),
        )


def _coefficients(obj, tasks, feature_names, class_index):
    """(W of shape (T, d), task labels, feature names, class description) from any input."""
    what = None
    if _is_estimator(obj):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(obj, "coef_")
        coef = np.asarray(obj.coef_)
        tasks = obj.tasks_ if tasks is None else tasks
        if feature_names is None and hasattr(obj, "feature_names_in_"):
            feature_names = list(obj.feature_names_in_)
            column = getattr(obj, "task_column", None)
            if column is not None and len(feature_names) == coef.shape[-1] + 1:
                feature_names.pop(
                    feature_names.index(column)
                    if isinstance(column, str)
                    else column % len(feature_names)
                )
        classes = getattr(obj, "classes_", None)
    else:
        coef, classes = np.asarray(obj, dtype=np.float64), None
    if coef.ndim == 3:
        if class_index is None:
            which = "" if classes is None else f" (classes {list(classes)})"
            raise ValueError(
                f"coef has one block per class{which}: pass class_index=k to "
                f"show class k, 0 <= k < {coef.shape[0]}."
            )
        coef = coef[class_index]
        what = (
            f"class {classes[class_index]!r}"
            if classes is not None
            else (f"class index {class_index}")
        )
    elif class_index is not None:
        raise ValueError(
            "class_index is only for coefficients of shape (n_classes, n_tasks, "
            f"n_features); these have shape {coef.shape}."
        )
    if coef.ndim != 2:
        raise ValueError(f"coef must have shape (n_tasks, n_features), got {coef.shape}.")
    T, d = coef.shape
    tasks = _task_labels(tasks, T)
    names = [f"x{j}" for j in range(d)] if feature_names is None else list(feature_names)
    if len(names) != d:
        raise ValueError(f"feature_names has {len(names)} names but there are {d} features.")
    return coef, tasks, names, what


def plot_task_coefficients(
    estimator_or_coef,
    *,
    tasks=None,
    feature_names=None,
    class_index=None,
    kind="lines",
    ax=None,
    title=None,
):
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
    W, tasks, names, what = _coefficients(estimator_or_coef, tasks, feature_names, class_index)
    T, d = W.shape
    mean = W.mean(axis=0)
    if kind == "lines":
        width = float(np.clip(2.5 + 0.3 * d, 5.0, 12.0))
        ax = _new_axes(ax, (width + (1.5 if T <= 10 else 0.0), 4.5))
        _draw_coefficient_lines(ax, W, mean, tasks, names)
    else:
        ax = _new_axes(ax, (5.5 + (1.5 if T <= 10 else 0.0), 5.0))
        _draw_coefficient_scatter(ax, W, mean, tasks)
    title = what if title is None else title
    if title is not None:
        ax.set_title(title)
    return ax


def _draw_coefficient_lines(ax, W, mean, tasks, names):
    T, d = W.shape
    x = np.arange(d)
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    for t in range(T):
        if T <= 10:
            ax.plot(
                x, W[t], marker="o", markersize=4, linewidth=1.2, alpha=0.8, label=str(tasks[t])
            )
        else:
            ax.plot(
                x,
                W[t],
                marker=".",
                linewidth=0.8,
                color="0.55",
                alpha=0.6,
                label=f"tasks ({T})" if t == 0 else "_nolegend_",
            )
    ax.plot(
        x,
        mean,
        color="black",
        linewidth=3.0,
        marker="o",
        markersize=6,
        label="mean over tasks",
        zorder=3,
    )
    _label_axis(ax.xaxis, names, rotate=_needs_rotation(names))
    ax.set_xlabel("feature")
    ax.set_ylabel("coefficient $w_{t,j}$")
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        title="task" if T <= 10 else None,
        frameon=False,
    )


def _draw_coefficient_scatter(ax, W, mean, tasks):
    T, d = W.shape
    lo, hi = min(W.min(), mean.min()), max(W.max(), mean.max())
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot(
        [lo - pad, hi + pad],
        [lo - pad, hi + pad],
        color="black",
        linewidth=1.5,
        label="$w_t$ = mean $w$",
        zorder=1,
    )
    for t in range(T):
        ax.scatter(
            mean,
            W[t],
            s=18,
            alpha=0.8,
            zorder=2,
            label=str(tasks[t]) if T <= 10 else (f"tasks ({T})" if t == 0 else "_nolegend_"),
            color=None if T <= 10 else "C0",
        )
    ax.set_xlabel("mean over tasks of $w_{t,j}$")
    ax.set_ylabel("$w_{t,j}$ (one point per task and feature)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        title="task" if T <= 10 else None,
        frameon=False,
    )


__all__ = ["cluster_order", "plot_task_coefficients", "plot_task_graph", "plot_task_matrix"]
