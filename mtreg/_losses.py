"""The one registry of losses: every part of mtreg that needs to know a loss reads it here.

Each :class:`Loss` carries its name (parameter validation), the code of the numba kernels
(:mod:`mtreg._jit`), its NumPy value and derivative (the objective of :mod:`mtreg._objective`,
which tests and benchmarks judge every solver by), a bound on its curvature (the step-size
guess of the first-order solvers), and whether it is the squared loss (the one solved from the
per-task moments, and scaled as y^2).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _jit


def _squared(y, f):
    r = f - y
    return r**2, 2.0 * r


def _logistic(y, f):
    m = y * f
    return np.logaddexp(0.0, -m), -y * np.exp(-np.logaddexp(0.0, m))


def _squared_hinge(y, f):
    gap = np.maximum(0.0, 1.0 - y * f)
    return gap**2, -2.0 * y * gap


@dataclass(frozen=True)
class Loss:
    """loss(y, f) of one row: y the target ({-1, +1} for classification), f the decision."""

    name: str
    code: int  # the loss code of the numba kernels
    value_and_derivative: Callable  # (y, f) -> (loss values, d loss / d f), in NumPy
    curvature: float  # sup of d^2 loss / d f^2: 2 for the squares, 1/4 for the logistic
    classification: bool


LOSSES = {
    loss.name: loss
    for loss in (
        Loss("squared", _jit.SQUARED, _squared, 2.0, classification=False),
        Loss("logistic", _jit.LOGISTIC, _logistic, 0.25, classification=True),
        Loss("squared_hinge", _jit.SQUARED_HINGE, _squared_hinge, 2.0, classification=True),
    )
}
CLASSIFICATION_LOSSES = tuple(name for name, loss in LOSSES.items() if loss.classification)


def get_loss(name):
    """The :class:`Loss` called ``name``; a ValueError lists the known ones."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, got {name!r}.") from None
