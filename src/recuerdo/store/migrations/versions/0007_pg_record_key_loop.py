"""PostgreSQL: the record function walks a message's identifiers by index instead of opening a
query cursor for them per message (about 4% less server time per message in a batch).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

from recuerdo.store.pg_functions import install_record_function

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    install_record_function(op)


def downgrade() -> None:
    install_record_function(op, "0006")
