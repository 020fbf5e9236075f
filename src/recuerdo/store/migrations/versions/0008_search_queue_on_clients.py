"""The search indexer's queue moves from a partial index on messages to a mark on the client.

Revision ID: 0008
Revises: 0007

Every message used to add an entry to ``ix_messages_unindexed`` (messages ``NOT indexed``),
which the indexer took and removed: on SQLite one more page in each commit, about 13 µs of a
lone caller's ~100 µs message. Now ``clients.unindexed_from`` holds the lowest id of the
client's messages that may wait (NULL: none), under a partial index of the marked clients. A
writer sets it only when a client's first message after the indexer has caught up arrives (or
an older id than the mark), so a message usually writes nothing for the queue; the indexer
moves the mark past what it indexed, or clears it. The ``indexed`` flag stays.

0001 creates tables as ``schema.py`` describes them now, so a new database has the column and
index already and never had the old index; this migration changes only what it finds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from recuerdo.store.pg_functions import install_record_function

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_MARKED = sa.text("unindexed_from IS NOT NULL")
_UNINDEXED = sa.text("NOT indexed")


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if "unindexed_from" not in {c["name"] for c in inspector.get_columns("clients")}:
        op.add_column("clients", sa.Column("unindexed_from", sa.BigInteger()))
    if "ix_clients_search_queue" not in _indexes(inspector, "clients"):
        op.create_index(
            "ix_clients_search_queue",
            "clients",
            ["id"],
            sqlite_where=_MARKED,
            postgresql_where=_MARKED,
        )
    if "ix_messages_unindexed" in _indexes(inspector, "messages"):
        # Mark each client with waiting messages while the old queue can still find them.
        op.execute(
            "UPDATE clients SET unindexed_from = (SELECT min(m.id) FROM messages m "
            "WHERE m.client_id = clients.id AND NOT m.indexed) "
            "WHERE id IN (SELECT DISTINCT client_id FROM messages WHERE NOT indexed)"
        )
        op.drop_index("ix_messages_unindexed", table_name="messages")
    install_record_function(op)


def downgrade() -> None:
    op.create_index(
        "ix_messages_unindexed",
        "messages",
        ["client_id", "id"],
        sqlite_where=_UNINDEXED,
        postgresql_where=_UNINDEXED,
    )
    op.drop_index("ix_clients_search_queue", table_name="clients")
    op.drop_column("clients", "unindexed_from")
    install_record_function(op, "0007")


def _indexes(inspector: sa.Inspector, table: str) -> set[str]:
    return {str(i["name"]) for i in inspector.get_indexes(table)}
