"""Every graph input format reads to the same symmetric adjacency."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from mtreg import MultiTaskGraphRegressor
from mtreg._graph_input import make_task_graph

LABELS = np.array(["a", "b", "c", "d"])
# a-b (1), b-c (2), a-c (1), d isolated
A_REF = np.array([[0, 1, 1, 0], [1, 0, 2, 0], [1, 2, 0, 0], [0, 0, 0, 0]], dtype=float)


def dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A)


FORMATS = {
    "array": lambda: A_REF,
    "sparse": lambda: sp.csr_matrix(A_REF),
    "nested list": lambda: A_REF.tolist(),
    "networkx": lambda: nx.Graph([("a", "b"), ("b", "c", {"weight": 2}), ("a", "c")]),
    "dict of lists+weights": lambda: {"a": ["b", "c"], "b": {"c": 2}, "c": [], "d": []},
    "dict one side and both sides": lambda: {
        "a": ["b", "c"],
        "b": {"a": 1, "c": 2},
        "c": {"b": 2},
        "d": [],
    },
    "edge list": lambda: [("a", "b"), ("b", "c", 2.0), ("c", "a")],
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_formats_read_to_same_adjacency(name):
    graph = FORMATS[name]()
    tasks = LABELS if name in ("array", "sparse", "nested list", "edge list") else None
    observed = np.array(["a", "b", "c", "d"])
    if name == "networkx":
        graph.add_node("d")
    if name == "edge list":  # an edge list cannot name an isolated task: tasks= does
        tasks = LABELS
    g = make_task_graph(graph, observed, tasks=tasks)
    np.testing.assert_array_equal(g.tasks, LABELS)
    np.testing.assert_array_equal(dense(g.adjacency_matrix()), A_REF)
    np.testing.assert_allclose(dense(g.laplacian()), np.diag(A_REF.sum(1)) - A_REF)


def test_directed_inputs_are_symmetrised():
    D = np.array([[0, 2, 0], [0, 0, 1], [4, 0, 5]], dtype=float)  # diagonal ignored
    expected = (D + D.T) / 2
    np.fill_diagonal(expected, 0)
    labels = np.array([0, 1, 2])
    np.testing.assert_allclose(make_task_graph(D, labels).adjacency_matrix(), expected)
    np.testing.assert_allclose(
        make_task_graph(sp.csr_matrix(D), labels).adjacency_matrix().toarray(), expected
    )
    G = nx.DiGraph()
    G.add_weighted_edges_from([(0, 1, 2.0), (1, 2, 1.0), (2, 0, 4.0), (2, 2, 5.0)])
    np.testing.assert_allclose(dense(make_task_graph(G, labels).adjacency_matrix()), expected)


def test_string_graphs_and_uniform_form():
    labels = np.arange(5)
    g = make_task_graph(None, labels)
    np.testing.assert_allclose(g.adjacency_matrix(), (np.ones((5, 5)) - np.eye(5)) / 5)
    assert g.uniform_form() == pytest.approx((1.0, 0.2))
    assert make_task_graph("none", labels).uniform_form() == (0.0, 0.0)
    assert make_task_graph(np.ones((5, 5)), labels).uniform_form() == pytest.approx((5.0, 1.0))
    ring = np.roll(np.eye(5), 1, axis=1) + np.roll(np.eye(5), -1, axis=1)
    assert make_task_graph(ring, labels).uniform_form() is None
    for g in [make_task_graph(None, labels), make_task_graph(ring, labels)]:
        W = np.random.default_rng(0).normal(size=(5, 3))
        np.testing.assert_allclose(g.laplacian_matvec(W), dense(g.laplacian()) @ W)


def test_graph_labels_order_and_tasks_param():
    # labels sorted by default; tasks= fixes the order and may add tasks without rows
    g = make_task_graph({"b": ["a"]}, np.array(["a", "b"]), tasks=["b", "a", "z"])
    np.testing.assert_array_equal(g.tasks, ["b", "a", "z"])
    np.testing.assert_array_equal(dense(g.adjacency_matrix()), [[0, 1, 0], [1, 0, 0], [0, 0, 0]])


def test_estimator_accepts_every_format_with_equal_fits():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    t = LABELS[np.arange(40) % 4]
    y = rng.normal(size=40)
    ref = MultiTaskGraphRegressor(A_REF).fit(X, y, task_ids=t)
    for name, make in FORMATS.items():
        graph = make()
        if name == "networkx":
            graph.add_node("d")
        est = MultiTaskGraphRegressor(graph, tasks=LABELS if name == "edge list" else None)
        est.fit(X, y, task_ids=t)
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10, err_msg=name)


@pytest.mark.parametrize("laplacian", ["unnormalized", "normalized"])
@pytest.mark.parametrize("dense_tasks", [0, 500])  # checked sparsely, or on a dense copy
def test_sparse_graph_small_and_large_paths_agree(monkeypatch, laplacian, dense_tasks):
    """A sparse graph is checked (symmetrised, diagonal dropped) and its components found on a
    dense copy up to DENSE_TASKS tasks, by scipy.sparse beyond: both give the graph of the
    dense input, a CSR adjacency, and L, L W and the components of the dense formulas."""
    import mtreg._graph
    import mtreg._graph_input

    monkeypatch.setattr(mtreg._graph, "DENSE_TASKS", dense_tasks)
    monkeypatch.setattr(mtreg._graph_input, "DENSE_TASKS", dense_tasks)
    r = np.random.default_rng(0)
    raw = r.uniform(size=(30, 30)) * (r.uniform(size=(30, 30)) < 0.1)  # not symmetric
    raw[:, 29] = raw[29, :] = 0.0  # an isolated task
    raw[3, 3] = 5.0  # a self-loop, dropped
    tasks = np.arange(30)
    got = make_task_graph(sp.csr_matrix(raw), tasks, laplacian=laplacian)
    want = make_task_graph(raw, tasks, laplacian=laplacian)
    assert sp.issparse(got.adjacency_matrix()) and got.adjacency_matrix().format == "csr"
    A = (raw + raw.T) / 2
    np.fill_diagonal(A, 0.0)
    np.testing.assert_array_equal(got.adjacency_matrix().toarray(), A)
    deg = A.sum(axis=1)
    if laplacian == "normalized":
        s = np.where(deg > 0, 1 / np.sqrt(np.where(deg > 0, deg, 1)), 0.0)
        L = np.diag((deg > 0).astype(float)) - s[:, None] * A * s[None, :]
    else:
        L = np.diag(deg) - A
    W = r.normal(size=(30, 4))
    for graph in (got, want):
        np.testing.assert_allclose(graph.laplacian(dense=True), L, atol=1e-15)
        np.testing.assert_allclose(dense(graph.laplacian()), L, atol=1e-15)
        np.testing.assert_allclose(graph.laplacian_matvec(W), L @ W, atol=1e-13)
    n_comp, labels = sp.csgraph.connected_components(sp.csr_matrix(A), directed=False)
    for graph in (got, want):
        same = labels[:, None] == labels[None, :]
        np.testing.assert_array_equal(graph.components()[:, None] == graph.components(), same)
