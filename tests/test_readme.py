"""The code of the README and of the user guide runs as written (a block that needs
something outside, e.g. a cluster, is written as a ``{code-block} python`` directive)."""

import re
from pathlib import Path

import pytest
import sklearn

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("**/*.md"))


def _blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def _run(path, namespace):
    with sklearn.config_context():  # a routing example switches routing on
        for block in _blocks(path):
            exec(compile(block, str(path), "exec"), namespace)
    return namespace


def test_readme_example_runs():
    namespace = _run(README, {})
    assert namespace["est"].coef_.shape == (3, 5)
    assert "(docs/sklearn_tools.md)" in README.read_text()


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: p.stem)
def test_user_guide_code_runs(page):
    """Each page's blocks run in order, after the README's example (its X, y, task_ids)."""
    _run(page, _run(README, {}))


def test_the_guide_has_code():
    assert sum(len(_blocks(p)) for p in PAGES) >= 10
