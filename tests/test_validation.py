"""Bad input gives a clear error that names the problem, and a failed fit changes nothing."""

import pickle

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from mtreg import MultiTaskGraphRegressor


def make_data(n_per_task=8, n_features=3, labels=("a", "b", "c"), seed=0):
    rng = np.random.default_rng(seed)
    t = np.repeat(np.asarray(labels), n_per_task)
    X = rng.normal(size=(len(t), n_features))
    y = X @ rng.normal(size=n_features) + rng.normal(size=len(t))
    return X, y, t


def with_value(a, index, value):
    a = np.array(a, dtype=np.float64)
    a[index] = value
    return a


# -- data -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, message",
    [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity")],
)
def test_non_finite_X(bad, message):
    X, y, t = make_data()
    with pytest.raises(ValueError, match=message):
        MultiTaskGraphRegressor().fit(with_value(X, (3, 1), bad), y, task_ids=t)
    est = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match=message):
        est.predict(with_value(X, (0, 2), bad), task_ids=t)
    # also when the task labels sit in a column of X
    Xt = np.column_stack([np.searchsorted(["a", "b", "c"], t), X])
    with pytest.raises(ValueError, match=message):
        MultiTaskGraphRegressor(task_column=0).fit(with_value(Xt, (3, 2), bad), y)


@pytest.mark.parametrize(
    "bad, message",
    [(np.nan, "Input y contains NaN"), (np.inf, "Input y contains infinity")],
)
@pytest.mark.parametrize("two_dimensional", [False, True])
def test_non_finite_y(bad, message, two_dimensional):
    X, y, t = make_data()
    if two_dimensional:
        y, t = np.column_stack([y, -y]), None
    with pytest.raises(ValueError, match=message):
        MultiTaskGraphRegressor().fit(X, with_value(y, 5, bad), task_ids=t)


def test_nan_task_label():
    X, y, _ = make_data()
    t = with_value(np.arange(len(y)) % 3, 4, np.nan)
    with pytest.raises(ValueError, match="a task label is missing .* in task_ids, at position 4:"):
        MultiTaskGraphRegressor().fit(X, y, task_ids=t)


@pytest.mark.parametrize(
    "which, message",
    [
        ("y", r"y has shape \(23,\) but X has 24 rows"),
        ("task_ids", r"task_ids has shape \(23,\) but X and y have 24 rows"),
        ("sample_weight", r"sample_weight.shape == \(23,\), expected \(24,\)"),
    ],
)
def test_mismatched_lengths(which, message):
    X, y, t = make_data()
    args = {"y": y, "task_ids": t, "sample_weight": np.ones(len(y))}
    args[which] = args[which][:-1]
    with pytest.raises(ValueError, match=message):
        MultiTaskGraphRegressor().fit(X, **args)


def test_mismatched_lengths_in_predict():
    X, y, t = make_data()
    est = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match=r"task_ids has shape \(5,\) but X has 4 rows"):
        est.predict(X[:4], task_ids=t[:5])


def test_negative_sample_weight():
    X, y, t = make_data()
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        MultiTaskGraphRegressor().fit(
            X, y, task_ids=t, sample_weight=with_value(np.ones(24), 2, -1)
        )


def test_task_labels_given_twice():
    X, y, t = make_data()
    with pytest.raises(ValueError, match="task labels were given twice"):
        MultiTaskGraphRegressor(task_column=0).fit(X, y, task_ids=t)


# -- parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["alpha", "l2"])
@pytest.mark.parametrize("value", [-1.0, -1e-12])
def test_negative_penalty(param, value):
    X, y, t = make_data()
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter .* range \\[0"):
        MultiTaskGraphRegressor(**{param: value}).fit(X, y, task_ids=t)
    assert issubclass(InvalidParameterError, ValueError)


# -- graphs ---------------------------------------------------------------------------------


def _matrix(value):
    A = np.ones((3, 3))
    A[0, 1] = value
    return A


GRAPH_FORMS = {
    "array": _matrix,
    "sparse": lambda v: sp.csr_matrix(_matrix(v)),
    "dict": lambda v: {"a": {"b": v}, "b": ["c"], "c": []},
    "edges": lambda v: [("a", "b", v), ("b", "c")],
    "networkx": lambda v: nx.Graph([("a", "b", {"weight": v}), ("b", "c")]),
}


@pytest.mark.parametrize("form", sorted(GRAPH_FORMS))
@pytest.mark.parametrize(
    "value, message",
    [
        (-0.5, "non-negative"),
        (np.nan, "NaN|nan"),
        (np.inf, "inf"),
    ],
)
def test_bad_graph_weights(form, value, message):
    X, y, t = make_data()
    est = MultiTaskGraphRegressor(GRAPH_FORMS[form](value))
    with pytest.raises(ValueError, match=f"graph.*({message})"):
        est.fit(X, y, task_ids=t)


@pytest.mark.parametrize("form", sorted(GRAPH_FORMS))
def test_complex_graph_weights(form):
    """Not cast to real with a ComplexWarning (the imaginary parts were dropped)."""
    X, y, t = make_data()
    if form in ("array", "sparse"):
        A = np.ones((3, 3), dtype=complex)
        A[0, 1] = 0.5 + 2j
        graph = A if form == "array" else sp.csr_matrix(A)
    else:
        graph = GRAPH_FORMS[form](np.complex128(0.5 + 2j))
    with pytest.raises(ValueError, match="graph.*(complex|not a real number)"):
        MultiTaskGraphRegressor(graph).fit(X, y, task_ids=t)


@pytest.mark.parametrize(
    "graph, message",
    [
        (np.ones((2, 2)), r"graph has shape \(2, 2\) but there are 3 tasks"),
        (np.ones((4, 4)), r"graph has shape \(4, 4\) but there are 3 tasks"),
        (np.ones((3, 2)), r"graph must be a square T x T matrix, got shape \(3, 2\)"),
        (np.ones(3), r"graph must be a square T x T matrix, got shape \(3,\)"),
        (sp.eye(4, format="csr"), r"graph has shape \(4, 4\) but there are 3 tasks"),
    ],
)
def test_graph_of_wrong_shape(graph, message):
    X, y, t = make_data()
    with pytest.raises(ValueError, match=message):
        MultiTaskGraphRegressor(graph).fit(X, y, task_ids=t)


@pytest.mark.parametrize(
    "graph",
    [
        {"a": ["b"], "b": []},
        [("a", "b")],
        nx.Graph([("a", "b")]),
    ],
)
def test_task_labels_missing_from_labelled_graph(graph):
    X, y, t = make_data()
    with pytest.raises(ValueError, match="task labels 'c' of the data are missing from the graph"):
        MultiTaskGraphRegressor(graph).fit(X, y, task_ids=t)


# -- predict ----------------------------------------------------------------------------------


def test_predict_before_fit():
    X, _, t = make_data()
    with pytest.raises(NotFittedError):
        MultiTaskGraphRegressor().predict(X, task_ids=t)


def test_predict_without_task_ids_on_multi_task_model():
    X, y, t = make_data()
    est = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="this model has 3 tasks: pass task_ids"):
        est.predict(X)
    # a single-task model needs none, and agrees with passing its one label
    single = MultiTaskGraphRegressor().fit(X, y)
    np.testing.assert_array_equal(single.predict(X), single.predict(X, task_ids=np.zeros(24)))


def test_predict_unknown_task_labels_names_them():
    X, y, t = make_data()
    est = MultiTaskGraphRegressor().fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match=r"unknown task labels 'd', 'zz': the model never saw"):
        est.predict(X[:4], task_ids=["a", "zz", "d", "zz"])


# -- singular problems ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        dict(graph="none", tasks=["a", "b", "c", "d"]),  # woodbury
        dict(graph="none", tasks=["a", "b", "c", "d"], solver="cholesky"),
        dict(graph="none", tasks=["a", "b", "c", "d"], solver="pcg"),
        dict(graph={"a": ["b"], "b": ["c"], "c": [], "d": []}),  # cholesky
        dict(graph=None, alpha=0.0, tasks=["a", "b", "c", "d"]),
    ],
)
def test_singular_task_without_rows_or_neighbours(params):
    X, y, t = make_data()
    est = MultiTaskGraphRegressor(l2=0.0, **params)
    with pytest.raises(ValueError, match="tasks 'd' have no training rows and no path"):
        est.fit(X, y, task_ids=t)
    assert not hasattr(est, "coef_")
    # any l2 > 0 makes it well posed, with finite coefficients
    est.set_params(l2=1e-3).fit(X, y, task_ids=t)
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))


@pytest.mark.parametrize("solver", ["auto", "cholesky", "pcg"])
def test_singular_component_without_rows(solver):
    # d and e are linked to each other only: with l2=0 nothing fixes their common w
    X, y, t = make_data()
    graph = {"a": ["b"], "b": ["c"], "c": [], "d": ["e"], "e": []}
    est = MultiTaskGraphRegressor(graph, l2=0.0, solver=solver)
    with pytest.raises(ValueError, match="tasks 'd', 'e' have no training rows"):
        est.fit(X, y, task_ids=t)
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("solver", ["auto", "cholesky", "woodbury", "pcg"])
def test_singular_task_with_fewer_rows_than_features(solver):
    X, y, t = make_data(n_per_task=3, n_features=5)
    est = MultiTaskGraphRegressor(graph="none", l2=0.0, solver=solver)
    with pytest.raises(ValueError, match="the problem is singular"):
        est.fit(X, y, task_ids=t)
    assert not hasattr(est, "coef_")


# -- a failed fit leaves the previous fit untouched ------------------------------------------


GRAPH = {"a": ["b"], "b": ["c"], "c": [], "d": []}


def _fitted_state(est):
    return dict(vars(est)), pickle.dumps(vars(est))


def _failing_fits():
    pd = pytest.importorskip("pandas")
    X, y, t = make_data(labels=("a", "b", "c", "d"), seed=1)
    keep = t != "d"
    wide = pd.DataFrame(np.column_stack([X, X**2]), columns=[f"w{j}" for j in range(6)])
    return {
        # each fails after validate_data has reset n_features_in_ / feature_names_in_
        "y of the wrong length": lambda est: est.fit(wide, y[:-1], task_ids=t),
        "task missing from the graph": lambda est: est.fit(
            wide, y, task_ids=np.where(t == "a", "z", t)
        ),
        "task d left without rows (singular)": lambda est: est.fit(
            wide[keep], y[keep], task_ids=t[keep]
        ),
        "negative sample weight": lambda est: est.fit(
            wide, y, task_ids=t, sample_weight=with_value(np.ones(32), 0, -1)
        ),
        "NaN in y": lambda est: est.fit(wide, with_value(y, 0, np.nan), task_ids=t),
        "task_column and task_ids": lambda est: est.set_params(task_column=0).fit(
            wide, y, task_ids=t
        ),
        "negative alpha": lambda est: est.set_params(alpha=-1.0).fit(X, y, task_ids=t),
    }


@pytest.mark.parametrize(
    "case",
    [
        "y of the wrong length",
        "task missing from the graph",
        "task d left without rows (singular)",
        "negative sample weight",
        "NaN in y",
        "task_column and task_ids",
        "negative alpha",
    ],
)
def test_failed_fit_keeps_previous_fit(case):
    pd = pytest.importorskip("pandas")
    X, y, t = make_data(labels=("a", "b", "c", "d"), seed=1)
    df = pd.DataFrame(X, columns=["p", "q", "r"])
    est = MultiTaskGraphRegressor(GRAPH, alpha=2.0, l2=0.0).fit(df, y, task_ids=t)
    before, before_bytes = _fitted_state(est)
    pred = est.predict(df, task_ids=t)
    adjacency, laplacian = est.adjacency_.toarray(), est.laplacian_.toarray()

    with pytest.raises(ValueError):
        _failing_fits()[case](est)

    est.set_params(alpha=2.0, task_column=None)  # undo what the case itself changed
    after, after_bytes = _fitted_state(est)
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    assert after_bytes == before_bytes
    assert list(est.feature_names_in_) == ["p", "q", "r"] and est.n_features_in_ == 3
    np.testing.assert_array_equal(est.predict(df, task_ids=t), pred)
    np.testing.assert_array_equal(est.adjacency_.toarray(), adjacency)
    np.testing.assert_array_equal(est.laplacian_.toarray(), laplacian)


def test_failed_first_fit_leaves_estimator_unfitted():
    X, y, t = make_data()
    est = MultiTaskGraphRegressor({"a": ["b"], "b": []})
    with pytest.raises(ValueError, match="missing from the graph"):
        est.fit(X, y, task_ids=t)
    assert not any(name.endswith("_") for name in vars(est))
    with pytest.raises(NotFittedError):
        est.predict(X, task_ids=t)
