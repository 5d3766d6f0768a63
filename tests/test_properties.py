"""Property tests: random graphs, labels and shapes against the dense reference."""

import numpy as np
from _reference import dense_solve
from hypothesis import given, settings
from hypothesis import strategies as st

from mtreg import MultiTaskGraphRegressor


@st.composite
def problems(draw):
    T = draw(st.integers(1, 5))
    d = draw(st.integers(1, 4))
    counts = draw(st.lists(st.integers(0, 6), min_size=T, max_size=T).filter(lambda c: sum(c)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    task_idx = np.repeat(np.arange(T), counts)
    rng.shuffle(task_idx)
    n = len(task_idx)
    X = rng.normal(size=(n, d)) * draw(st.sampled_from([1.0, 30.0]))
    y = rng.normal(size=n) * 5
    density = draw(st.floats(0, 1))
    A = rng.uniform(0.1, 3, size=(T, T)) * (rng.random((T, T)) < density)
    if draw(st.booleans()):
        A = (A + A.T) / 2  # otherwise the estimator symmetrises it
    weights = rng.uniform(0, 2, size=n) if draw(st.booleans()) else None
    labels = draw(st.sampled_from(["int", "str"]))
    return dict(
        X=X,
        y=y,
        task_idx=task_idx,
        A=A,
        weights=weights,
        labels=labels,
        alpha=draw(st.floats(0, 10)),
        l2=draw(st.floats(0.05, 10)),
        fit_intercept=draw(st.booleans()),
    )


@settings(max_examples=60, deadline=None)
@given(problems())
def test_every_solver_matches_dense_reference(p):
    T = len(p["A"])
    names = (
        np.array([f"task{k:02d}" for k in range(T)])
        if p["labels"] == "str"
        else (np.arange(T) * 7 - 3)
    )
    W, b = dense_solve(
        p["X"],
        p["y"],
        p["task_idx"],
        T,
        p["A"],
        p["alpha"],
        p["l2"],
        fit_intercept=p["fit_intercept"],
        sample_weight=p["weights"],
    )
    for solver in ["cholesky", "pcg"]:
        est = MultiTaskGraphRegressor(
            p["A"],
            alpha=p["alpha"],
            l2=p["l2"],
            fit_intercept=p["fit_intercept"],
            tasks=names,
            solver=solver,
        ).fit(p["X"], p["y"], task_ids=names[p["task_idx"]], sample_weight=p["weights"])
        scale = max(np.abs(W).max(), 1e-3)
        np.testing.assert_allclose(est.coef_, W, rtol=1e-6, atol=1e-7 * scale)
        known = ~np.isnan(b)
        np.testing.assert_allclose(
            est.intercept_[known],
            b[known],
            rtol=1e-6,
            atol=1e-6 * max(np.abs(b[known]).max(initial=0), 1),
        )
        assert np.all(np.isfinite(est.intercept_))
        pred = est.predict(p["X"], task_ids=names[p["task_idx"]])
        np.testing.assert_allclose(
            pred,
            np.einsum("ij,ij->i", p["X"], est.coef_[p["task_idx"]]) + est.intercept_[p["task_idx"]],
            rtol=1e-10,
            atol=1e-10,
        )
