"""The README's examples run as written."""

import re
from pathlib import Path

import sklearn

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    namespace = {}
    with sklearn.config_context():  # the routing example switches routing on
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)
    assert namespace["est"].coef_.shape == (3, 5)
