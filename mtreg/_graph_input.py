"""Parse and validate every graph input into a :class:`~mtreg._graph.TaskGraph`.

Matrices (arrays, sparse matrices, DataFrames) follow the task labels; labelled inputs
(networkx graphs, dicts of neighbours, edge lists, labelled DataFrames) are read as networkx
reads them into an undirected graph; nested lists are decided by what they hold, and input
that reads two ways is an error.
"""

import numbers

import numpy as np
import scipy.sparse as sp

from ._graph import DENSE_TASKS, LAPLACIANS, TaskGraph, check_graph_string
from ._labels import as_labels, show_labels, sorted_labels, unique_labels

_show = show_labels

__all__ = ["check_tasks_param", "make_task_graph"]


def check_tasks_param(tasks):
    tasks = as_labels(tasks, "tasks")
    if tasks.size == 0:
        raise ValueError("tasks must be a non-empty 1-D list of task labels.")
    uniq, inverse = unique_labels(tasks, sort=False)
    if len(uniq) != tasks.size:
        twice = uniq[np.bincount(inverse) > 1]
        raise ValueError(f"tasks contains duplicate labels: {show_labels(twice)}.")
    return tasks


def _is_networkx(graph):
    return hasattr(graph, "is_directed") and hasattr(graph, "edges") and hasattr(graph, "nodes")


def _is_edge_list(graph):
    """A list of (s, t) or (s, t, w) tuples, or of such lists unless they form a square
    (a nested list of lists that is square is a matrix; see _nested_list_graph)."""
    if not isinstance(graph, (list, tuple)) or len(graph) == 0:
        return False
    if all(isinstance(e, tuple) and len(e) in (2, 3) for e in graph):
        return True
    return all(isinstance(e, list) and len(e) in (2, 3) for e in graph) and any(
        len(e) != len(graph) for e in graph
    )


def _is_number(value):
    return isinstance(value, (numbers.Real, np.number)) and not isinstance(value, bool)


def _could_be_edges(graph, labels):
    """A square 2 x 2 or 3 x 3 list of lists of numbers whose first two entries per row are
    task labels: it reads as a matrix and as an edge list."""
    return (
        isinstance(graph, list)
        and len(graph) in (2, 3)
        and all(isinstance(e, list) and len(e) == len(graph) for e in graph)
        and all(_is_number(v) for e in graph for v in e)
        and all(e[0] in labels and e[1] in labels for e in graph)
    )


def _nested_list_graph(graph, observed, tasks, laplacian):
    """The one reading of a list of lists that is both a matrix and an edge list."""
    readings = []
    for form in (np.asarray(graph, dtype=np.float64), [tuple(e) for e in graph]):
        try:
            readings.append(make_task_graph(form, observed, tasks=tasks, laplacian=laplacian))
        except ValueError:
            pass
    if len(readings) == 2 and _same_graph(*readings):
        readings = readings[:1]
    if len(readings) == 1:
        return readings[0]
    raise ValueError(
        f"graph={graph!r} reads both as a {len(graph)} x {len(graph)} matrix and as a list of "
        f"{len(graph)} edges (s, t, w) between task labels, which give different graphs. Pass "
        "a NumPy array for a matrix, or a list of tuples for edges."
    )


def _same_graph(a, b):
    if a.tasks.tolist() != b.tasks.tolist():
        return False
    A, B = a.adjacency_matrix(), b.adjacency_matrix()
    A = A.toarray() if sp.issparse(A) else A
    B = B.toarray() if sp.issparse(B) else B
    return np.array_equal(A, B)


def _is_frame(graph):
    return hasattr(graph, "index") and hasattr(graph, "columns") and hasattr(graph, "to_numpy")


def _frame_labels(graph):
    """The task labels of a pandas DataFrame graph, or None when its index and columns are
    both the default 0, 1, ..., T - 1 (then it is a plain matrix)."""

    def default(axis):
        return type(axis).__name__ == "RangeIndex" and axis.start == 0 and axis.step == 1

    if default(graph.index) and default(graph.columns):
        return None
    rows, cols = list(graph.index), list(graph.columns)
    if len(set(rows)) != len(rows) or set(rows) != set(cols) or len(cols) != len(rows):
        raise ValueError(
            "a DataFrame graph names the tasks by its index and its columns, which must hold "
            f"the same labels, each once; got index {show_labels(rows)} and columns "
            f"{show_labels(cols)}."
        )
    return rows


def _check_positional_frame(labels, n):
    """A DataFrame with the default index 0..T-1 is read by position; with integer task
    labels other than 0..T-1 it could as well name them, so that is an error."""
    labels = np.asarray(labels)
    if labels.dtype.kind in "iu" and not np.array_equal(np.sort(labels), np.arange(n)):
        raise ValueError(
            f"the DataFrame graph has the default index 0..{n - 1}, but the task labels are "
            f"the integers {show_labels(labels.tolist())}: reading it by position or by label "
            "would give different graphs. Pass graph.to_numpy() to read it by position, or "
            "set its index and columns to the task labels."
        )


def _check_weight(w, where):
    if isinstance(w, dict):
        w = w.get("weight", 1.0)
    if not isinstance(w, numbers.Real) or isinstance(w, bool):  # not complex either
        raise ValueError(f"graph weight {w!r} of {where} is not a real number.")
    w = float(w)
    if not np.isfinite(w) or w < 0:
        raise ValueError(f"graph weight of {where} must be finite and non-negative, got {w}.")
    return w


def _labelled_edges(graph):
    """(nodes in order of appearance, {(u, v): weight}, directed) of a labelled graph."""
    nodes, edges = {}, {}
    if _is_frame(graph):  # labelled rows and columns; symmetrised as an array is
        rows = _frame_labels(graph)
        try:
            values = graph.loc[rows, rows].to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError("a DataFrame graph must hold numeric weights.") from exc
        ij = zip(*np.nonzero(values), strict=True)  # NaN and negative weights: _check_matrix
        edges = {(rows[i], rows[j]): float(values[i, j]) for i, j in ij if i != j}
        return rows, edges, True
    if _is_networkx(graph):
        for u in graph.nodes:
            nodes[u] = None
        directed = graph.is_directed()
        for u, v, data in graph.edges(data=True):
            w = _check_weight(data.get("weight", 1.0), f"edge {u!r}-{v!r}")
            key = (v, u) if not directed and (v, u) in edges else (u, v)
            # parallel edges of a MultiGraph add up, as networkx.to_numpy_array adds them
            edges[key] = edges.get(key, 0.0) + w
        return list(nodes), edges, directed
    if isinstance(graph, dict):
        for u, nbrs in graph.items():
            nodes[u] = None
            items = nbrs.items() if isinstance(nbrs, dict) else ((v, 1.0) for v in nbrs)
            for v, w in items:
                nodes[v] = None
                _add_undirected(edges, u, v, _check_weight(w, f"edge {u!r}-{v!r}"))
        return list(nodes), edges, False
    for e in graph:
        u, v = e[0], e[1]
        nodes[u] = nodes[v] = None
        w = _check_weight(e[2] if len(e) == 3 else 1.0, f"edge {u!r}-{v!r}")
        _add_undirected(edges, u, v, w)
    return list(nodes), edges, False


def _add_undirected(edges, u, v, w):
    """One undirected edge u-v, listed once or on both sides; two different weights for it
    are ambiguous, so an error names them."""
    for key in ((u, v), (v, u)):
        if key in edges and edges[key] != w:
            raise ValueError(
                f"the graph gives the edge {u!r}-{v!r} two weights, {edges[key]:g} and {w:g}; "
                "list each pair once, or with the same weight on both sides."
            )
    edges.pop((v, u), None)
    edges[(u, v)] = w


def _check_matrix(A, n_tasks):
    if np.iscomplexobj(A):  # a cast to float64 would drop the imaginary parts with a warning
        raise ValueError(
            f"graph has complex weights (dtype {A.dtype}); weights must be real and non-negative."
        )
    small = sp.issparse(A) and A.shape[0] == A.shape[1] <= DENSE_TASKS
    if sp.issparse(A) and not small:
        A = sp.csr_matrix(A, dtype=np.float64)
        values = A.data
    else:
        A = A.toarray() if small else A
        try:
            A = np.asarray(A, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError("graph must be a numeric T x T matrix.") from exc
        values = A
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"graph must be a square T x T matrix, got shape {A.shape}.")
    if A.shape[0] != n_tasks:
        raise ValueError(
            f"graph has shape {A.shape} but there are {n_tasks} tasks; pass tasks=[...] "
            "to name the rows of the graph."
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("graph contains NaN or infinite weights.")
    if np.any(values < 0):
        raise ValueError("graph contains negative weights; weights must be non-negative.")
    if sp.issparse(A):
        A = A - sp.diags(A.diagonal())
        A = ((A + A.T) * 0.5).tocsr()
        A.eliminate_zeros()
        return A, False
    A = (A + A.T) * 0.5
    np.fill_diagonal(A, 0.0)
    return (A, small)  # small: a sparse graph checked densely, its CSR made when asked for


def _matrix_graph(nodes, A, laplacian):
    """The TaskGraph of an adjacency matrix input (see _check_matrix)."""
    A, small = _check_matrix(A, len(nodes))
    if small:
        return TaskGraph._from_checked_dense(nodes, A, laplacian)
    return TaskGraph(nodes, A, 0.0, laplacian)


def make_task_graph(graph, observed, *, tasks=None, laplacian="unnormalized"):
    """Validate any graph input into a :class:`TaskGraph`.

    Parameters
    ----------
    graph : None, str, array-like, sparse matrix, networkx graph, dict or edge list
        See :class:`mtreg.MultiTaskGraphRegressor`.
    observed : ndarray
        Sorted unique task labels seen in the training data.
    tasks : array-like or None
        Explicit task labels and their order.
    """
    if laplacian not in LAPLACIANS:
        raise ValueError(f"laplacian must be one of {LAPLACIANS}, got {laplacian!r}.")
    if tasks is not None:
        tasks = check_tasks_param(tasks)
    if isinstance(graph, list) and _could_be_edges(
        graph, set((observed if tasks is None else tasks).tolist())
    ):
        return _nested_list_graph(graph, observed, tasks, laplacian)
    if _is_frame(graph) and _frame_labels(graph) is None:
        _check_positional_frame(observed if tasks is None else tasks, len(graph))
        graph = graph.to_numpy()
    labelled = (
        _is_networkx(graph) or isinstance(graph, dict) or _is_edge_list(graph) or _is_frame(graph)
    )

    if labelled:
        graph_nodes, edges, directed = _labelled_edges(graph)
        if not graph_nodes and tasks is None:
            raise ValueError("the graph names no tasks.")
        if tasks is None:
            nodes = sorted_labels(as_labels(graph_nodes, "the graph's task labels"))
        else:
            nodes = tasks
            extra = set(graph_nodes) - set(tasks.tolist())
            if extra:
                raise ValueError(
                    f"the graph names tasks that are not in tasks: {_show(extra)}; tasks "
                    f"is {_show(tasks.tolist())}."
                )
    elif tasks is not None:
        nodes = tasks
    else:
        nodes = observed

    missing = set(observed.tolist()) - set(nodes.tolist())
    if missing:
        if labelled and tasks is None:
            way_out = (
                "add them to the graph as nodes (a task without links is a node without "
                "edges), or list every task in tasks=[...]"
            )
            where = "the graph"
        else:
            way_out, where = "add them to tasks, or drop their rows", "tasks"
        raise ValueError(
            f"task labels {_show(missing)} of the data are missing from {where}: {way_out}."
        )

    if graph is None or isinstance(graph, str):
        name = "complete" if graph is None else graph
        check_graph_string(name)
        if name not in ("complete", "none"):
            raise ValueError(
                f"graph={graph!r} is built from the training rows inside an estimator's fit; "
                "here pass 'complete', 'none' or a graph (e.g. from mtreg.relations)."
            )
        weight = 1.0 / len(nodes) if name == "complete" else 0.0
        return TaskGraph(nodes, None, weight, laplacian)

    if labelled:
        index = {label: k for k, label in enumerate(nodes.tolist())}
        rows, cols, vals = [], [], []
        for (u, v), w in edges.items():
            if u == v:
                continue
            rows.append(index[u])
            cols.append(index[v])
            vals.append(w)
        T = len(nodes)
        A = sp.csr_matrix((vals, (rows, cols)), shape=(T, T))
        if not directed:
            A = A.maximum(A.T)  # one undirected edge, stored once
        return _matrix_graph(nodes, A, laplacian)

    return _matrix_graph(nodes, graph, laplacian)
