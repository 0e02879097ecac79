"""The docstring examples of the validation modules run as tests."""

import doctest
import importlib

import pytest

MODULES = [
    "qbrecon.rules",
    "qbrecon.report",
    "qbrecon.batch",
    "qbrecon.mapping",
    "qbrecon.testing",
    "qbrecon.formats.iif",
    "qbrecon.formats.qbxml",
    "qbrecon.ids",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
