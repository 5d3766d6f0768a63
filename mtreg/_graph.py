"""Parse and validate every graph input; Laplacians.

A task graph is a symmetric, non-negative, zero-diagonal adjacency matrix A over the task
labels, and L = diag(A 1) - A its Laplacian (or I - D^-1/2 A D^-1/2, the normalised one,
when asked for). The default complete graph (A_st = 1/T) and the empty graph are kept in
closed form, never as a T x T matrix, so that they cost nothing for many tasks.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ._labels import as_labels, show_labels, sorted_labels, unique_labels

_show = show_labels  # the name the other modules import
__all__ = ["GRAPH_STRINGS", "LAPLACIANS", "TaskGraph", "make_task_graph", "sorted_labels"]

LAPLACIANS = ("unnormalized", "normalized")
GRAPH_STRINGS = ("complete", "none", "knn", "similarity", "learn")


class TaskGraph:
    """A validated task graph over labelled tasks.

    The graph behind the penalty ``alpha * tr(W^T L W)``: the adjacency A over the task
    labels and its Laplacian L, the unnormalised ``D - A`` or the normalised
    ``I - D^-1/2 A D^-1/2``. The uniform complete graph and the empty graph are kept in
    closed form (``adjacency=None``), never as a T x T matrix. Build one with
    :func:`mtreg.core.task_graph`, which parses every graph input the estimators take.

    Parameters
    ----------
    tasks : ndarray of shape (n_tasks,)
        Task labels, in the order of the rows of the adjacency matrix.
    adjacency : ndarray or scipy sparse matrix of shape (n_tasks, n_tasks), or None
        Symmetric non-negative adjacency with zero diagonal. None means the uniform
        complete graph ``A_st = uniform_weight`` for s != t (0: no edges at all).
    uniform_weight : float
        Edge weight of the uniform graph; ignored when ``adjacency`` is given.
    laplacian : {"unnormalized", "normalized"}
        Which Laplacian the penalty uses.

    Attributes
    ----------
    tasks : ndarray of shape (n_tasks,)
        The task labels, as given.
    adjacency : ndarray or scipy sparse matrix of shape (n_tasks, n_tasks), or None
        The adjacency as given; None for the uniform graph.
    uniform_weight : float
        The edge weight of the uniform graph, as a float.
    kind : {"unnormalized", "normalized"}
        The ``laplacian`` parameter: which Laplacian :meth:`laplacian` returns.
    n_tasks : int
        The number of tasks, ``len(tasks)``.

    See Also
    --------
    mtreg.core.task_graph : Parse any graph input into a TaskGraph.
    mtreg.core.graph_ridge : Solve the squared-loss problem on a TaskGraph.
    mtreg.relations.knn_graph : A k-nearest-neighbour graph from task descriptors.

    Examples
    --------
    >>> import numpy as np
    >>> from mtreg.core import TaskGraph
    >>> graph = TaskGraph(np.array(["a", "b", "c"]), uniform_weight=1.0)
    >>> graph.laplacian()
    array([[ 2., -1., -1.],
           [-1.,  2., -1.],
           [-1., -1.,  2.]])
    >>> graph.uniform_form()
    (3.0, 1.0)
    """

    def __init__(self, tasks, adjacency=None, uniform_weight=0.0, laplacian="unnormalized"):
        self.tasks = tasks
        self.adjacency = adjacency
        self.uniform_weight = float(uniform_weight)
        self.kind = laplacian

    @property
    def n_tasks(self):
        """The number of tasks, ``len(tasks)``."""
        return len(self.tasks)

    def adjacency_matrix(self):
        """Return the adjacency matrix: dense unless the graph was given sparse.

        Returns
        -------
        adjacency : ndarray or scipy sparse matrix of shape (n_tasks, n_tasks)
            The given adjacency, or the uniform graph written out as a dense matrix.
        """
        if self.adjacency is not None:
            return self.adjacency
        T = self.n_tasks
        return self.uniform_weight * (np.ones((T, T)) - np.eye(T))

    def degrees(self):
        """Return the weighted degree of each task, the row sums of the adjacency.

        Returns
        -------
        degrees : ndarray of shape (n_tasks,)
            ``A 1``: the diagonal of the unnormalised Laplacian.
        """
        if self.adjacency is None:
            return np.full(self.n_tasks, self.uniform_weight * (self.n_tasks - 1))
        return np.asarray(self.adjacency.sum(axis=1)).ravel()

    def uniform_form(self):
        """Return (a, b) such that L = a I - b 11^T, or None when L has no such form.

        Returns
        -------
        form : tuple of (float, float) or None
            ``(a, b)`` for a uniform (complete or empty) graph, which the Woodbury solver
            exploits; None for any other graph.
        """
        T = self.n_tasks
        if self.adjacency is None:
            c = self.uniform_weight
        else:
            c = _uniform_weight_of(self.adjacency)
            if c is None:
                return None
        if c == 0.0 or T == 1:
            return 0.0, 0.0
        if self.kind == "normalized":
            return T / (T - 1.0), 1.0 / (T - 1.0)
        return c * T, c

    def laplacian(self):
        """Return the Laplacian L of the kind the graph was built with.

        Returns
        -------
        laplacian : ndarray or scipy.sparse.csr_matrix of shape (n_tasks, n_tasks)
            A dense array for a uniform or dense graph, a CSR matrix for a sparse graph.
        """
        A = self.adjacency_matrix()
        deg = self.degrees()
        if self.kind == "normalized":
            inv_sqrt = np.zeros_like(deg)
            inv_sqrt[deg > 0] = 1.0 / np.sqrt(deg[deg > 0])
            if sp.issparse(A):
                S = sp.diags(inv_sqrt) @ A @ sp.diags(inv_sqrt)
                return (sp.diags((deg > 0).astype(float)) - S).tocsr()
            return np.diag((deg > 0).astype(float)) - inv_sqrt[:, None] * A * inv_sqrt
        if sp.issparse(A):
            return (sp.diags(deg) - A).tocsr()
        return np.diag(deg) - A

    def laplacian_diagonal(self):
        """Return the diagonal of the Laplacian, without forming L.

        Returns
        -------
        diagonal : ndarray of shape (n_tasks,)
            The degrees (unnormalised L), or 1 for each task with an edge and 0 for an
            isolated task (normalised L).
        """
        if self.kind == "normalized":
            return (self.degrees() > 0).astype(float)
        return self.degrees()

    def laplacian_matvec(self, W):
        """Return L @ W, without forming L for the uniform graph.

        The unnormalised L has rows summing to zero, so L W = L (W - W_r) where W_r
        repeats, on each connected component, the row of its first task. Under a strong
        coupling the rows of W nearly agree: their differences are exact in floating
        point and small, so alpha L W keeps its relative accuracy where L W itself would
        be lost to cancellation (alpha = 1e15 multiplies rounding errors of W).

        Parameters
        ----------
        W : ndarray of shape (n_tasks, k)
            One row per task, e.g. the coefficients (n_tasks, n_features).

        Returns
        -------
        LW : ndarray of shape (n_tasks, k)
            The product ``L @ W``.
        """
        form = self.uniform_form() if self.adjacency is None else None
        if form is not None:
            a, b = form
            D = W - W[:1] if b > 0 else W
            return a * D - b * D.sum(axis=0, keepdims=True)
        if not hasattr(self, "_lap"):
            self._lap = self.laplacian()
        if self.kind == "unnormalized":
            if not hasattr(self, "_first_of_component"):
                _, first, inverse = np.unique(
                    self.components(), return_index=True, return_inverse=True
                )
                self._first_of_component = first[inverse]
            W = W - W[self._first_of_component]
        return np.asarray(self._lap @ W)

    def components(self):
        """Return the connected component label of each task.

        Returns
        -------
        labels : ndarray of int of shape (n_tasks,)
            Tasks in the same connected component share a label (0, 1, ...).
        """
        if self.adjacency is None:
            single = self.uniform_weight > 0
            return np.zeros(self.n_tasks, dtype=int) if single else np.arange(self.n_tasks)
        return connected_components(sp.csr_matrix(self.adjacency), directed=False)[1]

    def harmonic_extension(self, values, known):
        """Fill ``values[~known]`` by minimising sum_st A_st (v_s - v_t)^2.

        The known entries stay fixed. Tasks in a connected component with no known
        entry, and every unknown entry of the uniform graph, take the plain mean of the
        known values.

        Parameters
        ----------
        values : ndarray of shape (n_tasks,)
            One value per task; the entries where ``known`` is False are filled in.
        known : ndarray of bool of shape (n_tasks,)
            Which entries of ``values`` are given.

        Returns
        -------
        values : ndarray of shape (n_tasks,)
            A copy of ``values`` with the unknown entries filled in.
        """
        values = values.copy()
        unknown = ~known
        if not unknown.any() or not known.any():
            return values
        mean = values[known].mean()
        if self.adjacency is None:
            values[unknown] = mean
            return values
        A = sp.csr_matrix(self.adjacency)
        comp = self.components()
        reached = np.isin(comp, np.unique(comp[known]))
        values[unknown & ~reached] = mean
        free = np.flatnonzero(unknown & reached)
        if free.size:
            L = sp.csr_matrix(sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A)
            rhs = -(L[free][:, np.flatnonzero(known)] @ values[known])
            sol = sp.linalg.spsolve(L[free][:, free].tocsc(), rhs)
            values[free] = np.atleast_1d(sol)
        return values


def _uniform_weight_of(A):
    """The common off-diagonal weight c if A = c (11^T - I), else None."""
    T = A.shape[0]
    if T == 1:
        return 0.0
    if sp.issparse(A):
        if A.nnz == 0:
            return 0.0
        if A.nnz != T * (T - 1):
            return None
        data = A.tocsr().data
        return float(data[0]) if np.all(data == data[0]) else None
    off = A[~np.eye(T, dtype=bool)]
    return float(off[0]) if np.all(off == off[0]) else None


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
    if not isinstance(w, (numbers.Real, np.number)) or isinstance(w, bool):
        raise ValueError(f"graph weight {w!r} of {where} is not a number.")
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
    if sp.issparse(A):
        A = sp.csr_matrix(A, dtype=np.float64)
        values = A.data
    else:
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
        return A
    A = (A + A.T) * 0.5
    np.fill_diagonal(A, 0.0)
    return A


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
        A = _check_matrix(A, T)
        return TaskGraph(nodes, A, 0.0, laplacian)

    return TaskGraph(nodes, _check_matrix(graph, len(nodes)), 0.0, laplacian)


def check_graph_string(graph):
    """A clear error for a string that names no graph."""
    if isinstance(graph, str) and graph not in GRAPH_STRINGS:
        raise ValueError(
            f"unknown graph string {graph!r}; the valid strings are "
            f"{', '.join(repr(g) for g in GRAPH_STRINGS)} (or pass a matrix, a networkx graph, "
            "a dict or a list of edges)."
        )


class TaskCoupling(TaskGraph):
    """A general positive semi-definite coupling M in place of the Laplacian.

    The penalty is ``alpha tr(W^T M W)``: with M the inverse of a task covariance this is
    the task-relationship model of Zhang & Yeung (2010). M need not be a Laplacian: its
    off-diagonal entries may have either sign, so there is no adjacency matrix; tasks
    without rows take the mean intercept of the others.
    """

    def __init__(self, tasks, coupling):
        super().__init__(tasks, None, 0.0, "unnormalized")
        self.coupling = coupling

    def adjacency_matrix(self):
        raise AttributeError("a learned task coupling has no adjacency matrix; see coupling.")

    def degrees(self):
        return np.diag(self.coupling).copy()

    def uniform_form(self):
        return None

    def laplacian(self):
        return self.coupling

    def laplacian_diagonal(self):
        return np.diag(self.coupling).copy()

    def laplacian_matvec(self, W):
        return self.coupling @ W

    def components(self):
        return np.zeros(self.n_tasks, dtype=int)  # a positive definite M links every task

    def harmonic_extension(self, values, known):
        values = values.copy()
        if known.any():
            values[~known] = values[known].mean()
        return values
