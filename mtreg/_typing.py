"""The type aliases of the public signatures (the modules' annotations are never evaluated).

``MatrixLike`` is what the estimators take as X: an array-like (a list, an ndarray, a data
frame, a dask array) or a scipy sparse matrix; ``ArrayLike`` is numpy's; ``OptArray`` is an
array-like or None (the optional ``task_ids``, ``sample_weight`` ...), short enough for a
method's signature to stay on one line.
"""

from typing import Optional, Union

import scipy.sparse as sp
from numpy.typing import ArrayLike

# runtime aliases on Python 3.10, where ``X | Y`` of these types is not allowed
MatrixLike = Union[ArrayLike, sp.spmatrix]  # noqa: UP007
OptArray = Optional[ArrayLike]  # noqa: UP045

__all__ = ["ArrayLike", "MatrixLike", "OptArray"]
