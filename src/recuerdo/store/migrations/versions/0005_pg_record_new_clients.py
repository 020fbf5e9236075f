"""PostgreSQL: the record function also creates clients it meets for the first time (before,
a first message went back to Python: about a dozen round trips instead of one).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

from recuerdo.store.pg_functions import install_record_function

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    install_record_function(op, "0005")


def downgrade() -> None:
    # The function as 0004 left it differs only in sending first contacts back to Python, which
    # this one still accepts: nothing to undo.
    pass
