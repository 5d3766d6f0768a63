"""partial_fit: chunks of rows give exactly the fit on all of them; bad chunks change nothing."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import make_long_data

from mtreg import MultiTaskGraphRegressor


def chunks(n, sizes):
    edges = np.cumsum([0, *sizes])
    assert edges[-1] == n
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


@pytest.mark.parametrize("graph", [None, "chain", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_chunks_equal_one_fit(rng, graph, fit_intercept):
    X, y, t = make_long_data(rng, n_tasks=5, n_per_task=30, d=4, feature_scale=50.0)
    sw = rng.uniform(0, 2, size=len(y))
    A = None
    if graph is not None:
        A = np.diag(np.ones(4), 1) + np.diag(np.ones(4), -1)
        A = sp.csr_matrix(A) if graph == "sparse" else A
    params = dict(graph=A, alpha=2.0, l2=0.5, fit_intercept=fit_intercept, tasks=range(5))
    full = MultiTaskGraphRegressor(**params).fit(X, y, task_ids=t, sample_weight=sw)
    est = MultiTaskGraphRegressor(**params)
    for part in chunks(len(y), [1, 40, 7, 52, 50]):
        est.partial_fit(X[part], y[part], task_ids=t[part], sample_weight=sw[part])
    np.testing.assert_allclose(est.coef_, full.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, full.intercept_, rtol=1e-10, atol=1e-12)
    # and fit then partial_fit continues from the fitted rows
    again = MultiTaskGraphRegressor(**params).fit(
        X[:75], y[:75], task_ids=t[:75], sample_weight=sw[:75]
    )
    again.partial_fit(X[75:], y[75:], task_ids=t[75:], sample_weight=sw[75:])
    np.testing.assert_allclose(again.coef_, full.coef_, rtol=1e-10, atol=1e-12)


def test_tasks_named_by_the_graph_may_appear_in_later_chunks(rng):
    X, y, t = make_long_data(rng, n_tasks=3, n_per_task=20)
    labels = np.array(["a", "b", "c"])[t]
    graph = {"a": ["b"], "b": ["c"], "c": []}
    est = MultiTaskGraphRegressor(graph)
    first = labels != "c"
    est.partial_fit(X[first], y[first], task_ids=labels[first])
    np.testing.assert_array_equal(est.tasks_, ["a", "b", "c"])
    est.partial_fit(X[~first], y[~first], task_ids=labels[~first])
    full = MultiTaskGraphRegressor(graph).fit(X, y, task_ids=labels)
    np.testing.assert_allclose(est.coef_, full.coef_, rtol=1e-10)
    np.testing.assert_allclose(est.intercept_, full.intercept_, rtol=1e-10)


def test_multi_output_and_single_task_chunks(rng):
    X = rng.normal(size=(60, 3)) + 5
    Y = rng.normal(size=(60, 4))
    est = MultiTaskGraphRegressor()
    for part in chunks(60, [25, 35]):
        est.partial_fit(X[part], Y[part])
    np.testing.assert_allclose(est.coef_, MultiTaskGraphRegressor().fit(X, Y).coef_, rtol=1e-10)
    est = MultiTaskGraphRegressor()
    for part in chunks(60, [10, 50]):
        est.partial_fit(X[part], Y[part, 0])
    np.testing.assert_allclose(
        est.predict(X), MultiTaskGraphRegressor().fit(X, Y[:, 0]).predict(X), rtol=1e-10
    )


@pytest.mark.parametrize("bad", ["nan", "width", "unknown task", "negative weight", "y shape"])
def test_bad_chunk_is_rejected_and_changes_nothing(rng, bad):
    X, y, t = make_long_data(rng, n_tasks=3, n_per_task=20)
    est = MultiTaskGraphRegressor().partial_fit(X[:30], y[:30], task_ids=t[:30])
    before = pickle.dumps(est)
    Xb, yb, tb, sw = X[30:].copy(), y[30:].copy(), t[30:].copy(), None
    message = {
        "nan": "Input X contains NaN",
        "width": "X has 4 features",
        "unknown task": "unknown task labels 7",
        "negative weight": "Negative values",
        "y shape": "unlike the earlier chunks",
    }[bad]
    if bad == "nan":
        Xb[3, 1] = np.nan
    elif bad == "width":
        Xb = np.column_stack([Xb, Xb[:, 0]])
    elif bad == "unknown task":
        tb[5] = 7
    elif bad == "negative weight":
        sw = np.ones(len(yb))
        sw[2] = -1
    else:
        yb = np.column_stack([yb, yb])
    with pytest.raises(ValueError, match=message):
        est.partial_fit(Xb, yb, task_ids=tb, sample_weight=sw)
    assert pickle.dumps(est) == before
    est.partial_fit(X[30:], y[30:], task_ids=t[30:])  # the good chunk still fits on top
    full = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    np.testing.assert_allclose(est.coef_, full.coef_, rtol=1e-10)


def test_partial_fit_exists_only_where_moments_suffice():
    for params in [{"graph": "knn"}, {"graph": "learn"}, {"l1": 1.0}, {"solver": "lbfgs"}]:
        assert not hasattr(MultiTaskGraphRegressor(**params), "partial_fit")
    assert hasattr(MultiTaskGraphRegressor(solver="pcg"), "partial_fit")


def test_partial_fit_solves_on_demand(rng, monkeypatch):
    import mtreg.linear

    X, y, t = make_long_data(rng, n_tasks=3, n_per_task=20)
    calls = []
    solve = mtreg.linear.solve_graph_ridge
    monkeypatch.setattr(
        mtreg.linear, "solve_graph_ridge", lambda *a, **k: calls.append(1) or solve(*a, **k)
    )
    est = MultiTaskGraphRegressor()
    for part in chunks(60, [20, 20, 20]):
        est.partial_fit(X[part], y[part], task_ids=t[part])
    assert calls == []  # nothing solved while the chunks come in
    pred = est.predict(X, task_ids=t)
    assert calls == [1] and est.solver_ == "woodbury"
    assert est.coef_.shape == (3, 3) and est.predict(X, task_ids=t).shape == pred.shape
    assert calls == [1]  # solved once until the next chunk
    np.testing.assert_allclose(
        pred, MultiTaskGraphRegressor().fit(X, y, task_ids=t).predict(X, task_ids=t), rtol=1e-10
    )
    restored = pickle.loads(pickle.dumps(MultiTaskGraphRegressor().partial_fit(X, y, task_ids=t)))
    np.testing.assert_allclose(restored.predict(X, task_ids=t), pred, rtol=1e-10)
    assert not hasattr(MultiTaskGraphRegressor(), "coef_")
