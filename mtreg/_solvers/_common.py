"""Errors shared by the solvers."""


class SingularProblemError(ValueError):
    """The normal equations are singular: J has no unique minimiser."""


def singular_message(alpha, l2):
    return (
        f"the problem is singular (alpha={alpha}, l2={l2}): some direction of the "
        "coefficients is penalised by nothing and determined by no data (for example a "
        "task with fewer rows than features, or with no rows and no neighbours). "
        "Set l2 > 0, or give such tasks neighbours in the graph."
    )


def threadpool_controller():
    """One threadpoolctl controller per process (building one inspects every library)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


_CONTROLLER = None


def blas_threads():
    """How many threads BLAS may use now: mtreg's own thread pools take the same number,
    so ``threadpoolctl.threadpool_limits`` governs both."""
    return max(
        (lib["num_threads"] for lib in threadpool_controller().info() if lib["user_api"] == "blas"),
        default=1,
    )


def one_blas_thread():
    """BLAS and LAPACK on one thread, as a context manager: for work that runs on mtreg's
    own threads (cross-validation folds, chunks of rows), whose small BLAS calls gain
    nothing from a thread team, and whose idle team would spin on the cores mtreg uses."""
    return threadpool_controller().limit(limits=1, user_api="blas")
