"""Every adversarial case of tests/adversarial/_cases_*.py: each must hold on main."""

import importlib
import pkgutil
import re
import warnings

import adversarial
import pytest


def _all_cases():
    cases = []
    for info in pkgutil.iter_modules(adversarial.__path__):
        if info.name.startswith("_cases_"):
            module = importlib.import_module(f"adversarial.{info.name}")
            cases += [pytest.param(c, id=f"{info.name[7:]}-{c.id}") for c in module.CASES]
    return cases


CASES = _all_cases()


@pytest.mark.parametrize("case", CASES)
def test_adversarial_case(case):
    if case.raises is not None:
        with pytest.raises(case.raises) as info:
            case.run()
        if case.match is not None:
            assert re.search(case.match, str(info.value)), str(info.value)
        return
    if case.warns is not None:
        with pytest.warns(case.warns, match=case.match):
            result = case.run()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an unexpected warning is a failure too
            result = case.run()
    if case.check is not None:
        case.check(result)


def test_there_are_cases():
    assert len(CASES) >= 1
