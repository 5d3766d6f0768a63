"""Exact rescaling of data whose magnitudes would overflow or underflow double precision.

J is covariant under scaling: with X = 2^ex X', y = 2^ey y' (squared loss only) and
s = 2^es s',

    J(W, b; X, y, s, alpha, l2, l1) = 2^(es + 2 ey) J(W', b'; X', y', s', alpha', l2', l1')

with W = 2^(ey - ex) W', b = 2^ey b', alpha' = 2^-(es + 2 ex) alpha, l2' likewise and
l1' = 2^-(es + ex + ey) l1 (ey = 0 for the classification losses, whose y is +-1). Powers
of two multiply exactly, so the minimiser of the scaled problem is that of the original
one; the solvers then never see squares of 1e300 (the moments, the squared residuals)
nor of 1e-300. Data within [2^-SCALE_LIMIT, 2^SCALE_LIMIT] are left as they are.
"""

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .. import _jit

SCALE_LIMIT = 100  # in powers of two: about 1e30 and 1e-30

OVERFLOW_WAY_OUT = "rescale X, y or sample_weight (for example to unit scale) and alpha, l2, l1"


def _exponent(values):
    """The power of two that brings the largest |value| near 1, or 0 when in range."""
    values = values.data if sp.issparse(values) else np.asarray(values)
    if values.dtype == np.float64 and (values.flags.c_contiguous or values.flags.f_contiguous):
        top = _jit.largest_magnitude(values.reshape(-1, order="A"))  # a view; one pass
    else:  # max |value| without the array of |values| (NaN stays NaN, as in abs().max())
        top = np.fmax(values.max(initial=0.0), -values.min(initial=0.0))
    top = float(top)
    if top == 0.0 or not math.isfinite(top):
        return 0
    exponent = math.frexp(top)[1]
    return exponent if abs(exponent) > SCALE_LIMIT else 0


@dataclass(frozen=True)
class Scaling:
    """Powers of two of X, y and the sample weights (see the module docstring)."""

    ex: int = 0
    ey: int = 0
    es: int = 0

    @property
    def trivial(self):
        return self.ex == self.ey == self.es == 0

    def rows(self, X, y, sample_weight):
        if self.trivial:  # 2^0 changes nothing: no copies of the rows
            return X, y, sample_weight
        X = X.multiply(2.0**-self.ex).tocsr() if sp.issparse(X) else np.ldexp(X, -self.ex)
        return X, np.ldexp(y, -self.ey), np.ldexp(sample_weight, -self.es)

    def penalties(self, alpha, l2, l1=0.0):
        """(alpha', l2', l1') of the scaled problem; an error when one overflows.
        Per-feature alpha and l2 (arrays) are scaled entry by entry, as one exponent
        scales every column of X."""
        with np.errstate(over="ignore"):  # an overflow is reported below
            scaled = (
                _ldexp(alpha, -(self.es + 2 * self.ex)),
                _ldexp(l2, -(self.es + 2 * self.ex)),
                _ldexp(l1, -(self.es + self.ex + self.ey)),
            )
        if not all(np.all(np.isfinite(v)) for v in scaled):
            raise ValueError(
                f"the data are too small for the penalties alpha={alpha}, l2={l2}, "
                f"l1={l1}: relative to |X|^2 * sample_weight (about 2^"
                f"{self.es + 2 * self.ex}) they overflow double precision. "
                f"To fit, {OVERFLOW_WAY_OUT}."
            )
        return scaled

    def coef(self, W, b, squared=True):
        """(W, b) of the original problem from those of the scaled one."""
        with np.errstate(over="ignore"):  # an overflow is reported below
            W, b = np.ldexp(W, self.ey - self.ex), np.ldexp(b, self.ey)
        check_finite_solution(W, b, squared)
        return W, b

    def scaled_coef(self, W, b):
        """The inverse of :meth:`coef` (for a warm start)."""
        return np.ldexp(W, self.ex - self.ey), np.ldexp(b, -self.ey)


def _ldexp(value, exponent):
    """value * 2^exponent: a float stays a float, an array an array."""
    scaled = np.ldexp(np.asarray(value, dtype=np.float64), exponent)
    return float(scaled) if scaled.ndim == 0 else scaled


def data_scaling(X, y, sample_weight, *, squared):
    """The :class:`Scaling` that brings X, y (squared loss) and the weights near 1 (their
    largest magnitudes: any power of two scales exactly, so only overflow depends on it)."""
    return Scaling(_exponent(X), _exponent(y) if squared else 0, _exponent(sample_weight))


def check_finite_solution(W, b, squared=True):
    """A solution that does not fit in double precision is an overflow, said as such.
    (The classification losses may leave +-inf intercepts: tasks of one class.)"""
    bad_b = ~np.isfinite(b) if squared else np.isnan(b)
    if not np.all(np.isfinite(W)) or bad_b.any():
        raise ValueError(
            "the coefficients overflow double precision: the minimiser of J has entries "
            f"beyond 1.8e308 for these data. To fit, {OVERFLOW_WAY_OUT}."
        )
