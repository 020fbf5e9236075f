"""PostgreSQL: the server-side record function (one round trip per batch of messages).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

from recuerdo.store.pg_functions import install_record_function

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    install_record_function(op, "0005")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS recuerdo_record(bigint, jsonb, interval, timestamptz)")
