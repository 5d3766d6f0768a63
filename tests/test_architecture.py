"""The layout of DESIGN.md section 4, checked on the source: imports point one way.

estimators (validation, labels, attributes) -> functional core (graphs, the objective,
solvers, paths, relation learning) -> numba kernels (the package mtreg._jit and its
submodules). Every import counts, function-level ones included, and no module imports
itself back through others.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mtreg"

# the kernel package and every submodule of it, which import nothing else of mtreg
KERNELS = {"mtreg._jit"} | {
    f"mtreg._jit.{path.stem}" for path in (PACKAGE / "_jit").glob("*.py") if path.stem != "__init__"
}
ESTIMATORS = {
    "mtreg._base",
    "mtreg._linear_base",
    "mtreg._kernel_base",
    "mtreg._docs",
    "mtreg.linear",
    "mtreg.bayes",
    "mtreg._classifier",
    "mtreg.kernel",
    "mtreg.svm",
    "mtreg._linear_cv",
    "mtreg._kernel_cv",
    "mtreg._search",
    "mtreg.model_selection",
    "mtreg.metrics",
}
# the front: the package itself, data sets and pictures, which may use any layer
FRONT = {
    "mtreg",
    "mtreg.datasets",
    "mtreg._loaders",
    "mtreg._generators",
    "mtreg.plotting",
    "mtreg._plot_base",
    "mtreg._plot_coef",
    "mtreg._plot_graph",
}
MAX_LINES = 500


def _modules():
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(name, path, modules):
    """The mtreg modules ``name`` imports anywhere in its source."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "mtreg"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").split(".")[0] == "mtreg":
                target = node.module
            else:
                continue
            for alias in node.names:  # ``from . import x``: the submodule x if there is one
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
    return {m for m in found if m in modules and m != name}


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _layer(name):
    if name in KERNELS:
        return 0
    if name in ESTIMATORS:
        return 2
    if name in FRONT:
        return 3
    return 1  # the functional core


def test_imports_point_one_way():
    wrong = [
        f"{a} (layer {_layer(a)}) imports {b} (layer {_layer(b)})"
        for a, targets in _graph().items()
        for b in targets
        if _layer(b) > _layer(a) and a not in FRONT
    ]
    assert not wrong, "\n".join(wrong)


def test_estimators_reach_the_kernels_only_through_the_core():
    graph = _graph()
    direct = sorted(a for a in ESTIMATORS if graph.get(a, set()) & KERNELS)
    assert not direct, direct


def test_no_import_cycle():
    graph, state, cycles = _graph(), {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


def test_the_checker_sees_function_level_imports(tmp_path):
    source = "def f():\n    from .linear import MultiTaskGraphRegressor\n"
    path = tmp_path / "relations.py"
    path.write_text(source)
    modules = {"mtreg.relations": path, "mtreg.linear": path}
    assert _imports("mtreg.relations", path, modules) == {"mtreg.linear"}


def test_no_module_over_the_size_limit():
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long
