"""PostgreSQL: the server-side record function (one round trip per batch of messages).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SQL = Path(__file__).resolve().parents[2] / "sql" / "record_pg.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SQL.read_text())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS recuerdo_record(bigint, jsonb, interval, timestamptz)")
