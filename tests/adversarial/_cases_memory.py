"""Memory blow-ups (issue 12 section 2): memory follows the data, or a MemoryError names
the size and the way out before anything large is allocated."""

import tracemalloc

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import Ridge

from adversarial import Case
from mtreg import MultiTaskGraphRegressor

PEAK_LIMIT = 300 * 2**20  # bytes a case may trace at its peak


def _wide_sparse():
    X = sp.random(200, 20_000, density=1e-3, random_state=0, format="csr")
    return X, np.random.default_rng(0).normal(size=200)


def _fit_wide_sparse():
    X, y = _wide_sparse()
    tracemalloc.start()
    try:
        # tol: the default 1e-10 is at the rounding floor of lbfgs here (it warns so)
        est = MultiTaskGraphRegressor(tol=1e-8).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return est, peak


def _matches_ridge(result):
    est, peak = result
    assert est.solver_ == "lbfgs", est.solver_
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB"
    X, y = _wide_sparse()
    ref = Ridge(alpha=1.0, solver="lsqr", tol=1e-12).fit(X, y)  # one task: plain ridge
    np.testing.assert_allclose(est.coef_[0], ref.coef_, atol=1e-6)
    np.testing.assert_allclose(est.intercept_[0], ref.intercept_, atol=1e-6)


def _multi_output_l1():
    X = np.random.default_rng(0).normal(size=(20_000, 300))  # 48 MB
    Y = np.zeros((20_000, 200))
    return MultiTaskGraphRegressor(l1=0.1).fit(X, Y)


CASES = [
    Case(
        "sparse-wide-X-auto-solver",
        _fit_wide_sparse,
        check=_matches_ridge,
        fails_on="numba 'Allocation failed' (the default solver formed d x d moments)",
    ),
    Case(
        "sparse-wide-X-cholesky-memory-error",
        lambda: MultiTaskGraphRegressor(solver="cholesky").fit(*_wide_sparse()),
        raises=MemoryError,
        match=r"6\.0 GiB.*solver='lbfgs'",
    ),
    Case(
        "multi-output-l1-tile-memory-error",
        _multi_output_l1,
        raises=MemoryError,
        match=r"GiB.*l1=0",
        fails_on="tiled X per task: 3.6 GB for 48 MB of data",
    ),
]
