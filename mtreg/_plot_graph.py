"""The parts of :func:`mtreg.plotting.plot_task_graph`: the adjacency of any graph input,
the node positions of a layout, and the node labels."""

from functools import partial

import numpy as np
import scipy.sparse as sp

from ._graph_input import make_task_graph
from ._plot_base import estimator_relations, is_estimator, task_labels

LAYOUTS = ("spring", "kamada_kawai", "circular", "shell", "spectral")


def graph_relations(graph, tasks):
    """(symmetric adjacency, task labels, title) of any graph input or fitted estimator."""
    if is_estimator(graph):
        A, labels, learned = estimator_relations(graph)
        labels = labels if tasks is None else task_labels(tasks, len(labels))
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


def node_positions(nx, G, layout, seed, tasks):
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


def label_nodes(ax, pos, tasks, node_size, font_size):
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
