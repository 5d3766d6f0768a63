"""Data near overflow for the estimators other than MultiTaskGraphRegressor (whose cases are
in _cases_numerics.py): the CV searches, the Bayesian fit, the kernel machines. The
references are the same problems at unit scale: the objective is covariant under powers of
two (X by 2^k and the penalties by 2^-2k give the same predictions). Then every estimator
on sparse X and with a task of weight 0, against dense X and the fit without its rows."""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier, is_regressor

import mtreg
from adversarial import Case, issue_data
from mtreg import (
    BayesianMultiTaskGraphRegressor,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeCV,
)
from mtreg._solvers import SingularProblemError

GRID = np.array([0.1, 1.0, 10.0])


def _cv_scaled(cv, ex=0, es=0):
    """The CV search on X * 2^ex with weights 2^es and the grid scaled to match, and the
    same search at unit scale."""

    def run():
        X, y, t = issue_data()
        scale = 2.0 ** -(es + 2 * ex)
        fits = []
        for k, (Xk, s) in enumerate([(X, 1.0), (np.ldexp(X, ex), 2.0**es)]):
            grid = GRID if k == 0 else GRID / scale
            est = MultiTaskGraphRegressorCV(alphas=grid, l2s=grid, cv=cv)
            fits.append(est.fit(Xk, y, task_ids=t, sample_weight=np.full(60, s)))
        return fits, ex, X, t

    return run


def _cv_scaled_check(result):
    (ref, big), ex, X, t = result
    assert ref.best_index_ == big.best_index_
    np.testing.assert_allclose(
        big.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-9
    )
    np.testing.assert_allclose(np.ldexp(big.coef_, ex), ref.coef_, rtol=1e-9)
    np.testing.assert_allclose(big.intercept_, ref.intercept_, rtol=1e-9)
    np.testing.assert_allclose(
        big.predict(np.ldexp(X, ex), task_ids=t), ref.predict(X, task_ids=t), rtol=1e-9
    )


def _quiet(run):
    """run with NumPy's overflow warnings off: they come before the error, as they would
    in any NumPy code on such data (pytest makes them errors). The k-fold paths run in
    threads, which np.errstate does not reach."""

    def quiet():
        with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
            warnings.filterwarnings("ignore", "overflow|invalid value", RuntimeWarning)
            return run()

    return quiet


def _cv_huge_y(make, cv):
    def run():
        X, y, t = issue_data()
        make(cv=cv).fit(X, y * 1e154, task_ids=t)

    return _quiet(run)


def _bayes(scale_x=1.0, scale_y=1.0, weight=1.0):
    def run():
        X, y, t = issue_data()
        est = BayesianMultiTaskGraphRegressor()
        return est.fit(X * scale_x, y * scale_y, task_ids=t, sample_weight=np.full(60, weight))

    return run


def _bayes_weights_check(est):
    X, y, t = issue_data()
    ref = BayesianMultiTaskGraphRegressor().fit(X, y, task_ids=t)
    # two runs of the evidence maximisation: they agree to its tolerance (1.6e-9 on scipy 1.10)
    np.testing.assert_allclose(est.predict(X, task_ids=t), ref.predict(X, task_ids=t), rtol=1e-7)


_MOMENTS = "moments of the data.*reach.*too large.*rescale X, y or sample_weight"

CASES = [
    *[
        Case(
            f"regressor-cv-{name}-cv-{cv}",
            _cv_scaled(cv, **scales),
            check=_cv_scaled_check,
            fails_on="LinAlgError: the eigendecomposition of 3 task Gram matrices did not "
            "converge (the regressor itself rescales)",
        )
        for name, scales in [("X-2^400", {"ex": 400}), ("weights-2^1000", {"es": 1000})]
        for cv in (None, 3)
    ],
    *[
        Case(
            f"{make.__name__}-y-1e154-cv-{cv}",
            _cv_huge_y(make, cv),
            raises=ValueError,
            match="no grid point has a finite mean score.*rescale y",
            fails_on="cv=None: every score -inf, alpha_=0.1 (the first) chosen silently; "
            "cv=3: 'every grid point scored NaN; check the data and the scoring'",
        )
        for make in (MultiTaskGraphRegressorCV, MultiTaskKernelRidgeCV)
        for cv in (None, 3)
    ],
    *[
        Case(
            f"bayes-{name}",
            _quiet(_bayes(**scales)),
            raises=ValueError,
            match=_MOMENTS,
            fails_on="ValueError: array must not contain infs or NaNs (from scipy's cho_solve)",
        )
        for name, scales in [
            ("X-1e154", {"scale_x": 1e154}),
            ("y-1e154", {"scale_y": 1e154}),
            ("X-1e200", {"scale_x": 1e200}),
            ("weights-1e300", {"weight": 1e300}),
        ]
    ],
    Case(  # KFold(3) holds task 0 out: its w is pinned by penalties of 1e-309 relative
        "regressor-cv-X-1e154-task-held-out",
        lambda: MultiTaskGraphRegressorCV(cv=3).fit(
            issue_data()[0] * 1e154, issue_data()[1], task_ids=issue_data()[2]
        ),
        raises=SingularProblemError,
        match=r"singular.*X / 2\^513.*penalties are negligible.*rescale X",
        fails_on="LinAlgError: the eigendecomposition ... did not converge; then the scaled "
        "alpha=1.4e-310 without saying why",
    ),
    # uniform weights scale the noise variance only: no overflow, the same model
    Case("bayes-weights-1e200", _bayes(weight=1e200), check=_bayes_weights_check),
    Case(
        "kernel-ridge-X-1e154",
        _quiet(lambda: MultiTaskKernelRidge().fit(issue_data()[0] * 1e154, issue_data()[1])),
        raises=ValueError,
        match="NaN or infinite.*rescale X",
        fails_on="'the kernel returned NaN or infinite values.' without the cause",
    ),
]


# -- every estimator: sparse X and a task whose rows all weigh 0 -------------------------------

# every public estimator, those added later too
_PUBLIC = [getattr(mtreg, name) for name in mtreg.__all__]
_ESTIMATORS = [
    c
    for c in _PUBLIC
    if isinstance(c, type)
    and issubclass(c, BaseEstimator)
    and (is_classifier(c()) or is_regressor(c()))
]


def _scores(est, X, t):
    return (est.decision_function if is_classifier(est) else est.predict)(X, task_ids=t)


def _target(make):
    X, y, t = issue_data()
    return X, ((y > np.median(y)).astype(int) if is_classifier(make()) else y), t


def _sparse_vs_dense(make, fmt):
    def run():
        X, y, t = _target(make)
        Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
        sparse, dense = make().fit(Xs, y, task_ids=t), make().fit(X, y, task_ids=t)
        return _scores(sparse, Xs, t), _scores(dense, X, t)

    return run


def _zero_weight_task(make):
    """Task 2's rows all of weight 0 against the fit without them (task 2 kept in tasks):
    the same model, for the other tasks and (through the coupling) for task 2."""

    def run():
        X, y, t = _target(make)
        weighted = make().fit(X, y, task_ids=t, sample_weight=np.where(t == 2, 0.0, 1.0))
        keep = t < 2
        dropped = make(tasks=[0, 1, 2]).fit(X[keep], y[keep], task_ids=t[keep])
        return _scores(weighted, X, t), _scores(dropped, X, t)

    return run


def _same_scores(result):
    np.testing.assert_allclose(*result, rtol=1e-7, atol=1e-9)


CASES += [
    *[
        Case(f"sparse-{fmt}-{make.__name__}", _sparse_vs_dense(make, fmt), check=_same_scores)
        for make in _ESTIMATORS
        for fmt in ("csr", "csc")
    ],
    *[
        Case(f"zero-weight-task-{make.__name__}", _zero_weight_task(make), check=_same_scores)
        for make in _ESTIMATORS
    ],
]
