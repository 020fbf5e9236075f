"""Migrations on both engines: down to an older revision and back up keeps the data, and a
column added later is filled from the data already stored; each revision runs its own
PostgreSQL record function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from recuerdo import Memory, NewMessage, Settings
from recuerdo.store import migrate
from recuerdo.store.pg_functions import RECORD_FUNCTION_SQL
from recuerdo.store.rows import as_dt, epoch_hour
from tests.conftest import FakeClock, fresh_pg_database

T = TypeVar("T")


async def _in_transaction(url: str, work: Callable[..., T], *args: Any) -> T:
    """``work(connection, *args)`` in one transaction, on either engine."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url)
        try:
            with engine.begin() as connection:
                return work(connection, *args)
        finally:
            engine.dispose()
    async_engine = create_async_engine(migrate._async_url(url))
    try:
        async with async_engine.begin() as connection:
            return await connection.run_sync(work, *args)
    finally:
        await async_engine.dispose()


def _alembic(connection: Connection, action: str, target: str) -> None:
    getattr(command, action)(migrate._config(connection), target)


def _execute(connection: Connection, *statements: str) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for statement in statements:
        result = connection.execute(sa.text(statement))
        if result.returns_rows:
            rows += [tuple(row) for row in result]
    return rows


def _columns(connection: Connection, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(connection).get_columns(table)}


async def test_activity_hours_are_filled_on_upgrade(db_url: str) -> None:
    clock = FakeClock(datetime(2026, 11, 27, 9, 40, tzinfo=UTC))
    async with await Memory.open(db_url, settings=Settings(), clock=clock) as memory:
        await memory.record_many(
            [
                NewMessage("573001112233", "user", "hola", at=clock.now()),
                NewMessage("573004445566", "user", "buenas", at=clock.now()),
            ]
        )
    await _in_transaction(db_url, _alembic, "downgrade", "0005")
    assert "active_hour" not in await _in_transaction(db_url, _columns, "clients")
    # What a version before 0006 stored afterwards: the first client wrote 90 minutes later.
    clock.advance(minutes=90)
    later = (
        "2026-11-27T11:10:00.000000+00:00"  # SQLite keeps times as fixed-width ISO text
        if db_url.startswith("sqlite")
        else "2026-11-27 11:10:00+00"
    )
    await _in_transaction(
        db_url,
        _execute,
        f"UPDATE conversations SET last_message_at = '{later}' WHERE client_id = 1",
        f"UPDATE clients SET last_interaction_at = '{later}' WHERE id = 1",
    )
    await _in_transaction(db_url, _alembic, "upgrade", "head")
    for table, time_column, hour_column in (
        ("clients", "last_interaction_at", "active_hour"),
        ("conversations", "last_message_at", "last_hour"),
    ):
        rows = await _in_transaction(
            db_url, _execute, f"SELECT {time_column}, {hour_column} FROM {table}"
        )
        assert sorted(hour for _, hour in rows) == [
            epoch_hour(clock.now() - timedelta(minutes=90)),
            epoch_hour(clock.now()),
        ]
        assert all(hour == epoch_hour(as_dt(at)) for at, hour in rows)
    # The upgraded database works: listing by activity, the idle job, recording.
    async with await Memory.open(db_url, settings=Settings(), clock=clock) as memory:
        listed = await memory.clients()
        assert [c.phone for c in listed.items] == ["573001112233", "573004445566"]
        clock.advance(hours=7)
        assert await memory.close_idle_conversations() == 2
        assert (await memory.record_message("573004445566", "user", "volví")).created


async def test_the_search_queue_moves_to_the_clients_on_upgrade(db_url: str) -> None:
    """Down to 0007 the queue is the partial index of unindexed messages again; up, each client
    with waiting messages is marked at the first of them, and the indexer takes them all."""
    from recuerdo.search.service import SearchService

    async with await Memory.open(db_url, settings=Settings()) as memory:
        for n in range(3):
            await memory.record_message("573001112233", "user", f"pedido {n}")
        await memory.record_message("573004445566", "user", "camiseta")
        assert await SearchService.of(memory).index_pending() == 4
        await memory.record_message("573001112233", "user", "otro pedido")
    await _in_transaction(db_url, _alembic, "downgrade", "0007")
    assert "unindexed_from" not in await _in_transaction(db_url, _columns, "clients")
    await _in_transaction(db_url, _alembic, "upgrade", "head")
    marks = await _in_transaction(
        db_url,
        _execute,
        "SELECT c.unindexed_from, (SELECT min(m.id) FROM messages m "
        "WHERE m.client_id = c.id AND NOT m.indexed) FROM clients c ORDER BY c.id",
    )
    assert marks[0][0] == marks[0][1] is not None  # the waiting message
    assert marks[1] == (None, None)  # nothing waits
    indexes = await _in_transaction(
        db_url, lambda c: {i["name"] for i in sa.inspect(c).get_indexes("messages")}
    )
    assert "ix_messages_unindexed" not in indexes
    async with await Memory.open(db_url, settings=Settings()) as memory:
        assert await SearchService.of(memory).index_pending() == 1
        found = [h.message.content for h in await memory.search("pedido") if h.message]
        assert "otro pedido" in found


def _function_body(source: Path) -> str:
    """The body of the function a ``store/sql`` file creates (what ``pg_proc.prosrc`` keeps)."""
    return source.read_text().split(" AS $$", 1)[1].rsplit("$$;", 1)[0]


async def test_each_revision_installs_its_own_record_function(pg_server_url: str) -> None:
    """PostgreSQL: head runs the current ``record_pg.sql``; a database taken down to a revision
    runs the function kept for it, and back up the current one again."""
    url = await fresh_pg_database(pg_server_url)
    async with await Memory.open(url, settings=Settings()) as memory:
        await memory.record_message("573001112233", "user", "hola")

    async def installed() -> str:
        rows = await _in_transaction(
            url, _execute, "SELECT prosrc FROM pg_proc WHERE proname = 'recuerdo_record'"
        )
        assert len(rows) == 1
        return str(rows[0][0])

    current = _function_body(RECORD_FUNCTION_SQL)
    assert await installed() == current
    for revision in ("0007", "0006", "0005"):
        await _in_transaction(url, _alembic, "downgrade", revision)
        kept = RECORD_FUNCTION_SQL.with_name(f"record_pg_{revision}.sql")
        assert await installed() == _function_body(kept) != current
    await _in_transaction(url, _alembic, "upgrade", "head")
    assert await installed() == current
    async with await Memory.open(url, settings=Settings()) as memory:
        assert (await memory.record_message("573001112233", "user", "otra vez")).created
        assert (await memory.client("573001112233")).total_messages == 2
