"""``recuerdo search``: query, reindex with a progress bar, index, embed; help with examples."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recuerdo import Memory, Settings
from recuerdo.cli import app
from recuerdo.cli_search import search_app
from tests.search.shop import ANA, load_shop


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def fill() -> None:
        memory = await Memory.open(url, settings=Settings())
        try:
            await load_shop(memory)
        finally:
            await memory.close()

    asyncio.run(fill())
    return url


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["search", *args])
    return result.exit_code, result.output


def test_search_the_tenant_and_one_client(db: str) -> None:
    code, out = invoke("camisetas envío Cali", "--db", db, "--limit", "2")
    assert code == 0, out
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert "«Cali»" in lines[0]
    assert lines[0].endswith("(c1)")
    code, out = invoke("--who", ANA, "pedido PED-2024-118", "--db", db, "--json")
    assert code == 0, out
    hits = json.loads(out)
    assert hits[0]["message"]["external_id"] == "a4"
    assert hits[0]["snippet"] == "Listo, su «pedido» es «PED-2024-118»"
    code, out = invoke("query", "reindex", "--db", db)  # the word itself, not the command
    assert (code, out.strip()) == (0, "(no hits)")


def test_filters_and_errors(db: str) -> None:
    code, out = invoke(
        "pedido", "--who", ANA, "--role", "user", "--since", "2025-05-01T00:00:00+00:00", "--db", db
    )
    assert code == 0, out
    assert [line.rsplit("(", 1)[1].rstrip(")") for line in out.strip().splitlines()] == [
        "a5",
        "a8",
    ]
    code, out = invoke("pedido", "--who", "573009999999", "--db", db)
    assert code == 2
    assert "client-not-found" in out
    code, out = invoke("pedido", "--since", "2025-05-01", "--db", db)
    assert code == 2
    assert "--since" in out


def test_reindex_index_and_embed(db: str) -> None:
    code, out = invoke("reindex", "--db", db)
    assert code == 0, out
    assert "reindexing" in out
    assert "13/13" in out
    assert out.strip().endswith("13 messages indexed")
    code, out = invoke("reindex", "--db", db, "--quiet")
    assert (code, out.strip()) == (0, "13 messages indexed")
    code, out = invoke("index", "--db", db)
    assert (code, out.strip()) == (0, "0 messages indexed")
    code, out = invoke("embed", "--db", db, "--quiet")
    assert code == 2
    assert "embeddings are off" in out


def test_every_search_command_has_help_with_an_example() -> None:
    code, out = invoke("--help")
    assert code == 0
    assert "Example:" in out
    for command in search_app.registered_commands:
        assert command.callback is not None
        doc = command.callback.__doc__ or ""
        last = doc.strip().splitlines()[-1].strip()
        assert last.startswith("Example: ")
        assert "recuerdo search" in last
        name = command.name or ""
        code, out = invoke(name, "--help")
        assert code == 0, out
        assert "Example:" in out
