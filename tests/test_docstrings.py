"""The public docstrings under numpydoc's validation, with scikit-learn's filter.

scikit-learn's own ``sklearn/tests/test_docstrings.py`` validates every public class, its
public methods and every public function with ``numpydoc.validate``, and ignores:

- RT02, GL01, GL02 everywhere (a Returns line may name the value; the summary may start on
  the line after the quotes; short docstrings of properties);
- PR02 and GL08 on properties (their signature cannot be parsed; a property may be described
  in its class's Attributes);
- ES01, SA01, EX01 (extended summary, See Also, Examples) on methods and functions: only
  class docstrings must have them.

We take that filter and demand more: a See Also section on every public function too (SA01
for functions), so that a reader finds the related objects from each of them; and a
description for every entry of the Parameters, Attributes, Returns and Raises sections
(numpydoc skips its "no description" check, PR07, for a parameter whose type is a set of
options such as ``{array-like, sparse matrix}``, and has no such check for attributes).
Each fitted estimator of test_common.py also documents every public attribute that fit
sets, as scikit-learn's ``test_fit_docstring_attributes`` checks. Returns on
every public method that returns something (RT01) is numpydoc's own rule, kept from
scikit-learn's filter; ``fit`` returns ``self`` and so documents it.

The public objects: the classes and functions in the ``__all__`` of ``mtreg`` and of its
public modules; of a class, its public methods and properties, scikit-learn's generated ones
(``get_params``, ``set_fit_request`` ...) included, as scikit-learn tests them on its own
estimators. Methods a class inherits from a builtin (a named tuple's ``count`` and
``index``) are neither ours nor scikit-learn's, and are left out.
"""

import importlib
import inspect
import warnings

import numpy as np
import numpydoc.validate as numpydoc_validation  # the test extra: no silent skip without it
import pytest
from numpydoc.docscrape import NumpyDocString
from sklearn.base import ClassifierMixin, clone
from test_common import ESTIMATORS

DESCRIBED_SECTIONS = ("Parameters", "Other Parameters", "Attributes", "Returns", "Raises")

PUBLIC_MODULES = (
    "mtreg",
    "mtreg.core",
    "mtreg.datasets",
    "mtreg.kernel",
    "mtreg.linear",
    "mtreg.metrics",
    "mtreg.model_selection",
    "mtreg.plotting",
    "mtreg.relations",
    "mtreg.svm",
)


def _public_objects():
    """The public classes and functions, each once, by the path numpydoc imports."""
    found = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return dict(sorted(found.items()))


def _is_ours_or_sklearns(member):
    module = getattr(inspect.unwrap(member), "__module__", None) or ""
    return module.split(".")[0] in ("mtreg", "sklearn")


def _targets():
    """(import path, class or None, method name or None) for every docstring checked."""
    for path, obj in _public_objects().items():
        if inspect.isfunction(obj):
            yield path, None, None
            continue
        yield path, obj, None
        for name in sorted(dir(obj)):
            if name.startswith("_"):
                continue
            member = inspect.getattr_static(obj, name)
            if isinstance(member, property):
                yield f"{path}.{name}", obj, name
                continue
            member = getattr(obj, name)
            if callable(member) and _is_ours_or_sklearns(member):
                yield f"{path}.{name}", obj, name


TARGETS = list(_targets())


def _docstring(path, klass, method):
    if klass is None:
        return _public_objects()[path].__doc__
    if method is None:
        return klass.__doc__
    member = inspect.getattr_static(klass, method)
    return (member if isinstance(member, property) else getattr(klass, method)).__doc__


def undescribed_entries(docstring):
    """Findings for the section entries that have a name or type but no description."""
    parsed = NumpyDocString(inspect.cleandoc(docstring or ""))
    for section in DESCRIBED_SECTIONS:
        for entry in parsed[section]:
            if not "".join(entry.desc).strip():
                name = entry.name or entry.type
                yield "DESC", f'{section} entry "{name}" has no description'


def filter_errors(errors, klass, method):
    """Drop the findings scikit-learn's test_docstrings ignores, keep SA01 on functions."""
    is_property = method is not None and isinstance(inspect.getattr_static(klass, method), property)
    is_function = klass is None
    for code, message in errors:
        if code in ("RT02", "GL01", "GL02"):
            continue
        if code in ("PR02", "GL08") and is_property:
            continue
        if code in ("ES01", "EX01") and (method is not None or is_function):
            continue
        if code == "SA01" and method is not None:
            continue
        yield code, message


def test_every_public_object_is_checked():
    # the collection must not come out empty or lose a module's objects silently
    paths = {path for path, _, _ in TARGETS}
    for expected in (
        "mtreg.linear.MultiTaskGraphRegressor",
        "mtreg.linear.MultiTaskGraphRegressor.fit",
        "mtreg.linear.MultiTaskGraphRegressor.set_fit_request",
        "mtreg.core.graph_ridge",
        "mtreg.relations.task_similarity",
        "mtreg.plotting.plot_task_graph",
        "mtreg.datasets.make_multitask_regression",
    ):
        assert expected in paths
    assert "mtreg.core.Fit.count" not in paths  # a tuple's method, not ours


def test_undescribed_entries_are_found():
    # numpydoc's PR07 misses a parameter whose type is a set of options; ours does not
    docstring = """Do it.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : ndarray
        Targets.

    Attributes
    ----------
    coef_ : ndarray

    Returns
    -------
    self : object
    """
    assert [message for _, message in undescribed_entries(docstring)] == [
        'Parameters entry "X" has no description',
        'Attributes entry "coef_" has no description',
        'Returns entry "self" has no description',
    ]


def test_filter_keeps_see_also_for_functions_only():
    errors = [("SA01", "See Also section not found"), ("ES01", "No extended summary found")]
    assert list(filter_errors(errors, None, None)) == errors[:1]
    klass = importlib.import_module("mtreg").MultiTaskGraphRegressor
    assert list(filter_errors(errors, klass, "fit")) == []
    assert list(filter_errors(errors, klass, None)) == errors


@pytest.mark.parametrize(
    "path, klass, method", TARGETS, ids=[path.removeprefix("mtreg.") for path, _, _ in TARGETS]
)
def test_docstring(path, klass, method):
    result = numpydoc_validation.validate(path)
    # numpydoc's own "no description" findings (PR07, RT03) are a subset of ours
    errors = [
        (code, message)
        for code, message in filter_errors(result["errors"], klass, method)
        if code not in ("PR07", "RT03")
    ]
    errors += list(undescribed_entries(_docstring(path, klass, method)))
    if errors:
        findings = "\n".join(f" - {code}: {message}" for code, message in errors)
        pytest.fail(f"{path} ({result['file']}:{result['file_line']}):\n{findings}", pytrace=False)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_fitted_attributes_are_documented(estimator):
    # as scikit-learn's test_fit_docstring_attributes: every public attribute fit sets
    # (ending in "_") is in the class's Attributes section
    rng = np.random.default_rng(0)
    X, task_ids = rng.normal(size=(60, 3)), np.repeat(["a", "b", "c"], 20)
    y = X[:, 0] + 0.1 * rng.normal(size=60)
    if isinstance(estimator, ClassifierMixin):
        y = (y > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence of the small fits is not the point
        fitted = clone(estimator).fit(X, y, task_ids=task_ids)
    documented = {
        name.strip()
        for entry in NumpyDocString(inspect.cleandoc(type(fitted).__doc__))["Attributes"]
        for name in entry.name.split(",")
    }
    attributes = {name for name in vars(fitted) if name.endswith("_") and name[0] != "_"}
    assert attributes - documented == set()
