"""Initial schema: tenants, clients, identifiers, conversations, messages, id counters.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from recuerdo.store.schema import (
    clients,
    conversations,
    id_counters,
    identifiers,
    messages,
    tenants,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TABLES = (tenants, clients, identifiers, conversations, messages, id_counters)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        table.create(bind)
    # Open conversations are few; the idle-closing job scans only them.
    op.create_index(
        "ix_conversations_open_idle",
        "conversations",
        ["last_message_at"],
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index("ix_conversations_client_start", "conversations", ["client_id", "started_at"])
    # Summary jobs due: the worker's claim reads only conversations not summarised yet.
    due = sa.text("summary_status IN ('pending', 'failed', 'running')")
    op.create_index(
        "ix_conversations_summary_due",
        "conversations",
        ["ended_at"],
        sqlite_where=due,
        postgresql_where=due,
    )
    op.create_index("ix_messages_client_time", "messages", ["client_id", "at", "id"])
    op.bulk_insert(
        id_counters, [{"name": "messages", "value": 0}, {"name": "conversations", "value": 0}]
    )


def downgrade() -> None:
    for table in reversed(_TABLES):
        table.drop(op.get_bind())
