"""The examples in the docstrings of search's store side are run, so that they stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "recuerdo.search.service",
    "recuerdo.search.upkeep",
    "recuerdo.search.documents",
    "recuerdo.search.client_cache",
    "recuerdo.search.settings",
    "recuerdo.store.search_ops",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
