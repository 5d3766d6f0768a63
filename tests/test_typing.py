"""The public functions and estimator methods carry type hints, and the package says so.

PEP 561: ``mtreg/py.typed`` marks the package as typed, for type checkers to read its hints;
setup.cfg ships it in the wheel and MANIFEST.in in the sdist. Every public function of the
public modules and every public method and property of their classes (``fit``, ``predict``,
``score``, ``split`` ...) annotates each parameter and its return, so that a new one without
hints fails here. ``__init__`` is left out: scikit-learn reads an estimator's parameters from
its signature, and its hints would only repeat the docstring. Methods scikit-learn generates
(``set_fit_request``, ``get_params``) are scikit-learn's, and are left out too.
"""

import configparser
import inspect
from pathlib import Path

import pytest
from test_docstrings import _public_objects

import mtreg

ROOT = Path(__file__).resolve().parents[1]


def _ours(member):
    return (getattr(member, "__module__", None) or "").split(".")[0] == "mtreg"


def _annotated_targets():
    """(name, function) of every public function, method and property getter of ours."""
    for path, obj in _public_objects().items():
        if inspect.isfunction(obj):
            yield path, obj
            continue
        for name in dir(obj):
            if name.startswith("_"):
                continue
            raw = inspect.getattr_static(obj, name)
            if isinstance(raw, property):
                func = raw.fget
            else:  # through the class: available_if and the like give the function
                func = inspect.unwrap(getattr(getattr(obj, name), "__func__", getattr(obj, name)))
            if inspect.isfunction(func) and _ours(func):
                yield f"{path}.{name}", func


def _missing_hints(func):
    signature = inspect.signature(func)
    missing = [
        name
        for name, parameter in signature.parameters.items()
        if name not in ("self", "cls") and parameter.annotation is inspect.Parameter.empty
    ]
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


TARGETS = dict(_annotated_targets())


def test_the_targets_include_the_estimator_methods_and_the_functions():
    for name in (
        "mtreg.linear.MultiTaskGraphRegressor.fit",
        "mtreg.linear.MultiTaskGraphRegressor.partial_fit",
        "mtreg._classifier.MultiTaskGraphClassifier.predict_proba",
        "mtreg.svm.MultiTaskSVC.decision_function",
        "mtreg.model_selection.LeaveTasksOut.split",
        "mtreg.core.graph_ridge",
        "mtreg.relations.knn_graph",
        "mtreg._loaders.load_school",
        "mtreg._graph.TaskGraph.laplacian",
    ):
        assert name in TARGETS, name
    assert len(TARGETS) >= 80


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_public_callable_has_type_hints(name):
    missing = _missing_hints(TARGETS[name])
    assert not missing, f"{name}: annotate {missing}"


def test_the_check_fails_on_a_function_without_hints():
    def fit(self, X, y: int = 0) -> None:
        pass

    assert _missing_hints(fit) == ["X"]
    assert _missing_hints(lambda X: X) == ["X", "return"]


def test_hints_leave_the_estimator_parameters_alone():
    # scikit-learn reads the parameters from __init__'s signature: the hints change nothing
    est = mtreg.MultiTaskGraphRegressor(alpha=2.0)
    assert est.get_params()["alpha"] == 2.0
    assert "X" not in est.get_params()


def test_py_typed_is_shipped_in_the_wheel_and_the_sdist():
    assert (ROOT / "mtreg" / "py.typed").is_file()
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert "py.typed" in cfg["options.package_data"]["mtreg"].split()
    assert "include mtreg/py.typed" in (ROOT / "MANIFEST.in").read_text().splitlines()
