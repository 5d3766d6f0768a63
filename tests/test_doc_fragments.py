"""What the composed docstrings say holds, and they render as Sphinx and numpydoc read them.

The estimators' docstrings are put together from fragments (mtreg/_base.py, mtreg/_docs.py):
each estimator lists the graph inputs it takes, and the graphs built from the data in fit
("knn", "similarity", "learn") only where fit takes them. A formula indented under a
paragraph is a literal block only after ``::`` (else reStructuredText makes it a block
quote, in the proportional font); a shape such as ``(n_features_in_,)`` is quoted as a
literal (a bare trailing underscore is a hyperlink reference for reStructuredText).
"""

import importlib
import inspect
import re

import numpy as np
import pytest
from numpydoc.docscrape import NumpyDocString
from sklearn.base import is_classifier
from test_docstrings import PUBLIC_MODULES, _public_objects

import mtreg
from mtreg.datasets import make_multitask_regression

ESTIMATORS = [
    mtreg.MultiTaskGraphRegressor,
    mtreg.MultiTaskGraphClassifier,
    mtreg.MultiTaskGraphRegressorCV,
    mtreg.MultiTaskKernelRidge,
    mtreg.MultiTaskKernelRidgeCV,
    mtreg.MultiTaskSVR,
    mtreg.MultiTaskSVC,
]
DATA_GRAPHS = ("knn", "similarity", "learn")


def _graph_description(cls):
    (param,) = [p for p in NumpyDocString(cls.__doc__)["Parameters"] if p.name == "graph"]
    return "\n".join(param.desc)


def _fits_with(cls, graph):
    X, y, task_ids, *_ = make_multitask_regression(
        n_tasks=5, n_samples=12, n_features=3, random_state=0
    )
    y = (y > np.median(y)).astype(int) if is_classifier(cls()) else y
    try:
        cls(graph=graph).fit(X, y, task_ids)
    except ValueError as error:
        assert "not available" in str(error) and cls.__name__ in str(error)
        return False
    return True


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_the_graph_docstring_lists_the_data_graphs_only_where_fit_takes_them(cls):
    doc = _graph_description(cls)
    listed = '``"knn"``, ``"similarity"``: built in fit' in doc and '``"learn"``: learn' in doc
    refused = "are not available" in doc
    for graph in DATA_GRAPHS:
        assert _fits_with(cls, graph) == listed, (cls.__name__, graph)
    assert listed != refused


def _docstrings():
    """(name, docstring) of every public module, class, function, method and property."""
    for name in PUBLIC_MODULES:
        yield name, importlib.import_module(name).__doc__
    for path, obj in _public_objects().items():
        yield path, obj.__doc__
        if inspect.isclass(obj):
            for name, member in vars(obj).items():
                if not name.startswith("_") and (
                    inspect.isfunction(member) or isinstance(member, property)
                ):
                    yield f"{path}.{name}", member.__doc__


def _block_quotes(lines):
    """The first lines of blocks indented under a paragraph that does not end in ``::``.

    Lists (``- item``) and directives (``.. math::``) indent their continuation lines; a
    paragraph of plain text followed by a blank line and a deeper line is a block quote.
    """
    found, paragraph, blank = [], [], True
    for line in lines:
        if not line.strip():
            blank = True
            continue
        indent = len(line) - len(line.lstrip())
        if blank and paragraph:
            first, last = paragraph[0], paragraph[-1]
            base = len(first) - len(first.lstrip())
            plain = not first.lstrip().startswith(("- ", "* ", ".. "))
            if indent > base and plain and not last.rstrip().endswith("::"):
                found.append(line.strip())
            if indent <= base or not plain or last.rstrip().endswith("::"):
                paragraph = []
        if blank and not paragraph:
            paragraph = [line]
        elif not blank or paragraph:
            paragraph.append(line)
        blank = False
    return found


def test_the_block_quote_check_finds_a_formula_without_double_colon():
    text = ["The fit minimises", "", "    J = sum_i loss", "", "and then more."]
    assert _block_quotes(text) == ["J = sum_i loss"]
    assert _block_quotes(["The fit minimises::", "", "    J = sum_i loss"]) == []
    assert _block_quotes(["- an item", "", "  its second paragraph"]) == []


def test_indented_formulas_are_literal_blocks():
    quotes = []
    for name, doc in _docstrings():
        if not doc:
            continue
        parsed = NumpyDocString(doc)
        pieces = [parsed["Extended Summary"], parsed["Notes"]]
        for section in ("Parameters", "Other Parameters", "Returns", "Attributes"):
            pieces += [[""] + list(p.desc) for p in parsed[section]]
        quotes += [f"{name}: {line}" for lines in pieces for line in _block_quotes(lines)]
    assert not quotes, "end the paragraph before each with '::' (or ' ::'):\n" + "\n".join(quotes)


def test_shapes_that_name_an_attribute_quote_it():
    bare = [
        f"{name}: {match}"
        for name, doc in _docstrings()
        for match in re.findall(r"\((\w+_),\)", doc or "")
    ]
    assert not bare, f"write (``n_features_in_``,), not (n_features_in_,): {bare}"


def test_import_and_fit_without_docstrings():
    """``python -OO`` strips the docstrings the fragments are composed into: the package still
    imports, and an estimator of each module still fits."""
    import subprocess
    import sys

    code = (
        "import mtreg, mtreg.plotting, mtreg.relations, mtreg.datasets, mtreg.metrics\n"
        "assert mtreg.MultiTaskGraphRegressor.__doc__ is None\n"
        "from mtreg.datasets import make_multitask_regression\n"
        "X, y, t, _ = make_multitask_regression(n_tasks=4, n_samples=40, n_features=3,"
        " random_state=0)\n"
        "for est in (mtreg.MultiTaskGraphRegressor(), mtreg.MultiTaskKernelRidge(),"
        " mtreg.BayesianMultiTaskGraphRegressor()):\n"
        "    est.fit(X, y, task_ids=t).predict(X, task_ids=t)\n"
    )
    done = subprocess.run([sys.executable, "-OO", "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
