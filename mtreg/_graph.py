"""Task graphs and their Laplacians (the graph inputs are parsed by :mod:`._graph_input`).

A task graph is a symmetric, non-negative, zero-diagonal adjacency matrix A over the task
labels, and L = diag(A 1) - A its Laplacian (or I - D^-1/2 A D^-1/2, the normalised one,
when asked for). The default complete graph (A_st = 1/T) and the empty graph are kept in
closed form, never as a T x T matrix, so that they cost nothing for many tasks.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from . import _jit
from ._labels import show_labels, sorted_labels

_show = show_labels  # the name the other modules import
__all__ = ["GRAPH_STRINGS", "LAPLACIANS", "TaskCoupling", "TaskGraph", "sorted_labels"]

LAPLACIANS = ("unnormalized", "normalized")
# A sparse graph of at most this many tasks is checked, and its components found, on a dense
# copy (at most 2 MB): below, scipy.sparse's cost per operation (20-50 us each, ~10 per fit)
# was most of a small fit (T = 20, n = 1,000, d = 10: 1.15 ms, of it 0.7 ms in sparse ops).
DENSE_TASKS = 500
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

    @classmethod
    def _from_checked_dense(cls, tasks, dense, laplacian="unnormalized"):
        """The graph of a small sparse input, checked and symmetrised on the dense copy
        ``dense``: its CSR ``adjacency`` is made when first asked for, and the solvers
        work on ``dense`` (scipy.sparse's cost per call is most of a small fit)."""
        graph = cls(tasks, None, 0.0, laplacian)
        graph._pending = dense
        return graph

    @property
    def adjacency(self) -> np.ndarray | sp.csr_matrix | None:
        """The adjacency as given (CSR for a sparse input); None for the uniform graph."""
        pending = self.__dict__.get("_pending")
        if pending is not None and self.__dict__.get("_adjacency") is None:
            self._adjacency = sp.csr_matrix(pending)  # the dense copy stays the cache key
        return self.__dict__.get("_adjacency")

    @adjacency.setter
    def adjacency(self, value):
        self._adjacency, self._pending = value, None

    def __getstate__(self):  # what is made when asked for is not state
        state = dict(self.__dict__)
        state.pop("_dense_copy", None)
        if state.get("_pending") is not None:
            state["_adjacency"] = None
        return state

    def __setstate__(self, state):  # pickles made before adjacency was a property
        if "adjacency" in state:
            state["_adjacency"] = state.pop("adjacency")
        self.__dict__.update(state)

    def _uniform(self):
        """Whether the graph is the uniform one (no adjacency given), without making it."""
        return self.__dict__.get("_adjacency") is None and self.__dict__.get("_pending") is None

    def _given(self):
        """What was given (the dense copy of a small sparse input): the key of the caches."""
        pending = self.__dict__.get("_pending")
        return self.__dict__.get("_adjacency") if pending is None else pending

    def _sparse_input(self):
        """Whether the adjacency was given sparse (a CSR made or still to be made)."""
        return self.__dict__.get("_pending") is not None or sp.issparse(self._given())

    def _dense(self):
        """The adjacency as a dense array when it is dense or small (at most DENSE_TASKS
        tasks, made once), else None."""
        given = self._given()
        if not sp.issparse(given):
            return given
        if given.shape[0] > DENSE_TASKS:
            return None
        cached = self.__dict__.get("_dense_copy")
        if cached is None or cached[0] is not given:
            cached = self._dense_copy = (given, given.toarray())
        return cached[1]

    @property
    def n_tasks(self) -> int:
        """The number of tasks, ``len(tasks)``."""
        return len(self.tasks)

    def adjacency_matrix(self) -> np.ndarray | sp.csr_matrix:
        """Return the adjacency matrix: dense unless the graph was given sparse.

        Returns
        -------
        adjacency : ndarray or scipy sparse matrix of shape (n_tasks, n_tasks)
            The given adjacency, or the uniform graph written out as a dense matrix.
        """
        if not self._uniform():
            return self.adjacency
        T = self.n_tasks
        return self.uniform_weight * (np.ones((T, T)) - np.eye(T))

    def degrees(self) -> np.ndarray:
        """Return the weighted degree of each task, the row sums of the adjacency.

        Returns
        -------
        degrees : ndarray of shape (n_tasks,)
            ``A 1``: the diagonal of the unnormalised Laplacian.
        """
        if self._uniform():
            return np.full(self.n_tasks, self.uniform_weight * (self.n_tasks - 1))
        given = self._given()
        cached = self.__dict__.get("_degrees")
        if cached is None or cached[0] is not given:  # once per adjacency
            dense = self._dense() if self._sparse_input() else None
            if dense is not None:  # the sums of a sparse input, in its order, on the copy
                degrees = _jit.sparse_order_matmul(dense, np.ones((len(dense), 1)))[:, 0]
            else:
                degrees = np.asarray(given.sum(axis=1)).ravel()
            degrees.setflags(write=False)  # shared by every caller
            cached = self._degrees = (given, degrees)
        return cached[1]

    def uniform_form(self) -> tuple[float, float] | None:
        """Return (a, b) such that L = a I - b 11^T, or None when L has no such form.

        Returns
        -------
        form : tuple of (float, float) or None
            ``(a, b)`` for a uniform (complete or empty) graph, which the Woodbury solver
            exploits; None for any other graph.
        """
        T = self.n_tasks
        if self._uniform():
            c = self.uniform_weight
        else:
            pending = self.__dict__.get("_pending")
            c = _uniform_weight_of(self.adjacency if pending is None else pending)
            if c is None:
                return None
        if c == 0.0 or T == 1:
            return 0.0, 0.0
        if self.kind == "normalized":
            return T / (T - 1.0), 1.0 / (T - 1.0)
        return c * T, c

    def laplacian(self, dense: bool = False) -> np.ndarray | sp.csr_matrix:
        """Return the Laplacian L of the kind the graph was built with.

        Parameters
        ----------
        dense : bool, default=False
            Return a dense array for a sparse graph too (what the dense solvers factorise),
            without forming the sparse Laplacian first.

        Returns
        -------
        laplacian : ndarray or scipy.sparse.csr_matrix of shape (n_tasks, n_tasks)
            A dense array for a uniform or dense graph (or with ``dense=True``), a CSR
            matrix for a sparse graph.
        """
        A = self._dense() if dense else None
        if A is None:
            A = self.adjacency_matrix()
            A = A.toarray() if dense and sp.issparse(A) else A
        deg = self.degrees()
        if self.kind == "normalized":
            inv_sqrt = self._inv_sqrt_degrees()
            if sp.issparse(A):
                S = sp.diags(inv_sqrt) @ A @ sp.diags(inv_sqrt)
                return (sp.diags((deg > 0).astype(float)) - S).tocsr()
            return np.diag((deg > 0).astype(float)) - inv_sqrt[:, None] * A * inv_sqrt
        if sp.issparse(A):
            return (sp.diags(deg) - A).tocsr()
        return np.diag(deg) - A

    def _inv_sqrt_degrees(self):
        """1 / sqrt(degree), 0 for an isolated task: the scaling of the normalised L."""
        deg = self.degrees()
        inv_sqrt = np.zeros_like(deg)
        inv_sqrt[deg > 0] = 1.0 / np.sqrt(deg[deg > 0])
        return inv_sqrt

    def laplacian_diagonal(self) -> np.ndarray:
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

    def laplacian_matvec(self, W: np.ndarray) -> np.ndarray:
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
        form = self.uniform_form() if self._uniform() else None
        if form is not None:
            a, b = form
            D = W - W[:1] if b > 0 else W
            return a * D - b * D.sum(axis=0, keepdims=True)
        product = self._adjacency_product()
        if self.kind == "normalized":  # D^-1/2 (D - A) D^-1/2 W, never forming L
            scale = self._inv_sqrt_degrees()[:, None]
            return (scale > 0) * W - scale * product(scale * W)
        if not hasattr(self, "_first_of_component"):  # of each task: its component's first
            labels = self.components()
            first = np.full(labels.max(initial=-1) + 1, self.n_tasks)
            np.minimum.at(first, labels, np.arange(self.n_tasks))
            self._first_of_component = first[labels]
        D = W - W[self._first_of_component]
        return self.degrees()[:, None] * D - product(D)

    def _adjacency_product(self):
        """W -> A @ W as an array; for a small sparse input, on its dense copy in the order
        of scipy's CSR product (the same sums, without its cost per call)."""
        dense = self._dense() if self._sparse_input() else None
        if dense is not None:
            return lambda W: _jit.sparse_order_matmul(dense, np.ascontiguousarray(W, dtype=float))
        A = self.adjacency_matrix()
        return lambda W: np.asarray(A @ W)

    def components(self) -> np.ndarray:
        """Return the connected component label of each task.

        Returns
        -------
        labels : ndarray of int of shape (n_tasks,)
            Tasks in the same connected component share a label (0, 1, ...).
        """
        if self._uniform():
            single = self.uniform_weight > 0
            return np.zeros(self.n_tasks, dtype=int) if single else np.arange(self.n_tasks)
        given = self._given()
        cached = self.__dict__.get("_components")
        if cached is None or cached[0] is not given:  # once per adjacency
            dense = self._dense()
            if dense is None:
                labels = connected_components(sp.csr_matrix(given), directed=False)[1]
            else:
                labels = _jit.dense_components(np.ascontiguousarray(dense, dtype=np.float64))
            labels = labels.astype(np.int32, copy=False)  # the dtype scipy returns
            labels.setflags(write=False)  # shared by every caller
            cached = self._components = (given, labels)
        return cached[1]

    def harmonic_extension(self, values: np.ndarray, known: np.ndarray) -> np.ndarray:
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
        if self._uniform():
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
    # off-diagonal entries all 0, or some 0 and some not, need no mask (a kNN graph)
    nonzero = np.count_nonzero(A) - np.count_nonzero(np.diagonal(A))
    if nonzero == 0:
        return 0.0
    if nonzero != T * (T - 1):
        return None
    off = A[~np.eye(T, dtype=bool)]
    return float(off[0]) if np.all(off == off[0]) else None


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

    def laplacian(self, dense=False):
        return self.coupling  # dense

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
