"""Graph-regularised linear classification as functions: the binary problems of one-vs-rest,
their objective, class weights, the check for a diverging logistic fit, probabilities."""

import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.optimize import linprog
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.class_weight import compute_class_weight

from .._objective import objective
from ._rows import solve_glm


def signs(y, positive):
    """The binary labels of one problem: +1 for the class ``positive``, else -1."""
    return np.where(y == positive, 1.0, -1.0)


def solve_one_vs_rest(X, y, task_idx, sw, graph, positives, init, *, loss, solver, **params):
    """One binary problem per class of ``positives`` (one in all for two classes).

    ``init(k)`` is the start of problem k (or None); ``params`` are those of
    :func:`solve_glm` (alpha, l2, l1, fit_intercept, tol, max_iter, verbose). Returns
    (coef, intercept, n_iter), coef (T, d) for one problem, else (K, T, d). With the
    logistic loss and l2 = l1 = 0, a ConvergenceWarning when the fit diverges.
    """
    fits = [
        solve_glm(
            X, signs(y, c), task_idx, sw, graph, loss=loss, solver=solver, init=init(k), **params
        )
        for k, c in enumerate(positives)
    ]
    if loss == "logistic" and np.min(params["l2"]) == 0 and params["l1"] == 0:
        for c, (W, b, _) in zip(positives, fits, strict=True):
            args = (task_idx, sw, graph, W, b, params["alpha"], params["fit_intercept"])
            warn_if_diverging(X, signs(y, c), *args, l2=params["l2"])
    coef, intercept, n_iter = (np.array(v) for v in zip(*fits, strict=True))
    if len(positives) == 1:
        coef, intercept = coef[0], intercept[0]
    return coef, intercept, n_iter


def one_vs_rest_objective(coef, intercept, X, y, task_idx, sw, graph, positives, **params):
    """The sum over the binary problems of J (``params``: alpha, l2, l1, loss)."""
    coef, intercept = coef.reshape(-1, *coef.shape[-2:]), intercept.reshape(-1, coef.shape[-2])
    return sum(
        objective(W, b, X, signs(y, c), task_idx, graph, sample_weight=sw, **params)
        for W, b, c in zip(coef, intercept, positives, strict=True)
    )


def class_weighted(y, classes, sample_weight, class_weight):
    """sample_weight times class_weight[y_i], as LogisticRegression weighs the rows."""
    if class_weight is None:
        return sample_weight
    kept = sample_weight > 0
    if isinstance(class_weight, str):  # "balanced", with the sample weights
        # sum(s) / (n_classes * weighted count of the class): compute_class_weight's rule
        # (it takes sample_weight from scikit-learn 1.7 on; written out for 1.6)
        counts = np.bincount(
            np.searchsorted(classes, y[kept]),
            weights=sample_weight[kept],
            minlength=len(classes),
        )
        weights = sample_weight[kept].sum() / (len(classes) * counts)
    else:
        weights = compute_class_weight(class_weight, classes=classes, y=y[kept])
    out = np.zeros_like(sample_weight)
    out[kept] = weights[np.searchsorted(classes, y[kept])] * sample_weight[kept]
    return out


def ovr_log_proba(scores):
    """log of the one-vs-rest probabilities sigmoid(s_k) / sum_j sigmoid(s_j), computed in
    log space: no NaN when every score is very negative."""
    log_p = -np.logaddexp(0.0, -scores)  # log sigmoid(s_k)
    top = log_p.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    log_p = log_p - top
    return log_p - np.log(np.exp(log_p).sum(axis=1, keepdims=True))


def class_log_proba(scores):
    """Log-probabilities of the classes from decision scores, without underflow: (n, 2)
    from the binary scores of shape (n,), else the normalised one-vs-rest ones; in the
    dtype of ``scores``."""
    s = scores.astype(np.float64)
    if s.ndim == 1:
        out = np.column_stack([-np.logaddexp(0.0, s), -np.logaddexp(0.0, -s)])
    else:
        out = ovr_log_proba(s)
    return out.astype(scores.dtype, copy=False)


def class_proba(scores):
    """Probabilities of the classes from decision scores, as :func:`class_log_proba`."""
    s = scores.astype(np.float64)
    if s.ndim == 1:
        p = 0.5 * (1.0 + np.tanh(0.5 * s))  # sigmoid, without overflow; inf -> 1
        return np.column_stack([1.0 - p, p]).astype(scores.dtype, copy=False)
    return np.exp(ovr_log_proba(s)).astype(scores.dtype, copy=False)


def warn_if_diverging(X, y, task_idx, sample_weight, graph, W, b, alpha, fit_intercept, l2=0.0):
    """With l2 = 0, warn when a model the coupling does not penalise separates the rows.
    With per-feature penalties only the features of l2_j = 0 enter that model (free per
    task where alpha_j = 0, constant on each component of the graph elsewhere).

    The logistic loss then has no finite minimiser: J decreases without end along that
    model, and the solver stops wherever ``tol`` stops it. Checked (a feasibility linear
    program) only when the fitted model classifies every row of the two-class tasks.
    """
    T = graph.n_tasks
    kept = (sample_weight > 0) & np.isfinite(b)[task_idx]  # one-class tasks: b = +-inf
    if not kept.any():
        return
    X, y, task_idx = X[kept], y[kept], task_idx[kept]
    X = sp.csr_matrix(X) if sp.issparse(X) else np.asarray(X)
    rows_W = W[task_idx]
    scores = np.asarray(X.multiply(rows_W).sum(axis=1)).ravel() if sp.issparse(X) else None
    scores = np.einsum("id,id->i", X, rows_W) if scores is None else scores
    if (y * (scores + b[task_idx])).min() <= 0:
        return  # the fitted model does not separate the rows
    P = graph.laplacian(dense=True)
    d = X.shape[1]
    alpha, free = np.broadcast_to(alpha, (d,)), np.broadcast_to(l2, (d,)) == 0
    null = scipy.linalg.null_space(P) if (alpha[free] > 0).any() else None
    # constraint of row i: y_i (sum_{j free} sum_k N_j[t_i, k] x_ij v_jk + b_{t_i}) >= 1,
    # with N_j the columns that W_{:, j} = N_j v_j leaves unpenalised
    blocks = []
    for j in np.flatnonzero(free):
        N = np.eye(T) if alpha[j] == 0 else null.copy()
        N[np.abs(N) < 1e-12] = 0.0
        column = sp.csr_matrix(X[:, [j]])
        blocks += [sp.diags(N[task_idx, k]) @ column for k in range(N.shape[1])]
    if fit_intercept:
        n = len(y)
        blocks.append(sp.csr_matrix((np.ones(n), (np.arange(n), task_idx)), shape=(n, T)))
    if not blocks:
        return
    A = -sp.diags(y) @ sp.hstack(blocks).tocsr()
    lp = linprog(
        np.zeros(A.shape[1]), A_ub=A, b_ub=-np.ones(len(y)), bounds=(None, None), method="highs"
    )
    if lp.status == 0:
        warnings.warn(
            "the training rows are linearly separable by a model that the coupling does "
            "not penalise, and l2=0: the logistic loss has no finite minimiser and the "
            "coefficients diverge (coef_ is where the solver stopped). Set l2 > 0.",
            ConvergenceWarning,
            stacklevel=6,  # the frame it named from the estimator module
        )
