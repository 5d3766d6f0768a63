"""Errors shared by the solvers, and the process's BLAS threads."""

import os
import threading
from contextlib import contextmanager, nullcontext

# Direct solves whose largest single BLAS/LAPACK call (see :func:`largest_call`) is below
# this many flops run BLAS on one thread: a thread team costs more than it saves there, and
# many times more when another process keeps a core busy (issue 12: cholesky at T = 20,
# d = 10 took 107 ms on 2 threads against 1.3 ms on one, on 2 cores with one busy
# process). Measured by benchmarks/bench_threads.py (results/threads.md, 2 cores shared
# with other work): on an idle machine the default threads gained at most 1.35x, from
# 3e8 flops on (cholesky at T d = 1000); with a busy process they lost 2.4-60x at every
# size up to the largest measured, 2.7e9 (T d = 2000). Set above that; to be lowered to
# the crossover the script reports on a quiet machine.
ONE_THREAD_WORK = 1e10


class SingularProblemError(ValueError):
    """The normal equations are singular: J has no unique minimiser."""


def singular_message(alpha, l2):
    return (
        f"the problem is singular (alpha={alpha}, l2={l2}): some direction of the "
        "coefficients is penalised by nothing and determined by no data (for example a "
        "task with fewer rows than features, or with no rows and no neighbours). "
        "Set l2 > 0, or give such tasks neighbours in the graph."
    )


class _BlasThreads:
    """The BLAS libraries' thread counts, held at one thread while mtreg work that asked
    for it runs on any thread.

    BLAS settings are process-wide: two threads that each set and restore them race (one
    restores while the other still runs, or puts back the other's limit for good). Here
    the first user sets the limit and the last one puts back what the first found, under
    one lock; meanwhile :meth:`outer` answers with the thread count from before. A count
    that someone else changed meanwhile is left as they set it.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._users = 0
        self._saved = []  # (library controller, its thread count before the limit)
        self._outer = 1
        self._libraries = None
        if hasattr(os, "register_at_fork"):  # the threads that held the limit are gone
            os.register_at_fork(after_in_child=self._after_fork)

    def _blas(self):
        if self._libraries is None:  # building a controller inspects every library
            from threadpoolctl import ThreadpoolController

            self._libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        return self._libraries

    def _current(self):
        return max((lib.get_num_threads() or 1 for lib in self._blas()), default=1)

    def outer(self):
        """How many threads BLAS may use outside mtreg's own limits."""
        with self._lock:
            return self._outer if self._users else self._current()

    @contextmanager
    def one(self):
        with self._lock:
            if self._users == 0:
                self._outer = self._current()
                self._saved = [(lib, lib.get_num_threads()) for lib in self._blas()]
                self._saved = [(lib, n) for lib, n in self._saved if n is not None and n > 1]
                _set_threads([(lib, 1) for lib, _ in self._saved])
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    _set_threads([(lib, n) for lib, n in self._saved if lib.get_num_threads() == 1])
                    self._saved = []

    def _after_fork(self):
        self._lock = threading.Lock()
        if self._users:
            _set_threads(self._saved)
        self._users, self._saved = 0, []


def _set_threads(settings):
    for lib, n in settings:
        lib.set_num_threads(n)
        # threadpoolctl >= 3.8 lets one Python thread at a time set OpenBLAS's count and
        # ignores the others: release it, the last user may be another thread
        release = getattr(type(lib), "clear_controlling_thread", None)
        if release is not None:
            release()


_BLAS = _BlasThreads()


def blas_threads():
    """How many threads BLAS may use, leaving aside mtreg's own limits: mtreg's thread
    pools take the same number, so ``threadpoolctl.threadpool_limits`` governs both."""
    return _BLAS.outer()


def one_blas_thread():
    """BLAS and LAPACK on one thread, as a context manager: for work that runs on mtreg's
    own threads (cross-validation folds, chunks of rows), whose small BLAS calls gain
    nothing from a thread team, and whose idle team would spin on the cores mtreg uses.
    Safe from several threads at once: BLAS is back to its setting when none is inside."""
    return _BLAS.one()


def largest_call(solver, n_tasks, n_features):
    """Flops of the largest single BLAS/LAPACK call of a direct solve, about: only a
    large call gains from BLAS threads (woodbury and pcg make T small ones of size d)."""
    if solver == "cholesky":
        return (n_tasks * n_features) ** 3 / 3
    if solver == "eigen":
        return 4.0 * max(n_tasks, n_features) ** 3
    return n_features**3 / 3


def threads_for(solver, n_tasks, n_features):
    """The BLAS threads of a direct solve: one below :data:`ONE_THREAD_WORK`."""
    small = largest_call(solver, n_tasks, n_features) < ONE_THREAD_WORK
    return one_blas_thread() if small else nullcontext()
