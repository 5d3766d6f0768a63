import os
from pathlib import Path

import numpy as np
import pytest

# The data sets: MTREG_DATA, else ../shared/data beside the checkout — the rule of the
# benchmarks (benchmarks/datasets.find_data_home), so that the README's test command
# runs the data tests as written. Set before any test reads it; the loader tests that need
# another value use monkeypatch.
_BESIDE = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("MTREG_DATA") and _BESIDE.is_dir():
    os.environ["MTREG_DATA"] = str(_BESIDE)


# sklearn >= 1.8 checks that array-API dispatch with NumPy inputs changes nothing
# (check_array_api_input), and skips that check unless scipy's array-API mode is on; it must
# be set before scipy is imported. .ci/run's run on the lowest versions sets it to 0, so the
# suite also runs in scipy's default mode.
os.environ.setdefault("SCIPY_ARRAY_API", "1")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
