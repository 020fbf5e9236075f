"""Recording many messages with a handful of statements per batch instead of several per message.

The single writer (SQLite) and each PostgreSQL writer lane hand a whole batch of concurrent
``record_message`` calls to :func:`record_batch`. It reads what it needs in a few set-based
queries (clients, duplicates, open conversations), assigns conversations in Python with the same
rules as :func:`recuerdo.store.ops.record`, and writes with ``executemany``. A message whose
placement needs the past conversations (late, out of order, after an explicit close) makes the
batch fall back to the per-message operation, which handles every case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from recuerdo.model import Identifier
from recuerdo.store import ops
from recuerdo.store.ops import PreparedMessage
from recuerdo.store.query import NextId, NextIds, Op, Query, Row, row_params, sql, with_rows
from recuerdo.store.rows import as_dt, epoch_hour
from recuerdo.store.schema import ROLE_COUNTER

S_INSERT_CONVERSATIONS = sql(
    "INSERT INTO conversations (client_id, id, thread_id, started_at, last_message_at, "
    "last_hour, n_user, n_assistant, n_operator, n_system, summary_status) "
    "VALUES (:client_id, :id, :thread_id, :at, :at, :hour, 0, 0, 0, 0, 'pending')"
)
# Each bump in two forms: naming the hour that an index holds only for the rows whose hour
# moves (see ops.S_CONTINUE_CONVERSATION).
_BUMP_CONVERSATIONS = (
    "UPDATE conversations SET n_user = n_user + :n_user, "
    "n_assistant = n_assistant + :n_assistant, n_operator = n_operator + :n_operator, "
    "n_system = n_system + :n_system, thread_id = COALESCE(thread_id, :thread_id), {hour}"
    "last_message_at = CASE WHEN last_message_at < :at THEN :at ELSE last_message_at END "
    "WHERE client_id = :client_id AND id = :id"
)
S_BUMP_CONVERSATIONS = {
    moved: sql(_BUMP_CONVERSATIONS.format(hour=ops.LAST_HOUR if moved else ""))
    for moved in (False, True)
}
_BUMP_CLIENTS = (
    "UPDATE clients SET total_messages = total_messages + :messages, "
    "total_conversations = total_conversations + :conversations, "
    "open_conversation_id = :open_id, {hour}"
    "last_interaction_at = CASE WHEN last_interaction_at IS NULL OR last_interaction_at < :at "
    "THEN :at ELSE last_interaction_at END, "
    "profile_name = COALESCE(:profile_name, profile_name), "
    "thread_id = COALESCE(thread_id, :thread_id), updated_at = :now WHERE id = :client_id"
)
S_BUMP_CLIENTS = {
    moved: sql(_BUMP_CLIENTS.format(hour=ops.ACTIVE_HOUR if moved else ""))
    for moved in (False, True)
}


# The optimistic first try (see record_batch): messages whose external id is already stored are
# left out by the unique index instead of looked up first; if any was, the rows this statement
# wrote are deleted again (their ids are new, so exactly those) and the batch planned anew.
S_INSERT_NEW_MESSAGES = sql(ops.INSERT_MESSAGE + " ON CONFLICT (client_id, external_id) DO NOTHING")
S_DELETE_MESSAGE = sql("DELETE FROM messages WHERE client_id = :client_id AND id = :id")


class _NeedsPast(Exception):
    """A message the batch path cannot place; the per-message path will."""


_NO_COUNTS = dict.fromkeys(ROLE_COUNTER, 0)


@dataclass(slots=True)
class _Conv:
    id: int
    thread_id: str | None
    last_at: datetime
    hour: int  # the stored last_hour (for a new conversation, the hour it is inserted with)
    counts: dict[str, int] = field(default_factory=_NO_COUNTS.copy)
    new: bool = False
    thread_set: str | None = None
    started_at: datetime | None = None
    stored_last_at: datetime | None = None  # last_at as read (None: a new conversation)

    def __post_init__(self) -> None:
        if not self.new:
            self.stored_last_at = self.last_at


@dataclass(slots=True)
class KnownClient:
    """What recording needs of a client, as the last write left it: its id, its open
    conversation (id, last message time, thread, ``last_hour``), its activity hour and time and
    its search-queue mark. SQLite's writer keeps these between transactions, while nothing else
    writes, so that a client's next message needs no read (see ``SQLiteStore``)."""

    client_id: int
    open_id: int
    open_last_at: datetime
    open_thread: str | None
    open_last_hour: int
    active_hour: int | None
    last_at: datetime | None
    unindexed_from: int | None


Known = dict[tuple[int, str, str], KnownClient]
"""Kept client states by (tenant, kind, value) of the identifier a message names first."""


@dataclass(slots=True)
class _ClientState:
    row: Row
    open: _Conv | None
    last_at: datetime | None
    stored_last_at: datetime | None = None  # last_interaction_at as read
    messages: int = 0
    conversations: int = 0
    profile_name: str | None = None
    thread_id: str | None = None
    closed: list[tuple[int, str]] = field(default_factory=list)
    touched: dict[int, _Conv] = field(default_factory=dict)
    first_id: int | None = None  # the lowest id of the batch's new messages for this client


# VALUES-list joins, as ops.FIND_MANY.
_LOCK = (
    "WITH w(id) AS (VALUES {rows}) SELECT c.* FROM w JOIN clients c ON c.id = w.id "
    "ORDER BY c.id FOR UPDATE OF c"
)
_EXISTING = (
    "WITH w(client_id, external_id) AS (VALUES {rows}) SELECT m.* FROM w "
    "JOIN messages m ON m.client_id = w.client_id AND m.external_id = w.external_id"
)
# The open conversations, in the columns _FIND_WITH_OPEN names them.
_OPEN = (
    "WITH w(client_id, id) AS (VALUES {rows}) SELECT c.client_id AS client_id, "
    "c.id AS open_id_, c.thread_id AS open_thread_id_, c.last_message_at AS open_last_at_, "
    "c.last_hour AS open_last_hour_ FROM w "
    "JOIN conversations c ON c.client_id = w.client_id AND c.id = w.id AND c.ended_at IS NULL"
)
# Without row locks the clients and their open conversations come in one read, and only the
# columns a batch uses (as ops.S_FIND_FOR_RECORD for one message). With locks the open
# conversation is read after the lock (_OPEN), so that it is the current one.
_FIND_WITH_OPEN = (
    "WITH w(kind, value) AS (VALUES {rows}) "
    f"SELECT i.kind AS kind, i.value AS value, {ops.CLIENT_STATE} FROM w "
    "JOIN identifiers i ON i.tenant_id = :tenant_id AND i.kind = w.kind AND i.value = w.value "
    f"{ops.CLIENT_STATE_JOINS}"
)


def record_batch(
    tenant: int,
    items: Sequence[PreparedMessage],
    idle: timedelta,
    now: datetime,
    *,
    lock: bool,
    known: Known | None = None,
) -> Op[list[tuple[Row, bool]]]:
    """Record ``items`` in order; answer ``(row, created)`` for each, as :func:`ops.record`.

    ``known`` (without row locks only): client states kept from earlier writes, used instead
    of reading those clients and brought up to date with what this batch writes; the caller
    clears it when anything else writes.

    With row locks (PostgreSQL) the batch looks up which of its external ids are stored already
    (one query), then plans. Without them (SQLite's single writer, whose ``executemany``
    reports how many rows it wrote) it skips that lookup and assumes none is stored, which is
    nearly always true: the messages go in with ``ON CONFLICT DO NOTHING``, and if any was left
    out, the rows just written are deleted again (their ids are new, so exactly those; nothing
    else of the batch is written yet) and the batch is planned again knowing the stored ones.
    (A savepoint would undo them too, but it keeps a copy of every existing page it changes —
    a page per client and index — and past SQLite's 64 KiB of them that copy goes to a
    temporary file: 64 callers on a database of 35,000–40,000 messages took 98–105 µs per
    message with one, 77–83 µs without; see docs/architecture.md.)"""
    if len(items) == 1:  # nothing to share: the per-message operation is the shortest path
        if known is not None:
            known.clear()
        return [(yield from ops.record(tenant, items[0], idle, now, lock=lock))]
    memo = None if lock else known
    return (
        yield from _record_batch(
            tenant, items, idle, now, lock=lock, optimistic=not lock, known=memo
        )
    )


def _record_batch(
    tenant: int,
    items: Sequence[PreparedMessage],
    idle: timedelta,
    now: datetime,
    *,
    lock: bool,
    optimistic: bool,
    known: Known | None,
) -> Op[list[tuple[Row, bool]]]:
    resolved, open_convs = yield from _resolve(tenant, items, joined=not lock, known=known)
    if lock:
        ids = sorted({row["id"] for row, _ in resolved.values()})
        locked = yield Query(
            with_rows(_LOCK, ("BIGINT",), len(ids)), row_params([(i,) for i in ids]), "all"
        )
        fresh = {r["id"]: r for r in locked}
        resolved = {k: (fresh[row["id"]], created) for k, (row, created) in resolved.items()}
    existing = {} if optimistic else (yield from _existing(items, resolved))
    states = yield from _states(resolved, open_convs)
    try:
        plan = yield from _plan(items, resolved, existing, states, idle)
    except _NeedsPast:
        if known is not None:
            known.clear()  # the per-message operation does not keep them up to date
        out = []
        for m in items:
            out.append((yield from ops.record(tenant, m, idle, now, lock=lock)))
        return out
    if optimistic:
        inserts = [row for row, created in plan if created]
        written = yield Query(S_INSERT_NEW_MESSAGES, inserts, "many")
        if written != len(inserts):  # some were stored already: undo, plan again knowing them
            yield Query(S_DELETE_MESSAGE, inserts, "many")
            return (
                yield from _record_batch(
                    tenant, items, idle, now, lock=lock, optimistic=False, known=known
                )
            )
    yield from _write(plan, states, now, messages=not optimistic)
    if known is not None:
        _remember(known, tenant, items, resolved, states)
    return plan


def _resolve(
    tenant: int, items: Sequence[PreparedMessage], *, joined: bool, known: Known | None = None
) -> Op[tuple[dict[int, tuple[Row, bool]], dict[int, _Conv | None]]]:
    """Each message's client (created when new), keyed by ``id(message.keys)``: one who gives
    one keys tuple object, so a batch hashes its few distinct identifiers, not one per message.
    With ``joined``, also the open conversation of each client found by the one read (client id
    to conversation, ``None`` for none open)."""
    objects: dict[int, tuple[Identifier, ...]] = {}
    for m in items:
        objects.setdefault(id(m.keys), m.keys)
    # Equal tuples from different objects (two spellings of one number) are one client: each
    # object's tuple is hashed once, here, to its place among the distinct ones.
    places: dict[tuple[Identifier, ...], int] = {}
    place_of = {obj: places.setdefault(key, len(places)) for obj, key in objects.items()}
    primaries = [(key[0].kind.value, key[0].value) for key in places]
    found: dict[tuple[str, str], Row] = {}
    open_convs: dict[int, _Conv | None] = {}
    if known:  # clients whose state the last writes left (joined reads only)
        for primary in primaries:
            kept = known.get((tenant, *primary))
            if kept is not None:
                found[primary] = _kept_row(kept)
                open_convs[kept.client_id] = _Conv(
                    kept.open_id, kept.open_thread, kept.open_last_at, kept.open_last_hour
                )
    wanted = sorted(set(primaries) - found.keys())
    if wanted:
        params = {"tenant_id": tenant, **row_params(wanted)}
        template = _FIND_WITH_OPEN if joined else ops.FIND_MANY
        rows = yield Query(with_rows(template, ("", ""), len(wanted)), params, "all")
        found.update(((r["kind"], r["value"]), r) for r in rows)
        if joined:
            open_convs.update((r["id"], _open_conv(r)) for r in rows)
    clients: list[tuple[Row, bool]] = []
    for key, primary in zip(places, primaries, strict=True):
        hit = found.get(primary)
        if hit is not None:
            clients.append((hit, False))
            continue
        first = next(m for m in items if m.keys == key)
        clients.append((yield from ops.ensure_client(tenant, key, first.at, first.profile_name)))
    return {obj: clients[place] for obj, place in place_of.items()}, open_convs


def _kept_row(kept: KnownClient) -> Row:
    """A kept client state in the columns of :data:`ops.CLIENT_STATE` that a batch reads."""
    return {
        "id": kept.client_id,
        "open_conversation_id": kept.open_id,
        "active_hour": kept.active_hour,
        "last_interaction_at": kept.last_at,
        "unindexed_from": kept.unindexed_from,
    }


def _remember(
    known: Known,
    tenant: int,
    items: Sequence[PreparedMessage],
    resolved: dict[int, tuple[Row, bool]],
    states: dict[int, _ClientState],
) -> None:
    """Bring ``known`` up to date with what the batch wrote: each client's state as the
    statements of :func:`_write` leave it (see them for each value)."""
    names: dict[int, set[tuple[int, str, str]]] = {}
    for m in items:
        key = m.keys[0]
        names.setdefault(resolved[id(m.keys)][0]["id"], set()).add(
            (tenant, key.kind.value, key.value)
        )
    if len(known) + len(names) > KNOWN_MAX:
        known.clear()
    for cid, state in states.items():
        conv = state.open
        if conv is None or not state.messages:  # nothing kept for it: read next time
            for name in names.get(cid, ()):
                known.pop(name, None)
            continue
        moved = conv.stored_last_at is None or conv.stored_last_at < conv.last_at
        last_at = state.last_at
        active = state.row["active_hour"]
        if last_at is not None and (state.stored_last_at is None or state.stored_last_at < last_at):
            active = epoch_hour(last_at)
        mark = state.row["unindexed_from"]
        if state.first_id is not None and not ops.queued(mark, state.first_id):
            mark = state.first_id
        kept = KnownClient(
            cid,
            conv.id,
            conv.last_at,
            conv.thread_id,
            epoch_hour(conv.last_at) if moved else conv.hour,
            active,
            last_at,
            mark,
        )
        for name in names.get(cid, ()):
            known[name] = kept


KNOWN_MAX = 10_000
"""Client states kept at most (``known`` is cleared past it)."""


def _open_conv(row: Row) -> _Conv | None:
    """The open conversation in a row of _FIND_WITH_OPEN or _OPEN (``None``: none open)."""
    if row["open_id_"] is None:
        return None
    last = as_dt(row["open_last_at_"])
    return _Conv(row["open_id_"], row["open_thread_id_"], last, row["open_last_hour_"])


def _existing(
    items: Sequence[PreparedMessage], resolved: dict[int, tuple[Row, bool]]
) -> Op[dict[tuple[int, str], Row]]:
    wanted = sorted(
        {
            (client[0]["id"], m.external_id)
            for m in items
            if m.external_id is not None and not (client := resolved[id(m.keys)])[1]
        }
    )
    if not wanted:
        return {}
    rows = yield Query(with_rows(_EXISTING, ("BIGINT", ""), len(wanted)), row_params(wanted), "all")
    return {(r["client_id"], r["external_id"]): r for r in rows}


def _states(
    resolved: dict[int, tuple[Row, bool]], known: dict[int, _Conv | None]
) -> Op[dict[int, _ClientState]]:
    """Each client's state; the open conversations not ``known`` already are read here."""
    by_id = {row["id"]: row for row, _ in resolved.values()}
    wanted = sorted(
        (cid, row["open_conversation_id"])
        for cid, row in by_id.items()
        if row["open_conversation_id"] is not None and cid not in known
    )
    if wanted:
        rows = yield Query(
            with_rows(_OPEN, ("BIGINT", "BIGINT"), len(wanted)), row_params(wanted), "all"
        )
        known = {**known, **{r["client_id"]: _open_conv(r) for r in rows}}
    states = {}
    for cid, row in by_id.items():
        last = row["last_interaction_at"]
        stored = None if last is None else as_dt(last)
        states[cid] = _ClientState(row, known.get(cid), stored, stored)
    return states


def _plan(
    items: Sequence[PreparedMessage],
    resolved: dict[int, tuple[Row, bool]],
    existing: dict[tuple[int, str], Row],
    states: dict[int, _ClientState],
    idle: timedelta,
) -> Op[list[tuple[Row, bool]]]:
    plan: list[tuple[Row, bool]] = []
    ids = iter((yield NextIds("messages", len(items))))  # duplicates among them leave a gap
    for m in items:
        client_id = resolved[id(m.keys)][0]["id"]
        if m.external_id is not None:
            seen = existing.get((client_id, m.external_id))
            if seen is not None:
                plan.append((seen, False))
                continue
        state = states[client_id]
        at = m.at
        conv = state.open
        # The usual case inline (the open conversation goes on); the rest in _place.
        if conv is None or not ops.goes_on(conv.last_at, conv.thread_id, at, m.thread_id, idle):
            conv = yield from _place(state, m, idle)
        row = ops.message_row(m, client_id, next(ids), conv.id, m.thread_id or conv.thread_id)
        conv.counts[m.role] += 1
        if at > conv.last_at:
            conv.last_at = at
        state.touched[conv.id] = conv
        if state.first_id is None:  # ids are handed out in increasing order
            state.first_id = row["id"]
        state.messages += 1
        if state.last_at is None or at > state.last_at:
            state.last_at = at
        if m.profile_name:
            state.profile_name = m.profile_name
        if not state.thread_id:
            state.thread_id = m.thread_id
        if m.external_id is not None:
            existing[(client_id, m.external_id)] = row
        plan.append((row, True))
    return plan


def _place(state: _ClientState, m: PreparedMessage, idle: timedelta) -> Op[_Conv]:
    conv = state.open
    if conv is not None:
        if m.at < conv.last_at:
            raise _NeedsPast
        changed = m.thread_id is not None and conv.thread_id not in (None, m.thread_id)
        if not changed and m.at - conv.last_at <= idle:
            if conv.thread_id is None and m.thread_id is not None:
                conv.thread_id = conv.thread_set = m.thread_id
            return conv
        state.closed.append((conv.id, "thread_change" if changed else "idle"))
    elif state.last_at is not None and (m.at < state.last_at or m.at - state.last_at <= idle):
        raise _NeedsPast  # no open conversation, yet a past one may take this message
    new_id = yield NextId("conversations")
    fresh = _Conv(new_id, m.thread_id, m.at, epoch_hour(m.at), new=True, started_at=m.at)
    state.open = fresh
    state.conversations += 1
    return fresh


def _write(
    plan: list[tuple[Row, bool]], states: dict[int, _ClientState], now: datetime, *, messages: bool
) -> Op[None]:
    new_convs, closes, queue = [], [], []
    bumps: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    client_rows: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for cid, state in states.items():
        for conv_id, reason in state.closed:
            closes.append({"client_id": cid, "id": conv_id, "reason": reason})
        for conv in state.touched.values():
            if conv.new:
                new_convs.append(
                    {
                        "client_id": cid,
                        "id": conv.id,
                        "thread_id": conv.thread_id,
                        "at": conv.started_at,
                        "hour": conv.hour,
                    }
                )
            hour = epoch_hour(conv.last_at)
            bumps[hour != conv.hour].append(
                {
                    "client_id": cid,
                    "id": conv.id,
                    "n_user": conv.counts["user"],
                    "n_assistant": conv.counts["assistant"],
                    "n_operator": conv.counts["manual_operator"],
                    "n_system": conv.counts["system"],
                    "thread_id": conv.thread_set,
                    "at": conv.last_at,
                    "hour": hour,
                }
            )
        if state.first_id is not None and not ops.queued(
            state.row["unindexed_from"], state.first_id
        ):
            queue.append({"client_id": cid, "id": state.first_id})
        if state.messages:
            assert state.last_at is not None  # the later of the stored time and the batch's
            hour = epoch_hour(state.last_at)
            client_rows[hour != state.row["active_hour"]].append(
                {
                    "client_id": cid,
                    "messages": state.messages,
                    "conversations": state.conversations,
                    "open_id": state.open.id if state.open is not None else None,
                    "at": state.last_at,
                    "hour": hour,
                    "profile_name": state.profile_name,
                    "thread_id": state.thread_id,
                    "now": now,
                }
            )
    # Order matters: a conversation closed by a later message of this batch is closed after its
    # counters and last message time are up to date (a close copies last_message_at).
    if new_convs:
        yield Query(S_INSERT_CONVERSATIONS, new_convs, "many")
    inserts = [row for row, created in plan if created] if messages else []
    if inserts:
        yield Query(ops.S_INSERT_MESSAGE, inserts, "many")
    if queue:
        yield Query(ops.S_QUEUE_FOR_SEARCH, queue, "many")
    for moved, rows in bumps.items():
        if rows:
            yield Query(S_BUMP_CONVERSATIONS[moved], rows, "many")
    if closes:
        yield Query(ops.S_CLOSE_CONVERSATION, closes, "many")
    for moved, rows in client_rows.items():
        if rows:
            yield Query(S_BUMP_CLIENTS[moved], rows, "many")


class RecordCall:
    """One ``record_message`` call as a write operation. Engines may run a run of these as one
    :func:`record_batch`; called on its own it is the per-message operation. (A plain class:
    one is built per call, and a frozen dataclass costs twice as much to build.)"""

    __slots__ = ("idle", "lock", "message", "now", "tenant")

    def __init__(
        self, tenant: int, message: PreparedMessage, idle: timedelta, now: datetime, lock: bool
    ) -> None:
        self.tenant = tenant
        self.message = message
        self.idle = idle
        self.now = now
        self.lock = lock

    def __call__(self) -> Op[tuple[Row, bool]]:
        return ops.record(*self.args(), lock=self.lock)

    def args(self) -> tuple[int, PreparedMessage, timedelta, datetime]:
        """The positional arguments of :func:`ops.record` for this call."""
        return self.tenant, self.message, self.idle, self.now


@dataclass(frozen=True, slots=True)
class RecordCalls:
    """Several messages of one tenant recorded by one call (``record_many``), in order, as one
    write."""

    tenant: int
    messages: tuple[PreparedMessage, ...]
    idle: timedelta
    now: datetime
    lock: bool

    def __call__(self) -> Op[list[tuple[Row, bool]]]:
        return record_batch(self.tenant, self.messages, self.idle, self.now, lock=self.lock)

    def one(self, message: PreparedMessage) -> RecordCall:
        return RecordCall(self.tenant, message, self.idle, self.now, self.lock)


def record_calls(
    calls: Sequence[RecordCall], known: Known | None = None
) -> Op[list[tuple[Row, bool]]]:
    """Run consecutive record calls of one tenant (concurrent callers) as one batch (see
    :func:`record_batch`)."""
    first = calls[0]
    now = max(c.now for c in calls)
    messages = [c.message for c in calls]
    return record_batch(first.tenant, messages, first.idle, now, lock=first.lock, known=known)
