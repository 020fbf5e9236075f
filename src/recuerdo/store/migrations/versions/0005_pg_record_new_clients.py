"""PostgreSQL: the record function also creates clients it meets for the first time (before,
a first message went back to Python: about a dozen round trips instead of one).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SQL = Path(__file__).resolve().parents[2] / "sql" / "record_pg.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SQL.read_text())


def downgrade() -> None:
    # The function as 0004 left it differs only in sending first contacts back to Python, which
    # this one still accepts: nothing to undo.
    pass
