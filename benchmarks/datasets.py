"""The benchmarks' data sets, one seeded function per problem, each a
:class:`benchmarks.objective.Problem`; the real data's loading and splits."""

import os
import pathlib
import tempfile

import numpy as np

import mtreg.datasets
from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor
from mtreg.datasets import make_multitask_classification, make_multitask_regression

from .objective import ALPHA, L2, Problem, child, timed


def synthetic(n_tasks, n_samples, n_features, *, structure="knn", loss="squared", seed=0, **kw):
    """``make_multitask_regression`` (or ``_classification``) as a Problem; the complete
    structure is the estimators' default graph. ``kw``: n_neighbors, feature_scale."""
    make = make_multitask_regression if loss == "squared" else make_multitask_classification
    X, y, t, graph = make(n_tasks, n_samples, n_features, **kw, structure=structure,
                          random_state=seed)  # fmt: skip
    return Problem(X, y, t, graph, loss=loss, default_graph=structure == "complete")


def school_sized(n_tasks=139):
    """T = 139 schools of 20..200 rows, d = 27 unscaled 0/1 and 0..100 features, the
    default complete graph: the size and conditioning of the school data."""
    return synthetic(n_tasks, (20, 200), 27, structure="complete", feature_scale="mixed")


def knn_tasks(n_tasks, n_samples, n_features, n_neighbors=10, seed=0):
    """Standardised features, the symmetric ``n_neighbors``-NN task graph (sparse)."""
    return synthetic(n_tasks, n_samples, n_features, n_neighbors=n_neighbors, seed=seed)


def multi_output(n_samples, n_features, n_tasks, n_neighbors=10):
    """All tasks at the same X: (X, Y of shape (n, T), adjacency)."""
    knn = dict(structure="knn", n_neighbors=n_neighbors, shared_X=True, random_state=0)
    X, Y, _, graph = make_multitask_regression(n_tasks, n_samples, n_features, **knn)
    return X, Y, graph


def landmine_sized():
    """T = 29 tasks of 400..630 rows, d = 9, logistic loss, the default complete graph."""
    return synthetic(29, (400, 630), 9, structure="complete", loss="logistic")


def knn_classification(n_tasks=1000, n_samples=200, n_features=50):
    """Logistic loss on the symmetric 10-NN task graph."""
    return synthetic(n_tasks, n_samples, n_features, loss="logistic")


def regressor(problem, make=MultiTaskGraphRegressor, **params):
    """A MultiTaskGraphRegressor (or ``make``) on the problem's graph, alpha = l2 = 1."""
    return make(problem.estimator_graph, alpha=ALPHA, l2=L2, **params)


def classifier(problem, **params):
    return regressor(problem, MultiTaskGraphClassifier, **params)


def _fit_rows(make_estimator, **params):
    return lambda p: make_estimator(p, **params).fit(p.X, p.y, task_ids=p.t)


# The first fits timed in fresh interpreters (``cold_row``), per suite (later cases reuse kernels)
COLD_START = {
    "regressor": {
        "task_ids, default complete graph": (school_sized, _fit_rows(regressor)),
        "task_ids, sparse kNN graph": (lambda: knn_tasks(400, 20, 20), _fit_rows(regressor)),
        "multi-output, kNN graph": (lambda: multi_output(1000, 50, 100),
                                    lambda p: MultiTaskGraphRegressor(p[2]).fit(p[0], p[1])),
    },
    "classifier": {
        f"{solver}, complete graph (a)": (landmine_sized, _fit_rows(classifier, solver=solver))
        for solver in ("newton", "lbfgs", "fista")
    } | {"newton, kNN graph, T d = 5,000 (pcg inside)": (
        lambda: knn_classification(500, 20, 10), _fit_rows(classifier, solver="newton"))},
}  # fmt: skip


def cold_fits(cfg):
    """Fresh interpreter: "import mtreg" -> seconds, each case -> dict(first, warm, solver)."""
    out = {"import mtreg": cfg["imported"]}
    for name, (make, fit) in COLD_START[cfg["suite"]].items():
        problem = make()
        runs = [timed(lambda f=fit, p=problem: f(p)) for _ in range(cfg["n_fits"])]
        out[name] = dict(first=runs[0][0], warm=min(s for s, _ in runs[1:]))
        out[name]["solver"] = runs[-1][1].solver_
    return out


def cold_row(suite, n_fits=None):
    """The "cold" row: first fits in fresh interpreters, with an empty numba cache (compiles),
    then with the cache filled (``cold_fits``)."""
    cfg = dict(suite=suite, n_fits=n_fits or (5 if suite == "regressor" else 4))
    with tempfile.TemporaryDirectory() as cache:
        runs = [child(cold_fits, cfg, NUMBA_CACHE_DIR=cache) for _ in range(2)]
    return dict(kind="cold", suite=suite, compiled=runs[0], cached=runs[1])


# --- the scale suite: one planted model, rows generated block by block -------------------------

NOISE = 1.0


class Planted:
    """A planted kNN-structured linear model (coef, intercept, graph); block k of its stream
    of rows is drawn from the generator seeded (seed, k)."""

    def __init__(self, n_tasks, n_features, n_neighbors=10, seed=0):
        knn = dict(structure="knn", n_neighbors=n_neighbors, coef=True, random_state=seed)
        made, self.seed = make_multitask_regression(n_tasks, 1, n_features, **knn), seed
        self.graph, self.coef, self.intercept = made[3:]

    def rows(self, first_block, n_blocks, block, weights=False):
        """Rows of blocks first_block.. first_block + n_blocks - 1, the same however grouped
        into chunks; y = x . w_t + b_t + noise, filled in place (a chunk's size plus a block)."""
        (T, d), m = self.coef.shape, n_blocks * block
        X, y, t = np.empty((m, d)), np.empty(m), np.empty(m, dtype=np.int64)
        s = np.empty(m) if weights else None
        for j in range(n_blocks):
            rng = np.random.default_rng([self.seed, first_block + j])
            rows = slice(j * block, (j + 1) * block)
            rng.standard_normal(out=X[rows])
            t[rows] = rng.integers(0, T, size=block)
            y[rows] = np.einsum("ij,ij->i", X[rows], self.coef[t[rows]])
            y[rows] += self.intercept[t[rows]] + NOISE * rng.standard_normal(block)
            if weights:
                s[rows] = rng.uniform(0.5, 2.0, size=block)
        return (X, y, t, s) if weights else (X, y, t)

    def dask_arrays(self, n_rows, chunk):
        """Lazy dask arrays whose chunk k is ``rows(k, 1, chunk)``, built where it runs."""
        import dask
        import dask.array as da

        d = self.coef.shape[1]
        parts = [dask.delayed(self.rows, nout=3)(k, 1, chunk) for k in range(n_rows // chunk)]
        shapes, dtypes = [(chunk, d), (chunk,), (chunk,)], [np.float64, np.float64, np.int64]
        return [da.concatenate([da.from_delayed(q[j], shapes[j], dtype=dtypes[j]) for q in parts])
                for j in range(3)]  # fmt: skip

    def estimator(self, **params):
        tasks = np.arange(self.coef.shape[0])  # chunks need not show every task
        return MultiTaskGraphRegressor(self.graph, alpha=ALPHA, l2=L2, tasks=tasks, **params)


# --- the threads suite -------------------------------------------------------------------------


def threads_problem(solver, T, d, seed=0):
    """max(50, 2 d) rows per task; a chain graph for cholesky, the default graph otherwise."""
    r = np.random.default_rng(seed)
    t = np.repeat(np.arange(T), max(50, 2 * d))
    X = r.normal(size=(len(t), d))
    y = np.einsum("ij,ij->i", X, r.normal(size=(T, d))[t]) + r.normal(size=len(t))
    A = np.diag(np.ones(T - 1), 1)
    graph = A + A.T if solver == "cholesky" else None
    return MultiTaskGraphRegressor(graph, solver=solver), (X, y, t)


# --- real data (the accuracy suite) ---------------------------------------------------------------


def find_data_home():
    """(folder, None) or (None, why not): MTREG_DATA, else ../shared/data beside the
    checkout. A MTREG_DATA that names no folder is an error, not a reason to look elsewhere."""
    if named := os.environ.get("MTREG_DATA"):
        ok = pathlib.Path(named).is_dir()
        return (pathlib.Path(named), None) if ok else (None, f"MTREG_DATA={named} is not a folder")
    beside = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
    why = f"MTREG_DATA is not set and {beside} does not exist"
    return (beside, None) if beside.is_dir() else (None, why)


def load(name, home):
    """(Bunch of ``mtreg.datasets.load_<name>``, None), or (None, reason) when missing."""
    try:
        return getattr(mtreg.datasets, f"load_{name}")(data_home=str(home)), None
    except (FileNotFoundError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"


def split(groups, fraction, rng, at_least=0):
    """(train, test) rows: ``fraction`` of every group's rows for training (at least
    ``at_least``); the groups are tasks, or (task, class) cells for a stratified split."""
    cells = (np.flatnonzero(groups == g) for g in np.unique(groups))
    train = [rng.choice(i, max(at_least, round(fraction * i.size)), replace=False) for i in cells]
    train = np.sort(np.concatenate(train))
    return train, np.setdiff1d(np.arange(len(groups)), train)


def rolling_later(groups, time, origins, horizon):
    """[(train, test)] rows, a pair per origin q (q + horizon <= 1): a group of n rows trains
    on its rows earlier than its row round(q n) in time order (from 0) and tests on the rest
    earlier than its row round((q + horizon) n) (or all). Rows of one time (a session) stay
    on one side of a cut: every test row is later than the training rows of its group."""
    splits = []
    for q in origins:
        cut, end = np.empty(len(time)), np.empty(len(time))
        for g in np.unique(groups):
            rows = groups == g
            ts = np.append(np.sort(time[rows]), np.inf)
            cut[rows], end[rows] = (ts[round(f * (ts.size - 1))] for f in (q, q + horizon))
        splits.append((np.flatnonzero(time < cut), np.flatnonzero((time >= cut) & (time < end))))
    return splits
