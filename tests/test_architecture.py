"""The layout of DESIGN.md section 4, checked on the source: imports point one way.

estimators (validation, labels, attributes) -> functional core (graphs, the objective,
solvers, paths, relation learning) -> numba kernels (the package mtreg._jit and its
submodules). Every import counts, function-level ones included, and no module imports
itself back through others.
"""

import ast
import io
import tokenize
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
# the estimator layer's code lines, at most this fraction of the core's (DESIGN.md section 4)
MAX_ESTIMATOR_SHARE = 0.5


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


def _code_lines(path):
    """Lines that hold code: not blank, not only a comment, not in a docstring (a module's,
    class's or function's first string). Multi-line strings that are not docstrings count."""
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    skip = {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def test_code_lines_counts_code_only(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        '"""Module doc\nover two lines."""\n\n# a comment\n'
        'def f(x):\n    """Doc."""\n    return (x +\n            1)  # why\n\n'
        'TEXT = """a\nb"""\n'
    )
    assert _code_lines(path) == 5  # def, the two lines of return, the two of TEXT


def test_estimator_layer_is_at_most_half_the_core():
    estimators = core = 0
    for name, path in _modules().items():
        if name in ESTIMATORS:
            estimators += _code_lines(path)
        elif name not in KERNELS and name not in FRONT:
            core += _code_lines(path)
    assert estimators <= MAX_ESTIMATOR_SHARE * core, (
        f"the estimator modules hold {estimators} code lines, {estimators / core:.3f} of the "
        f"core's {core}: move what computes (not what validates) into the core"
    )
