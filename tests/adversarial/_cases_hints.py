"""The docstrings' promises that the type-hint and docstring pass (issue 15) put in words.

The estimators that need a fixed task graph say in their ``graph`` description that the
graphs built from the data ("knn", "similarity", "learn") are not available; fit says so
with a ValueError naming the estimator. The hints leave scikit-learn's parameters alone.
"""

from sklearn.base import clone

from adversarial import Case, issue_data
from mtreg import (
    MultiTaskGraphRegressor,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeCV,
    MultiTaskSVR,
)

FIXED = (MultiTaskGraphRegressorCV, MultiTaskKernelRidge, MultiTaskKernelRidgeCV, MultiTaskSVR)


def _fit(cls, graph):
    def run():
        X, y, t = issue_data()
        return cls(graph=graph).fit(X, y, task_ids=t)

    return run


def _params_unchanged(est):
    assert clone(est).get_params() == est.get_params()
    assert set(est.get_params()) >= {"graph", "alpha", "l2", "solver"}


CASES = [
    Case(
        f"fixed-graph-{cls.__name__}-{graph}",
        _fit(cls, graph),
        raises=ValueError,
        match=f"graph='{graph}' is not available for {cls.__name__}",
        fails_on="the docstring listed the graph as accepted",
    )
    for cls in FIXED
    for graph in ("knn", "learn")
] + [
    Case(
        "hints-leave-get-params-and-clone-alone",
        _fit(MultiTaskGraphRegressor, "knn"),
        check=_params_unchanged,
    )
]
