"""Alembic migrations, applied programmatically (on open, or by ``recuerdo db upgrade``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

_SCRIPTS = Path(__file__).parent / "migrations"


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(_config(connection), "head")


def _current(connection: Connection) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade_sqlite(path: Path, *, page_size: int | None = None) -> None:
    """Migrate the SQLite file at ``path``; a file that does not exist yet is created first with
    ``page_size`` (fixed for the life of a database in WAL mode)."""
    if page_size is not None and (not path.exists() or path.stat().st_size == 0):
        create_sqlite(path, page_size)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            _upgrade(connection)
    finally:
        engine.dispose()


def create_sqlite(path: Path, page_size: int) -> None:
    """An empty SQLite database with ``page_size`` pages, in WAL mode."""
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA page_size = {int(page_size)}")
        conn.execute("PRAGMA journal_mode = WAL")  # writes the header: the page size is set
    finally:
        conn.close()


async def upgrade_postgres(dsn: str) -> None:
    engine = create_async_engine(_async_url(dsn))
    try:
        async with engine.begin() as connection:
            # One migrator at a time when several processes start together.
            from sqlalchemy import text

            await connection.execute(text("SELECT pg_advisory_xact_lock(7452010)"))
            await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()


async def current_revision_postgres(dsn: str) -> str | None:
    engine = create_async_engine(_async_url(dsn))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current)
    finally:
        await engine.dispose()


def current_revision_sqlite(path: Path) -> str | None:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return _current(connection)
    finally:
        engine.dispose()


def _async_url(dsn: str) -> str:
    rest = dsn.partition("://")[2]
    return f"postgresql+asyncpg://{rest}"
