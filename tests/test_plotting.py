"""mtreg.plotting: every picture rendered to a PNG, and its content read back from the Axes."""

import sys

import numpy as np
import pytest
import scipy.sparse as sp

from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor
from mtreg.plotting import (
    cluster_order,
    plot_task_coefficients,
    plot_task_graph,
    plot_task_matrix,
)

TASKS = np.array(["north", "south", "east", "west", "centre"])


@pytest.fixture
def plt():
    mpl = pytest.importorskip("matplotlib", reason="matplotlib is the optional extra mtreg[plot]")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture
def nx(plt):
    return pytest.importorskip("networkx", reason="networkx is the optional extra mtreg[graph]")


def assert_png(ax, path):
    """The figure renders to a valid PNG that is not a blank canvas."""
    from matplotlib.image import imread

    ax.figure.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    image = imread(path)
    assert image.ndim == 3 and min(image.shape[:2]) > 150
    assert image[..., :3].std() > 0.02


def tick_texts(axis):
    return [label.get_text() for label in axis.get_ticklabels()]


def tick_names(axis):
    """{tick position: label} of the labelled ticks of an axis."""
    locs = axis.get_ticklocs()
    return {int(round(x)): t for x, t in zip(locs, tick_texts(axis), strict=True) if t}


def relations(rng, T=5):
    M = rng.uniform(size=(T, T))
    M = (M + M.T) / 2
    np.fill_diagonal(M, 1.0)
    return M


def fitted(graph=None, n_tasks=4, n_features=3, seed=0, **params):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30 * n_tasks, n_features))
    t = np.repeat(TASKS[:n_tasks], 30)
    W = rng.normal(size=(n_tasks, n_features))
    y = np.einsum("ij,ij->i", X, W[np.repeat(np.arange(n_tasks), 30)])
    est = MultiTaskGraphRegressor(graph, l2=0.1, **params)
    return est.fit(X, y + 0.1 * rng.normal(size=len(y)), task_ids=t), X, y, t


# ---- heat map --------------------------------------------------------------------------


def test_task_matrix_shows_the_matrix_with_task_labels(plt, rng, tmp_path):
    M = relations(rng)
    ax = plot_task_matrix(M, tasks=TASKS, title="similarity")
    np.testing.assert_array_equal(ax.images[0].get_array(), M)
    assert tick_texts(ax.xaxis) == TASKS.tolist() and tick_texts(ax.yaxis) == TASKS.tolist()
    assert ax.get_title() == "similarity" and len(ax.figure.axes) == 2  # with its colour bar
    assert ax.images[0].get_cmap().name == "viridis" and ax.images[0].get_clim() == (0.0, 1.0)
    assert_png(ax, tmp_path / "matrix.png")


def test_task_matrix_explicit_order_and_sparse_input(plt, rng):
    M = relations(rng)
    order = np.array([3, 0, 4, 1, 2])
    ax = plot_task_matrix(sp.csr_matrix(M), tasks=TASKS, order=order, colorbar=False)
    np.testing.assert_array_equal(ax.images[0].get_array(), M[np.ix_(order, order)])
    assert tick_texts(ax.xaxis) == TASKS[order].tolist()
    assert tick_texts(ax.yaxis) == TASKS[order].tolist()
    assert len(ax.figure.axes) == 1


def test_cluster_ordering_shows_the_planted_blocks(plt, rng):
    block = np.repeat([0, 1, 2], [4, 3, 5])
    M = np.where(block[:, None] == block, 0.8, 0.1) + 0.05 * rng.uniform(size=(12, 12))
    perm = rng.permutation(12)
    M, block = (M + M.T)[np.ix_(perm, perm)] / 2, block[perm]
    tasks = np.array([f"task{k}" for k in range(12)])
    ax = plot_task_matrix(M, tasks=tasks, cluster=True)
    shown = tick_texts(ax.xaxis)
    order = [tasks.tolist().index(name) for name in shown]
    np.testing.assert_array_equal(order, cluster_order(M))
    np.testing.assert_array_equal(ax.images[0].get_array(), M[np.ix_(order, order)])
    runs = block[order]
    assert np.count_nonzero(np.diff(runs)) == 2  # each block contiguous


def test_cluster_order_is_the_leaf_order_of_average_linkage(rng):
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    S = relations(rng, T=8)
    off = S - np.eye(8)
    D = 1 - off / off.max()
    np.fill_diagonal(D, 0)
    expected = leaves_list(linkage(squareform(D), "average", optimal_ordering=True))
    np.testing.assert_array_equal(cluster_order(S), expected)
    np.testing.assert_array_equal(cluster_order(np.zeros((4, 4))), np.arange(4))


def test_task_matrix_with_negative_entries_uses_a_centred_diverging_map(plt):
    C = np.array([[1.0, -0.5, 0.2], [-0.5, 1.0, 0.1], [0.2, 0.1, 1.0]])
    image = plot_task_matrix(C).images[0]
    assert image.get_cmap().name == "RdBu_r" and image.get_clim() == (-1.0, 1.0)
    assert tick_texts(plot_task_matrix(C, cmap="magma").xaxis) == ["0", "1", "2"]


def test_task_matrix_labels_a_subset_when_there_are_many_tasks(plt, rng, tmp_path):
    T = 60
    M = relations(rng, T)
    tasks = np.array([f"school {k}" for k in range(T)])
    ax = plot_task_matrix(M, tasks=tasks, cluster=True)
    order = cluster_order(M)
    ax.figure.canvas.draw()
    names = tick_names(ax.xaxis)
    assert 5 <= len(names) <= 40
    assert all(name == tasks[order[k]] for k, name in names.items())
    assert_png(ax, tmp_path / "many.png")


def test_task_matrix_of_fitted_estimators(plt, tmp_path):
    est = fitted({"north": ["south"], "south": ["east"], "west": []})[0]
    ax = plot_task_matrix(est)
    np.testing.assert_array_equal(ax.images[0].get_array(), est.adjacency_.toarray())
    assert tick_texts(ax.xaxis) == est.tasks_.tolist() and ax.get_title() == "task adjacency"

    learn = fitted("learn")[0]
    ax = plot_task_matrix(learn, title="Omega")
    omega = learn.task_covariance_
    corr = omega / np.sqrt(np.outer(np.diag(omega), np.diag(omega)))
    np.testing.assert_allclose(ax.images[0].get_array(), corr)
    assert ax.get_title() == "Omega"
    assert plot_task_matrix(learn).get_title() == "learned task correlations"
    assert_png(ax, tmp_path / "learned.png")


def test_task_matrix_errors(plt):
    with pytest.raises(ValueError, match="either order or cluster"):
        plot_task_matrix(np.eye(3), order=[0, 1, 2], cluster=True)
    with pytest.raises(ValueError, match="permutation"):
        plot_task_matrix(np.eye(3), order=[0, 0, 1])
    with pytest.raises(ValueError, match="square"):
        plot_task_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="3 labels but there are 2"):
        plot_task_matrix(np.eye(2), tasks=["a", "b", "c"])
    with pytest.raises(Exception, match="not fitted"):
        plot_task_matrix(MultiTaskGraphRegressor())


# ---- task graph ------------------------------------------------------------------------


def drawn_edges(ax):
    """{(s, t): line width} of the drawn edges, nodes recovered from the node positions."""
    nodes = ax.collections[0].get_offsets()
    if len(ax.collections) < 2:
        return {}
    lines = ax.collections[1]
    widths = np.broadcast_to(lines.get_linewidths(), (len(lines.get_segments()),))
    edges = {}
    for segment, width in zip(lines.get_segments(), widths, strict=True):
        ends = [int(np.argmin(np.linalg.norm(nodes - p, axis=1))) for p in segment[[0, -1]]]
        edges[tuple(sorted(ends))] = float(width)
    return edges


def weighted_graph():
    A = np.zeros((5, 5))
    for s, t, w in [(0, 1, 3.0), (1, 2, 1.0), (2, 3, 0.5), (0, 3, 2.0), (3, 4, 1.5)]:
        A[s, t] = A[t, s] = w
    return A


def test_task_graph_edges_and_widths_follow_the_weights(nx, tmp_path):
    A = sp.csr_matrix(weighted_graph())
    ax = plot_task_graph(A, tasks=TASKS, edge_width=6.0)
    assert len(ax.collections[0].get_offsets()) == 5
    edges = drawn_edges(ax)
    assert len(edges) == A.nnz // 2
    for (s, t), width in edges.items():
        assert width == pytest.approx(6.0 * A[s, t] / 3.0)
    assert sorted(text.get_text() for text in ax.texts) == sorted(TASKS.tolist())
    assert_png(ax, tmp_path / "graph.png")


def test_task_graph_accepts_every_graph_input(nx):
    A = weighted_graph()
    G = nx.Graph()
    G.add_weighted_edges_from(
        (TASKS[s], TASKS[t], A[s, t]) for s, t in zip(*np.nonzero(np.triu(A)), strict=True)
    )
    expected = drawn_edges(plot_task_graph(A, tasks=TASKS, layout="circular"))
    for graph in (
        G,
        nx.to_dict_of_dicts(G),
        [(u, v, d["weight"]) for u, v, d in G.edges(data=True)],
    ):
        ax = plot_task_graph(graph, tasks=TASKS, layout="circular")
        assert drawn_edges(ax) == expected
    ax = plot_task_graph(A.tolist(), layout="circular")  # a nested list is a matrix
    assert drawn_edges(ax) == expected and [t.get_text() for t in ax.texts][:2] == ["0", "1"]
    ax = plot_task_graph("complete", tasks=["a", "b", "c"])
    assert set(drawn_edges(ax).values()) == {4.0} and len(drawn_edges(ax)) == 3
    assert drawn_edges(plot_task_graph("none", tasks=["a", "b"])) == {}
    with pytest.raises(ValueError, match="needs tasks"):
        plot_task_graph("complete")
    with pytest.raises(ValueError, match="negative"):
        plot_task_graph(-A)


def test_task_graph_layouts(nx):
    A = weighted_graph()
    for layout in ("spring", "kamada_kawai", "circular", "shell", "spectral"):
        ax = plot_task_graph(A, layout=layout, with_labels=False)
        assert len(drawn_edges(ax)) == 5 and not ax.texts
    split = np.zeros((7, 7))  # components of 3 and 2 tasks, and two isolated ones
    split[0, 1] = split[1, 2] = split[3, 4] = 1.0
    for layout in ("spring", "kamada_kawai", "spectral"):
        nodes = plot_task_graph(split + split.T, layout=layout).collections[0].get_offsets()
        gaps = np.linalg.norm(nodes[:, None] - nodes[None], axis=2) + np.eye(7)
        assert gaps.min() > 0.1  # no component squashed into a point
    pos = {task: (k, k**2) for k, task in enumerate(TASKS)}
    ax = plot_task_graph(A, tasks=TASKS, layout=pos, node_color=np.arange(5))
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), [pos[t] for t in TASKS])
    a = plot_task_graph(A, seed=3).collections[0].get_offsets()
    np.testing.assert_array_equal(a, plot_task_graph(A, seed=3).collections[0].get_offsets())
    with pytest.raises(ValueError, match="layout must be one of"):
        plot_task_graph(A, layout="planar")
    with pytest.raises(ValueError, match="no position"):
        plot_task_graph(A, tasks=TASKS, layout={"north": (0, 0)})


def test_task_graph_of_fitted_estimators(nx, tmp_path):
    est = fitted({"north": {"south": 2.0}, "south": ["east"], "west": []})[0]
    ax = plot_task_graph(est)
    tasks = est.tasks_.tolist()
    edges = {tuple(sorted((tasks[s], tasks[t]))): w for (s, t), w in drawn_edges(ax).items()}
    assert edges == {("north", "south"): 4.0, ("east", "south"): 2.0}

    learn = fitted("learn")[0]
    ax = plot_task_graph(learn)
    omega = learn.task_covariance_
    corr = omega / np.sqrt(np.outer(np.diag(omega), np.diag(omega)))
    positive = np.triu(corr, 1) > 0
    edges = drawn_edges(ax)
    assert len(edges) == positive.sum() and "positive part" in ax.get_title()
    top = corr[positive].max()
    for (s, t), width in edges.items():
        assert width == pytest.approx(4.0 * corr[s, t] / top)
    assert_png(ax, tmp_path / "learned_graph.png")


# ---- coefficients ----------------------------------------------------------------------


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.lines}


def test_task_coefficients_lines_of_an_estimator(plt, tmp_path):
    est = fitted(alpha=0.5)[0]
    ax = plot_task_coefficients(est)
    lines = lines_by_label(ax)
    np.testing.assert_allclose(lines["mean over tasks"].get_ydata(), est.coef_.mean(0))
    assert lines["mean over tasks"].get_linewidth() > 2 * lines["north"].get_linewidth()
    for t, task in enumerate(est.tasks_):
        np.testing.assert_array_equal(lines[task].get_ydata(), est.coef_[t])
    assert tick_texts(ax.xaxis) == ["x0", "x1", "x2"]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == [*est.tasks_.tolist(), "mean over tasks"]
    assert_png(ax, tmp_path / "coef.png")


def test_task_coefficients_feature_names_without_the_task_column(plt):
    pd = pytest.importorskip("pandas")
    _, X, y, t = fitted()
    frame = pd.DataFrame(X, columns=["age", "income", "score"]).assign(region=t)
    est = MultiTaskGraphRegressor(task_column="region").fit(frame, y)
    assert tick_texts(plot_task_coefficients(est).xaxis) == ["age", "income", "score"]
    est = MultiTaskGraphRegressor(task_column=-1).fit(frame, y)
    ax = plot_task_coefficients(est, feature_names=["a", "b", "c"], title="w")
    assert tick_texts(ax.xaxis) == ["a", "b", "c"] and ax.get_title() == "w"


def test_task_coefficients_scatter_against_the_mean(plt, rng, tmp_path):
    W = rng.normal(size=(4, 6))
    ax = plot_task_coefficients(W, tasks=list("abcd"), kind="scatter")
    assert len(ax.collections) == 4
    for t, points in enumerate(ax.collections):
        np.testing.assert_allclose(points.get_offsets(), np.column_stack([W.mean(0), W[t]]))
    diagonal = lines_by_label(ax)["$w_t$ = mean $w$"]
    np.testing.assert_array_equal(diagonal.get_xdata(), diagonal.get_ydata())
    assert_png(ax, tmp_path / "scatter.png")


def test_task_coefficients_many_tasks_and_features(plt, rng, tmp_path):
    W = rng.normal(size=(30, 50))
    names = [f"feature_{j}" for j in range(50)]
    ax = plot_task_coefficients(W, feature_names=names)
    np.testing.assert_allclose(lines_by_label(ax)["mean over tasks"].get_ydata(), W.mean(0))
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "tasks (30)",
        "mean over tasks",
    ]
    ax.figure.canvas.draw()
    assert all(names[k] == name for k, name in tick_names(ax.xaxis).items())
    assert_png(ax, tmp_path / "many_coef.png")


def test_task_coefficients_of_a_multiclass_classifier(plt, rng):
    X = rng.normal(size=(150, 2))
    t = np.repeat(["a", "b", "c"], 50)
    y = np.array(["low", "mid", "high"])[np.digitize(X[:, 0] + 0.3 * X[:, 1], [-0.5, 0.5])]
    clf = MultiTaskGraphClassifier(l2=0.5).fit(X, y, task_ids=t)
    assert clf.coef_.shape == (3, 3, 2)
    with pytest.raises(ValueError, match="class_index"):
        plot_task_coefficients(clf)
    ax = plot_task_coefficients(clf, class_index=1)
    np.testing.assert_allclose(
        lines_by_label(ax)["mean over tasks"].get_ydata(), clf.coef_[1].mean(0)
    )
    assert ax.get_title() == f"class {clf.classes_[1]!r}"
    ax = plot_task_coefficients(clf.coef_, class_index=2)
    assert ax.get_title() == "class index 2"
    with pytest.raises(ValueError, match="only for coefficients"):
        plot_task_coefficients(clf.coef_[0], class_index=0)
    with pytest.raises(ValueError, match="kind"):
        plot_task_coefficients(clf.coef_[0], kind="bars")
    with pytest.raises(ValueError, match="feature_names has 1 names"):
        plot_task_coefficients(clf.coef_[0], feature_names=["x"])


def test_drawing_into_given_axes(plt, nx):
    fig, axes = plt.subplots(1, 3)
    assert plot_task_matrix(np.eye(3), ax=axes[0]) is axes[0]
    assert plot_task_graph(np.ones((3, 3)), ax=axes[1]) is axes[1]
    assert plot_task_coefficients(np.eye(3), ax=axes[2]) is axes[2]
    assert len(plt.get_fignums()) == 1


# ---- optional dependencies -------------------------------------------------------------


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "mtreg\[plot\]"'):
        plot_task_matrix(np.eye(2))
    with pytest.raises(ImportError, match=r'pip install "mtreg\[plot\]"'):
        plot_task_coefficients(np.eye(2))


def test_missing_networkx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "networkx", None)
    with pytest.raises(ImportError, match=r'pip install "mtreg\[graph\]"'):
        plot_task_graph(np.eye(2))
