"""Coarse activity times: the activity and idle indexes hold the hour, not the instant.

Revision ID: 0006
Revises: 0005

Every message moved two index entries: the client's in ``ix_clients_tenant_activity``
(``last_interaction_at``) and its open conversation's in ``ix_conversations_open_idle``
(``last_message_at``). On SQLite each move wrote two or three more pages per message (4.4 of
the 11.5 pages a message wrote); on PostgreSQL it made both updates non-HOT (a new entry in
every index of both tables). The indexes now hold ``clients.active_hour`` and
``conversations.last_hour`` (hours since 1970, ``rows.epoch_hour``), which change once an hour
of conversation; the exact times stay in their columns, and the queries that used the indexes
filter and order on both (listing clients by activity, finding idle conversations).

0001 creates tables as ``schema.py`` describes them now, so on a new database the columns exist
already; this migration adds them only where they are missing and fills them from the times.
On PostgreSQL, the two tables also get a fill factor that leaves room on each page for the
HOT update a message makes, and the record function maintains the hours.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from recuerdo.store.pg_functions import install_record_function

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_HOUR = {
    "sqlite": "CAST(strftime('%s', {column}) AS INTEGER) / 3600",
    "postgresql": "floor(extract(epoch FROM {column}) / 3600)::integer",
}


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    columns = {
        table: {c["name"] for c in sa.inspect(bind).get_columns(table)}
        for table in ("clients", "conversations")
    }
    if "active_hour" not in columns["clients"]:
        op.add_column("clients", sa.Column("active_hour", sa.Integer()))
    if "last_hour" not in columns["conversations"]:
        op.add_column(
            "conversations",
            sa.Column("last_hour", sa.Integer(), nullable=False, server_default=sa.text("0")),
        )
    hour = _HOUR[dialect]
    op.execute(
        f"UPDATE clients SET active_hour = {hour.format(column='last_interaction_at')} "
        "WHERE last_interaction_at IS NOT NULL"
    )
    op.execute(f"UPDATE conversations SET last_hour = {hour.format(column='last_message_at')}")
    op.drop_index("ix_clients_tenant_activity", table_name="clients")
    op.create_index("ix_clients_tenant_activity", "clients", ["tenant_id", "active_hour"])
    op.drop_index("ix_conversations_open_idle", table_name="conversations")
    _open_idle_index("last_hour")
    if dialect == "postgresql":
        op.execute("ALTER TABLE clients SET (fillfactor = 80)")
        op.execute("ALTER TABLE conversations SET (fillfactor = 80)")
        install_record_function(op, "0006")


def downgrade() -> None:
    op.drop_index("ix_conversations_open_idle", table_name="conversations")
    op.drop_index("ix_clients_tenant_activity", table_name="clients")
    op.drop_column("conversations", "last_hour")
    op.drop_column("clients", "active_hour")
    op.create_index("ix_clients_tenant_activity", "clients", ["tenant_id", "last_interaction_at"])
    _open_idle_index("last_message_at")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE clients RESET (fillfactor)")
        op.execute("ALTER TABLE conversations RESET (fillfactor)")
        install_record_function(op, "0005")  # this revision's writes the hour columns


def _open_idle_index(column: str) -> None:
    """The idle job's index: open conversations by the time (or hour) of their last message."""
    open_only = sa.text("ended_at IS NULL")
    op.create_index(
        "ix_conversations_open_idle",
        "conversations",
        [column],
        sqlite_where=open_only,
        postgresql_where=open_only,
    )
