"""The examples in the docstrings of the summaries, LLM and context modules run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "recuerdo.llm",
    "recuerdo.context",
    "recuerdo.summaries.model",
    "recuerdo.summaries.patterns",
    "recuerdo.summaries.phrasing",
    "recuerdo.summaries.profile",
    "recuerdo.summaries.topics",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
