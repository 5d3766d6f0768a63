"""The benchmarks' data sets: one function per problem, all from ``mtreg.datasets``.

Every synthetic problem is seeded (``random_state=0`` unless said) so that a rerun
times the same problem. Each returns an :class:`benchmarks.objective.Problem`, whose J
judges every contender's answer.
"""

from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor
from mtreg.datasets import make_multitask_classification, make_multitask_regression

from .objective import ALPHA, L2, Problem


def synthetic(
    n_tasks,
    n_samples,
    n_features,
    *,
    structure="knn",
    n_neighbors=10,
    feature_scale=None,
    seed=0,
    loss="squared",
    name="",
):
    """``make_multitask_regression`` (``make_multitask_classification`` for a classification
    loss) as a Problem; the complete structure is the estimators' default graph."""
    make = make_multitask_regression if loss == "squared" else make_multitask_classification
    X, y, t, graph = make(
        n_tasks,
        n_samples,
        n_features,
        structure=structure,
        n_neighbors=n_neighbors,
        feature_scale=feature_scale,
        random_state=seed,
    )
    return Problem(X, y, t, graph, loss=loss, default_graph=structure == "complete", name=name)


def school_sized(n_tasks=139):
    """T = 139 schools of 20..200 rows, d = 27 unscaled 0/1 and 0..100 features, the
    default complete graph: the size and conditioning of the school data."""
    return synthetic(n_tasks, (20, 200), 27, structure="complete", feature_scale="mixed")


def knn_tasks(n_tasks, n_samples, n_features, n_neighbors=10, seed=0):
    """Standardised features, the symmetric ``n_neighbors``-NN task graph (sparse)."""
    return synthetic(n_tasks, n_samples, n_features, n_neighbors=n_neighbors, seed=seed)


def multi_output(n_samples, n_features, n_tasks, n_neighbors=10):
    """All tasks at the same X: (X, Y of shape (n, T), adjacency)."""
    X, Y, _, graph = make_multitask_regression(
        n_tasks,
        n_samples,
        n_features,
        structure="knn",
        n_neighbors=n_neighbors,
        shared_X=True,
        random_state=0,
    )
    return X, Y, graph


def landmine_sized():
    """T = 29 tasks of 400..630 rows, d = 9, logistic loss, the default complete graph."""
    return synthetic(29, (400, 630), 9, structure="complete", loss="logistic")


def knn_classification(n_tasks=1000, n_samples=200, n_features=50):
    """Logistic loss on the symmetric 10-NN task graph."""
    return synthetic(n_tasks, n_samples, n_features, loss="logistic")


def regressor(problem, **params):
    """A MultiTaskGraphRegressor on the problem's graph (alpha = l2 = 1)."""
    return MultiTaskGraphRegressor(problem.estimator_graph, alpha=ALPHA, l2=L2, **params)


def classifier(problem, **params):
    return MultiTaskGraphClassifier(problem.estimator_graph, alpha=ALPHA, l2=L2, **params)


def _fit_rows(make_estimator, **params):
    return lambda p: make_estimator(p, **params).fit(p.X, p.y, task_ids=p.t)


# The first fits timed in fresh interpreters (``objective.cold_start``), per suite: later
# cases reuse kernels compiled by earlier ones.
COLD_START = {
    "regressor": {
        "task_ids, default complete graph": (school_sized, _fit_rows(regressor)),
        "task_ids, sparse kNN graph": (lambda: knn_tasks(400, 20, 20), _fit_rows(regressor)),
        "multi-output, kNN graph": (
            lambda: multi_output(1000, 50, 100),
            lambda p: MultiTaskGraphRegressor(p[2]).fit(p[0], p[1]),
        ),
    },
    "classifier": {
        f"{solver}, complete graph (a)": (landmine_sized, _fit_rows(classifier, solver=solver))
        for solver in ("newton", "lbfgs", "fista")
    }
    | {
        "newton, kNN graph, T d = 5,000 (pcg inside)": (
            lambda: knn_classification(500, 20, 10),
            _fit_rows(classifier, solver="newton"),
        )
    },
}
