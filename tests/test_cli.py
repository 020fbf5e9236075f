"""The command line over a real SQLite file: each command, and its errors as one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recuerdo.cli import app, register_commands

register_commands()
runner = CliRunner()
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def db(tmp_path: Path) -> list[str]:
    return ["--db", f"sqlite:///{tmp_path / 'cli.db'}"]


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_record_history_client_thread(db: list[str]) -> None:
    assert "recorded" in ok("record", "573003913251", "user", "Hola, ¿envían a Cali?", *db)
    again = ok("record", "+57 300 391 3251", "user", "x", "--external-id", "w1", *db)
    assert "recorded" in again
    assert "already stored" in ok("record", "573003913251", "user", "x", "--external-id", "w1", *db)
    ok("record", "573003913251@s.whatsapp.net", "assistant", "Sí, en 2 días", *db)
    history = ok("history", "573003913251", *db)
    assert history.index("¿envían a Cali?") < history.index("Sí, en 2 días")
    as_json = json.loads(ok("history", "573003913251", "--json", "--limit", "1", *db))
    assert as_json["items"][0]["content"] == "Sí, en 2 días"
    assert as_json["next_cursor"]
    ok("thread", "set", "573003913251", "conv_1", "--provider", "openai", *db)
    assert ok("thread", "get", "573003913251@c.us", *db).strip() == "conv_1"
    ok(
        "client",
        "update",
        "573003913251",
        "--name",
        "Ana",
        "--add-tag",
        "vip",
        "--attr",
        "ciudad=Cali",
        *db,
    )
    shown = ok("client", "show", "573003913251", *db)
    assert "Ana" in shown and "vip" in shown and "Cali" in shown
    assert "573003913251" in ok("clients", "--tag", "vip", *db)
    ok("client", "pause", "573003913251", "--by", "ana", *db)
    assert "yes, by ana" in ok("client", "show", "573003913251", *db)
    ok("client", "resume", "573003913251", *db)
    ok("client", "link", "573003913251", "12345678901@lid", *db)
    assert "lid:12345678901" in ok("client", "show", "12345678901@lid", *db)
    assert "open" in ok("conversations", "573003913251", *db)


def test_keys(db: list[str]) -> None:
    created = ok("keys", "create", "--scope", "bot", "--name", "ventas", *db)
    assert "rcd_" in created
    listed = ok("keys", "list", *db)
    assert "ventas" in listed and created.split()[-1] not in listed
    assert "revoked" in ok("keys", "revoke", "1", *db)
    assert "(revoked)" in ok("keys", "list", *db)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["record", "hola", "user", "x"], "invalid-identifier"),
        (["record", "573003913251", "robot", "x"], "invalid-role"),
        (["record", "573003913251", "user", "   "], "invalid-content"),
        (["client", "show", "573009999999"], "client-not-found"),
        (["history", "573003913251", "--before", "nope"], "invalid-cursor"),
        (["keys", "create", "--scope", "root"], "invalid-input"),
    ],
)
def test_errors_are_one_clear_line(db: list[str], args: list[str], code: str) -> None:
    result = runner.invoke(app, [*args, *db])
    assert result.exit_code == 2
    assert f"error ({code})" in result.output
    assert "Traceback" not in result.output


def test_unknown_database_scheme() -> None:
    result = runner.invoke(app, ["clients", "--db", "mysql://localhost/x"])
    assert result.exit_code == 2
    assert "unknown database URL scheme 'mysql'" in result.output


def test_naive_at_is_refused(db: list[str]) -> None:
    result = runner.invoke(
        app, ["record", "573003913251", "user", "x", "--at", "2026-01-01T10:00", *db]
    )
    assert result.exit_code != 0
    assert "timezone" in result.output or "offset" in result.output


def test_import_export_round_trip(tmp_path: Path, db: list[str]) -> None:
    source = SHARED / "whatsapp-exports" / "chat-miner" / "test_ddmmyy_24hrs.txt"
    result = runner.invoke(
        app,
        [
            "import",
            "whatsapp",
            str(source),
            "--business",
            "John Doe",
            "--allow-groups",
            "--phone",
            "573001112233",
            *db,
        ],
    )
    assert result.exit_code in (0, 1), result.output
    assert "imported" in result.output
    out = tmp_path / "export.jsonl"
    ok("export", "--out", str(out), *db)
    lines = out.read_text().splitlines()
    assert lines
    other = ["--db", f"sqlite:///{tmp_path / 'other.db'}"]
    ok("import", "jsonl", str(out), *other)
    again = ok("import", "jsonl", str(out), *other)
    assert f"0 imported, {len(lines)} already stored" in again or "0 imported" in again
    first = json.loads(ok("history", "573001112233", "--json", "--limit", "1000", *db))["items"]
    second = json.loads(ok("history", "573001112233", "--json", "--limit", "1000", *other))["items"]
    strip = lambda items: [(m["at"], m["role"], m["content"]) for m in items]  # noqa: E731
    assert strip(first) == strip(second)


def test_summarize_and_context(db: list[str]) -> None:
    ok(
        "record",
        "573003913251",
        "user",
        "Hola, me llamo Ana. Quiero una chaqueta azul.",
        "--at",
        "2025-01-10T10:00:00-05:00",
        *db,
    )
    ok(
        "record",
        "573003913251",
        "assistant",
        "Con gusto Ana, le envío el catálogo mañana.",
        "--at",
        "2025-01-10T10:01:00-05:00",
        *db,
    )
    assert "1 summarised, 0 failed" in ok("summarize", "--who", "573003913251", *db)
    assert "1 summarised, 0 failed" in ok("summarize", *db)  # again, on demand
    assert "returning" in ok("context", "573003913251", "--text", "la chaqueta", *db)
    note = json.loads(ok("context", "573003913251", "--json", *db))
    assert note["is_returning"] is True
    assert note["last_summary"]
