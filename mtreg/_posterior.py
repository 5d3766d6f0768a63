"""The empirical Bayes fit of the graph-prior linear model from merge-able moments: the
starting values, the evidence maximisation (:mod:`mtreg._evidence`), the posterior of each
task and of a new one, and the predictive variance. The estimator layer
(:mod:`mtreg.bayes`) validates and stores; everything it computes is here."""

import threading
import warnings
from dataclasses import dataclass, fields

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._evidence import LOG_RANGE, Evidence, Moments
from ._maximise import maximise_evidence
from ._solvers._rows import long_format
from ._solvers._scaling import OVERFLOW_WAY_OUT
from ._solvers._threads import threads_for
from ._tasks import TaskStats, task_stats

# what fit sets from the moments (partial_fit computes it on demand), and what predict reads
FITTED = (
    "coef_",
    "intercept_",
    "alpha_",
    "l2_",
    "alpha_intercept_",
    "noise_variance_",
    "log_marginal_likelihood_",
    "scores_",
    "n_iter_",
    "posterior_covariance_",
    "_population",
)
SNAPSHOT = ("coef_", "intercept_", "posterior_covariance_", "_population", "noise_variance_")


@dataclass
class EvidenceStats:
    """The per-task moments the evidence needs, additive over chunks of rows (:meth:`merge`).

    ``stats`` the :class:`~mtreg._tasks.TaskStats` (centred with ``centred``), ``yty``
    (T,) the weighted sum of squares of y about the task means (raw without centring),
    ``n_rows`` the rows of positive weight and ``log_weight`` the sum of their log weights.
    """

    stats: TaskStats
    yty: np.ndarray
    n_rows: int
    log_weight: float
    centred: bool

    def merge(self, other):
        """The moments of the rows of both (the yty of Chan, Golub & LeVeque's update)."""
        na, nb = self.stats.weight_sum, other.stats.weight_sum
        n = na + nb
        factor = na * np.divide(nb, n, out=np.zeros_like(n), where=n > 0)
        dy = other.stats.y_mean - self.stats.y_mean
        return EvidenceStats(
            self.stats.merge(other.stats),
            self.yty + other.yty + factor * dy**2,
            self.n_rows + other.n_rows,
            self.log_weight + other.log_weight,
            self.centred,
        )

    def moments(self, intercept):
        """The :class:`~mtreg._evidence.Moments` for intercepts "flat", "coupled", "none"."""
        st = self.stats
        W = st.weight_sum
        gram, xty, yty = st.gram, st.xty, self.yty
        x_mean, y_mean = st.x_mean, st.y_mean
        if intercept == "coupled":  # the raw moments of [X_t, 1], from the centred ones
            T, d = xty.shape
            sums, ysum = W[:, None] * x_mean, W * y_mean
            full = np.zeros((T, d + 1, d + 1))
            full[:, :d, :d] = gram + W[:, None, None] * x_mean[:, :, None] * x_mean[:, None, :]
            full[:, :d, d] = full[:, d, :d] = sums
            full[:, d, d] = W
            xty = np.column_stack([xty + ysum[:, None] * x_mean, ysum])
            gram, yty = full, yty + W * y_mean**2
            x_mean, y_mean = np.zeros_like(x_mean), np.zeros_like(y_mean)
        return Moments(gram, xty, yty, self.n_rows, self.log_weight, x_mean, y_mean, W, intercept)


def evidence_stats(X, y, task_idx, sample_weight, n_tasks, centred):
    """The :class:`EvidenceStats` of long-format rows (centred per task with ``centred``)."""
    s = np.asarray(sample_weight, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    stats = task_stats(X, y, task_idx, s, n_tasks, centred)
    resid = y - stats.y_mean[task_idx]
    yty = np.bincount(task_idx, weights=s * resid**2, minlength=n_tasks).astype(np.float64)
    positive = s > 0
    log_weight = float(np.log(s[positive]).sum())
    return EvidenceStats(stats, yty, int(np.count_nonzero(positive)), log_weight, centred)


def chunk_stats(X, y, task_idx, sample_weight, n_tasks, intercept):
    """The :class:`EvidenceStats` of validated rows; ``task_idx`` None: multi-output y (every
    column a task at the same X), taken in long format."""
    if task_idx is None:
        X, y, task_idx, sample_weight = long_format(X, y, sample_weight)
    return evidence_stats(X, y, task_idx, sample_weight, n_tasks, intercept != "none")


def evidence_moments(X, y, task_idx, sample_weight, n_tasks, intercept):
    """The :class:`~mtreg._evidence.Moments` of long-format rows; ``intercept`` "flat",
    "coupled" or "none"."""
    centred = intercept != "none"
    return evidence_stats(X, y, task_idx, sample_weight, n_tasks, centred).moments(intercept)


@dataclass
class Settings:
    """The estimator's hyper-parameter settings that the fit reads (see
    :class:`mtreg.BayesianMultiTaskGraphRegressor` for their meaning)."""

    feature_scales: str
    l2: object  # "learn", a float or an array (n_features,)
    alpha_init: object
    alpha_intercept_init: object
    optimizer: object
    tol: float
    max_iter: int

    @classmethod
    def names(cls):
        """The names of the settings (those of the estimator's parameters)."""
        return [f.name for f in fields(cls)]


def _per_feature(value, d, name):
    """A positive (or, for l2, non-negative) float or (d,) array as a (d,) array, or a
    ValueError naming it."""
    given = np.asarray(value, dtype=np.float64)
    low_ok = np.all(given >= 0) if name == "l2" else np.all(given > 0)
    if given.ndim > 1 or given.size not in (1, d) or not low_ok or not np.all(np.isfinite(given)):
        sign = "non-negative" if name == "l2" else "positive"
        raise ValueError(
            f"{name} must be a {sign} float or {d} {sign} values (one per feature), got {value!r}."
        )
    return np.broadcast_to(given.ravel(), (d,)).copy()


def is_array(value):
    return value is not None and not isinstance(value, str) and np.ndim(value) == 1


def start_values(mom, d, cfg):
    """(alpha, l2, groups) per coordinate: the starting values and the free parameters."""
    q = mom.gram.shape[1]
    observed = mom.weight_sum > 0
    scale = np.ones(q)
    if observed.any():
        diag = np.diagonal(mom.gram[observed], axis1=1, axis2=2)
        # with flat intercepts the blocks are centred per task: a feature constant within
        # each task (a school-level one) leaves rounding there (1e-30), which is no scale;
        # the raw sums of squares judge it, and give the scale where no task varies
        raw = diag.copy()
        raw[:, :d] += mom.weight_sum[observed, None] * mom.x_mean[observed] ** 2
        scale = np.median(np.where(diag > 1e-12 * raw, diag, 0.0), axis=0)
        scale = np.where(scale > 0, scale, np.median(raw, axis=0))
    alpha = np.where(scale > 0, scale, 1.0)
    shared = cfg.feature_scales == "shared"
    if cfg.alpha_init is not None:
        if shared and is_array(cfg.alpha_init) and cfg.optimizer is not None:
            raise ValueError(
                "feature_scales='shared' learns one alpha: give a float alpha_init, or "
                "feature_scales='per_feature' (or optimizer=None to keep the array fixed)."
            )
        alpha[:d] = _per_feature(cfg.alpha_init, d, "alpha_init")
    if q > d and cfg.alpha_intercept_init is not None:
        alpha[d] = cfg.alpha_intercept_init
    if shared and cfg.alpha_init is None:
        alpha[:d] = np.exp(np.log(alpha[:d]).mean())
    learn_l2 = isinstance(cfg.l2, str)
    l2 = np.zeros(q)
    l2[:d] = _l2_start(mom, d, alpha) if learn_l2 else _per_feature(cfg.l2, d, "l2")
    groups = -np.ones((2, q), dtype=np.int64)
    if cfg.optimizer is not None:
        groups[0, :d] = 0 if shared else np.arange(d)
        n = groups[0].max() + 1
        if q > d:
            groups[0, d], n = n, n + 1
        if learn_l2:
            groups[1, :d] = n if shared else n + np.arange(d)
    return alpha, l2, groups


def _l2_start(mom, d, alpha):
    """l2 with which the prior variance of the tasks' mean, sigma^2 / (T l2), is the square
    of the pooled least-squares coefficient (an empirical Bayes guess from the moments),
    within [1e-8, 1] times alpha."""
    gram, xty = mom.gram.sum(axis=0), mom.xty.sum(axis=0)
    ridge = 1e-10 * max(np.trace(gram), 1e-300) * np.eye(len(gram))
    pooled = np.linalg.solve(gram + ridge, xty)
    rows, yty = max(mom.n_rows, 1), mom.yty.sum()
    # a pooled fit with as many coefficients as rows interpolates y and says nothing of the
    # noise: then all of y's variance is the guess (else l2 started near 0, where the
    # posterior interpolates y too, F is flat and L-BFGS-B stopped at its first point)
    free = mom.n_rows - mom.n_flat_intercepts - len(gram)
    sigma2 = max(yty - pooled @ xty if free > 0 else yty, 1e-12 * yty) / rows
    T = len(mom.xty)
    guess = sigma2 / np.maximum(T * pooled[:d] ** 2, 1e-300)
    return np.clip(guess, 1e-8 * alpha[:d], alpha[:d])


def fit_evidence(mom, graph, cfg, stacklevel=2):
    """The fitted attributes {name: value} of the estimator, from the moments and graph; a
    ConvergenceWarning when the maximisation stops early."""
    d = mom.x_mean.shape[1]
    alpha, l2, groups = start_values(mom, d, cfg)
    evidence = Evidence(mom, graph)
    # the evidence makes many small LAPACK calls (T of q x q with Woodbury): one BLAS thread
    # below ONE_THREAD_WORK, as the direct solves (2 threads made school's fit 3-5x slower)
    dense = evidence.form is None and not evidence.sparse
    search = dict(
        tol=cfg.tol,
        max_iter=cfg.max_iter,
        log_range=LOG_RANGE["factorised" if evidence.form is None else "woodbury"],
        boundary=evidence.form is not None,
    )
    with threads_for("cholesky" if dense else "woodbury", *mom.xty.shape):
        shared = _shared_groups(groups, d) if cfg.alpha_init is None else None
        first, first_iter = [], 0
        if shared is not None:  # the per-feature model nests the shared one: start at its best
            alpha, l2, _, _, first, first_iter, problem = maximise_evidence(
                evidence, alpha, l2, shared, **search
            )
        alpha, l2, F, post, scores, n_iter, problem = maximise_evidence(
            evidence, alpha, l2, groups, **search
        )
        scores, n_iter = np.concatenate([first[:-1], scores]), first_iter + n_iter
    if problem is not None:
        warnings.warn(
            f"the evidence maximisation {problem}.", ConvergenceWarning, stacklevel=stacklevel + 1
        )
    sigma2 = post.noise_variance
    coef, intercept, cov = _task_posterior(mom, post, sigma2, d)
    shared = cfg.feature_scales == "shared"
    array_alpha = not shared or (is_array(cfg.alpha_init) and cfg.optimizer is None)
    array_l2 = is_array(cfg.l2) or (isinstance(cfg.l2, str) and not shared)
    return {
        "coef_": coef,
        "intercept_": intercept,
        "alpha_": alpha[:d].copy() if array_alpha else float(alpha[0]),
        "l2_": l2[:d].copy() if array_l2 else float(l2[0]),
        "alpha_intercept_": float(alpha[d]) if mom.intercept == "coupled" else None,
        "noise_variance_": float(sigma2),
        "log_marginal_likelihood_": F,
        "scores_": scores,
        "n_iter_": n_iter,
        "posterior_covariance_": cov,
        "_population": _population(mom, post, alpha, l2, sigma2, intercept, d),
    }


def _shared_groups(groups, d):
    """The groups of the shared model nested in a per-feature one (one alpha and one l2
    for the d features), or None when ``groups`` has no per-feature parameter."""
    per_feature = [len(np.unique(g[:d][g[:d] >= 0])) > 1 for g in groups]
    if not any(per_feature):
        return None
    shared = groups.copy()
    n = 0
    for row, g in enumerate(groups):
        features = g[:d] >= 0
        if features.any():
            shared[row, :d][features] = n
            n += 1
        if row == 0 and len(g) > d and g[d] >= 0:
            shared[0, d] = n
            n += 1
    return shared


def _task_posterior(mom, post, sigma2, d):
    """(coef, intercept, covariance of [w_t, b_t]) from the posterior of the coordinates."""
    theta, cov = post.theta, sigma2 * post.cov
    if mom.intercept != "flat":
        coef = theta[:, :d]
        intercept = theta[:, d] if mom.intercept == "coupled" else np.zeros(len(theta))
        return coef.copy(), intercept.copy(), cov
    # flat intercepts: b_t = ybar_t - xbar_t . w_t, with variance sigma^2 / W_t beyond w_t's
    T = len(theta)
    observed = mom.weight_sum > 0
    coef = theta.copy()
    xbar = np.where(observed[:, None], mom.x_mean, 0.0)
    intercept = mom.y_mean - np.einsum("tj,tj->t", xbar, coef)
    full = np.zeros((T, d + 1, d + 1))
    full[:, :d, :d] = cov
    full[:, :d, d] = full[:, d, :d] = -np.einsum("tij,tj->ti", cov, xbar)
    inv_w = np.divide(sigma2, mom.weight_sum, out=np.zeros(T), where=observed)
    full[:, d, d] = np.einsum("ti,tij,tj->t", xbar, cov, xbar) + inv_w
    if observed.any() and not observed.all():  # tasks without rows: the mean intercept
        b, spread = intercept[observed].mean(), intercept[observed].var()
        intercept[~observed] = b
        full[~observed, d, d] = spread + sigma2 / max(observed.sum(), 1)
    return coef, intercept, full


def _population(mom, post, alpha, l2, sigma2, intercept, d):
    """(w, b, covariance of [w, b]) of a new task joined to every task by weight 1/T."""
    T, q = post.theta.shape
    precision = alpha + l2
    shrink = np.divide(alpha, precision, out=np.ones(q), where=precision > 0)
    mean = shrink * post.theta.mean(axis=0)
    cov = sigma2 * shrink[:, None] * post.cov_sum * shrink[None, :] / T**2
    cov += np.diag(np.divide(sigma2, precision, out=np.zeros(q), where=precision > 0))
    if mom.intercept != "flat":
        w = mean[:d]
        b = mean[d] if mom.intercept == "coupled" else 0.0
        return w, b, cov
    observed = mom.weight_sum > 0
    full = np.zeros((d + 1, d + 1))
    full[:d, :d] = cov
    b = intercept[observed].mean() if observed.any() else 0.0
    full[d, d] = intercept[observed].var() + sigma2 / max(observed.sum(), 1)
    return mean, b, full


def with_population(coef, intercept, population):
    """coef and intercept with the population model appended as task T (unseen tasks)."""
    w, b, _ = population
    return np.vstack([coef, w]), np.append(intercept, b)


def predictive_std(Z, task_idx, cov, population, noise_variance):
    """The predictive standard deviation of y at the rows Z (dense, (n, d)), for a row of
    weight 1: sqrt(z^T C_t z + sigma^2) with z = [x, 1] when ``cov`` has the intercept;
    one column per task when ``task_idx`` is None, else task T is the population model."""
    if cov.shape[1] > Z.shape[1]:
        Z = np.column_stack([Z, np.ones(Z.shape[0])])
    if task_idx is None:
        var = np.einsum("ni,tij,nj->nt", Z, cov, Z)
    else:
        cov = np.concatenate([cov, population[2][None]])
        var = np.einsum("ni,nij,nj->n", Z, cov[task_idx], Z)
    return np.sqrt(np.maximum(var, 0.0) + noise_variance)


# the evidence multiplies moments by hyper-parameters and adds them up: near 1e308 they
# overflow (NaN hyper-parameters, an error from deep in scipy); 1e300 leaves room
MOMENT_LIMIT = 1e300


def check_moments_in_range(mom):
    """A ValueError that names the cause when a moment is beyond :data:`MOMENT_LIMIT`."""
    top = max(np.abs(a).max(initial=0.0) for a in (mom.gram, mom.xty, mom.yty, mom.weight_sum))
    if not top <= MOMENT_LIMIT:  # also NaN
        reach = f"{top:.3g}" if np.isfinite(top) else "an overflow"
        raise ValueError(
            f"the weighted moments of the data (X^T S X, X^T S y, y^T S y, sum of S) reach "
            f"{reach}, beyond what the evidence can use ({MOMENT_LIMIT:g}): |X|, |y| or "
            "sample_weight is too large (about 1e150 or more). The Bayesian fit does not "
            f"rescale them: {OVERFLOW_WAY_OUT} (the fit is covariant: the hyper-parameters "
            "follow)."
        )


class LazyEvidenceFit:
    """The fit that partial_fit leaves for later: run once, by the first thread that asks
    (the others wait for it); a failed fit is tried again."""

    def __init__(self, stats, graph, intercept, cfg):
        self.stats, self.graph, self.intercept, self.cfg = stats, graph, intercept, cfg
        self._result = None
        self._lock = threading.Lock()

    def result(self, stacklevel=2):
        """{name: value} of :func:`fit_evidence` on the chunks' moments."""
        with self._lock:
            if self._result is None:
                mom = self.stats.moments(self.intercept)
                check_moments_in_range(mom)
                self._result = fit_evidence(mom, self.graph, self.cfg, stacklevel + 2)
            return self._result

    def __getstate__(self):  # a lock does not pickle
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state):
        self.__dict__.update(state, _lock=threading.Lock())
