"""Synthetic data generators (mtreg.datasets) and task-graph construction (mtreg.relations)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor
from mtreg.datasets import (
    STRUCTURES,
    make_multitask_classification,
    make_multitask_regression,
)
from mtreg.relations import knn_graph


def naive_knn_graph(points, k, mode, metric="euclidean"):
    """Brute force: all pairwise distances, the k smallest of each row besides the point."""
    dist = cdist(points, points, metric={"manhattan": "cityblock"}.get(metric, metric))
    np.fill_diagonal(dist, np.inf)
    directed = np.zeros(dist.shape)
    nearest = np.argsort(dist, axis=1)[:, :k]
    directed[np.arange(len(points))[:, None], nearest] = 1.0
    if mode == "symmetric":
        return np.maximum(directed, directed.T)
    return np.minimum(directed, directed.T)


def check_graph(graph, n_tasks):
    assert sp.issparse(graph) and graph.format == "csr"
    assert graph.shape == (n_tasks, n_tasks)
    dense = graph.toarray()
    np.testing.assert_array_equal(dense, dense.T)
    assert np.all(dense >= 0)
    assert np.all(np.diag(dense) == 0)


# --- knn_graph -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["symmetric", "mutual"])
@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
@pytest.mark.parametrize("k", [1, 3, 7])
def test_knn_graph_matches_brute_force(rng, mode, metric, k):
    points = rng.normal(size=(40, 3))  # continuous: no ties in the distances
    graph = knn_graph(points, k, mode=mode, metric=metric)
    check_graph(graph, 40)
    assert graph.dtype == np.float64 and graph.has_sorted_indices
    np.testing.assert_array_equal(graph.toarray(), naive_knn_graph(points, k, mode, metric))


def test_knn_graph_degrees(rng):
    points = rng.normal(size=(60, 2))
    degree_sym = np.asarray(knn_graph(points, 5).sum(axis=1)).ravel()
    degree_mut = np.asarray(knn_graph(points, 5, mode="mutual").sum(axis=1)).ravel()
    assert degree_sym.min() >= 5
    assert degree_mut.max() <= 5
    assert np.all(degree_mut <= degree_sym)


def test_knn_graph_duplicate_points_have_no_self_loops():
    graph = knn_graph(np.zeros((6, 2)), 2)
    check_graph(graph, 6)
    assert graph.sum(axis=1).min() >= 2


def test_knn_graph_all_neighbours_is_complete(rng):
    graph = knn_graph(rng.normal(size=(5, 2)), 4)
    np.testing.assert_array_equal(graph.toarray(), np.ones((5, 5)) - np.eye(5))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_neighbors": 0}, ValueError, "between 1 and"),
        ({"n_neighbors": 10}, ValueError, "between 1 and"),
        ({"n_neighbors": 2.5}, TypeError, "integer"),
        ({"n_neighbors": 2, "mode": "union"}, ValueError, "mode"),
    ],
)
def test_knn_graph_rejects_bad_arguments(rng, kwargs, error, match):
    with pytest.raises(error, match=match):
        knn_graph(rng.normal(size=(10, 2)), **kwargs)


# --- make_multitask_regression: shapes, reproducibility, options -------------------------


@pytest.mark.parametrize("structure", STRUCTURES)
def test_shapes_and_graph(structure):
    X, y, task_ids, graph = make_multitask_regression(
        n_tasks=12,
        n_samples=15,
        n_features=4,
        structure=structure,
        n_neighbors=3,
        random_state=0,
    )
    assert X.shape == (180, 4) and X.dtype == np.float64
    assert y.shape == (180,) and y.dtype == np.float64
    assert task_ids.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(task_ids), np.full(12, 15))
    check_graph(graph, 12)
    est = MultiTaskGraphRegressor(graph).fit(X, y, task_ids=task_ids)
    assert est.coef_.shape == (12, 4)


@pytest.mark.parametrize("structure", STRUCTURES)
def test_shared_X(structure):
    X, Y, task_ids, graph = make_multitask_regression(
        n_tasks=7,
        n_samples=25,
        n_features=3,
        structure=structure,
        n_neighbors=2,
        shared_X=True,
        random_state=1,
    )
    assert X.shape == (25, 3) and Y.shape == (25, 7) and task_ids is None
    check_graph(graph, 7)
    assert MultiTaskGraphRegressor(graph).fit(X, Y).coef_.shape == (7, 3)


def test_n_samples_range():
    _, _, task_ids, _ = make_multitask_regression(n_tasks=200, n_samples=(3, 9), random_state=0)
    counts = np.bincount(task_ids, minlength=200)
    assert counts.min() == 3 and counts.max() == 9  # both ends inclusive, 200 draws


@pytest.mark.parametrize("structure", STRUCTURES)
def test_reproducible(structure):
    kwargs = dict(n_tasks=8, n_samples=(5, 10), structure=structure, n_neighbors=3)
    first = make_multitask_regression(**kwargs, random_state=3)
    again = make_multitask_regression(**kwargs, random_state=3)
    other = make_multitask_regression(**kwargs, random_state=4)
    for a, b in zip(first[:3], again[:3], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[3].toarray(), again[3].toarray())
    assert first[0].shape != other[0].shape or not np.array_equal(first[0], other[0])


def test_random_state_kinds():
    from_state = make_multitask_regression(random_state=np.random.RandomState(0))
    from_generator = make_multitask_regression(random_state=np.random.default_rng(0))
    from_int = make_multitask_regression(random_state=0)
    np.testing.assert_array_equal(from_generator[0], from_int[0])  # an int seeds a Generator
    assert from_state[0].shape == from_int[0].shape


def test_no_shuffle_sorts_rows_by_task():
    _, _, task_ids, _ = make_multitask_regression(n_tasks=5, shuffle=False, random_state=0)
    assert np.all(np.diff(task_ids) >= 0)


@pytest.mark.parametrize("shared_X", [False, True])
@pytest.mark.parametrize("feature_scale", [None, 50.0, "mixed"])
def test_noise_free_targets_follow_the_returned_model(shared_X, feature_scale):
    X, y, task_ids, _, W, b = make_multitask_regression(
        n_tasks=6,
        n_samples=20,
        n_features=7,
        noise=0.0,
        feature_scale=feature_scale,
        shared_X=shared_X,
        coef=True,
        random_state=0,
    )
    assert W.shape == (6, 7) and b.shape == (6,)
    if shared_X:
        np.testing.assert_allclose(y, X @ W.T + b)
    else:
        np.testing.assert_allclose(y, np.einsum("ij,ij->i", X, W[task_ids]) + b[task_ids])


def test_mixed_features_are_unscaled_like_school_data():
    X, *_ = make_multitask_regression(
        n_tasks=10, n_samples=100, n_features=12, feature_scale="mixed", random_state=0
    )
    percent = np.arange(12) % 5 == 0
    assert np.all(X == np.round(X))
    assert X[:, percent].max() == 100 and X[:, percent].min() == 0
    assert set(np.unique(X[:, ~percent])) == {0.0, 1.0}


def test_feature_scale_keeps_the_signal_to_noise_ratio():
    kwargs = dict(n_tasks=4, n_samples=2000, n_features=3, noise=0.0, random_state=0)
    _, y1, *_ = make_multitask_regression(**kwargs)
    _, y2, *_ = make_multitask_regression(**kwargs, feature_scale=[1.0, 10.0, 1000.0])
    np.testing.assert_allclose(y1, y2)  # same normals, coefficients divided by the scales


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": (5,)}, "pair"),
        ({"n_samples": (9, 5)}, "low <= high"),
        ({"n_samples": (0, 5)}, "low <= high"),
        ({"n_samples": (2, 5), "shared_X": True}, "must be an int"),
        ({"n_clusters": 30}, "n_clusters"),
        ({"feature_scale": [1.0, -1.0]}, "positive"),
        ({"feature_scale": [1.0, 2.0, 3.0]}, "2 values"),
        ({"structure": "tree"}, "structure"),
    ],
)
def test_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_multitask_regression(n_tasks=10, n_features=2, **kwargs)


# --- make_multitask_regression: the planted structure -----------------------------------


def mean_distance(W, pairs):
    s, t = pairs
    return np.linalg.norm(W[s] - W[t], axis=1).mean()


def linked_and_unlinked_pairs(graph):
    dense = graph.toarray() > 0
    upper = np.triu(np.ones(dense.shape, dtype=bool), 1)
    return np.nonzero(dense & upper), np.nonzero(~dense & upper)


@pytest.mark.parametrize("structure", ["clusters", "chain", "knn"])
def test_linked_tasks_have_closer_coefficients(structure):
    *_, graph, W, _ = make_multitask_regression(
        n_tasks=60,
        n_features=5,
        structure=structure,
        n_neighbors=4,
        coef=True,
        random_state=0,
    )
    linked, unlinked = linked_and_unlinked_pairs(graph)
    assert mean_distance(W, linked) < 0.5 * mean_distance(W, unlinked)


def test_cluster_graph_is_the_cliques_of_the_clusters():
    *_, graph, W, _ = make_multitask_regression(
        n_tasks=30, n_clusters=4, spread=0.01, coef=True, random_state=0
    )
    dense = graph.toarray()
    # tasks of one cluster share a centre, so coefficients identify the cluster
    same = np.linalg.norm(W[:, None] - W[None], axis=2) < 0.2
    np.testing.assert_array_equal(dense > 0, same & ~np.eye(30, dtype=bool))
    sizes = np.bincount(np.unique(same, axis=0, return_inverse=True)[1].ravel())
    assert sorted(sizes) == [7, 7, 8, 8]  # balanced
    # weight 1/size: every row sums to (size - 1) / size
    np.testing.assert_allclose(dense.sum(axis=1), (same.sum(axis=1) - 1) / same.sum(axis=1))


def test_chain_graph_is_a_path():
    *_, graph = make_multitask_regression(n_tasks=6, structure="chain", random_state=0)
    expected = np.eye(6, k=1) + np.eye(6, k=-1)
    np.testing.assert_array_equal(graph.toarray(), expected)


def test_complete_graph_is_the_default_graph():
    X, y, task_ids, graph = make_multitask_regression(
        n_tasks=9, structure="complete", random_state=0
    )
    np.testing.assert_allclose(graph.toarray(), (np.ones((9, 9)) - np.eye(9)) / 9)
    with_graph = MultiTaskGraphRegressor(graph).fit(X, y, task_ids=task_ids)
    default = MultiTaskGraphRegressor().fit(X, y, task_ids=task_ids)
    np.testing.assert_allclose(with_graph.coef_, default.coef_, rtol=1e-10, atol=1e-12)


def test_none_graph_is_empty():
    *_, graph = make_multitask_regression(n_tasks=5, structure="none", random_state=0)
    assert graph.nnz == 0


def test_knn_graph_of_few_tasks_caps_the_neighbours():
    *_, graph = make_multitask_regression(n_tasks=4, structure="knn", random_state=0)
    np.testing.assert_array_equal(graph.toarray(), np.ones((4, 4)) - np.eye(4))
    *_, graph = make_multitask_regression(n_tasks=1, structure="knn", random_state=0)
    assert graph.shape == (1, 1) and graph.nnz == 0


@pytest.mark.parametrize("structure", ["clusters", "chain", "knn"])
def test_true_graph_helps_recover_the_coefficients(structure):
    X, y, task_ids, graph, W, _ = make_multitask_regression(
        n_tasks=40,
        n_samples=8,
        n_features=6,
        structure=structure,
        n_neighbors=4,
        noise=1.0,
        coef=True,
        random_state=0,
    )
    error = {}
    for name, g in [("true", graph), ("none", "none")]:
        est = MultiTaskGraphRegressor(g, alpha=1.0, l2=0.1).fit(X, y, task_ids=task_ids)
        error[name] = np.linalg.norm(est.coef_ - W)
    assert error["true"] < 0.7 * error["none"]  # about 0.25 to 0.5 over seeds


# --- make_multitask_classification ---------------------------------------------------------


@pytest.mark.parametrize("structure", STRUCTURES)
def test_classification_shapes_and_the_regression_model(structure):
    kwargs = dict(n_tasks=10, n_samples=(15, 30), n_features=4, structure=structure, n_neighbors=3)
    X, y, task_ids, graph, W, b = make_multitask_classification(**kwargs, coef=True, random_state=0)
    assert X.dtype == np.float64 and y.dtype == np.int64 and task_ids.dtype == np.int64
    assert y.shape == task_ids.shape == (X.shape[0],)
    assert set(np.unique(y)) <= {0, 1}
    check_graph(graph, 10)
    # the same planted model as make_multitask_regression with the same seed
    X_r, _, t_r, graph_r, W_r, b_r = make_multitask_regression(**kwargs, coef=True, random_state=0)
    for a, b_ in [(X, X_r), (task_ids, t_r), (W, W_r), (b, b_r)]:
        np.testing.assert_array_equal(a, b_)
    np.testing.assert_array_equal(graph.toarray(), graph_r.toarray())


@pytest.mark.parametrize("shared_X", [False, True])
def test_noise_free_labels_are_the_sign_of_the_returned_model(shared_X):
    X, y, task_ids, _, W, b = make_multitask_classification(
        n_tasks=5,
        n_samples=40,
        n_features=3,
        noise=0.0,
        shared_X=shared_X,
        coef=True,
        random_state=0,
    )
    score = X @ W.T + b if shared_X else np.einsum("ij,ij->i", X, W[task_ids]) + b[task_ids]
    assert y.shape == score.shape
    np.testing.assert_array_equal(y, (score > 0).astype(int))
    _, flipped, *_ = make_multitask_classification(
        n_tasks=5,
        n_samples=40,
        n_features=3,
        noise=0.0,
        flip_y=1.0,
        shared_X=shared_X,
        random_state=0,
    )
    np.testing.assert_array_equal(flipped, 1 - y)


def test_flip_y_is_the_flip_probability():
    kwargs = dict(n_tasks=20, n_samples=500, n_features=3, noise=0.0, random_state=0)
    _, clean, *_ = make_multitask_classification(**kwargs)
    _, noisy, *_ = make_multitask_classification(**kwargs, flip_y=0.2)
    rate = np.mean(clean != noisy)
    assert abs(rate - 0.2) < 4 * np.sqrt(0.2 * 0.8 / clean.size)  # 10,000 Bernoulli draws


def test_noise_blurs_the_labels_near_the_boundary():
    kwargs = dict(n_tasks=10, n_samples=300, n_features=5, coef=True, random_state=0)
    X, y, t, _, W, b = make_multitask_classification(**kwargs, noise=2.0)
    score = np.einsum("ij,ij->i", X, W[t]) + b[t]
    wrong = y != (score > 0)
    assert 0.02 < wrong.mean() < 0.4
    near = np.abs(score) < np.median(np.abs(score))
    assert wrong[near].mean() > 2 * wrong[~near].mean()  # errors sit near the boundary


def test_classification_reproducible_and_bad_arguments():
    first = make_multitask_classification(n_tasks=6, flip_y=0.1, random_state=3)
    again = make_multitask_classification(n_tasks=6, flip_y=0.1, random_state=3)
    for a, b in zip(first[:3], again[:3], strict=True):
        np.testing.assert_array_equal(a, b)
    for bad in ({"flip_y": 1.5}, {"flip_y": -0.1}, {"noise": -1.0}, {"structure": "tree"}):
        with pytest.raises(ValueError):
            make_multitask_classification(n_tasks=6, **bad)


def test_classifier_separates_noise_free_data():
    X, y, task_ids, graph = make_multitask_classification(
        n_tasks=8, n_samples=100, n_features=4, structure="chain", noise=0.0, random_state=0
    )
    clf = MultiTaskGraphClassifier(graph, alpha=1.0, l2=0.01).fit(X, y, task_ids=task_ids)
    assert clf.score(X, y, task_ids=task_ids) > 0.95
    assert clf.coef_.shape == (8, 4)


def test_grid_structure_links_grid_neighbours():
    X, y, t, A, W, _ = make_multitask_regression(
        n_tasks=7,
        n_samples=5,
        n_features=3,
        structure="grid",
        spread=0.1,
        coef=True,
        random_state=0,
    )
    # 3 columns: 0 1 2 / 3 4 5 / 6
    expected = {(0, 1), (1, 2), (3, 4), (4, 5), (0, 3), (1, 4), (2, 5), (3, 6)}
    got = {(int(u), int(v)) for u, v in zip(*A.nonzero(), strict=True) if u < v}
    assert got == expected and np.allclose(A.toarray(), A.toarray().T)
    linked = np.mean([np.linalg.norm(W[u] - W[v]) for u, v in expected])
    unlinked = np.mean(
        [
            np.linalg.norm(W[u] - W[v])
            for u in range(7)
            for v in range(u + 1, 7)
            if (u, v) not in expected
        ]
    )
    assert linked < unlinked
