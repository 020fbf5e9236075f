"""Server-side functions recuerdo installs on PostgreSQL (their SQL is under ``store/sql/``).

Migrations call these. ``record_pg.sql`` is the function the code of this version calls; a
migration that must install the function as it was at its own revision (so that a database
stopped there, or downgraded to it, runs a function that matches its tables) names that
revision, whose text is kept as ``record_pg_<revision>.sql``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_SQL = Path(__file__).resolve().parent / "sql"
RECORD_FUNCTION_SQL = _SQL / "record_pg.sql"


def install_record_function(op: Any, revision: str | None = None) -> None:
    """Create or replace ``recuerdo_record`` through Alembic's ``op`` (PostgreSQL only): the
    current function, or the one kept for ``revision``."""
    if op.get_bind().dialect.name == "postgresql":
        source = RECORD_FUNCTION_SQL if revision is None else _SQL / f"record_pg_{revision}.sql"
        op.execute(source.read_text())
