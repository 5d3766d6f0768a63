"""The packaging promises .ci/run relies on."""

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lower_bounds():
    """{name: lowest version} of install_requires and the test extra in setup.cfg."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    lines = cfg["options"]["install_requires"].split() + cfg["options.extras_require"][
        "test"
    ].split("\n")
    bounds = {}
    for line in filter(None, (x.strip() for x in lines)):
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?>=([0-9.]+)", line).groups()
        bounds[name.lower()] = version
    return bounds


def _pins():
    text = (ROOT / ".ci" / "constraints-min.txt").read_text()
    return dict(
        line.lower().split("==") for line in text.splitlines() if line and not line.startswith("#")
    )


def test_every_lower_bound_is_pinned_in_the_minimum_constraints():
    bounds, pins = _lower_bounds(), _pins()
    assert len(bounds) >= 10
    for name, version in bounds.items():
        assert name in pins, f"{name} has no pin in .ci/constraints-min.txt"
        pinned = tuple(int(p) for p in pins[name].split("."))
        lowest = tuple(int(p) for p in version.split("."))
        assert pinned[: len(lowest)] == lowest, (name, pins[name], version)


def test_the_sdist_carries_what_the_tests_import():
    manifest = (ROOT / "MANIFEST.in").read_text()
    assert "graft tests" in manifest
    assert (ROOT / "tests" / "conftest.py").exists() and (ROOT / "tests" / "_reference.py").exists()
