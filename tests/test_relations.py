"""Task similarity, graph builders, graphs built in fit, and learned task relations."""

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import dense_solve
from sklearn.cluster import SpectralClustering
from sklearn.metrics import adjusted_rand_score, pairwise_distances

from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor
from mtreg.datasets import make_multitask_regression
from mtreg.relations import (
    gaussian_similarity,
    similarity_graph,
    task_covariance_step,
    task_similarity,
)


def clustered(seed=0, n_tasks=12, n_samples=30, noise=0.5):
    return make_multitask_regression(
        n_tasks=n_tasks,
        n_samples=n_samples,
        n_features=5,
        structure="clusters",
        n_clusters=3,
        noise=noise,
        spread=0.1,
        coef=True,
        random_state=seed,
    )


def cluster_labels(A):
    """Planted cluster of each task: the connected components of the true graph."""
    from scipy.sparse.csgraph import connected_components

    return connected_components(sp.csr_matrix(A), directed=False)[1]


def test_coef_similarity_is_gaussian_of_per_task_ridge_distances(rng):
    X, y, t, _, _, _ = clustered()
    S, D = task_similarity(X, y, t, l2=0.5, return_distances=True)
    coef = np.array(
        [
            np.linalg.solve(
                (Xt - Xt.mean(0)).T @ (Xt - Xt.mean(0)) + 0.5 * np.eye(5),
                (Xt - Xt.mean(0)).T @ (y[t == k] - y[t == k].mean()),
            )
            for k in range(12)
            for Xt in [X[t == k]]
        ]
    )
    np.testing.assert_allclose(D, pairwise_distances(coef), rtol=1e-8, atol=1e-10)
    sigma = np.median(D[~np.eye(12, dtype=bool)])
    np.testing.assert_allclose(S, np.exp(-(D**2) / (2 * sigma**2)), rtol=1e-12)
    assert np.allclose(S, S.T) and np.all(np.diag(S) == 1)


def test_distribution_similarity_is_gaussian_wasserstein(rng):
    t = np.repeat([0, 1, 2], 50)
    X = rng.normal(size=(150, 2)) * np.where(t[:, None] == 2, 3.0, 1.0) + (t[:, None] == 1)
    _, D = task_similarity(X, np.zeros(150), t, method="distribution", return_distances=True)
    for s in range(3):
        for u in range(3):
            ms, mu = X[t == s].mean(0), X[t == u].mean(0)
            Cs, Cu = np.cov(X[t == s].T, bias=True), np.cov(X[t == u].T, bias=True)
            from scipy.linalg import sqrtm

            root = sqrtm(Cs).real
            w2 = np.sum((ms - mu) ** 2) + np.trace(Cs + Cu - 2 * sqrtm(root @ Cu @ root).real)
            np.testing.assert_allclose(D[s, u], np.sqrt(max(w2, 0)), rtol=1e-6, atol=1e-6)
    assert D[0, 2] > D[0, 1] > 0


def test_tasks_without_rows_have_zero_similarity():
    X, y, t, _, _, _ = clustered()
    S = task_similarity(X, y, t, tasks=list(range(13)))
    assert S.shape == (13, 13) and S[12, 12] == 1 and np.all(S[12, :12] == 0)


def test_similarity_graph_builders():
    S = gaussian_similarity(pairwise_distances(np.array([[0.0], [1.0], [3.0], [7.0]])), 2.0)
    knn = similarity_graph(S, n_neighbors=1, weighted=False).toarray()
    np.testing.assert_array_equal(knn, [[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    mutual = similarity_graph(S, n_neighbors=1, mode="mutual").toarray()
    np.testing.assert_allclose(mutual, [[0, S[0, 1], 0, 0], [S[0, 1], 0, 0, 0], [0] * 4, [0] * 4])
    eps = similarity_graph(S, method="epsilon", threshold=S[1, 2]).toarray()
    np.testing.assert_allclose(eps, np.where((S >= S[1, 2]) & ~np.eye(4, dtype=bool), S, 0))
    np.testing.assert_allclose(similarity_graph(S, method="full"), S - np.eye(4))
    with pytest.raises(ValueError, match="threshold"):
        similarity_graph(S, method="epsilon")
    with pytest.raises(ValueError, match="symmetric"):
        similarity_graph(np.triu(S))


@pytest.mark.parametrize("kind", ["knn", "similarity"])
def test_graphs_built_in_fit_use_training_rows_only(kind):
    X, y, t, A, _, _ = clustered()
    est = MultiTaskGraphRegressor(kind, graph_params={"l2": 0.5}).fit(X, y, task_ids=t)
    S = task_similarity(X, y, t, l2=0.5)
    expected = similarity_graph(S, method="knn" if kind == "knn" else "full", n_neighbors=5)
    got = est.adjacency_
    np.testing.assert_allclose(
        got.toarray() if sp.issparse(got) else got,
        expected.toarray() if sp.issparse(expected) else expected,
    )
    half = np.arange(len(y)) % 2 == 0  # a different training set gives a different graph
    other = MultiTaskGraphRegressor(kind, graph_params={"l2": 0.5}).fit(
        X[half], y[half], task_ids=t[half]
    )
    assert not np.allclose(sp.csr_matrix(other.adjacency_).toarray(), sp.csr_matrix(got).toarray())


def held_out_mse(graph, X, y, t, alphas=(0.01, 0.1, 1.0, 10.0, 100.0)):
    """Best held-out MSE over an alpha grid (even rows train, odd rows test), and the model."""
    train, test = np.arange(len(y)) % 2 == 0, np.arange(len(y)) % 2 == 1
    fits = [
        MultiTaskGraphRegressor(graph, alpha=a, l2=0.1).fit(X[train], y[train], task_ids=t[train])
        for a in alphas
    ]
    scores = [np.mean((m.predict(X[test], task_ids=t[test]) - y[test]) ** 2) for m in fits]
    return min(scores), fits[int(np.argmin(scores))]


def test_knn_graph_recovers_clusters_and_beats_complete_and_independent():
    X, y, t, A, _, _ = clustered(seed=0, noise=1.0)
    knn_mse, knn = held_out_mse("knn", X, y, t)
    labels = SpectralClustering(3, affinity="precomputed", random_state=0).fit_predict(
        sp.csr_matrix(knn.adjacency_).toarray() + 1e-6
    )
    assert adjusted_rand_score(cluster_labels(A), labels) >= 0.9
    assert knn_mse < held_out_mse("complete", X, y, t)[0]
    assert knn_mse < held_out_mse("none", X, y, t)[0]


def learned(seed, alpha=1.0, noise=0.5, **params):
    X, y, t, A, W, _ = clustered(seed=seed, noise=noise)
    est = MultiTaskGraphRegressor("learn", alpha=alpha, l2=0.1, graph_params=params)
    return est.fit(X[::2], y[::2], task_ids=t[::2]), (X, y, t, A)


def test_learned_relations_decrease_the_objective_monotonically():
    est, _ = learned(0)
    path = est.objective_path_
    assert len(path) == est.n_iter_ >= 3
    assert np.all(np.diff(path) <= 1e-9 * np.abs(path[:-1]))
    omega = est.task_covariance_
    np.testing.assert_allclose(np.trace(omega), 1.0)
    assert np.all(np.linalg.eigvalsh(omega) > 0)
    # the models are those of a plain fit with the coupling Omega^-1 that was learned
    np.testing.assert_allclose(est.laplacian_, np.linalg.inv(omega), rtol=1e-8)
    X, y, t, _ = _
    ref = dense_solve(X[::2], y[::2], t[::2], 12, np.zeros((12, 12)), 0.0, 0.1)
    assert not np.allclose(ref[0], est.coef_)  # the coupling does something
    M = est.alpha * np.linalg.inv(omega)
    n, dim = X[::2].shape
    Phi = np.zeros((n, 12 * dim + 12))
    for i, task in enumerate(t[::2]):
        Phi[i, task * dim : (task + 1) * dim] = X[::2][i]
        Phi[i, 12 * dim + task] = 1.0
    P = np.zeros((12 * dim + 12,) * 2)
    P[: 12 * dim, : 12 * dim] = np.kron(M, np.eye(dim)) + 0.1 * np.eye(12 * dim)
    theta = np.linalg.solve(Phi.T @ Phi + P, Phi.T @ y[::2])
    np.testing.assert_allclose(est.coef_, theta[: 12 * dim].reshape(12, dim), rtol=1e-7, atol=1e-9)


def test_task_covariance_step_is_the_closed_form_minimiser(rng):
    W = rng.normal(size=(5, 3))
    omega = task_covariance_step(W, epsilon=1e-3)
    M = W @ W.T + 1e-3 * np.eye(5)

    def value(cov):
        return np.trace(np.linalg.solve(cov, M))

    for _ in range(20):  # any other trace-one positive definite matrix does worse
        B = rng.normal(size=(5, 5))
        other = B @ B.T + 0.1 * np.eye(5)
        assert value(other / np.trace(other)) >= value(omega) - 1e-9


def test_learned_relations_recover_clusters_and_beat_complete_and_independent():
    X, y, t, A, _, _ = clustered(seed=0, noise=1.0)
    learn_mse, est = held_out_mse("learn", X, y, t)
    omega = est.task_covariance_
    d = np.sqrt(np.diag(omega))
    affinity = np.clip(omega / np.outer(d, d), 0, None)
    labels = SpectralClustering(3, affinity="precomputed", random_state=0).fit_predict(affinity)
    assert adjusted_rand_score(cluster_labels(A), labels) >= 0.9
    assert learn_mse < held_out_mse("complete", X, y, t)[0]
    assert learn_mse < held_out_mse("none", X, y, t)[0]


def test_learned_relations_with_logistic_loss():
    X, y, t, A, _, _ = clustered(seed=2)
    labels = (y > np.median(y)).astype(int)
    clf = MultiTaskGraphClassifier("learn", l2=0.1).fit(X, labels, task_ids=t)
    path = clf.objective_path_
    assert np.all(np.diff(path) <= 1e-7 * np.abs(path[:-1]))
    assert clf.task_covariance_.shape == (12, 12)
    assert clf.score(X, labels, task_ids=t) > 0.7


def test_learn_graph_params_are_checked():
    X, y, t, _, _, _ = clustered()
    with pytest.raises(ValueError, match="unknown keys \\['k'\\]"):
        MultiTaskGraphRegressor("learn", graph_params={"k": 1}).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="unknown keys"):
        MultiTaskGraphRegressor("knn", graph_params={"epsilon": 1}).fit(X, y, task_ids=t)
