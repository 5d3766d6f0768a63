"""The documentation site lists what users can import (docs/api.rst) and keeps its gallery.

The build itself (``python -m sphinx -W --keep-going -b html docs docs/_build/html``) runs
in CI (.ci/run), with the examples; these checks are what can fail without Sphinx.
"""

import importlib
import re
from pathlib import Path

from test_docstrings import PUBLIC_MODULES

ROOT = Path(__file__).resolve().parents[1]
API = (ROOT / "docs" / "api.rst").read_text()


def _documented_names():
    """The names under autosummary directives and ``.. data::`` of docs/api.rst."""
    names = set(re.findall(r"^\.\. data:: (\w+)$", API, flags=re.M))
    for block in re.findall(r"\.\. autosummary::\n((?:\n|   .*\n)+)", API):
        names |= {line.strip() for line in block.splitlines() if re.fullmatch(r"   \w+", line)}
    return names


def test_every_public_object_is_in_the_api_reference():
    documented = _documented_names()
    missing = sorted(
        f"{module}.{name}"
        for module in PUBLIC_MODULES
        for name in importlib.import_module(module).__all__
        if name != "__version__" and name not in documented
    )
    assert not missing, f"add these to docs/api.rst: {missing}"


def test_the_api_reference_names_only_public_objects():
    public = {name for module in PUBLIC_MODULES for name in importlib.import_module(module).__all__}
    assert _documented_names() <= public


def test_the_gallery_has_its_examples():
    examples = sorted(p.name for p in (ROOT / "examples").glob("plot_*.py"))
    assert len(examples) >= 8, examples
    for path in (ROOT / "examples").glob("plot_*.py"):
        text = path.read_text()
        # sphinx-gallery needs a docstring with a title underlined by "="
        assert re.match(r'"""\n.+\n=+\n', text), f"{path.name}: no gallery title"
