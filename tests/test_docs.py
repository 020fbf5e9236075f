"""Docs that are tested: every command and setting is documented, and the reference pages are
what the code says today."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from recuerdo.cli import app, register_commands
from recuerdo.docgen import SETTINGS_CLASSES, cli_markdown, settings_markdown, walk

ROOT = Path(__file__).resolve().parents[1]


def test_reference_pages_are_current() -> None:
    assert (ROOT / "docs" / "settings.md").read_text() == settings_markdown() + "\n", (
        "run: python -m recuerdo.docgen"
    )
    assert (ROOT / "docs" / "cli.md").read_text() == cli_markdown() + "\n", (
        "run: python -m recuerdo.docgen"
    )


def test_every_command_has_help_ending_with_an_example() -> None:
    register_commands()
    commands = walk(typer.main.get_command(app))
    assert len(commands) >= 20
    runner = CliRunner()
    for path, command in commands:
        text = (command.help or "").strip()
        assert text, f"recuerdo {' '.join(path)} has no help"
        last = text.splitlines()[-1]
        assert last.startswith("Example: "), path
        assert "recuerdo " in last, path
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example: " in result.output


def test_every_setting_is_described() -> None:
    for cls in SETTINGS_CLASSES:
        for name, field in cls.model_fields.items():
            assert field.description, f"{cls.__name__}.{name} has no description"


def test_docs_index_pages_exist() -> None:
    for page in ("architecture.md", "api.md", "identifiers.md", "dependencies.md", "search.md"):
        assert (ROOT / "docs" / page).is_file(), page
