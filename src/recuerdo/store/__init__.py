"""Storage: the only package that knows SQL. ``open_store`` picks the engine from the URL.

Both engines offer the same :class:`Store` protocol: ``write`` runs an operation in a
transaction (group-committed on SQLite), ``read`` runs a read-only one. Operations live in
``ops.py`` / ``client_ops.py`` and are written once for both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from recuerdo.errors import ConfigurationError
from recuerdo.model import Identifier
from recuerdo.settings import Settings
from recuerdo.store.query import Op, Row

T = TypeVar("T")

SUPPORTED_URLS = "sqlite:///path/to/file.db, postgresql://user:password@host:port/database"


class Store(Protocol):
    capabilities: frozenset[str]
    needs_row_locks: bool

    async def write(self, factory: Callable[[], Op[T]]) -> T: ...

    async def read(self, factory: Callable[[], Op[T]]) -> T: ...

    async def find_client(self, tenant: int, keys: Sequence[Identifier]) -> Row | None:
        """The client row any of ``keys`` names (the first that does), or ``None``."""
        ...

    async def close(self) -> None: ...


def resolve_url(url: str | None, settings: Settings) -> str:
    """The database URL to use: the argument, else the setting, else a file in ``data_dir``."""
    chosen = url or settings.database_url
    if chosen:
        return chosen
    return f"sqlite:///{settings.data_dir / 'recuerdo.db'}"


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, ``None`` for other schemes."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite://"):
        raise ConfigurationError(
            f"SQLite URLs take a path after three slashes: sqlite:///data/recuerdo.db (got {url!r})"
        )
    return None


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://"))


def postgres_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


async def open_store(url: str, settings: Settings, *, migrate: bool) -> Store:
    """Open (and, if asked, migrate) the database named by ``url``."""
    from recuerdo.store import migrate as migrations

    path = sqlite_path(url)
    if path is not None:
        from recuerdo.store.sqlite import SQLiteStore

        path.parent.mkdir(parents=True, exist_ok=True)
        if migrate:
            migrations.upgrade_sqlite(path, page_size=settings.sqlite_page_size)
        elif migrations.current_revision_sqlite(path) is None:
            raise ConfigurationError(f"{path} has no recuerdo schema; run `recuerdo db upgrade`")
        return SQLiteStore(
            path,
            synchronous=settings.sqlite_synchronous,
            wal_autocheckpoint=settings.sqlite_wal_autocheckpoint,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            batch_max=settings.write_batch_max,
        )
    if is_postgres(url):
        from recuerdo.store.postgres import PostgresStore

        dsn = postgres_dsn(url)
        if migrate:
            await migrations.upgrade_postgres(dsn)
        return await PostgresStore.connect(
            dsn,
            min_size=settings.pg_pool_min,
            max_size=settings.pg_pool_max,
            lanes=settings.pg_writer_lanes,
            batch_max=settings.write_batch_max,
        )
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise ConfigurationError(
        f"unknown database URL scheme {scheme!r} in {url!r}; supported: {SUPPORTED_URLS}",
        url=url,
    )
