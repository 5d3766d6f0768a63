"""Numerical edge cases (issue 12 section 1 and the hangs of section 2): extreme scales,
a huge coupling, (nearly) singular problems. References are exact rational solves
(tests/_reference.py: exact_solve), independent of every floating-point route."""

from functools import cache

import numpy as np
from _reference import exact_solve
from sklearn.exceptions import ConvergenceWarning

from adversarial import CHAIN, Case, issue_data
from mtreg import MultiTaskGraphClassifier, MultiTaskGraphRegressor
from mtreg._solvers import SingularProblemError

COMPLETE = np.ones((3, 3)) - np.eye(3)
MOMENT_SOLVERS = ("cholesky", "pcg")
ROW_SOLVERS = ("newton", "lbfgs", "fista")
RTOL = {"cholesky": 1e-12, "woodbury": 1e-12, "pcg": 1e-9, "newton": 1e-9}  # others: 1e-6


@cache
def _exact(scale_x=1.0, scale_y=1.0, weight=1.0, graph="chain", alpha=1.0, l2=1.0, dup=False):
    X, y, t = _data(scale_x, scale_y, dup)
    A = CHAIN if graph == "chain" else COMPLETE
    return exact_solve(X, y, t, 3, A, alpha, l2, sample_weight=np.full(60, weight))


def _data(scale_x=1.0, scale_y=1.0, dup=False):
    X, y, t = issue_data()
    if dup:
        X = np.column_stack([X, X[:, 0]])
    return X * scale_x, y * scale_y, t


def _fit(solver, scale_x=1.0, scale_y=1.0, weight=1.0, graph="chain", alpha=1.0, l2=1.0, dup=False):
    X, y, t = _data(scale_x, scale_y, dup)
    A = CHAIN if graph == "chain" else COMPLETE
    est = MultiTaskGraphRegressor(A, alpha=alpha, l2=l2, solver=solver)
    return est.fit(X, y, task_ids=t, sample_weight=np.full(60, weight))


def _case(name, solver, fails_on="", **problem):
    def check(est):
        W, b = _exact(**problem)
        rtol = RTOL.get(solver, 1e-6)
        np.testing.assert_allclose(est.coef_, W, rtol=rtol, atol=rtol * np.abs(W).max())
        np.testing.assert_allclose(est.intercept_, b, rtol=rtol, atol=rtol * np.abs(b).max())

    return Case(f"{name}-{solver}", lambda: _fit(solver, **problem), check=check, fails_on=fails_on)


def _classifier_on_huge_X(solver):
    X, y, t = issue_data()
    labels = np.where(y > np.median(y), 1, 0)
    est = MultiTaskGraphClassifier(CHAIN, solver=solver).fit(X * 1e300, labels, task_ids=t)
    return est.score(X * 1e300, labels, task_ids=t)


def _accurate_classifier(score):
    # alpha and l2 are negligible next to |X|^2 = 1e600: nearly unregularised logistic
    # regression, which separates these classes well (0.97 with alpha = l2 = 1e-10)
    assert score >= 0.95, score


CASES = [
    *[
        _case("X-times-1e300", s, "coef_ = 0 (cholesky, lbfgs), singular (pcg)", scale_x=1e300)
        for s in MOMENT_SOLVERS + ROW_SOLVERS
    ],
    *[
        _case("y-times-1e160", s, "pcg 12 % off; fista never returned", scale_y=1e160)
        for s in MOMENT_SOLVERS + ROW_SOLVERS
    ],
    *[
        _case("sample-weight-1e300", s, "lbfgs gave 0", weight=1e300)
        for s in MOMENT_SOLVERS + ROW_SOLVERS
    ],
    *[
        Case(
            f"classifier-X-times-1e300-{s}",
            lambda s=s: _classifier_on_huge_X(s),
            check=_accurate_classifier,
            fails_on="0.52 training accuracy; fista never returned",
        )
        for s in ROW_SOLVERS
    ],
    Case(
        "X-times-1e-300-penalties-overflow",
        lambda: _fit("cholesky", scale_x=1e-300),
        raises=ValueError,
        match="overflow double precision",
    ),
    *[_case("alpha-1e15-chain", s, "off by 2e-3 to 6e-3", alpha=1e15) for s in MOMENT_SOLVERS],
    *[
        _case("alpha-1e15-complete", s, "off by 2e-3 to 6e-3", alpha=1e15, graph="complete")
        for s in (*MOMENT_SOLVERS, "woodbury")
    ],
    Case(  # accurate, and honest that its gradient test cannot be met in double precision
        "alpha-1e15-chain-newton",
        lambda: _fit("newton", alpha=1e15),
        warns=ConvergenceWarning,
        match="rounding",
        check=_case("x", "newton", alpha=1e15).check,
    ),
    Case(
        "alpha-1e15-chain-lbfgs-warns",
        lambda: _fit("lbfgs", alpha=1e15),
        warns=ConvergenceWarning,
        match="did not converge",
    ),
    *[
        _case("duplicated-column-l2-1e-15", s, "split 3 % off", l2=1e-15, dup=True)
        for s in MOMENT_SOLVERS + ROW_SOLVERS
    ],
    *[
        _case(
            "duplicated-column-l2-1e-15-complete",
            s,
            "woodbury split 3 % off",
            l2=1e-15,
            dup=True,
            graph="complete",
        )
        for s in ("woodbury", "cholesky", "pcg", "lbfgs")
    ],
    *[
        Case(
            f"duplicated-column-l2-0-{s}",
            lambda s=s: _fit(s, l2=0.0, dup=True, graph="complete" if s == "woodbury" else "chain"),
            raises=SingularProblemError,
            match="singular .l2=0.*duplicated",
            fails_on="pcg, lbfgs, fista fitted silently" if s in ("pcg", "lbfgs", "fista") else "",
        )
        for s in ("woodbury", *MOMENT_SOLVERS, *ROW_SOLVERS)
    ],
]


def _few_rows(solver):
    r = np.random.default_rng(1)
    X, t, y = r.normal(size=(6, 4)), np.repeat([0, 1, 2], 2), r.normal(size=6)
    return MultiTaskGraphRegressor(CHAIN, alpha=0.0, l2=0.0, solver=solver).fit(X, y, task_ids=t)


CASES += [
    Case(
        f"two-rows-per-task-d4-alpha0-l2-0-{s}",
        lambda s=s: _few_rows(s),
        raises=SingularProblemError,
        match="fewer rows than features",
        fails_on="lbfgs, fista fitted silently" if s in ("lbfgs", "fista") else "",
    )
    for s in (*MOMENT_SOLVERS, *ROW_SOLVERS)
]
