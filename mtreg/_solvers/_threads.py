"""Thread control, in one place: the process's BLAS threads and mtreg's own thread pool.

BLAS settings and the cores are process-wide, so both are held by one object each, made at
import and reset after a fork; nothing else in mtreg changes threads.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext

# Direct solves whose largest single BLAS/LAPACK call (see :func:`largest_call`) is below
# this many flops run BLAS on one thread: a thread team costs more than it saves there, and
# many times more when another process keeps a core busy (issue 12: cholesky at T = 20,
# d = 10 took 107 ms on 2 threads against 1.3 ms on one, on 2 cores with one busy
# process). benchmarks/threads.py on the project's 2-core machine, nothing else running
# (results/threads.md): quiet, the default threads gained from 1.4e9 flops on (cholesky at
# T d = 1600: 40.8 ms against 53.3 ms on one thread; 1.4x at 9e9); with one busy process
# they lost at every size measured (1.2-3.8x; 355.6 ms against 253.2 ms at 9e9). No size
# gains in both, so the limit sits above the largest measured: one thread costs at most
# 1.4x on a quiet machine, two threads up to 3.8x on a loaded one.
ONE_THREAD_WORK = 1e10


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
            if self._users == 0:  # each library asked once (threadpoolctl's calls cost)
                counts = [(lib, lib.get_num_threads()) for lib in self._blas()]
                self._outer = max((n or 1 for _, n in counts), default=1)
                self._saved = [(lib, n) for lib, n in counts if n is not None and n > 1]
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
        # threadpoolctl >= 3.8 lets one Python thread at a time set OpenBLAS's count and
        # ignores the others (the first to set it holds it until released); the lock of
        # _BlasThreads serialises mtreg's settings already, and the last user may be
        # another thread than the first: its unguarded setter, where it has one (a limit
        # and its undoing took 13.5 us through the guarded one and its release, 7.4 us)
        setter = getattr(lib, "_real_set_num_threads", None) or lib.set_num_threads
        setter(n)


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


class _Pool:
    """mtreg's thread pool: made on first use, under a lock, shared by every fit and never
    shut down, so that no fit submits to a pool another one retired. Its threads start on
    demand, one per core at most: the work of several fits at once queues for them."""

    def __init__(self):
        self._reset()
        if hasattr(os, "register_at_fork"):  # the child has none of the pool's threads
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self):
        self._lock, self._pool = threading.Lock(), None

    def get(self):
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    os.cpu_count() or 1, thread_name_prefix=_POOL_PREFIX
                )
            return self._pool


_POOL_PREFIX = "mtreg-pool"
_POOL = _Pool()


@contextmanager
def rows_on_threads():
    """Context of a row solver: yields the number of threads its passes may take, as many
    as BLAS may use (``threadpoolctl.threadpool_limits(1)`` makes them serial), and runs
    BLAS on one thread meanwhile: the solvers' BLAS calls are small, and an idle OpenBLAS
    team spins on the cores the passes need (measured: a pass twice as slow)."""
    n_threads = blas_threads()
    with one_blas_thread():
        yield n_threads


def map_chunks(work, n_chunks):
    """[work(k) for k in range(n_chunks)], the chunks after the first on the pool; in turn
    when called from the pool itself (a worker that waited for the pool could wait for
    good: every worker may be waiting)."""
    if n_chunks == 1 or threading.current_thread().name.startswith(_POOL_PREFIX):
        return [work(k) for k in range(n_chunks)]
    pool = _POOL.get()
    others = [pool.submit(work, k) for k in range(1, n_chunks)]
    return [work(0)] + [future.result() for future in others]


def map_on_threads(work, n_items, n_threads):
    """[work(k) for k in range(n_items)] on at most ``n_threads`` threads, this one
    included (``work`` must not itself wait for the pool)."""
    n_groups = max(1, min(n_threads, n_items))
    groups = map_chunks(lambda g: [work(k) for k in range(g, n_items, n_groups)], n_groups)
    results = [None] * n_items
    for g, part in enumerate(groups):
        results[g::n_groups] = part
    return results
