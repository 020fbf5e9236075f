"""Server-side functions recuerdo installs on PostgreSQL (their SQL is under ``store/sql/``).

Migrations call these; a later migration that changes a function re-installs it from the same
file (``CREATE OR REPLACE``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

RECORD_FUNCTION_SQL = Path(__file__).resolve().parent / "sql" / "record_pg.sql"


def install_record_function(op: Any) -> None:
    """Create or replace ``recuerdo_record`` through Alembic's ``op`` (PostgreSQL only)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RECORD_FUNCTION_SQL.read_text())
