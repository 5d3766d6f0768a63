"""Estimator gaps of issues 11 and 12 that hold across every estimator (the single cases are
in tests/adversarial/_cases_estimators.py)."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge
from sklearn.utils._param_validation import InvalidParameterError

import mtreg
from mtreg._base import IntInterval

ESTIMATORS = [
    getattr(mtreg, name)
    for name in mtreg.__all__
    if isinstance(getattr(mtreg, name), type) and hasattr(getattr(mtreg, name), "fit")
]
INT_PARAMS = [
    (cls, name)
    for cls in ESTIMATORS
    for name, options in cls._parameter_constraints.items()
    if isinstance(options, list) and any(isinstance(c, IntInterval) for c in options)
]


def test_int_parameters_are_found():
    names = {(cls.__name__, name) for cls, name in INT_PARAMS}
    assert ("MultiTaskGraphRegressor", "max_iter") in names
    assert ("MultiTaskSVC", "degree") in names
    assert len({cls for cls, _ in INT_PARAMS}) == len(ESTIMATORS)  # task_column everywhere


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
@pytest.mark.parametrize(("cls", "name"), INT_PARAMS, ids=lambda v: getattr(v, "__name__", v))
def test_every_int_parameter_refuses_bools(cls, name, value):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 3)), np.tile([0, 1], 6)
    with pytest.raises(InvalidParameterError, match=f"'{name}'.*not a bool"):
        cls(**{name: value}).fit(X, y)


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_multi_output_and_streaming(sparse):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(30, 3)).astype(np.float32), rng.normal(size=(30, 2))
    Xin = sp.csr_matrix(X) if sparse else X
    est = mtreg.MultiTaskGraphRegressor(alpha=0.0, l2=1.0).fit(Xin, Y)
    assert est.coef_.dtype == est.predict(Xin).dtype == np.float32
    ridge = Ridge(alpha=1.0).fit(X, Y)  # sklearn: float32 too, and the same numbers
    np.testing.assert_allclose(est.coef_, ridge.coef_, rtol=1e-5)
    stream = mtreg.MultiTaskGraphRegressor(alpha=0.0, l2=1.0)
    stream.partial_fit(Xin[:15], Y[:15]).partial_fit(Xin[15:], Y[15:])
    assert stream.coef_.dtype == np.float32
    np.testing.assert_allclose(stream.coef_, ridge.coef_, rtol=1e-5)
