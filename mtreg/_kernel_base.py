"""What the kernel estimators share (MultiTaskKernelRidge, its CV, the SVMs): the input
kernel's parameters and docs, the task kernel attribute, kernel-matrix validation of X."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._kernel_ridge import check_train_kernel, input_kernel
from ._solvers._kernel import TaskKernel


class _KernelMixin:
    """The input kernel k of the kernel estimators (KernelRidge-style parameters)."""

    def _kernel_params(self):
        if callable(self.kernel):
            return self.kernel_params or {}
        return {"gamma": self._gamma_value(), "degree": self.degree, "coef0": self.coef0}

    def _gamma_value(self):
        return self.gamma

    @property
    def task_kernel_(self) -> np.ndarray:
        """The task kernel inv(alpha L + l2 I), shape (n_tasks, n_tasks), formed on demand."""
        return self._task_kernel.dense()

    @task_kernel_.setter
    def task_kernel_(self, B):
        self._task_kernel = TaskKernel.of_matrix(B)

    def _task_kernel_rows(self, task_idx, cols=None):
        """inv(E)[task_idx][:, cols] (all tasks by default); position T is the population
        task (``unseen_tasks``): ``alpha / (alpha + l2)`` times the mean row."""
        cols = np.arange(len(self.tasks_)) if cols is None else cols
        return self._task_kernel.block(task_idx, cols, self._population_weight())

    def _validate_kernel_X(self, X, task_ids, *, reset):
        precomputed = self.kernel == "precomputed"
        if precomputed and self.task_column is not None:
            raise ValueError(
                "task_column cannot be used with kernel='precomputed' (X is then a kernel "
                "matrix); pass the task labels as task_ids."
            )
        X, task_ids = self._validate_X(X, task_ids, reset=reset, accept_sparse=("csr", "csc"))
        if precomputed:
            X = X.toarray() if sp.issparse(X) else X
            if reset and X.shape[0] != X.shape[1]:
                raise ValueError(
                    "with kernel='precomputed', X must be the square kernel matrix k(X, X) of "
                    f"shape (n_samples, n_samples) at fit, got shape {X.shape}."
                )
        return X, task_ids

    def _in_fit_dtype(self, X, values):
        """values in float32 when both X and the training X are float32, as the linear
        estimators and ``sklearn.linear_model.Ridge`` give them; the kernels and solvers
        work in float64."""
        if X.dtype == np.float32 and self.X_fit_.dtype == np.float32:
            return values.astype(np.float32)
        return values

    def _data_kernel(self, X, Y=None):
        """k(X, Y); with kernel='precomputed', X is already that matrix."""
        return input_kernel(X, Y, self.kernel, self._kernel_params())

    def _train_kernel(self, X):
        """k(X, X) of the training rows, checked where k is not PSD by construction."""
        return check_train_kernel(self._data_kernel(X), self.kernel, X.dtype)
