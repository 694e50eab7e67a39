"""Every ``Examples`` section in the package's docstrings runs (MetPy-style: examples are tests)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import landcarbon

MODULES = sorted(m.name for m in pkgutil.walk_packages(landcarbon.__path__, "landcarbon.")
                 if not m.name.split(".")[-1].startswith("_"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
