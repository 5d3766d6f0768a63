"""Every numba kernel of mtreg.

The kernels do the row-wise passes that have no BLAS form: per-task segment sums and
Gram matrices from unsorted task ids, the per-row prediction ``x_i . w_{t_i} + b_{t_i}``
(:mod:`._moments`), and the loss, gradient and Hessian blocks of J in one pass
(:mod:`._glm`), and the connected components of a dense task graph (:mod:`._graphs`).
Matrix products and factorisations stay in NumPy/SciPy, with two
exceptions where a stack of many small matrices made LAPACK's per-call cost dominate
(measured, :mod:`._linalg`): triangular solves on a stack of Cholesky factors, and the
eigendecompositions of the per-task Gram matrices of a cross-validation path
(``eigh_rows``, 2x faster than ``np.linalg.eigh`` on 139 27 x 27).

Conventions: float64 values, C-contiguous 2-D arrays, int64 task indices, so each kernel
compiles once (``cache=True`` keeps the machine code across sessions). The kernels
release the GIL (``nogil=True``), so that dask's threads can reduce several chunks at
once. Each kernel has a ``naive_`` NumPy twin in ``tests/test_jit.py``. The kernels are
used as ``from mtreg import _jit; _jit.task_moments_range(...)``; the submodules only sort them
by purpose, and a kernel calls only kernels of its own submodule.
"""

from ._glm import (
    LOGISTIC,
    SQUARED,
    SQUARED_HINGE,
    loss_gradient,
    loss_gradient_csr,
    loss_hessian,
    loss_hessian_csr,
)
from ._graphs import dense_components, sparse_order_matmul
from ._linalg import (
    cholesky_solve,
    eigh_rows,
    graph_system,
    mirror_upper,
    shifted_inverses,
    upper_outer_products,
)
from ._moments import (
    combine_grams,
    group_rows,
    largest_magnitude,
    predict_rows,
    predict_rows_csr,
    task_means,
    task_moments_csr,
    task_moments_range,
)

__all__ = [
    "LOGISTIC",
    "SQUARED",
    "SQUARED_HINGE",
    "cholesky_solve",
    "combine_grams",
    "dense_components",
    "eigh_rows",
    "graph_system",
    "group_rows",
    "largest_magnitude",
    "loss_gradient",
    "loss_gradient_csr",
    "loss_hessian",
    "loss_hessian_csr",
    "mirror_upper",
    "predict_rows",
    "predict_rows_csr",
    "shifted_inverses",
    "sparse_order_matmul",
    "task_means",
    "task_moments_csr",
    "task_moments_range",
    "upper_outer_products",
]
