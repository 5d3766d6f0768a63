"""MultiTaskGraphClassifier and the row solvers ("newton", "lbfgs", "fista")."""

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import laplacian, make_classification_data, make_long_data
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor
from mtreg._objective import gradient, objective

SOLVERS = ["newton", "lbfgs", "fista"]
TOL = {"newton": 1e-10, "lbfgs": 1e-10, "fista": 1e-10}
pytestmark = pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")


def random_graph(rng, T):
    A = rng.uniform(0.2, 2.0, size=(T, T)) * (rng.random((T, T)) < 0.6)
    return np.triu(A, 1) + np.triu(A, 1).T


def optimality(est, X, y, task_idx, L, loss, sample_weight=None):
    """Largest violation of the optimality conditions of J, relative to the gradient at 0."""
    kw = dict(alpha=est.alpha, l2=est.l2, loss=loss, sample_weight=sample_weight)
    gW, gb = gradient(est.coef_, est.intercept_, X, y, task_idx, L, **kw)
    g0W, g0b = gradient(0 * est.coef_, 0 * est.intercept_, X, y, task_idx, L, **kw)
    l1 = est.l1
    W = est.coef_
    if l1 > 0:  # subgradient conditions: gW = -l1 sign(W) where W != 0, |gW| <= l1 elsewhere
        gW = np.where(W != 0, gW + l1 * np.sign(W), np.maximum(np.abs(gW) - l1, 0))
        g0W = np.maximum(np.abs(g0W) - l1, 0)
    return np.sqrt(np.sum(gW**2) + np.sum(gb**2)) / np.sqrt(np.sum(g0W**2) + np.sum(g0b**2))


@pytest.mark.parametrize("solver", SOLVERS)
def test_alpha_zero_is_per_task_logistic_regression(rng, solver):
    X, y, task_idx = make_classification_data(rng, n_tasks=3, d=3)
    X = X * [1.0, 3.0, 0.5] + 1.0
    sw = rng.uniform(0.2, 2.0, size=len(y))
    l2 = 0.7
    est = MultiTaskGraphClassifier(
        alpha=0.0, l2=l2, solver=solver, tol=TOL[solver], max_iter=100000
    )
    est.fit(X, y, task_ids=task_idx, sample_weight=sw)
    for t in range(3):
        rows = task_idx == t
        ref = LogisticRegression(C=1 / (2 * l2), tol=1e-12, max_iter=10000)
        ref.fit(X[rows], y[rows], sample_weight=sw[rows])
        theta = np.append(est.coef_[t], est.intercept_[t])
        ref_theta = np.append(ref.coef_[0], ref.intercept_[0])
        assert np.linalg.norm(theta - ref_theta) <= 1e-6 * np.linalg.norm(ref_theta)


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
@pytest.mark.parametrize("l1", [0.0, 1.5])
@pytest.mark.parametrize("sparse_X", [False, True])
def test_solutions_satisfy_optimality_conditions(rng, loss, l1, sparse_X):
    X, y, task_idx = make_classification_data(rng, n_tasks=4)
    A = random_graph(rng, 4)
    sw = rng.uniform(0, 2, size=len(y))
    L = laplacian(A)
    solvers = ["fista"] if l1 > 0 else SOLVERS
    coefs = []
    for solver in solvers:
        est = MultiTaskGraphClassifier(
            A, loss=loss, alpha=1.3, l2=0.4, l1=l1, solver=solver, tol=TOL[solver], max_iter=100000
        )
        est.fit(sp.csr_matrix(X) if sparse_X else X, y, task_ids=task_idx, sample_weight=sw)
        assert optimality(est, X, y, task_idx, L, loss, sw) < 1.01 * TOL[solver]
        coefs.append(np.column_stack([est.coef_, est.intercept_]))
        J = objective(
            est.coef_,
            est.intercept_,
            X,
            y,
            task_idx,
            L,
            alpha=1.3,
            l2=0.4,
            l1=l1,
            loss=loss,
            sample_weight=sw,
        )
        for _ in range(3):
            dW = 1e-4 * rng.normal(size=est.coef_.shape)
            assert (
                objective(
                    est.coef_ + dW,
                    est.intercept_,
                    X,
                    y,
                    task_idx,
                    L,
                    alpha=1.3,
                    l2=0.4,
                    l1=l1,
                    loss=loss,
                    sample_weight=sw,
                )
                > J
            )
    for other in coefs[1:]:
        assert np.linalg.norm(other - coefs[0]) <= 1e-6 * np.linalg.norm(coefs[0])
    if l1 > 0:
        assert np.sum(est.coef_ == 0) > 0  # the l1 term makes zeros


def test_objective_gradient_matches_finite_differences(rng):
    X, y, task_idx = make_classification_data(rng, n_tasks=3)
    L = laplacian(random_graph(rng, 3))
    W, b = rng.normal(size=(3, 3)), rng.normal(size=3)
    for loss in ["squared", "logistic", "squared_hinge"]:
        kw = dict(alpha=0.8, l2=0.3, loss=loss)
        gW, gb = gradient(W, b, X, y, task_idx, L, **kw)
        eps = 1e-6
        for idx in [(0, 0), (1, 2), (2, 1)]:
            E = np.zeros_like(W)
            E[idx] = eps
            fd = (
                objective(W + E, b, X, y, task_idx, L, **kw)
                - objective(W - E, b, X, y, task_idx, L, **kw)
            ) / (2 * eps)
            np.testing.assert_allclose(gW[idx], fd, rtol=1e-6)
        e = np.zeros(3)
        e[1] = eps
        fd = (
            objective(W, b + e, X, y, task_idx, L, **kw)
            - objective(W, b - e, X, y, task_idx, L, **kw)
        ) / (2 * eps)
        np.testing.assert_allclose(gb[1], fd, rtol=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("multi_output", [False, True])
def test_row_solvers_match_exact_solvers_on_squared_loss(rng, solver, multi_output):
    A = random_graph(rng, 4)
    if multi_output:
        X = rng.normal(size=(30, 3))
        y, task_ids = rng.normal(size=(30, 4)), None
    else:
        X, y, task_ids = make_long_data(rng, n_tasks=4, feature_scale=2.0)
    exact = MultiTaskGraphRegressor(A, alpha=1.1, l2=0.6).fit(X, y, task_ids=task_ids)
    est = MultiTaskGraphRegressor(
        A, alpha=1.1, l2=0.6, solver=solver, tol=TOL[solver], max_iter=100000
    ).fit(X, y, task_ids=task_ids)
    assert est.solver_ == solver
    theta = np.column_stack([est.coef_, est.intercept_])
    exact_theta = np.column_stack([exact.coef_, exact.intercept_])
    assert np.linalg.norm(theta - exact_theta) <= 1e-6 * np.linalg.norm(exact_theta)


def test_regressor_l1_uses_fista_and_is_sparse(rng):
    X, y, task_idx = make_long_data(rng, n_tasks=4, d=6)
    A = random_graph(rng, 4)
    est = MultiTaskGraphRegressor(A, alpha=0.5, l2=0.1, l1=20.0).fit(X, y, task_ids=task_idx)
    assert est.solver_ == "fista"
    assert np.sum(est.coef_ == 0) > 0
    assert optimality(est, X, y, task_idx, laplacian(A), "squared") < 1e-9
    with pytest.raises(
        ValueError,
        match="solver='woodbury' cannot minimise loss='squared' "
        "with l1=20.0; use one of \\['fista'\\]",
    ):
        MultiTaskGraphRegressor(l1=20.0, solver="woodbury").fit(X, y, task_ids=task_idx)


@pytest.mark.parametrize("solver", SOLVERS)
def test_task_with_one_class_gets_its_model_through_the_coupling(rng, solver):
    X, y, task_idx = make_classification_data(rng, n_tasks=4)
    y[task_idx == 2] = 1.0  # task 2 shows one class only
    A = random_graph(rng, 4)
    A[2, 0] = A[0, 2] = 1.0
    est = MultiTaskGraphClassifier(
        A, alpha=2.0, l2=0.5, solver=solver, tol=TOL[solver], max_iter=100000
    ).fit(X, y, task_ids=task_idx)
    assert est.intercept_[2] == np.inf and np.all(np.isfinite(est.coef_))
    # its coefficients are those of the same problem without its rows (the limit of J)
    keep = task_idx != 2
    ref = MultiTaskGraphClassifier(A, alpha=2.0, l2=0.5, tasks=[0, 1, 2, 3], tol=1e-10).fit(
        X[keep], y[keep], task_ids=task_idx[keep]
    )
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        est.intercept_[keep[:4] & (np.arange(4) != 2)], ref.intercept_[np.arange(4) != 2], rtol=1e-6
    )
    np.testing.assert_allclose(est.predict_proba(X[:5], task_ids=[2] * 5)[:, 1], 1.0)
    # squared hinge: a finite intercept where the nearest row of task 2 reaches the margin
    est = MultiTaskGraphClassifier(
        A, loss="squared_hinge", alpha=2.0, l2=0.5, solver=solver, tol=TOL[solver], max_iter=100000
    ).fit(X, y, task_ids=task_idx)
    margins = X[task_idx == 2] @ est.coef_[2] + est.intercept_[2]
    np.testing.assert_allclose(margins.min(), 1.0)


def test_multiclass_is_one_vs_rest(rng):
    X, _, task_idx = make_classification_data(rng, n_tasks=3)
    y = np.array(["x", "y", "z"])[np.argmax(X, axis=1)]
    clf = MultiTaskGraphClassifier(alpha=0.5).fit(X, y, task_ids=task_idx)
    assert clf.coef_.shape == (3, 3, 3) and clf.intercept_.shape == (3, 3)
    for k, c in enumerate(clf.classes_):
        binary = MultiTaskGraphClassifier(alpha=0.5).fit(X, y == c, task_ids=task_idx)
        np.testing.assert_allclose(clf.coef_[k], binary.coef_, rtol=1e-9)
    proba = clf.predict_proba(X, task_ids=task_idx)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(
        clf.predict(X, task_ids=task_idx), clf.classes_[np.argmax(proba, axis=1)]
    )
    assert clf.score(X, y, task_ids=task_idx) > 0.8
    np.testing.assert_allclose(clf.predict_log_proba(X, task_ids=task_idx), np.log(proba))


def test_binary_labels_of_any_type_and_probabilities(rng):
    X, y, task_idx = make_classification_data(rng)
    labels = np.where(y > 0, "spam", "ham")
    clf = MultiTaskGraphClassifier().fit(X, labels, task_ids=task_idx)
    ref = MultiTaskGraphClassifier().fit(X, y, task_ids=task_idx)
    np.testing.assert_array_equal(clf.classes_, ["ham", "spam"])
    np.testing.assert_allclose(clf.coef_, ref.coef_)
    f = clf.decision_function(X, task_ids=task_idx)
    np.testing.assert_allclose(clf.predict_proba(X, task_ids=task_idx)[:, 1], 1 / (1 + np.exp(-f)))
    np.testing.assert_array_equal(clf.predict(X, task_ids=task_idx) == "spam", f > 0)
    hinge = MultiTaskGraphClassifier(loss="squared_hinge").fit(X, labels, task_ids=task_idx)
    assert not hasattr(hinge, "predict_proba")


@pytest.mark.filterwarnings("default::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_verbose_and_convergence_warning(rng, capsys):
    X, y, task_idx = make_classification_data(rng)
    clf = MultiTaskGraphClassifier(solver="lbfgs", tol=1e-8).fit(X, y, task_ids=task_idx)
    cold = clf.n_iter_[0]
    clf.set_params(warm_start=True).fit(X, y, task_ids=task_idx)
    assert clf.n_iter_[0] < cold
    MultiTaskGraphClassifier(solver="newton", verbose=1).fit(X, y, task_ids=task_idx)
    assert "newton iter 1" in capsys.readouterr().out
    for solver in SOLVERS:
        with pytest.warns(ConvergenceWarning, match="Increase max_iter"):
            MultiTaskGraphClassifier(solver=solver, max_iter=1, tol=1e-12).fit(
                X, y, task_ids=task_idx
            )


def test_classifier_bad_input(rng):
    X, y, task_idx = make_classification_data(rng)
    with pytest.raises(ValueError, match="at least 2 classes"):
        MultiTaskGraphClassifier().fit(X, np.ones(len(y)), task_ids=task_idx)
    with pytest.raises(ValueError, match="Unknown label type"):
        MultiTaskGraphClassifier().fit(X, rng.normal(size=len(y)), task_ids=task_idx)
    with pytest.raises(ValueError, match=r"y mixes label types \['int', 'str'\]"):
        MultiTaskGraphClassifier().fit(
            X, np.array(["up" if v > 0 else 0 for v in y], dtype=object), task_ids=task_idx
        )
    with pytest.raises(ValueError, match="Input y contains NaN|contains NaN"):
        MultiTaskGraphClassifier().fit(X, np.where(y > 0, 1.0, np.nan), task_ids=task_idx)
    with pytest.raises(ValueError, match="l1"):
        MultiTaskGraphClassifier(l1=-1.0).fit(X, y, task_ids=task_idx)
    with pytest.raises(ValueError, match="cannot minimise loss='logistic'"):
        MultiTaskGraphClassifier(solver="cholesky").fit(X, y, task_ids=task_idx)
    with pytest.raises(ValueError, match="no training rows and no path"):
        MultiTaskGraphClassifier(graph="none", l2=0.0, tasks=[0, 1, 2, 3, 9]).fit(
            X, y, task_ids=task_idx
        )
    clf = MultiTaskGraphClassifier().fit(X, y, task_ids=task_idx)
    with pytest.raises(ValueError, match="unknown task labels 7"):
        clf.predict(X[:1], task_ids=[7])


def test_classifier_in_grid_search_with_routing_and_task_column(rng):
    import sklearn
    from sklearn.model_selection import GridSearchCV

    from mtreg import TaskStratifiedKFold

    X, y, task_idx = make_classification_data(rng, n_tasks=3, n_per_task=30)
    cv = list(TaskStratifiedKFold(3).split(X, groups=task_idx))
    grid = {"alpha": [0.1, 10.0]}
    with sklearn.config_context(enable_metadata_routing=True):
        est = (
            MultiTaskGraphClassifier()
            .set_fit_request(task_ids=True)
            .set_score_request(task_ids=True)
        )
        routed = GridSearchCV(est, grid, cv=cv).fit(X, y, task_ids=task_idx)
    column = GridSearchCV(
        MultiTaskGraphClassifier(task_column=0), grid, cv=cv, scoring="accuracy"
    ).fit(np.column_stack([task_idx, X]), y)
    expected = [
        np.mean(
            [
                MultiTaskGraphClassifier(alpha=a)
                .fit(X[tr], y[tr], task_ids=task_idx[tr])
                .score(X[te], y[te], task_ids=task_idx[te])
                for tr, te in cv
            ]
        )
        for a in grid["alpha"]
    ]
    np.testing.assert_allclose(routed.cv_results_["mean_test_score"], expected)
    np.testing.assert_allclose(column.cv_results_["mean_test_score"], expected)


@pytest.mark.filterwarnings("default::sklearn.exceptions.ConvergenceWarning")
def test_newton_stops_when_rounding_leaves_nothing_to_gain(rng):
    X, y, task_idx = make_classification_data(rng)
    with pytest.warns(ConvergenceWarning, match="below what rounding allows"):
        clf = MultiTaskGraphClassifier(solver="newton", tol=1e-300).fit(X, y, task_ids=task_idx)
    assert clf.n_iter_[0] < 100
    assert (
        optimality(clf, X, y, task_idx, laplacian(np.ones((4, 4)) / 4 - np.eye(4) / 4), "logistic")
        < 1e-12
    )


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sparse_X", [False, True])
def test_passes_split_over_threads_give_the_same_fit(rng, monkeypatch, solver, sparse_X):
    """The row passes in chunks on threads (rows, or ranges of tasks for newton) add up to
    the one-chunk pass: the fits agree to rounding."""
    from mtreg._solvers import _glm, _threads

    X, y, task_idx = make_classification_data(rng, n_tasks=5, d=3)
    X = sp.csr_matrix(X) if sparse_X else X
    est = MultiTaskGraphClassifier(solver=solver, l1=0.1 * (solver == "fista"), tol=1e-10)
    one = est.fit(X, y, task_ids=task_idx)
    coef, intercept = one.coef_.copy(), one.intercept_.copy()
    monkeypatch.setattr(_glm, "ROWS_PER_THREAD", 1)
    monkeypatch.setattr(_threads, "blas_threads", lambda: 3)
    chunks, map_chunks = [], _glm.map_chunks
    monkeypatch.setattr(_glm, "map_chunks", lambda work, n: chunks.append(n) or map_chunks(work, n))
    three = est.fit(X, y, task_ids=task_idx)
    assert set(chunks) == {3}
    np.testing.assert_allclose(three.coef_, coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(three.intercept_, intercept, rtol=1e-8, atol=1e-10)
