"""Adversarial cases against the public API, one module of cases per area.

Each ``_cases_<area>.py`` defines ``CASES``, a list of :class:`Case`; ``tests/test_adversarial.py``
runs them all as one parametrised test. A case states the input (``run``, a function of no
argument that calls the public API) and what must happen: an error (``raises`` with words the
message must hold, ``match``), a warning (``warns``, ``match``), or a check of the result
against an independent reference (``check``, a function of the result that asserts).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Case:
    id: str
    run: Callable[[], Any]
    raises: type | tuple | None = None
    warns: type | None = None
    match: str | None = None
    check: Callable[[Any], None] | None = None
    fails_on: str = ""  # what was wrong before the fix (for the record)


def issue_data():
    """The reproduction data of the issues: 60 rows, 3 features, 3 tasks of 20 rows."""
    r = np.random.default_rng(0)
    X = r.normal(size=(60, 3))
    t = np.repeat([0, 1, 2], 20)
    y = X @ [1.0, 2, 3] + t + r.normal(size=60)
    return X, y, t


CHAIN = np.array([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])  # the 3-task chain graph
