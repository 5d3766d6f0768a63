"""Multi-task kernels, MultiTaskKernelRidge, MultiTaskSVR/SVC against independent references.

References: the Gram matrix written out from DESIGN.md section 1 (k(x, z) times the inverse
of alpha L + l2 I, with L from tests/_reference.py), sklearn's KernelRidge/SVC/SVR on that
matrix, MultiTaskGraphRegressor for the linear kernel, and the SVM primal problems solved by
scipy's SLSQP.
"""

import cvxpy as cp
import numpy as np
import pytest
from _reference import laplacian, make_long_data
from sklearn.gaussian_process.kernels import RBF
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics.pairwise import polynomial_kernel, rbf_kernel
from sklearn.svm import SVC, SVR

from mtreg import (
    MultiTaskGraphRegressor,
    MultiTaskKernelRidge,
    MultiTaskSVC,
    MultiTaskSVR,
    multitask_kernel,
)

CHAIN = np.array([[0, 1, 0, 0], [1, 0, 2, 0], [0, 2, 0, 1], [0, 0, 1, 0.0]])


def complete(T):
    return (np.ones((T, T)) - np.eye(T)) / T


def task_kernel(A, alpha, l2, normalized=False):
    """inv(alpha L + l2 I), written from the definition."""
    return np.linalg.inv(alpha * laplacian(A, normalized) + l2 * np.eye(len(A)))


def gram(Kx, t_rows, t_cols, A, alpha, l2, normalized=False):
    return Kx * task_kernel(A, alpha, l2, normalized)[np.ix_(t_rows, t_cols)]


def smooth_data(rng, n=60, T=4, d=2):
    X = rng.uniform(-2, 2, size=(n, d))
    t = rng.integers(0, T, size=n)
    t[:T] = np.arange(T)
    y = np.sin(X @ np.linspace(1, -1, d)) + 0.3 * t + 0.1 * rng.normal(size=n)
    return X, y, t


# -- multitask_kernel ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel, params, k",
    [
        ("rbf", {"gamma": 0.7}, lambda X, Z: rbf_kernel(X, Z, gamma=0.7)),
        ("linear", {}, lambda X, Z: X @ Z.T),
        (
            "poly",
            {"degree": 2, "gamma": 0.5, "coef0": 1.0},
            lambda X, Z: polynomial_kernel(X, Z, degree=2, gamma=0.5, coef0=1.0),
        ),
    ],
)
@pytest.mark.parametrize("graph", ["complete", "chain", "normalized"])
def test_multitask_kernel_matches_definition(rng, kernel, params, k, graph):
    X, Z = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    tX, tZ = rng.integers(0, 4, size=7), rng.integers(0, 4, size=5)
    tX[:4] = np.arange(4)
    A = complete(4) if graph == "complete" else CHAIN
    normalized = graph == "normalized"
    kw = dict(
        alpha=1.7,
        l2=0.4,
        kernel=kernel,
        laplacian="normalized" if normalized else "unnormalized",
        **params,
    )
    given = None if graph == "complete" else CHAIN
    K = multitask_kernel(X, tX, Z, tZ, graph=given, **kw)
    np.testing.assert_allclose(K, gram(k(X, Z), tX, tZ, A, 1.7, 0.4, normalized), rtol=1e-12)
    K_sym = multitask_kernel(X, tX, graph=given, **kw)
    np.testing.assert_allclose(
        K_sym, gram(k(X, X), tX, tX, A, 1.7, 0.4, normalized), rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(K_sym, K_sym.T, atol=1e-14)
    assert np.linalg.eigvalsh(K_sym).min() > -1e-10


def test_multitask_kernel_labels_callables_and_precomputed(rng):
    X = rng.normal(size=(6, 2))
    labels = np.array(["b", "a", "c", "a", "b", "c"])
    codes = np.searchsorted(["a", "b", "c"], labels)
    graph = {"a": ["b"], "b": ["c"], "c": []}
    A = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0.0]])
    K = multitask_kernel(X, labels, graph=graph, alpha=2.0, gamma=0.3)
    np.testing.assert_allclose(K, gram(rbf_kernel(X, gamma=0.3), codes, codes, A, 2.0, 1.0))

    # a callable on pairs of rows, a Gaussian-process kernel object, a precomputed matrix
    def pair(x, z, scale):
        return np.exp(-scale * np.sum((x - z) ** 2))

    np.testing.assert_allclose(
        multitask_kernel(X, labels, graph=graph, alpha=2.0, kernel=pair, scale=0.3), K
    )
    np.testing.assert_allclose(
        multitask_kernel(X, labels, graph=graph, alpha=2.0, kernel=RBF(length_scale=1.0)),
        gram(rbf_kernel(X, gamma=0.5), codes, codes, A, 2.0, 1.0),
    )
    np.testing.assert_allclose(
        multitask_kernel(
            rbf_kernel(X, gamma=0.3), labels, graph=graph, alpha=2.0, kernel="precomputed"
        ),
        K,
    )
    # tasks fixes the order of an array graph; a task only in task_ids_Y is allowed
    K2 = multitask_kernel(
        X,
        labels,
        X[:2],
        ["a", "d"],
        graph=np.eye(4)[::-1] + 0.0,
        tasks=["a", "b", "c", "d"],
        alpha=1.0,
        kernel="linear",
    )
    B = task_kernel(np.eye(4)[::-1], 1.0, 1.0)
    np.testing.assert_allclose(K2, (X @ X[:2].T) * B[np.ix_(codes, [0, 3])])


def test_multitask_kernel_with_sklearn_precomputed_estimators(rng):
    X, y, t = smooth_data(rng)
    K = multitask_kernel(X, t, graph=CHAIN, alpha=3.0, l2=0.5, gamma=0.5)
    ours = MultiTaskKernelRidge(CHAIN, alpha=3.0, l2=0.5, gamma=0.5).fit(X, y, task_ids=t)
    ref = KernelRidge(alpha=1.0, kernel="precomputed").fit(K, y)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-8, atol=1e-10)
    SVC(kernel="precomputed").fit(K, y > y.mean()).predict(K)  # a valid kernel for libsvm


def test_multitask_kernel_errors(rng):
    X, t = rng.normal(size=(5, 2)), [0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match=r"l2=0 makes E = alpha L \+ l2 I singular"):
        multitask_kernel(X, t, alpha=1.0, l2=0.0)
    with pytest.raises(ValueError, match="must take two rows x and z"):
        multitask_kernel(X, t, kernel=lambda x, z: np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"kernel returned an array of shape \(5, 4\)"):
        multitask_kernel(X, t, kernel=WrongShapeKernel())
    with pytest.raises(ValueError, match="task_ids_Y is required"):
        multitask_kernel(X, t, X[:2])
    with pytest.raises(ValueError, match="labels 'z' of the data are missing from tasks"):
        multitask_kernel(X, t, X[:2], np.array([0, "z"], dtype=object), tasks=[0, 1])


class WrongShapeKernel(RBF):
    """A Gaussian-process kernel object that drops a column: a broken user kernel."""

    def __call__(self, X, Y=None, eval_gradient=False):
        return super().__call__(X, Y)[:, :-1]


# -- MultiTaskKernelRidge --------------------------------------------------------------------


@pytest.mark.parametrize("graph", [None, "chain", "sparse", "normalized"])
@pytest.mark.parametrize("weighted", [False, True])
def test_linear_kernel_equals_regressor_without_intercept(rng, graph, weighted):
    X, y, t = make_long_data(rng, n_tasks=4, n_per_task=10, d=3, feature_scale=2.0)
    sw = rng.uniform(0, 2, size=len(y)) if weighted else None
    lap = "normalized" if graph == "normalized" else "unnormalized"
    A = None if graph is None else CHAIN
    if graph == "sparse":
        import scipy.sparse as sp

        A = sp.csr_matrix(CHAIN)
    kw = dict(alpha=2.5, l2=0.3, laplacian=lap, tasks=[0, 1, 2, 3, 4] if graph is None else None)
    krr = MultiTaskKernelRidge(A, kernel="linear", **kw).fit(X, y, task_ids=t, sample_weight=sw)
    reg = MultiTaskGraphRegressor(A, fit_intercept=False, **kw).fit(
        X, y, task_ids=t, sample_weight=sw
    )
    X_new = rng.normal(size=(15, 3))
    t_new = rng.integers(0, len(krr.tasks_), size=15)  # task 4 of the complete graph: no rows
    np.testing.assert_allclose(
        krr.predict(X_new, task_ids=t_new),
        reg.predict(X_new, task_ids=t_new),
        rtol=1e-8,
        atol=1e-10,
    )
    np.testing.assert_allclose(
        krr.predict(X, task_ids=t), reg.predict(X, task_ids=t), rtol=1e-8, atol=1e-10
    )


def test_task_without_rows_is_predicted_through_the_graph(rng):
    X, y, t = make_long_data(rng, n_tasks=2, n_per_task=15)
    labels = np.array(["a", "b"])[t]
    graph = [("a", "u"), ("u", "b")]
    krr = MultiTaskKernelRidge(graph, kernel="linear", alpha=5.0, l2=0.2).fit(X, y, task_ids=labels)
    reg = MultiTaskGraphRegressor(graph, alpha=5.0, l2=0.2, fit_intercept=False).fit(
        X, y, task_ids=labels
    )
    np.testing.assert_array_equal(krr.tasks_, ["a", "b", "u"])
    u = np.repeat("u", 5)
    np.testing.assert_allclose(
        krr.predict(X[:5], task_ids=u), reg.predict(X[:5], task_ids=u), rtol=1e-8
    )
    assert np.abs(krr.predict(X[:5], task_ids=u)).max() > 0


@pytest.mark.parametrize("kernel", ["rbf", "laplacian", "poly"])
def test_matches_sklearn_kernel_ridge_on_the_multitask_gram(rng, kernel):
    X, y, t = smooth_data(rng)
    sw = rng.uniform(0.2, 3, size=len(y))
    sw[:3] = 0.0  # rows of weight zero play no part
    est = MultiTaskKernelRidge(CHAIN, alpha=0.8, l2=0.25, kernel=kernel, gamma=0.4).fit(
        X, y, task_ids=t, sample_weight=sw
    )
    from sklearn.metrics.pairwise import pairwise_kernels

    Kx = pairwise_kernels(
        X, metric=kernel, gamma=0.4, **({"degree": 3, "coef0": 1} if kernel == "poly" else {})
    )
    ref = KernelRidge(alpha=1.0, kernel="precomputed").fit(
        gram(Kx, t, t, CHAIN, 0.8, 0.25), y, sample_weight=sw
    )
    X_new, t_new = rng.uniform(-2, 2, size=(9, 2)), rng.integers(0, 4, size=9)
    Kx_new = pairwise_kernels(
        X_new,
        X,
        metric=kernel,
        gamma=0.4,
        **({"degree": 3, "coef0": 1} if kernel == "poly" else {}),
    )
    np.testing.assert_allclose(
        est.predict(X_new, task_ids=t_new),
        ref.predict(gram(Kx_new, t_new, t, CHAIN, 0.8, 0.25)),
        rtol=1e-8,
    )
    np.testing.assert_allclose(est.dual_coef_[:3], 0.0)


def test_one_task_is_kernel_ridge_with_alpha_l2(rng):
    X, y, _ = smooth_data(rng)
    est = MultiTaskKernelRidge(alpha=7.0, l2=0.3, gamma=0.5).fit(X, y)
    ref = KernelRidge(alpha=0.3, kernel="rbf", gamma=0.5).fit(X, y)
    np.testing.assert_allclose(est.predict(X[:7]), ref.predict(X[:7]), rtol=1e-9)


@pytest.mark.parametrize("graph", [None, CHAIN])
def test_multi_output_eigen_equals_long_format(rng, graph):
    n, T = 25, 4
    X = rng.uniform(-2, 2, size=(n, 2))
    Y = np.sin(X[:, :1] * np.arange(1, T + 1)) + 0.1 * rng.normal(size=(n, T))
    sw = rng.uniform(0.3, 2, size=n)
    eig = MultiTaskKernelRidge(graph, alpha=1.5, l2=0.2, gamma=0.6).fit(X, Y, sample_weight=sw)
    chol = MultiTaskKernelRidge(graph, alpha=1.5, l2=0.2, gamma=0.6, solver="cholesky").fit(
        X, Y, sample_weight=sw
    )
    assert eig.solver_ == "eigen" and chol.solver_ == "cholesky"
    A = complete(T) if graph is None else graph
    t_long = np.repeat(np.arange(T), n)
    K = gram(np.tile(rbf_kernel(X, gamma=0.6), (T, T)), t_long, t_long, A, 1.5, 0.2)
    ref = KernelRidge(alpha=1.0, kernel="precomputed").fit(
        K, Y.T.ravel(), sample_weight=np.tile(sw, T)
    )
    np.testing.assert_allclose(eig.dual_coef_, ref.dual_coef_.reshape(T, n).T, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(chol.dual_coef_, eig.dual_coef_, rtol=1e-7, atol=1e-9)
    X_new = rng.uniform(-2, 2, size=(6, 2))
    K_new = gram(
        np.tile(rbf_kernel(X_new, X, gamma=0.6), (T, T)),
        np.repeat(np.arange(T), 6),
        t_long,
        A,
        1.5,
        0.2,
    )
    expected = ref.predict(K_new).reshape(T, 6).T
    np.testing.assert_allclose(eig.predict(X_new), expected, rtol=1e-8)
    np.testing.assert_allclose(
        eig.predict(X_new, task_ids=[0, 3, 1, 1, 2, 0]),
        expected[np.arange(6), [0, 3, 1, 1, 2, 0]],
        rtol=1e-8,
    )


def test_precomputed_kernel_and_task_column(rng):
    X, y, t = smooth_data(rng)
    ref = MultiTaskKernelRidge(CHAIN, alpha=2.0, gamma=0.5).fit(X, y, task_ids=t)
    pre = MultiTaskKernelRidge(CHAIN, alpha=2.0, kernel="precomputed").fit(
        rbf_kernel(X, gamma=0.5), y, task_ids=t
    )
    X_new, t_new = X[:5] + 0.1, t[:5]
    np.testing.assert_allclose(
        pre.predict(rbf_kernel(X_new, X, gamma=0.5), task_ids=t_new),
        ref.predict(X_new, task_ids=t_new),
        rtol=1e-10,
    )
    assert pre.__sklearn_tags__().input_tags.pairwise
    col = MultiTaskKernelRidge(CHAIN, alpha=2.0, gamma=0.5, task_column=0).fit(
        np.column_stack([t, X]), y
    )
    np.testing.assert_allclose(
        col.predict(np.column_stack([t_new, X_new])), ref.predict(X_new, task_ids=t_new), rtol=1e-10
    )


def test_nystroem_error_against_the_exact_solve(rng):
    n = 300
    X = rng.uniform(-2, 2, size=(n, 3))
    t = rng.integers(0, 4, size=n)
    y = np.sin(X @ [1.0, 0.5, -1.0]) + 0.3 * t + 0.1 * rng.normal(size=n)
    exact = MultiTaskKernelRidge(CHAIN, alpha=1.0, l2=0.1, gamma=0.3).fit(X, y, task_ids=t)
    X_new, t_new = rng.uniform(-2, 2, size=(200, 3)), rng.integers(0, 4, size=200)
    reference = exact.predict(X_new, task_ids=t_new)
    errors = {}
    for m in (25, 50, 100, n):
        approx = MultiTaskKernelRidge(
            CHAIN, alpha=1.0, l2=0.1, gamma=0.3, solver="nystroem", n_components=m, random_state=0
        ).fit(X, y, task_ids=t)
        pred = approx.predict(X_new, task_ids=t_new)
        errors[m] = np.linalg.norm(pred - reference) / np.linalg.norm(reference)
    assert errors[n] < 1e-8  # every row a landmark: the exact kernel
    assert errors[100] < 2e-2 and errors[50] < 0.1
    assert errors[25] > errors[50] > errors[100] > errors[n]
    assert approx.coef_.shape == (4, n) and not hasattr(approx, "dual_coef_")


def test_kernel_ridge_bad_input(rng):
    X, y, t = smooth_data(rng, n=20)
    K = rbf_kernel(X)
    with pytest.raises(ValueError, match="precomputed kernel matrix is not symmetric"):
        MultiTaskKernelRidge(kernel="precomputed").fit(K + np.triu(K, 1), y, task_ids=t)
    bad = K - 2 * np.outer(K[0], K[0])
    with pytest.raises(ValueError, match="not positive semi-definite"):
        MultiTaskKernelRidge(kernel="precomputed").fit(bad, y, task_ids=t)
    with pytest.raises(ValueError, match="square kernel matrix"):
        MultiTaskKernelRidge(kernel="precomputed").fit(K[:, :5], y, task_ids=t)
    with pytest.raises(ValueError, match=r"l2=0 makes E = alpha L \+ l2 I singular"):
        MultiTaskKernelRidge(CHAIN, l2=0.0).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="must take two rows x and z"):
        MultiTaskKernelRidge(kernel=lambda x, z: x - z).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match=r"kernel returned an array of shape"):
        MultiTaskKernelRidge(kernel=WrongShapeKernel()).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="not positive semi-definite"):
        MultiTaskKernelRidge(kernel=lambda x, z: -float(x @ z)).fit(X, y, task_ids=t)
    est = MultiTaskKernelRidge(CHAIN).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="unknown task labels 7"):
        est.predict(X[:2], task_ids=[0, 7])
    with pytest.raises(ValueError, match="pass task_ids"):
        est.predict(X[:2])
    with pytest.raises(ValueError, match="solver='eigen' needs multi-output"):
        MultiTaskKernelRidge(solver="eigen").fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="graph='learn' is not available"):
        MultiTaskKernelRidge("learn").fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="task_column cannot be used with kernel='precomputed'"):
        MultiTaskKernelRidge(kernel="precomputed", task_column=0).fit(K, y)


# -- MultiTaskSVR / MultiTaskSVC -------------------------------------------------------------


def test_one_task_svm_is_sklearn_svm_with_c_over_l2(rng):
    X, y, _ = smooth_data(rng, n=50)
    svr = MultiTaskSVR(C=3.0, l2=0.5, alpha=9.0, gamma=0.4, tol=1e-10).fit(X, y)
    ref = SVR(C=6.0, gamma=0.4, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(svr.predict(X), ref.predict(X), rtol=1e-6, atol=1e-8)
    labels = np.where(y > np.median(y), "hi", "lo")
    svc = MultiTaskSVC(C=3.0, l2=0.5, alpha=9.0, gamma=0.4, tol=1e-10).fit(X, labels)
    ref = SVC(C=6.0, gamma=0.4, tol=1e-10).fit(X, labels)
    np.testing.assert_allclose(
        svc.decision_function(X), ref.decision_function(X), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_array_equal(svc.classes_, ["hi", "lo"])


def test_alpha_zero_svm_is_one_svm_on_the_block_diagonal_kernel(rng):
    X, y, t = smooth_data(rng, n=60, T=3)
    labels = np.where(y > np.median(y), 1, -1)
    svc = MultiTaskSVC(CHAIN[:3, :3], alpha=0.0, l2=2.0, C=5.0, gamma=0.5, tol=1e-10).fit(
        X, labels, task_ids=t
    )
    same = (t[:, None] == t[None, :]) / 2.0
    ref = SVC(kernel="precomputed", C=5.0, tol=1e-10).fit(rbf_kernel(X, gamma=0.5) * same, labels)
    np.testing.assert_allclose(
        svc.decision_function(X, task_ids=t),
        ref.decision_function(rbf_kernel(X, gamma=0.5) * same),
        atol=1e-7,
    )


def _svm_primal(X, y, t, A, alpha, l2, C, sw, loss, epsilon=0.0):
    """min C sum_i s_i xi_i + 1/2 tr(W^T (alpha L + l2 I) W) as a QP, solved by an
    interior-point method (cvxpy's Clarabel) to 1e-11 and checked by its KKT conditions."""
    T, d, n = len(A), X.shape[1], len(y)
    E = alpha * laplacian(A) + l2 * np.eye(T)
    W, b, xi = cp.Variable((T, d)), cp.Variable(), cp.Variable(n)
    onehot = np.eye(T)[t]
    f = cp.sum(cp.multiply(onehot @ W, X), axis=1) + b
    root = np.linalg.cholesky(E).T  # tr(W^T E W) = ||R W||_F^2 with E = R^T R
    if loss == "hinge":
        margins = [xi >= 1 - cp.multiply(y, f)]
    else:
        margins = [xi >= y - f - epsilon, xi >= f - y - epsilon]
    constraints = [xi >= 0, *margins]
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(root @ W) + C * (sw @ xi)), constraints)
    eps = 1e-11
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=eps, tol_gap_rel=eps, tol_feas=eps)
    assert problem.status == cp.OPTIMAL, problem.status
    # KKT: stationarity in W (E W = sum_i mu_i x_i e_{t_i}^T), in b (sum_i mu_i = 0), and in
    # xi (0 <= |mu_i| <= C s_i): the solution is the optimum, not where a solver stopped
    if loss == "hinge":
        mu = y * margins[0].dual_value
    else:
        mu = margins[0].dual_value - margins[1].dual_value
    np.testing.assert_allclose(E @ W.value, onehot.T @ (mu[:, None] * X), atol=1e-7)
    assert abs(mu.sum()) < 1e-7
    assert np.all(np.abs(mu) <= C * sw + 1e-7)
    return W.value, float(b.value)


def _primal_coef(est, X, T):
    """w_s = sum_i c_i inv(E)[s, t_i] x_i from libsvm's dual coefficients (linear kernel)."""
    c = np.zeros(X.shape[0])
    c[est.support_] = est.dual_coef_[0]
    return np.array([(c * est.task_kernel_[s, est._fit_task_idx]) @ X for s in range(T)])


@pytest.mark.parametrize("loss", ["hinge", "epsilon_insensitive"])
def test_svm_solves_the_stated_primal_problem(rng, loss):
    T, d, n = 3, 2, 36
    t = np.repeat(np.arange(T), n // T)
    X = rng.normal(size=(n, d))
    W0 = rng.normal(size=(T, d))
    f0 = np.einsum("ij,ij->i", X, W0[t]) + 0.3 * rng.normal(size=n)
    A = CHAIN[:3, :3]
    sw = rng.uniform(0.5, 2, size=n)
    kw = dict(alpha=0.7, l2=0.5, C=2.0, kernel="linear", tol=1e-10)
    if loss == "hinge":
        y = np.sign(f0)
        est = MultiTaskSVC(A, **kw).fit(X, y, task_ids=t, sample_weight=sw)
        W, b = _svm_primal(X, y, t, A, 0.7, 0.5, 2.0, sw, "hinge")
    else:
        y = f0
        est = MultiTaskSVR(A, epsilon=0.2, **kw).fit(X, y, task_ids=t, sample_weight=sw)
        W, b = _svm_primal(X, y, t, A, 0.7, 0.5, 2.0, sw, "eps", epsilon=0.2)
    np.testing.assert_allclose(_primal_coef(est, X, T), W, atol=1e-5)
    np.testing.assert_allclose(est.intercept_, [b], atol=1e-5)
    X_new, t_new = rng.normal(size=(5, d)), [0, 1, 2, 2, 0]
    expected = np.einsum("ij,ij->i", X_new, W[t_new]) + b
    if loss == "hinge":
        np.testing.assert_allclose(
            est.decision_function(X_new, task_ids=t_new), expected, atol=1e-5
        )
    else:
        np.testing.assert_allclose(est.predict(X_new, task_ids=t_new), expected, atol=1e-5)


def test_svm_tasks_without_rows_precomputed_and_errors(rng):
    X, y, t = smooth_data(rng, n=40, T=2)
    labels = np.array(["a", "b"])[t]
    graph = [("a", "u"), ("u", "b")]
    est = MultiTaskSVR(graph, alpha=3.0, C=5.0, gamma=0.5).fit(X, y, task_ids=labels)
    pred_u = est.predict(X[:4], task_ids=["u"] * 4)
    assert np.all(np.isfinite(pred_u))
    pre = MultiTaskSVR(graph, alpha=3.0, C=5.0, kernel="precomputed").fit(
        rbf_kernel(X, gamma=0.5), y, task_ids=labels
    )
    np.testing.assert_allclose(
        pre.predict(rbf_kernel(X[:4], X, gamma=0.5), task_ids=["u"] * 4), pred_u, rtol=1e-8
    )
    with pytest.raises(ValueError, match=r"l2=0 makes E = alpha L \+ l2 I singular"):
        MultiTaskSVC(l2=0.0).fit(X, y > 0, task_ids=t)
    with pytest.raises(ValueError, match="unknown task labels 'z'"):
        est.predict(X[:1], task_ids=["z"])
    with pytest.raises(ValueError, match="not positive semi-definite"):
        MultiTaskSVC(kernel="precomputed").fit(-rbf_kernel(X), y > 0, task_ids=t)
