"""Shared by the per-feature tests: data, graphs and the independent references (the
normal equations written with kron / np.diag from the definition of J, scipy's L-BFGS-B on
the logistic J, the grid search done by hand); no mtreg code."""

import numpy as np
import scipy.sparse as sp

T, D = 5, 4
TASKS = np.arange(T + 1)  # task 5 has no rows
ALPHA = np.array([0.0, 0.5, 3.0, 20.0])
L2 = np.array([0.3, 0.0, 2.0, 0.05])


def laplacian(A):
    A = (np.asarray(A, float) + np.asarray(A, float).T) / 2
    np.fill_diagonal(A, 0.0)
    return np.diag(A.sum(axis=1)) - A


def dense(X, y, t, n_tasks, A, alpha, l2, sw=None):
    """The normal equations in (vec W, b): data part from the rows, penalty
    kron(L, diag(alpha)) + kron(I, diag(l2)); b only for tasks with rows."""
    n, d = X.shape
    sw = np.ones(n) if sw is None else sw
    seen = np.unique(t[sw > 0])
    Phi = np.zeros((n, n_tasks * d + len(seen)))
    for i in range(n):
        Phi[i, t[i] * d : (t[i] + 1) * d] = X[i]
        if sw[i] > 0:
            Phi[i, n_tasks * d + np.searchsorted(seen, t[i])] = 1.0
    P = np.zeros((Phi.shape[1],) * 2)
    alpha = np.broadcast_to(np.asarray(alpha, float), (d,))
    l2 = np.broadcast_to(np.asarray(l2, float), (d,))
    P[: n_tasks * d, : n_tasks * d] = np.kron(laplacian(A), np.diag(alpha)) + np.kron(
        np.eye(n_tasks), np.diag(l2)
    )
    theta = np.linalg.solve(Phi.T @ (sw[:, None] * Phi) + P, Phi.T @ (sw * y))
    b = np.full(n_tasks, np.nan)
    b[seen] = theta[n_tasks * d :]
    return theta[: n_tasks * d].reshape(n_tasks, d), b


def grad_J(W, b, X, y, t, A, alpha, l2, sw):
    """dJ/dW and dJ/db written from J (squared loss)."""
    r = y - np.einsum("ij,ij->i", X, W[t]) - b[t]
    gW = np.zeros_like(W)
    np.add.at(gW, t, -2.0 * (sw * r)[:, None] * X)
    gW += 2.0 * (laplacian(A) @ W) * alpha + 2.0 * W * l2
    gb = np.bincount(t, weights=-2.0 * sw * r, minlength=len(W))
    return gW, gb


def data(seed=0, n_per_task=9):
    rng = np.random.default_rng(seed)
    t = np.repeat(np.arange(T), n_per_task)
    X = rng.normal(size=(len(t), D)) + rng.normal(size=D)
    W = rng.normal(size=(T, D))
    y = np.einsum("ij,ij->i", X, W[t]) + rng.normal(size=T)[t] + 0.1 * rng.normal(size=len(t))
    sw = rng.uniform(0.2, 2.0, size=len(t))
    sw[:3] = 0.0
    return X, y, t, sw


def graphs():
    rng = np.random.default_rng(1)
    n = T + 1
    complete = (np.ones((n, n)) - np.eye(n)) / n
    knn = np.zeros((n, n))
    for s in range(n):  # a ring: each task linked to its next one
        knn[s, (s + 1) % n] = knn[(s + 1) % n, s] = 1.0
    directed = np.triu(rng.uniform(0.5, 2.0, size=(n, n)), 1) * (rng.uniform(size=(n, n)) < 0.7)
    directed[0, 1] = 1.0
    directed[3, 5] = 0.8  # the task without rows is linked
    weighted = rng.uniform(0.0, 3.0, size=(n, n))
    weighted = (weighted + weighted.T) / 2
    np.fill_diagonal(weighted, 0.0)
    return {
        "complete": (None, complete),
        "knn": (sp.csr_matrix(knn), knn),
        "directed": (directed, directed),
        "weighted": (weighted, weighted),
    }


GRAPHS = graphs()
SOLVER_GRAPHS = [
    ("woodbury", "complete"),
    *[(s, g) for s in ("cholesky", "pcg", "newton", "lbfgs") for g in GRAPHS],
    ("fista", "knn"),
]


def rtol(solver):
    return {"woodbury": 1e-9, "cholesky": 1e-9, "pcg": 1e-7}.get(solver, 1e-5)


def logistic_reference(X, y, t, n_tasks, A, alpha, l2, sw):
    """Minimise the logistic J (y in {-1, +1}) written here, by scipy's L-BFGS-B."""
    from scipy.optimize import minimize

    L, d = laplacian(A), X.shape[1]

    def J(theta):
        W, b = theta[: n_tasks * d].reshape(n_tasks, d), theta[n_tasks * d :]
        f = np.einsum("ij,ij->i", X, W[t]) + b[t]
        m = -y * f
        value = sw @ np.logaddexp(0.0, m)
        value += np.sum(alpha * np.einsum("st,sj,tj->j", L, W, W)) + np.sum(l2 * W**2)
        g = -sw * y / (1.0 + np.exp(-m))
        gW = np.zeros_like(W)
        np.add.at(gW, t, g[:, None] * X)
        gW += 2.0 * (L @ W) * alpha + 2.0 * W * l2
        return value, np.r_[gW.ravel(), np.bincount(t, weights=g, minlength=n_tasks)]

    theta = np.zeros(n_tasks * (d + 1))
    res = minimize(
        J, theta, jac=True, method="L-BFGS-B", options=dict(gtol=1e-12, ftol=0, maxiter=10000)
    )
    return res.x[: n_tasks * d].reshape(n_tasks, d), res.x[n_tasks * d :]


L2S = np.array([[0.1, 10.0, 0.1, 10.0], [10.0, 0.1, 10.0, 0.1], [1.0, 1.0, 1.0, 1.0]])


def search_reference(X, y, t, A, alphas, l2s, folds, sw=None):
    """The grid search done by hand: dense solves on each fold's training rows, scored by
    the weighted held-out squared error (or R^2 per fold)."""
    sw = np.ones(len(y)) if sw is None else sw
    scores = np.zeros((len(folds), len(alphas) * len(l2s)))
    for k, (train, test) in enumerate(folds):
        for g, (a, l2) in enumerate((a, l2) for a in alphas for l2 in l2s):
            W, b = dense(X[train], y[train], t[train], T, A, a, l2, sw[train])
            pred = np.einsum("ij,ij->i", X[test], W[t[test]]) + b[t[test]]
            resid = sw[test] @ (y[test] - pred) ** 2
            mean = np.average(y[test], weights=sw[test])
            scores[k, g] = 1.0 - resid / (sw[test] @ (y[test] - mean) ** 2)
    return scores.mean(axis=0)
