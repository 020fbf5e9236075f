"""Shared fixtures: a real SQLite file and a real PostgreSQL server, a fake clock."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from recuerdo import Memory, Settings
from tests.pg_server import PostgresServer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_counter = itertools.count()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 15, 14, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """The URL of a PostgreSQL 15 server for the whole session (started here unless given)."""
    given = os.environ.get("RECUERDO_TEST_PG_URL")
    if given:
        yield given
        return
    server = PostgresServer()
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


async def fresh_pg_database(server_url: str) -> str:
    name = f"t_{os.getpid()}_{next(_counter)}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'recuerdo.db'}"
    server: str = request.getfixturevalue("pg_server_url")
    return await fresh_pg_database(server)


@pytest.fixture
async def memory(db_url: str, clock: FakeClock) -> AsyncIterator[Memory]:
    """A ``Memory`` on a fresh database of each engine, with a fake clock."""
    mem = await Memory.open(db_url, settings=Settings(), clock=clock)
    try:
        yield mem
    finally:
        await mem.close()
