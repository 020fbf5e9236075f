"""The storage rules, written once as operations that both engines run (see ``query.py``).

Conversation assignment lives here: a message joins the client's open conversation unless the
idle timeout has passed or the thread changed; a message older than the open conversation (an
import, a late webhook) is placed in the past conversation its time belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from recuerdo.errors import StorageError
from recuerdo.model import Identifier
from recuerdo.store.query import NextId, Op, Query, Row, row_params, sql, with_rows
from recuerdo.store.rows import EncodedJson, as_dt, epoch_hour
from recuerdo.store.schema import ROLE_COUNTER

S_TENANT = sql("SELECT id FROM tenants WHERE slug = :slug")
S_INSERT_TENANT = sql(
    "INSERT INTO tenants (slug, created_at) VALUES (:slug, :at) ON CONFLICT (slug) DO NOTHING"
)
S_FIND_CLIENT = sql(
    "SELECT c.* FROM identifiers i JOIN clients c ON c.id = i.client_id "
    "WHERE i.tenant_id = :tenant_id AND i.kind = :kind AND i.value = :value"
)
# What recording reads of a client found by an identifier (``i``): only the columns it uses, of
# some twenty-five, and its open conversation's state (``open_…_``, NULL when none is open).
CLIENT_STATE = (
    "c.id AS id, c.open_conversation_id AS open_conversation_id, c.active_hour AS active_hour, "
    "c.last_interaction_at AS last_interaction_at, c.unindexed_from AS unindexed_from, "
    "v.id AS open_id_, "
    "v.thread_id AS open_thread_id_, v.last_message_at AS open_last_at_, "
    "v.last_hour AS open_last_hour_"
)
CLIENT_STATE_JOINS = (
    "JOIN clients c ON c.id = i.client_id "
    "LEFT JOIN conversations v ON v.client_id = c.id AND v.id = c.open_conversation_id "
    "AND v.ended_at IS NULL"
)
# One read for a message to an existing client where no other writer can interleave (SQLite):
# the client's state and whether the external id is stored.
S_FIND_FOR_RECORD = sql(
    f"SELECT {CLIENT_STATE}, EXISTS (SELECT 1 FROM messages m WHERE m.client_id = c.id "
    f"AND m.external_id = :external_id) AS stored_ FROM identifiers i {CLIENT_STATE_JOINS} "
    "WHERE i.tenant_id = :tenant_id AND i.kind = :kind AND i.value = :value"
)
S_INSERT_CLIENT = sql(
    "INSERT INTO clients (tenant_id, profile_name, created_at, updated_at, tags, attributes, "
    "total_conversations, total_messages, bot_paused) "
    "VALUES (:tenant_id, :profile_name, :at, :at, :tags, :attributes, 0, 0, false) RETURNING *"
)
S_INSERT_IDENTIFIER = sql(
    "INSERT INTO identifiers (tenant_id, kind, value, client_id, created_at) "
    "VALUES (:tenant_id, :kind, :value, :client_id, :at) "
    "ON CONFLICT (tenant_id, kind, value) DO NOTHING RETURNING client_id"
)
S_DELETE_CLIENT = sql("DELETE FROM clients WHERE id = :id")
# A no-op update takes the row lock on engines with row locks and returns the fresh row.
S_LOCK_CLIENT = sql("UPDATE clients SET updated_at = updated_at WHERE id = :id RETURNING *")
S_CLIENT = sql("SELECT * FROM clients WHERE id = :id")
S_IDENTIFIERS = sql(
    "SELECT kind, value FROM identifiers WHERE client_id = :client_id ORDER BY kind, value"
)
S_MESSAGE_BY_EXTERNAL = sql(
    "SELECT * FROM messages WHERE client_id = :client_id AND external_id = :external_id"
)
S_CONVERSATION = sql("SELECT * FROM conversations WHERE client_id = :client_id AND id = :id")
S_CONVERSATION_BEFORE = sql(
    "SELECT * FROM conversations WHERE client_id = :client_id AND started_at <= :at "
    "ORDER BY started_at DESC, id DESC LIMIT 1"
)
S_CONVERSATION_AFTER = sql(
    "SELECT * FROM conversations WHERE client_id = :client_id AND started_at > :at "
    "ORDER BY started_at, id LIMIT 1"
)
S_INSERT_CONVERSATION = sql(
    "INSERT INTO conversations (client_id, id, thread_id, started_at, last_message_at, "
    "last_hour, ended_at, end_reason, n_user, n_assistant, n_operator, n_system, summary_status) "
    "VALUES (:client_id, :id, :thread_id, :at, :at, :hour, :ended_at, :end_reason, 0, 0, 0, 0, "
    "'pending')"
)
S_CLOSE_CONVERSATION = sql(
    "UPDATE conversations SET ended_at = last_message_at, end_reason = :reason "
    "WHERE client_id = :client_id AND id = :id AND ended_at IS NULL"
)
S_SET_CONVERSATION_THREAD = sql(
    "UPDATE conversations SET thread_id = :thread_id WHERE client_id = :client_id AND id = :id"
)
S_SET_OPEN_CONVERSATION = sql(
    "UPDATE clients SET open_conversation_id = :conversation_id, "
    "total_conversations = total_conversations + 1 WHERE id = :client_id"
)
S_COUNT_PAST_CONVERSATION = sql(
    "UPDATE clients SET total_conversations = total_conversations + 1 WHERE id = :client_id"
)
INSERT_MESSAGE = (
    "INSERT INTO messages (client_id, id, conversation_id, thread_id, at, role, content, "
    "content_type, external_id, metadata) VALUES (:client_id, :id, :conversation_id, :thread_id, "
    ":at, :role, :content, :content_type, :external_id, :metadata)"
)
S_INSERT_MESSAGE = sql(INSERT_MESSAGE)
# The search queue's mark (clients.unindexed_from), written only when a new message is not
# covered by it already (see queued): usually once per indexer round per client, not per message.
S_QUEUE_FOR_SEARCH = sql("UPDATE clients SET unindexed_from = :id WHERE id = :client_id")
LAST_HOUR = "last_hour = CASE WHEN last_message_at < :at THEN :hour ELSE last_hour END, "
"""The idle index's hour, set with the last message time it follows (``:at``, ``:hour``)."""
_BUMP = (
    "UPDATE conversations SET {counter} = {counter} + 1, "
    "last_message_at = CASE WHEN last_message_at < :at THEN :at ELSE last_message_at END, "
    + LAST_HOUR
    + "started_at = CASE WHEN started_at > :at THEN :at ELSE started_at END, "
    "ended_at = CASE WHEN ended_at IS NOT NULL AND ended_at < :at THEN :at ELSE ended_at END, "
    "summary_status = CASE WHEN ended_at IS NOT NULL AND summary_status <> 'pending' "
    "THEN 'pending' ELSE summary_status END "
    "WHERE client_id = :client_id AND id = :id"
)
S_BUMP_CONVERSATION = {role: sql(_BUMP.format(counter=col)) for role, col in ROLE_COUNTER.items()}
# The usual case, the open conversation going on: only the columns that change are named, so
# SQLite leaves the indexes on the others alone (an UPDATE rewrites the entries of every index
# that covers a column it names, changed or not); the idle index's hour only when it moves.
S_CONTINUE_CONVERSATION = {
    (role, moved): sql(
        f"UPDATE conversations SET {col} = {col} + 1, last_message_at = :at"
        + (", last_hour = :hour" if moved else "")
        + " WHERE client_id = :client_id AND id = :id"
    )
    for role, col in ROLE_COUNTER.items()
    for moved in (False, True)
}
_BUMP_CLIENT = (
    "UPDATE clients SET total_messages = total_messages + 1, "
    "last_interaction_at = CASE WHEN last_interaction_at IS NULL OR last_interaction_at < :at "
    "THEN :at ELSE last_interaction_at END, {hour}"
    "profile_name = COALESCE(:profile_name, profile_name), "
    "thread_id = COALESCE(thread_id, :thread_id), updated_at = :now WHERE id = :client_id"
)
ACTIVE_HOUR = (
    "active_hour = CASE WHEN last_interaction_at IS NULL OR last_interaction_at < :at "
    "THEN :hour ELSE active_hour END, "
)
"""The activity index's hour, set with the time it follows (``:at``, ``:hour``)."""
S_BUMP_CLIENT = sql(_BUMP_CLIENT.format(hour=ACTIVE_HOUR))
S_BUMP_CLIENT_SAME_HOUR = sql(_BUMP_CLIENT.format(hour=""))
"""For a message that leaves the client's activity hour as it is (see ``same_hour``)."""


class PreparedMessage(NamedTuple):
    """A validated message, ready for storage (``Memory`` validates; the store trusts).

    A named tuple, not a frozen dataclass: one is built per message on the hot path, and a
    frozen dataclass's ``__init__`` costs several times more."""

    keys: tuple[Identifier, ...]
    role: str
    role_code: int
    content: str
    content_type: str
    at: datetime
    thread_id: str | None
    external_id: str | None
    metadata: EncodedJson | None
    """The metadata object as JSON text, encoded once when validated (``.source`` is the object)."""
    profile_name: str | None


def message_row(
    m: PreparedMessage, client_id: int, message_id: int, conversation_id: int, thread_id: str | None
) -> dict[str, Any]:
    """The ``messages`` row that stores ``m``."""
    return {
        "client_id": client_id,
        "id": message_id,
        "conversation_id": conversation_id,
        "thread_id": thread_id,
        "at": m.at,
        "role": m.role_code,
        "content": m.content,
        "content_type": m.content_type,
        "external_id": m.external_id,
        "metadata": m.metadata,
    }


def goes_on(
    last_at: datetime, conv_thread: str | None, at: datetime, thread_id: str | None, idle: timedelta
) -> bool:
    """Whether a message at ``at`` naming ``thread_id`` continues the open conversation whose
    last message is at ``last_at`` and whose thread is ``conv_thread``, as it stands: not before
    its last message, within the idle timeout, and naming no thread or that one. (The usual
    case, which the fast paths take; everything else, including a first thread id for the
    conversation, is :func:`record`'s general path.)"""
    return (
        last_at <= at and at - last_at <= idle and (thread_id is None or thread_id == conv_thread)
    )


def queued(mark: int | None, message_id: int) -> bool:
    """Whether a client's search-queue mark (``clients.unindexed_from``) covers a new message:
    the indexer looks at the client's messages from the mark on.

    >>> queued(None, 7), queued(5, 7), queued(9, 7)
    (False, True, False)
    """
    return mark is not None and mark <= message_id


def same_hour(stored_hour: int | None, stored_at: Any, at: datetime) -> bool:
    """Whether a row whose time is ``stored_at`` (hour ``stored_hour``) keeps its hour when
    ``at`` moves the time forward (the later of the two)."""
    if stored_hour is None or stored_at is None:
        return False
    last = as_dt(stored_at)
    return stored_hour == epoch_hour(at if at > last else last)


class Unread:
    """The type of :data:`UNREAD`."""


UNREAD = Unread()
"""Marks a value an operation has not been given and reads itself."""


def tenant_id(slug: str, now: datetime) -> Op[int]:
    row = yield Query(S_TENANT, {"slug": slug}, "one")
    if row is None:
        yield Query(S_INSERT_TENANT, {"slug": slug, "at": now})
        row = yield Query(S_TENANT, {"slug": slug}, "one")
    if row is None:
        raise StorageError(f"tenant {slug!r} could not be created")
    return int(row["id"])


def find_client(tenant: int, keys: Sequence[Identifier]) -> Op[Row | None]:
    for key in keys:
        row = yield Query(
            S_FIND_CLIENT, {"tenant_id": tenant, "kind": key.kind.value, "value": key.value}, "one"
        )
        if row is not None:
            return row  # type: ignore[no-any-return]
    return None


# Joins against a VALUES list, not row-value IN: SQLite answers `(a, b) IN (VALUES …)` with a
# full table scan, while a join walks the list and searches the index for each row.
FIND_MANY = (
    "WITH w(kind, value) AS (VALUES {rows}) "
    "SELECT i.kind AS kind, i.value AS value, c.* FROM w "
    "JOIN identifiers i ON i.tenant_id = :tenant_id AND i.kind = w.kind AND i.value = w.value "
    "JOIN clients c ON c.id = i.client_id"
)


def find_clients(tenant: int, keysets: Sequence[Sequence[Identifier]]) -> Op[list[Row | None]]:
    """:func:`find_client` for several lookups in one query: each answer is the client of the
    first of its keys that names one."""
    wanted = sorted({(k.kind.value, k.value) for keys in keysets for k in keys})
    rows = yield Query(
        with_rows(FIND_MANY, ("", ""), len(wanted)),
        {"tenant_id": tenant, **row_params(wanted)},
        "all",
    )
    found = {(r["kind"], r["value"]): r for r in rows}
    return [
        next((hit for k in keys if (hit := found.get((k.kind.value, k.value))) is not None), None)
        for keys in keysets
    ]


def ensure_client(
    tenant: int,
    keys: Sequence[Identifier],
    at: datetime,
    profile_name: str | None = None,
    *,
    checked: int = 0,
) -> Op[tuple[Row, bool]]:
    """The client any of ``keys`` names, created with all of them if none does (``checked``:
    how many of the first keys the caller has just looked up, in this transaction, in vain)."""
    row = yield from find_client(tenant, keys[checked:])
    if row is not None:
        return row, False
    client = yield Query(
        S_INSERT_CLIENT,
        {"tenant_id": tenant, "profile_name": profile_name, "at": at, "tags": [], "attributes": {}},
        "one",
    )
    claimed = yield from _claim(tenant, keys[0], client["id"], at)
    if not claimed:
        # Another writer created this client between our lookup and insert (PostgreSQL only).
        yield Query(S_DELETE_CLIENT, {"id": client["id"]})
        row = yield from find_client(tenant, keys)
        if row is None:
            raise StorageError("client vanished while it was being created; retry")
        return row, False
    for key in keys[1:]:
        yield from _claim(tenant, key, client["id"], at)
    return client, True


def _claim(tenant: int, key: Identifier, client_id: int, at: datetime) -> Op[bool]:
    row = yield Query(
        S_INSERT_IDENTIFIER,
        {
            "tenant_id": tenant,
            "kind": key.kind.value,
            "value": key.value,
            "client_id": client_id,
            "at": at,
        },
        "one",
    )
    return row is not None


def locked_client(client_id: int) -> Op[Row]:
    row = yield Query(S_LOCK_CLIENT, {"id": client_id}, "one")
    if row is None:
        raise StorageError(f"client {client_id} disappeared during the write; retry")
    return row  # type: ignore[no-any-return]


def record(
    tenant: int,
    m: PreparedMessage,
    idle: timedelta,
    now: datetime,
    *,
    lock: bool = True,
    found: Row | Unread | None = UNREAD,
) -> Op[tuple[Row, bool]]:
    """Store one message; answer ``(message_row, created)``. Idempotent on ``external_id``.

    ``found``: what :data:`S_FIND_FOR_RECORD` answered for this message in this transaction,
    when the caller has read it already (without row locks only)."""
    known: Row | None = None
    if not lock:  # the usual case in one read: a known client, a new message
        if not isinstance(found, Unread):
            known = found
        else:
            key = m.keys[0]
            known = yield Query(
                S_FIND_FOR_RECORD,
                {
                    "tenant_id": tenant,
                    "kind": key.kind.value,
                    "value": key.value,
                    "external_id": m.external_id,
                },
                "one",
            )
    if known is not None:
        client, created = known, False
        stored = bool(known["stored_"])
    else:
        # Without row locks the first identifier was just looked up and names nobody.
        client, created = yield from ensure_client(
            tenant, m.keys, m.at, m.profile_name, checked=0 if lock else 1
        )
        stored = m.external_id is not None and not created
    client_id = client["id"]
    if stored:
        existing = yield Query(
            S_MESSAGE_BY_EXTERNAL, {"client_id": client_id, "external_id": m.external_id}, "one"
        )
        if existing is not None:
            return existing, False
    if lock and not created:  # engines with concurrent writers serialise on the client row
        client = yield from locked_client(client_id)
    open_conv = None
    if known is not None and known["open_last_at_"] is not None:
        open_conv = {
            "last_message_at": known["open_last_at_"],
            "thread_id": known["open_thread_id_"],
            "last_hour": known["open_last_hour_"],
        }
    going_on: int | None
    if created:  # a new client has no conversation yet: this message opens its first
        conversation_id = yield from new_conversation(client_id, m.at, m.thread_id, open=True)
        thread_id, going_on = m.thread_id, epoch_hour(m.at)
    else:
        conversation_id, thread_id, going_on = yield from _conversation_for(
            client, m.at, m.thread_id, idle, open_conv
        )
    message_id = yield NextId("messages")
    # A message without a thread id belongs to its episode's.
    row = message_row(m, client_id, message_id, conversation_id, m.thread_id or thread_id)
    yield Query(S_INSERT_MESSAGE, row)
    if not queued(client["unindexed_from"], message_id):
        yield Query(S_QUEUE_FOR_SEARCH, {"client_id": client_id, "id": message_id})
    hour = epoch_hour(m.at)
    conversation = {"client_id": client_id, "id": conversation_id, "at": m.at, "hour": hour}
    if going_on is not None:
        yield Query(S_CONTINUE_CONVERSATION[m.role, going_on != hour], conversation)
    else:
        yield Query(S_BUMP_CONVERSATION[m.role], conversation)
    kept = same_hour(client["active_hour"], client["last_interaction_at"], m.at)
    yield Query(
        S_BUMP_CLIENT_SAME_HOUR if kept else S_BUMP_CLIENT,
        {
            "hour": hour,
            "client_id": client_id,
            "at": m.at,
            "profile_name": m.profile_name,
            "thread_id": m.thread_id,
            "now": now,
        },
    )
    return row, True


def _conversation_for(
    client: Row,
    at: datetime,
    thread_id: str | None,
    idle: timedelta,
    open_conv: Row | None = None,
) -> Op[tuple[int, str | None, int | None]]:
    """The conversation ``at`` belongs to, that conversation's thread id, and — when ``at``
    continues the open conversation (not before its last message), or opens a new one (which
    then holds ``at`` as its last message already) — that conversation's ``last_hour``
    (``open_conv``: the open conversation's ``last_message_at``, ``thread_id`` and
    ``last_hour``, when already read)."""
    client_id = client["id"]
    open_id = client["open_conversation_id"]
    if open_id is not None:
        conv = open_conv
        if conv is None:
            conv = yield Query(S_CONVERSATION, {"client_id": client_id, "id": open_id}, "one")
        if conv is not None and at >= (last := as_dt(conv["last_message_at"])):
            changed = _thread_changed(conv, thread_id)
            if not changed and at - last <= idle:
                if thread_id is not None and conv["thread_id"] is None:
                    yield Query(
                        S_SET_CONVERSATION_THREAD,
                        {"client_id": client_id, "id": open_id, "thread_id": thread_id},
                    )
                return int(open_id), thread_id or conv["thread_id"], int(conv["last_hour"])
            reason = "thread_change" if changed else "idle"
            yield Query(
                S_CLOSE_CONVERSATION, {"client_id": client_id, "id": open_id, "reason": reason}
            )
            new_id = yield from new_conversation(client_id, at, thread_id, open=True)
            return new_id, thread_id, epoch_hour(at)  # a conversation that starts goes on
    placed = yield from _place_in_past(client_id, at, thread_id, idle, has_open=open_id is not None)
    return (*placed, None)


def _place_in_past(
    client_id: int, at: datetime, thread_id: str | None, idle: timedelta, *, has_open: bool
) -> Op[tuple[int, str | None]]:
    """A message older than the open conversation's last one, or a client with none open."""
    prev = yield Query(S_CONVERSATION_BEFORE, {"client_id": client_id, "at": at}, "one")
    if prev is not None and not _thread_changed(prev, thread_id):
        last = as_dt(prev["last_message_at"])
        # A conversation closed on purpose (by an operator, a handoff) takes no later messages.
        closed_on_purpose = prev["ended_at"] is not None and prev["end_reason"] != "idle"
        if at <= last or (not closed_on_purpose and at - last <= idle):
            return int(prev["id"]), thread_id or prev["thread_id"]
    nxt = yield Query(S_CONVERSATION_AFTER, {"client_id": client_id, "at": at}, "one")
    if (
        nxt is not None
        and not _thread_changed(nxt, thread_id)
        and as_dt(nxt["started_at"]) - at <= idle
    ):
        return int(nxt["id"]), thread_id or nxt["thread_id"]
    # A conversation of its own: closed if newer ones exist, else it is the open one.
    new_id = yield from new_conversation(
        client_id, at, thread_id, open=nxt is None and not has_open
    )
    return new_id, thread_id


def new_conversation(client_id: int, at: datetime, thread_id: str | None, *, open: bool) -> Op[int]:
    conversation_id = yield NextId("conversations")
    yield Query(
        S_INSERT_CONVERSATION,
        {
            "client_id": client_id,
            "id": conversation_id,
            "thread_id": thread_id,
            "at": at,
            "hour": epoch_hour(at),
            "ended_at": None if open else at,
            "end_reason": None if open else "idle",
        },
    )
    if open:
        yield Query(
            S_SET_OPEN_CONVERSATION, {"client_id": client_id, "conversation_id": conversation_id}
        )
    else:
        yield Query(S_COUNT_PAST_CONVERSATION, {"client_id": client_id})
    return int(conversation_id)


def _thread_changed(conv: Row, thread_id: str | None) -> bool:
    return (
        thread_id is not None and conv["thread_id"] is not None and conv["thread_id"] != thread_id
    )
