"""The examples in the search package's docstrings are run, so that they stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["text", "timeexpr", "ranking", "vectors", "fusion", "embeddings"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"recuerdo.search.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
