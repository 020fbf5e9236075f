"""Alembic migrations, applied programmatically (on open, or by ``recuerdo db upgrade``)."""

from __future__ import annotations

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


def upgrade_sqlite(path: Path) -> None:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            _upgrade(connection)
    finally:
        engine.dispose()


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
