"""docs/search.md documents every search setting and every `recuerdo search` command."""

from __future__ import annotations

from pathlib import Path

from recuerdo.cli_search import search_app
from recuerdo.search.settings import SearchSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "search.md"


def test_every_setting_is_documented_with_its_description() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, field in SearchSettings.model_fields.items():
        assert f"`RECUERDO_SEARCH_{name.upper()}`" in text, name
        assert field.description, name
        assert field.description in text, f"{name}: the table differs from the description"


def test_every_command_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for command in search_app.registered_commands:
        assert f"`recuerdo search {command.name}" in text or command.name == "query", command.name
    assert "`recuerdo search query TEXT`" in text


def test_the_sqlite_version_needed_is_stated() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "SQLite **3.35 or newer**" in text
    assert "3.40.1" in text
