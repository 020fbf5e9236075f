"""The SQLite file recuerdo creates: its page size comes from the settings when recuerdo creates
it, an existing file keeps its own, and a page size SQLite cannot use is refused up front."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pydantic import ValidationError

from recuerdo import Memory, Settings


def _pragma(path: Path, name: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


async def test_a_new_database_takes_the_configured_page_size(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    async with await Memory.open(f"sqlite:///{path}", settings=Settings()) as memory:
        await memory.record_message("573001112233", "user", "hola")
    assert _pragma(path, "page_size") == 2048  # the default
    assert _pragma(path, "journal_mode") == "wal"

    other = tmp_path / "other.db"
    settings = Settings(sqlite_page_size=8192)
    async with await Memory.open(f"sqlite:///{other}", settings=settings) as memory:
        await memory.record_message("573001112233", "user", "hola")
        assert (await memory.client("573001112233")).total_messages == 1
    assert _pragma(other, "page_size") == 8192


async def test_an_existing_database_keeps_its_page_size_and_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    settings = Settings(sqlite_page_size=4096)
    async with await Memory.open(f"sqlite:///{path}", settings=settings) as memory:
        await memory.record_message("573001112233", "user", "antes")
    async with await Memory.open(f"sqlite:///{path}", settings=Settings()) as memory:
        await memory.record_message("573001112233", "user", "después")
        page = await memory.history("573001112233", limit=10)
    assert [m.content for m in page.items] == ["después", "antes"]
    assert _pragma(path, "page_size") == 4096


@pytest.mark.parametrize("size", [0, 256, 3000, 131072])
def test_a_page_size_sqlite_cannot_use_is_refused(size: int) -> None:
    with pytest.raises(ValidationError, match="sqlite_page_size"):
        Settings(sqlite_page_size=size)


async def _record_and_measure(path: Path, settings: Settings) -> tuple[int, int]:
    """Records 300 messages; answers the database file's size before and after (the log is
    still open: a checkpoint is the only thing that writes new pages into the file)."""
    async with await Memory.open(f"sqlite:///{path}", settings=settings) as memory:
        await memory.record_message("573001112233", "user", "primero")
        before = path.stat().st_size
        for i in range(300):
            await memory.record_message(f"5730011{i % 30:05d}", "user", f"mensaje {i} " * 20)
        after = path.stat().st_size
        assert (await memory.client("573001100007")).total_messages == 10
    return before, after


async def test_checkpoints_copy_the_log_into_the_file_at_the_configured_size(
    tmp_path: Path,
) -> None:
    # Rare checkpoints (the default with NORMAL, about 20 MiB of log): 300 messages stay in
    # the log.
    before, after = await _record_and_measure(tmp_path / "rare.db", Settings())
    assert after == before
    # With FULL the default is SQLite's own, every 1,000 pages: 300 messages pass it.
    full = Settings(sqlite_synchronous="FULL")
    before, after = await _record_and_measure(tmp_path / "full.db", full)
    assert after > before
    # Every 100 pages: the log is copied into the file again and again as the messages come.
    before, after = await _record_and_measure(
        tmp_path / "often.db", Settings(sqlite_wal_autocheckpoint=100)
    )
    assert after > before
    async with await Memory.open(f"sqlite:///{tmp_path / 'often.db'}") as memory:
        assert (await memory.client("573001100029")).total_messages == 10


@pytest.mark.parametrize("pages", [0, 99, 1_000_001])
def test_a_checkpoint_size_out_of_range_is_refused(pages: int) -> None:
    with pytest.raises(ValidationError, match="sqlite_wal_autocheckpoint"):
        Settings(sqlite_wal_autocheckpoint=pages)
