"""The tables, as SQLAlchemy Core metadata: the single description both engines are built from.

Every per-client table's primary key starts with ``client_id`` so that the data can be
distributed by client (PostgreSQL + Citus) without a redesign. Identifiers live in their own
small table keyed by (tenant, kind, value): that is where "one phone, one client per tenant" is
enforced, because a distributed table cannot hold a unique key that lacks the distribution column.

Column types carry the dialect differences: :class:`UTCDateTime` is ``TIMESTAMPTZ`` on PostgreSQL
and ISO-8601 text on SQLite (declared as ``UTCTIME`` so the driver converts it back); JSON is
``JSONB`` on PostgreSQL and text on SQLite.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import JSON, DateTime, UserDefinedType


class _SQLiteUTCTime(UserDefinedType[str]):
    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "UTCTIME"


class _SQLiteJSON(UserDefinedType[str]):
    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "JSONTEXT"


UTCDateTime = DateTime(timezone=True).with_variant(_SQLiteUTCTime(), "sqlite")
JSONDoc = (
    JSON().with_variant(postgresql.JSONB(), "postgresql").with_variant(_SQLiteJSON(), "sqlite")
)
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("id", Id, primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

clients = Table(
    "clients",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", Id, nullable=False),
    Column("profile_name", Text),
    Column("customer_name", Text),
    Column("customer_name_source", String(32)),
    Column("thread_id", Text),
    Column("thread_provider", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_interaction_at", UTCDateTime),
    # The hour of last_interaction_at (rows.epoch_hour): what the activity index holds. A
    # message changes the index entry only when the hour changes, not every time (on SQLite an
    # UPDATE that names an indexed column rewrites its entry; on PostgreSQL an indexed column
    # that changes makes the update non-HOT). Listing orders by (active_hour, last_interaction_at).
    Column("active_hour", Integer),
    Column("total_conversations", Integer, nullable=False, server_default=text("0")),
    Column("total_messages", Integer, nullable=False, server_default=text("0")),
    Column("tags", JSONDoc, nullable=False),
    Column("attributes", JSONDoc, nullable=False),
    Column("profile_summary", Text),
    Column("bot_paused", Boolean, nullable=False, server_default=text("false")),
    Column("paused_by", Text),
    Column("paused_reason", Text),
    Column("paused_at", UTCDateTime),
    Column("open_conversation_id", Id),
    Column("consent", JSONDoc),
    Column("updated_at", UTCDateTime, nullable=False),
    # The search index's queue (store/search_ops.py): no message of this client with a lower
    # id waits to be indexed; NULL when none waits. A writer sets it when it stores the first
    # message after the indexer has caught up (or an older id), not with every message, so a
    # message writes no queue entry of its own; the indexer moves it on or clears it.
    Column("unindexed_from", Id),
    Index("ix_clients_tenant_activity", "tenant_id", "active_hour"),
    Index("ix_clients_tenant_name", "tenant_id", "customer_name"),
    Index(
        "ix_clients_search_queue",
        "id",
        sqlite_where=text("unindexed_from IS NOT NULL"),
        postgresql_where=text("unindexed_from IS NOT NULL"),
    ),
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("tenant_id", Id, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(160), nullable=False),
    Column("client_id", Id, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("tenant_id", "kind", "value"),
    Index("ix_identifiers_client", "client_id"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("client_id", Id, nullable=False),
    Column("id", Id, Sequence("conversations_id_seq"), nullable=False),
    Column("thread_id", Text),
    Column("started_at", UTCDateTime, nullable=False),
    Column("last_message_at", UTCDateTime, nullable=False),
    # The hour of last_message_at (rows.epoch_hour), for the open-conversation idle index (see
    # clients.active_hour). Never later than the true hour: a stale value only makes the idle
    # job look at a conversation that it then leaves open.
    Column("last_hour", Integer, nullable=False, server_default=text("0")),
    Column("ended_at", UTCDateTime),
    Column("end_reason", String(32)),
    Column("n_user", Integer, nullable=False, server_default=text("0")),
    Column("n_assistant", Integer, nullable=False, server_default=text("0")),
    Column("n_operator", Integer, nullable=False, server_default=text("0")),
    Column("n_system", Integer, nullable=False, server_default=text("0")),
    Column("summary", Text),
    Column("summary_status", String(16)),
    Column("summary_data", JSONDoc),
    Column("summary_attempts", Integer, nullable=False, server_default=text("0")),
    Column("summary_error", Text),
    Column("summary_next_at", UTCDateTime),
    Column("summary_lease", String(40)),
    Column("summary_lease_until", UTCDateTime),
    Column("outcome", Text),
    Column("topics", JSONDoc),
    PrimaryKeyConstraint("client_id", "id"),
    ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
    sqlite_with_rowid=False,  # clustered by client: a client's rows sit together
)

messages = Table(
    "messages",
    metadata,
    Column("client_id", Id, nullable=False),
    Column("id", Id, Sequence("messages_id_seq"), nullable=False),
    Column("conversation_id", Id, nullable=False),
    Column("thread_id", Text),
    Column("at", UTCDateTime, nullable=False),
    Column("role", SmallInteger, nullable=False),
    Column("content", Text, nullable=False),
    Column("content_type", String(16), nullable=False),
    Column("external_id", String(255)),
    Column("metadata", JSONDoc),
    # Whether the search indexer (store/search_ops.py) has indexed this message: it takes the
    # unindexed ones from each queued client (clients.unindexed_from), indexes their terms and
    # sets the flag in one transaction.
    Column("indexed", Boolean, nullable=False, server_default=text("false")),
    PrimaryKeyConstraint("client_id", "id"),
    UniqueConstraint("client_id", "external_id", name="uq_messages_external_id"),
    ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
    sqlite_with_rowid=False,  # clustered by client: a client's history is contiguous
)

id_counters = Table(
    "id_counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Id, nullable=False),
)
"""Id allocation for engines without sequences (SQLite): one row per table, advanced per batch."""

ROLE_CODES: dict[str, int] = {"user": 1, "assistant": 2, "manual_operator": 3, "system": 4}
ROLE_NAMES: dict[int, str] = {code: name for name, code in ROLE_CODES.items()}
ROLE_COUNTER: dict[str, str] = {
    "user": "n_user",
    "assistant": "n_assistant",
    "manual_operator": "n_operator",
    "system": "n_system",
}


api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", Id, nullable=False),
    Column("name", String(120), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)
