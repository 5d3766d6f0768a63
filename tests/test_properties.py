"""Property tests: random graphs, labels and shapes against the dense reference."""

import numpy as np
from _reference import dense_solve
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mtreg import MultiTaskGraphRegressor
from mtreg.core import gradient, task_graph


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


# found by hypothesis: 3 rows of one task, cond(M) ~ 3e4, where pcg's residual tolerance
# allows a coefficient error of 1e-5 relative (it is checked by its residual)
ILL_CONDITIONED = dict(
    X=np.array(
        [
            [29.15944214, -25.29813801, 16.45438348, 46.91799062],
            [-48.59391937, 37.58429787, 23.87456985, 2.77334293],
            [-4.84850118, -29.59502273, -28.68212956, -24.58482094],
        ]
    ),
    y=np.array([5.16372206, -0.58820831, -4.80400276]),
    task_idx=np.array([2, 2, 2]),
    A=np.array(
        [
            [0.28008971, 0.61535881, 0.68598753],
            [1.49947187, 2.32362393, 2.3139421],
            [0.50171171, 0.53518476, 0.11367568],
        ]
    ),
    weights=None,
    labels="int",
    alpha=0.125,
    l2=0.25,
    fit_intercept=True,
)


@settings(max_examples=60, deadline=None)
@given(problems())
@example(ILL_CONDITIONED)
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
        if solver == "pcg":  # its promise is on the residual, ||R - M W|| <= tol ||R||
            _check_pcg_residual(est, W, p, names)
        else:
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


def _check_pcg_residual(est, W, p, names):
    """pcg stops at ||R - M W|| <= tol ||R|| (tol = 1e-10), which on an ill-conditioned
    system allows a coefficient error of cond(M) times that: check the residual, and the
    coefficients to what the conditioning of the exact reference allows.

    dJ/dW at the model's own intercepts is 2 (M W - R) on the centred moments, so the
    residual is half the gradient of the one NumPy objective, and ||R|| half its norm at 0."""
    graph = task_graph(p["A"])
    kw = dict(alpha=p["alpha"], l2=p["l2"], sample_weight=p["weights"])
    t = p["task_idx"]
    b = np.where(np.isfinite(est.intercept_), est.intercept_, 0.0)
    g_fit, _ = gradient(est.coef_, b, p["X"], p["y"], t, graph, **kw)
    zero = np.zeros_like(W)
    s = np.ones(len(t)) if p["weights"] is None else p["weights"]
    weight = np.bincount(t, weights=s, minlength=len(W))
    y_mean = np.bincount(t, weights=s * p["y"], minlength=len(W)) / np.maximum(weight, 1e-300)
    b0 = y_mean if est.fit_intercept else np.zeros(len(W))  # the intercepts of W = 0
    g_zero, _ = gradient(zero, b0, p["X"], p["y"], t, graph, **kw)
    assert np.linalg.norm(g_fit) <= 1.01e-10 * np.linalg.norm(g_zero) + 1e-12
