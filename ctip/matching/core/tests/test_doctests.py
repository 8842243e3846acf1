"""The examples in the module docstrings are part of the documentation: keep them true."""

from __future__ import annotations

import doctest

import pytest

from ctip.matching.core import compare, hanzi, khmer, latin


@pytest.mark.parametrize("module", [compare, hanzi, khmer, latin], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
