"""The capabilities of every solver, and the one function that picks among them.

The table says what each solver can do; the functions live with their entry points
(:mod:`._ridge` for the moments, :mod:`._rows` for the rows), so that the selection imports
no solver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._losses import LOSSES

if TYPE_CHECKING:
    from .._graph import TaskGraph

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


# Above this many unknowns (T d) the generalised eigendecomposition of a regularisation path
# is no longer cheap: the path turns to warm-started pcg, which gives no leave-one-out.
PATH_DENSE_LIMIT = 2000


@dataclass(frozen=True)
class Solver:
    family: str = "linear"  # "linear" (estimators, graph_ridge), "kernel" or "path" (CV)
    losses: tuple = ("squared",)
    l1: bool = False  # handles l1 > 0
    moments: bool = True  # works from the per-task moments (closed form, squared loss)
    needs_shared_X: bool = False  # every task at the same X (multi-output y) only
    needs_uniform_graph: bool = False  # L = a I - b 11^T only
    needs_inputs: bool = False  # the inputs X, not a precomputed kernel
    per_feature: bool = True  # takes an alpha that differs between features
    loo: bool = True  # gives exact leave-one-out (the paths)
    # "auto" passes over a solver beyond these sizes (an explicit choice does not)
    auto_max_unknowns: float = float("inf")  # T * d
    auto_max_features: float = float("inf")  # d


# Every solver of every family, in the order of preference of "auto": the first that can
# handle the problem (and is within its auto_max_ sizes) is chosen.
TABLE = {
    "linear": {
        "eigen": Solver(needs_shared_X=True, per_feature=False),  # a per-feature l2 only
        "woodbury": Solver(needs_uniform_graph=True),
        "cholesky": Solver(auto_max_unknowns=DENSE_LIMIT),
        "pcg": Solver(),
        "newton": Solver(
            losses=tuple(LOSSES), moments=False, auto_max_features=NEWTON_MAX_FEATURES
        ),
        "lbfgs": Solver(losses=tuple(LOSSES), moments=False),
        "fista": Solver(losses=tuple(LOSSES), l1=True, moments=False),
    },
    "kernel": {
        "eigen": Solver(family="kernel", moments=False, needs_shared_X=True),
        "cholesky": Solver(family="kernel", moments=False),
        "nystroem": Solver(family="kernel", moments=False, needs_inputs=True),
    },
    "path": {
        "shared_X": Solver(family="path", needs_shared_X=True),
        "uniform": Solver(family="path", needs_uniform_graph=True),
        "dense": Solver(family="path", auto_max_unknowns=PATH_DENSE_LIMIT),
        "pcg": Solver(family="path", loo=False),
    },
}
# The linear solvers, the ``solver`` options of the linear estimators and of graph_ridge.
SOLVERS = TABLE["linear"]

# What a needs_shared_X solver asks for, and the way out, in each family.
_SHARED_X_MESSAGE = {
    "linear": "needs multi-output data (2-D y, every task at the same X); use another "
    "solver for task_ids data.",
    "kernel": "needs multi-output y (2-D, every task at the same X); use "
    "solver='cholesky' for task_ids data.",
}


def select_solver(
    solver: str = "auto",
    *,
    family: str = "linear",
    loss: str = "squared",
    l1: float = 0.0,
    graph: TaskGraph | None = None,
    shared_X: bool,
    n_features: int = 0,
    has_inputs: bool = True,
    loo: bool = False,
    per_feature: bool = False,
) -> str:
    """Return the solver to use: ``solver`` itself once checked, or the choice of "auto".

    "auto" takes the first solver of ``TABLE[family]`` that can handle the problem; for
    the linear family that is "fista" when l1 > 0; for the squared loss "eigen" on
    multi-output data, else "woodbury" for the complete or empty graph, else "cholesky"
    while T * d <= DENSE_LIMIT, else "pcg"; for the other losses "newton" up to
    NEWTON_MAX_FEATURES features, else "lbfgs". A squared-loss linear choice whose dense
    arrays (:func:`dense_bytes`) exceed MEMORY_LIMIT becomes "lbfgs" (sparse X with very
    many columns); an explicit solver over it raises a MemoryError naming the size. The
    kernel ridge takes "eigen" on multi-output data, else "cholesky"; a regularisation
    path "shared_X", else "uniform", else "dense" while T * d <= PATH_DENSE_LIMIT, else
    "pcg" (which gives no leave-one-out). A per-feature alpha (an array that is not
    constant) passes over the solvers that cannot take it ("eigen": "auto" then takes
    "woodbury", "cholesky" or "pcg" on multi-output data too).

    Parameters
    ----------
    solver : str, default="auto"
        "auto" or one of the keys of ``TABLE[family]``.
    family : {"linear", "kernel", "path"}, default="linear"
        The solvers to choose among: those of the linear models, of the kernel ridge or of
        the regularisation paths of the CV estimators.
    loss : {"squared", "logistic", "squared_hinge"}, default="squared"
        The loss to minimise.
    l1 : float, default=0.0
        The l1 penalty; only "fista" handles l1 > 0.
    graph : TaskGraph, default=None
        The task graph; "woodbury" and the "uniform" path need a uniform (complete or
        empty) one. Only the kernel family may leave it out.
    shared_X : bool
        Whether every task is observed at the same X (multi-output y); "eigen" and the
        "shared_X" path need it.
    n_features : int, default=0
        The number of features d, which sets the size of the dense systems.
    has_inputs : bool, default=True
        Whether the inputs X are given (not a precomputed kernel); "nystroem" needs them.
    loo : bool, default=False
        Whether exact leave-one-out is needed (of a path).
    per_feature : bool, default=False
        Whether alpha differs between features (an array of shape (n_features,) that is
        not constant); "eigen" cannot take it (it takes a per-feature l2).

    Returns
    -------
    solver : str
        The name of the solver, a key of ``TABLE[family]``.

    Raises
    ------
    ValueError
        When the named solver cannot minimise this loss, l1, graph or data layout; the
        message names the solvers that can. When no path gives leave-one-out.
    MemoryError
        When the named solver's dense arrays would exceed ``MEMORY_LIMIT``.

    See Also
    --------
    mtreg.core.graph_ridge : Solve the squared-loss problem with the chosen solver.
    mtreg.core.graph_glm : Solve any loss, with l1, with the chosen solver.
    """
    table = TABLE[family]
    n_tasks = 0 if graph is None else graph.n_tasks
    uniform = []  # graph.uniform_form() costs a pass over L: made once, when needed

    def is_uniform():
        if not uniform:
            uniform.append(graph.uniform_form() is not None)
        return uniform[0]

    def can(caps):
        return (
            loss in caps.losses
            and (caps.l1 or l1 == 0)
            and (shared_X or not caps.needs_shared_X)
            and (not caps.needs_uniform_graph or is_uniform())
            and (has_inputs or not caps.needs_inputs)
            and (caps.loo or not loo)
            and (caps.per_feature or not per_feature)
        )

    if solver == "auto":
        chosen = [
            name
            for name, caps in table.items()
            if can(caps)
            and n_tasks * n_features <= caps.auto_max_unknowns
            and n_features <= caps.auto_max_features
        ]
        if not chosen:  # only a path with loo on a large general graph
            limit = table["dense"].auto_max_unknowns
            raise ValueError(
                f"exact leave-one-out on a general graph needs T * d <= {limit} "
                f"(dense generalised eigendecomposition); here T * d = "
                f"{n_tasks * n_features}. Pass cv=5 (k-fold with warm-started pcg) or use "
                "the complete graph."
            )
        name = chosen[0]
        # wide data (sparse X with 1e5 columns): d x d moments do not fit; the rows do
        if family == "linear" and table[name].moments:
            fits = dense_bytes(name, n_tasks, n_features, shared_X) <= MEMORY_LIMIT
            return name if fits else "lbfgs"
        return name
    if solver not in table:
        raise ValueError(f"solver must be 'auto' or one of {sorted(table)}, got {solver!r}.")
    caps = table[solver]
    able = sorted(name for name, c in table.items() if loss in c.losses and (c.l1 or l1 == 0))
    if loss not in caps.losses or (l1 > 0 and not caps.l1):
        what = f"loss={loss!r}" + (f" with l1={l1}" if l1 > 0 else "")
        raise ValueError(f"solver={solver!r} cannot minimise {what}; use one of {able}.")
    if caps.needs_shared_X and not shared_X:
        raise ValueError(f"solver={solver!r} {_SHARED_X_MESSAGE[family]}")
    if caps.needs_uniform_graph and not is_uniform():
        raise ValueError(
            f"solver={solver!r} needs the complete graph with equal weights or the empty "
            "graph; use 'cholesky' or 'pcg' for this graph."
        )
    if per_feature and not caps.per_feature:
        able = sorted(n for n, c in table.items() if c.per_feature and loss in c.losses)
        raise ValueError(
            f"solver={solver!r} cannot take a per-feature alpha (an array that is not "
            f"constant): its closed form needs one alpha for every feature. Use "
            f"solver='auto' or one of {able}, or a float alpha."
        )
    if caps.needs_inputs and not has_inputs:
        raise ValueError(f"solver={solver!r} needs the inputs X, not kernel='precomputed'.")
    if family != "linear":
        return solver
    size = dense_bytes(solver, n_tasks, n_features, shared_X)
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
