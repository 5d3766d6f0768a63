"""The capabilities of every solver, and the one function that picks among them.

The table says what each solver can do; the functions live with their entry points
(:mod:`._ridge` for the moments, :mod:`._rows` for the rows), so that the selection imports
no solver.
"""

from dataclasses import dataclass

from .._losses import LOSSES

# Above this many unknowns (T * d) the dense Cholesky, O((T d)^3), is no longer the cheap
# choice: the speed suite (benchmarks/run.py) measured pcg 4.5 ms against cholesky 69 ms at T = 100,
# d = 20 on a kNN graph, and the two level at about T d = 200.
DENSE_LIMIT = 500
# Up to this many features Newton's O(n d^2) data pass per step beats L-BFGS's many steps
# (benchmarks/classifier.py: at d = 50 lbfgs took 0.8 s, newton 1.9 s).
NEWTON_MAX_FEATURES = 20
# Dense arrays beyond this (bytes) are not allocated: "auto" turns to the row solver
# "lbfgs", an explicit solver raises a MemoryError that names the size (see dense_bytes).
MEMORY_LIMIT = 2 * 2**30


@dataclass(frozen=True)
class Solver:
    losses: tuple = ("squared",)
    l1: bool = False  # handles l1 > 0
    moments: bool = True  # works from the per-task moments (closed form, squared loss)
    needs_shared_X: bool = False  # multi-output data only
    needs_uniform_graph: bool = False  # L = a I - b 11^T only


SOLVERS = {
    "cholesky": Solver(),
    "woodbury": Solver(needs_uniform_graph=True),
    "eigen": Solver(needs_shared_X=True),
    "pcg": Solver(),
    "newton": Solver(losses=tuple(LOSSES), moments=False),
    "lbfgs": Solver(losses=tuple(LOSSES), moments=False),
    "fista": Solver(losses=tuple(LOSSES), l1=True, moments=False),
}


def select_solver(solver, *, loss, l1, graph, shared_X, n_features):
    """Return the solver to use: ``solver`` itself once checked, or the choice of "auto".

    "auto": "fista" when l1 > 0; for the squared loss "eigen" on multi-output data, else
    "woodbury" for the complete or empty graph, else "cholesky" while T * d <= DENSE_LIMIT,
    else "pcg"; for the other losses "newton" up to NEWTON_MAX_FEATURES features, else
    "lbfgs". A squared-loss choice whose dense arrays (:func:`dense_bytes`) exceed
    MEMORY_LIMIT becomes "lbfgs" (sparse X with very many columns); an explicit solver
    over it raises a MemoryError naming the size.

    Parameters
    ----------
    solver : str
        "auto" or one of the keys of ``SOLVERS``.
    loss : {"squared", "logistic", "squared_hinge"}
        The loss to minimise.
    l1 : float
        The l1 penalty; only "fista" handles l1 > 0.
    graph : TaskGraph
        The task graph; "woodbury" needs a uniform (complete or empty) one.
    shared_X : bool
        Whether every task is observed at the same X (multi-output y); "eigen" needs it.
    n_features : int
        The number of features d, which sets the size of the dense systems.

    Returns
    -------
    solver : str
        The name of the solver, a key of ``SOLVERS``.

    Raises
    ------
    ValueError
        When the named solver cannot minimise this loss, l1, graph or data layout; the
        message names the solvers that can.
    MemoryError
        When the named solver's dense arrays would exceed ``MEMORY_LIMIT``.

    See Also
    --------
    mtreg.core.graph_ridge : Solve the squared-loss problem with the chosen solver.
    mtreg.core.graph_glm : Solve any loss, with l1, with the chosen solver.
    """
    uniform = graph.uniform_form() is not None
    if solver == "auto":
        if l1 > 0:
            return "fista"
        if loss != "squared":
            return "newton" if n_features <= NEWTON_MAX_FEATURES else "lbfgs"
        if shared_X:
            choice = "eigen"
        elif uniform:
            choice = "woodbury"
        else:
            choice = "cholesky" if graph.n_tasks * n_features <= DENSE_LIMIT else "pcg"
        # wide data (sparse X with 1e5 columns): d x d moments do not fit; the rows do
        fits = dense_bytes(choice, graph.n_tasks, n_features, shared_X) <= MEMORY_LIMIT
        return choice if fits else "lbfgs"
    if solver not in SOLVERS:
        raise ValueError(f"solver must be 'auto' or one of {sorted(SOLVERS)}, got {solver!r}.")
    caps = SOLVERS[solver]
    able = sorted(name for name, c in SOLVERS.items() if loss in c.losses and (c.l1 or l1 == 0))
    if loss not in caps.losses or (l1 > 0 and not caps.l1):
        what = f"loss={loss!r}" + (f" with l1={l1}" if l1 > 0 else "")
        raise ValueError(f"solver={solver!r} cannot minimise {what}; use one of {able}.")
    if caps.needs_shared_X and not shared_X:
        raise ValueError(
            f"solver={solver!r} needs multi-output data (2-D y, every task at the same X); "
            "use another solver for task_ids data."
        )
    if caps.needs_uniform_graph and not uniform:
        raise ValueError(
            f"solver={solver!r} needs the complete graph with equal weights or the empty "
            "graph; use 'cholesky' or 'pcg' for this graph."
        )
    size = dense_bytes(solver, graph.n_tasks, n_features, shared_X)
    if size > MEMORY_LIMIT:
        raise MemoryError(
            f"solver={solver!r} would allocate about {size / 2**30:.1f} GiB of dense "
            f"matrices for {graph.n_tasks} tasks and {n_features} features (more than "
            f"MEMORY_LIMIT = {MEMORY_LIMIT / 2**30:.0f} GiB); use solver='lbfgs' (or 'fista' "
            "with l1 > 0), which works on the rows in O(nnz(X) + n_tasks * n_features) "
            "memory."
        )
    return solver


def dense_bytes(solver, n_tasks, n_features, shared_X=False):
    """Bytes of the dense arrays a solver allocates beyond the data: the per-task d x d
    moments (three stacks of them in pcg, woodbury and newton) and, for "cholesky", the
    (T d) x (T d) system."""
    grams = 8.0 * n_features**2 * (1 if shared_X else n_tasks)
    if solver in ("lbfgs", "fista"):
        return 0.0
    if solver == "cholesky":
        return grams + 8.0 * (n_tasks * n_features) ** 2
    if solver == "eigen":
        return 2 * grams + 8.0 * n_tasks**2
    return 3 * grams
