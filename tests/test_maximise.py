"""The evidence maximisation with the variance components that run to zero pinned at the
boundary (mtreg._maximise): the answer is the maximum that plain L-BFGS-B in log space
crawls to, in fewer evaluations, and a pinned parameter whose KKT condition fails is
released."""

from types import SimpleNamespace

import numpy as np
import pytest

from mtreg import BayesianMultiTaskGraphRegressor, _evidence, _maximise, _posterior
from mtreg._maximise import BACK, _Search, maximise_evidence

POST = SimpleNamespace(exact=False)


def _quadratic_in_variance(v_best):
    """An evidence of one precision alpha, F = -((v - v_best) / |v_best|)^2 - 1 in the
    variance v = 1 / alpha: its maximum at the boundary v = 0 (alpha = inf) when v_best
    < 0, F = -2 there."""
    calls = []

    def evidence(alpha, l2):
        calls.append(alpha[0])
        v, scale = 1.0 / alpha[0], abs(v_best)
        dF_dv = -2.0 * (v - v_best) / scale**2
        F = -(((v - v_best) / scale) ** 2) - 1.0
        return F, np.array([-dF_dv * v**2]), np.zeros(1), POST

    return evidence, calls


def _fit(evidence, boundary):
    groups = np.array([[0], [-1]])
    return maximise_evidence(
        evidence,
        np.array([1.0]),
        np.array([0.0]),
        groups,
        tol=1e-10,
        max_iter=500,
        log_range=200.0,
        boundary=boundary,
    )


def test_a_precision_at_the_boundary_is_pinned_in_fewer_evaluations():
    evidence, pinned_calls = _quadratic_in_variance(-0.5)
    alpha, _, F, *_, problem = _fit(evidence, True)
    plain, plain_calls = _quadratic_in_variance(-0.5)
    alpha_plain, _, F_plain, *_ = _fit(plain, False)
    assert problem is None
    # F(inf) = -2: the pin leaves DEFICIT of L-BFGS-B's gtol (1e-6); plain L-BFGS-B crawls
    # until the derivative is below its gtol (1e-4)
    assert -2.0 - 2e-6 <= F <= -2.0 and F_plain <= F
    assert alpha[0] > 1e4 and alpha_plain[0] > 1e3
    assert len(pinned_calls) < len(plain_calls)


def test_an_interior_maximum_is_not_pinned():
    evidence, _ = _quadratic_in_variance(1e-3)
    alpha, _, F, *_ = _fit(evidence, True)
    np.testing.assert_allclose(alpha, 1e3, rtol=1e-3)
    np.testing.assert_allclose(F, -1.0, rtol=1e-9)


@pytest.mark.parametrize("v_best, released", [(1e-8, True), (-1e-8, False)])
def test_the_kkt_check_releases_a_pin_that_asks_for_variance(v_best, released):
    """Pinned at alpha = 1e12: below the pin (BACK in log) dF/dlog alpha < 0 when the
    maximum is at v_best > 0, and the pin is released; it stays when v_best < 0."""
    evidence, _ = _quadratic_in_variance(v_best)
    search = _Search(evidence, np.array([[1.0], [0.0]]), np.array([[0], [-1]]), 200.0)
    search.deficit = 1e-30
    search.pinned[0], search.pins[0] = True, np.log(1e12)
    search.negative(np.zeros(1))
    assert search.release() is released
    assert bool(search.pinned[0]) is not released and bool(search.barred[0]) is released
    if released:  # the search goes on from below the pin
        np.testing.assert_allclose(search.cache["x"], np.log(1e12) - BACK)


def _random_slopes(seed=5, T=40, n=800):
    """A mixed model whose second random slope has variance 0."""
    r = np.random.default_rng(seed)
    t = np.arange(n) % T
    X = r.normal(size=(n, 3))
    W = np.array([1.0, -0.5, 0.25]) + r.normal(size=(T, 3)) * [0.5, 0.0, 0.3]
    y = np.einsum("ij,ij->i", X, W[t]) + 0.5 * r.normal(size=T)[t] + r.normal(size=n)
    return X, y, t


def test_mixed_model_singular_fit_is_the_plain_maximum(monkeypatch):
    """The slope of variance 0 is pinned (alpha_ large, dF/dlog alpha >= 0 and below
    L-BFGS-B's gtol there, from an independent evaluation of the evidence), the others
    are at a stationary point, and F is plain L-BFGS-B's to 1e-9 in under three quarters
    of its evaluations."""
    X, y, t = _random_slopes()
    calls = []
    call = _evidence.Evidence.__call__
    monkeypatch.setattr(
        _evidence.Evidence, "__call__", lambda self, a, b: calls.append(1) or call(self, a, b)
    )
    est = BayesianMultiTaskGraphRegressor(l2=0.0).fit(X, y, task_ids=t)
    pinned = len(calls)
    maximise = _maximise.maximise_evidence
    plain = lambda *args, **kwargs: maximise(*args, **{**kwargs, "boundary": False})  # noqa: E731
    monkeypatch.setattr(_posterior, "maximise_evidence", plain)
    ref = BayesianMultiTaskGraphRegressor(l2=0.0).fit(X, y, task_ids=t)
    assert pinned < 0.75 * (len(calls) - pinned)
    F = est.log_marginal_likelihood_
    np.testing.assert_allclose(F, ref.log_marginal_likelihood_, rtol=1e-9)
    np.testing.assert_allclose(est.alpha_[[0, 2]], ref.alpha_[[0, 2]], rtol=1e-3)
    np.testing.assert_allclose(est.noise_variance_, ref.noise_variance_, rtol=1e-5)
    assert est.alpha_[1] > 1e6
    mom = _posterior.evidence_moments(X, y, t, np.ones(len(y)), 40, "coupled")
    alpha = np.append(est.alpha_, est.alpha_intercept_)
    F_again, g_alpha, _, _ = _evidence.Evidence(mom, est.graph_)(alpha, np.zeros(4))
    np.testing.assert_allclose(F_again, F, rtol=1e-13)
    slope = g_alpha * alpha  # dF/dlog alpha
    assert 0 <= slope[1] <= 1e-4 + 1e-10 * abs(F)
    assert np.abs(slope[[0, 2, 3]]).max() < 1e-3
