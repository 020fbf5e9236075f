"""SQLite: a lone ``record_message`` of the usual kind, with its statements bound by hand.

A known client's new message that continues its open conversation is most of what a lone caller
records; the generic step driver (``SQLiteStore._drive``) cost more than its SQL, so
:class:`UsualRecord` runs the same statements as :func:`recuerdo.store.ops.record` directly.
Also here: the SQLite text of times, shared with the writer's parameter binding.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects import sqlite as sqlite_dialect

from recuerdo.store import ops
from recuerdo.store.query import Row
from recuerdo.store.record_batch import KNOWN_MAX, KnownClient, RecordCall
from recuerdo.store.rows import as_dt, db_time, epoch_hour

if TYPE_CHECKING:
    from recuerdo.store.sqlite import SQLiteStore

# Formatting a datetime costs about 2 µs here, and a write formats the same instants again and
# again (a message's time goes into its row, its conversation's and its client's; a batch's
# "now" into every client row): recent texts are kept.
_TEXTS: dict[datetime, str] = {}


def time_text(value: datetime) -> str:
    if value.tzinfo is not UTC:
        # Only UTC times are kept: two local times that differ only in ``fold`` (the repeated
        # hour when clocks go back) compare equal, yet are different instants.
        return db_time(value)
    text = _TEXTS.get(value)
    if text is None:
        if len(_TEXTS) >= 4096:
            _TEXTS.clear()
        text = _TEXTS[value] = db_time(value)
    return text


class UsualRecord:
    """A lone ``record_message`` of the usual kind — a known client's new message that
    continues its open conversation (:func:`ops.goes_on`) — written with its statements bound
    by hand: the same statements :func:`ops.record` yields, in the same order, with the same
    values, without a step, a parameter mapping and a converted copy of it per statement (a
    lone caller's message spent more time in those than in its SQL). Anything else answers
    ``None`` with what it read, and goes through :func:`ops.record`. The batch equivalence
    tests compare both paths.

    What it read and wrote of a client is kept (the store's :class:`KnownClient` states, which
    batches keep too), so that the client's next message needs no read. Without the read, a
    repeated external id is found by the unique index refusing the insert; that message then
    goes the general way.
    """

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._find = positional_text(ops.S_FIND_FOR_RECORD, "external_id tenant_id kind value")
        self._stored = positional_text(ops.S_MESSAGE_BY_EXTERNAL, "client_id external_id")
        self._queue_for_search = positional_text(ops.S_QUEUE_FOR_SEARCH, "id client_id")
        self._insert = positional_text(
            ops.S_INSERT_MESSAGE,
            "client_id id conversation_id thread_id at role content content_type external_id "
            "metadata",
        )
        self._continue = {
            key: positional_text(stmt, "at hour client_id id" if key[1] else "at client_id id")
            for key, stmt in ops.S_CONTINUE_CONVERSATION.items()
        }
        self._bump_same_hour = positional_text(
            ops.S_BUMP_CLIENT_SAME_HOUR, "at at profile_name thread_id now client_id"
        )
        self._bump = positional_text(
            ops.S_BUMP_CLIENT, "at at at hour profile_name thread_id now client_id"
        )

    def record(self, call: RecordCall) -> tuple[tuple[Row, bool] | None, Row | ops.Unread | None]:
        """``(result, None)`` when written, else ``(None, the client's state as read)`` —
        :data:`ops.UNREAD` when it was not read."""
        m = call.message
        key = m.keys[0]
        execute = self._store._writer.execute
        kept = self._store._known
        name = (call.tenant, key.kind.value, key.value)
        known = kept.pop(name, None)
        found: Row | ops.Unread | None = ops.UNREAD
        if known is None:
            row = execute(
                self._find, (m.external_id, call.tenant, key.kind.value, key.value)
            ).fetchone()
            found = row
            if row is None:  # a new client, or one found by another of its identifiers
                return None, None
            if row["stored_"]:
                stored = execute(self._stored, (row["id"], m.external_id)).fetchone()
                return (None, row) if stored is None else ((stored, False), None)
            if row["open_last_at_"] is None:
                return None, row
            last_at = row["last_interaction_at"]
            known = KnownClient(
                row["id"],
                row["open_id_"],
                as_dt(row["open_last_at_"]),
                row["open_thread_id_"],
                row["open_last_hour_"],
                row["active_hour"],
                None if last_at is None else as_dt(last_at),
                row["unindexed_from"],
            )
        if not ops.goes_on(known.open_last_at, known.open_thread, m.at, m.thread_id, call.idle):
            return None, found
        client_id = known.client_id
        conversation_id = known.open_id
        message_id = self._store._next_ids("messages", 1)[0]
        row = ops.message_row(
            m, client_id, message_id, conversation_id, m.thread_id or known.open_thread
        )
        at = time_text(m.at)
        try:
            execute(
                self._insert,
                (
                    client_id,
                    message_id,
                    conversation_id,
                    row["thread_id"],
                    at,
                    m.role_code,
                    m.content,
                    m.content_type,
                    m.external_id,
                    m.metadata,  # JSON text already (EncodedJson)
                ),
            )
        except sqlite3.IntegrityError:  # a repeated external id, unread: the general way
            return None, ops.UNREAD
        if not ops.queued(known.unindexed_from, message_id):
            execute(self._queue_for_search, (message_id, client_id))
            known.unindexed_from = message_id
        hour = epoch_hour(m.at)
        if hour == known.open_last_hour:
            execute(self._continue[m.role, False], (at, client_id, conversation_id))
        else:
            execute(self._continue[m.role, True], (at, hour, client_id, conversation_id))
        now = time_text(call.now)
        if ops.same_hour(known.active_hour, known.last_at, m.at):
            execute(self._bump_same_hour, (at, at, m.profile_name, m.thread_id, now, client_id))
        else:
            execute(self._bump, (at, at, at, hour, m.profile_name, m.thread_id, now, client_id))
        # Both bumps leave the client's activity at the later time and its hour (the hour is
        # already that when it stays the same).
        if known.last_at is None or known.last_at < m.at:
            known.last_at, known.active_hour = m.at, hour
        known.open_last_at, known.open_last_hour = m.at, hour
        if len(kept) >= KNOWN_MAX:
            kept.clear()
        kept[name] = known
        return (row, True), None


def positional_text(stmt: Any, names: str) -> str:
    """A statement's SQL text for positional values in ``names`` order (checked here, so that a
    change to the statement cannot bind a value to the wrong parameter)."""
    compiled = stmt.compile(dialect=sqlite_dialect.dialect(paramstyle="qmark"))
    if tuple(compiled.positiontup or ()) != tuple(names.split()):
        raise AssertionError(f"{compiled.string!r} takes {compiled.positiontup}, not {names}")
    return str(compiled.string)
