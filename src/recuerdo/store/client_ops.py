"""Operations on a client's record: thread id, handoff flag, name/tags/attributes, identifiers,
closing conversations, and the reads that list clients, conversations and history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.sql import ColumnElement

from recuerdo.errors import ClientNotFound, Conflict
from recuerdo.model import Identifier
from recuerdo.store import ops
from recuerdo.store.query import Op, Query, Row, sql
from recuerdo.store.rows import as_json, epoch_hour
from recuerdo.store.schema import ROLE_CODES, clients, conversations, messages

S_SAVE_THREAD = sql(
    "UPDATE clients SET thread_id = :thread_id, thread_provider = :provider, "
    + ops.ACTIVE_HOUR
    + "last_interaction_at = CASE WHEN last_interaction_at IS NULL OR last_interaction_at < :at "
    "THEN :at ELSE last_interaction_at END, updated_at = :at WHERE id = :id"
)
S_TOUCH = sql(
    "UPDATE clients SET thread_provider = COALESCE(:provider, thread_provider), "
    + ops.ACTIVE_HOUR
    + "last_interaction_at = CASE WHEN last_interaction_at IS NULL OR last_interaction_at < :at "
    "THEN :at ELSE last_interaction_at END, updated_at = :at WHERE id = :id"
)
S_HANDOFF = sql(
    "UPDATE clients SET bot_paused = :paused, paused_by = :by, paused_reason = :reason, "
    "paused_at = :since, updated_at = :now WHERE id = :id"
)
S_UPDATE_CLIENT = sql(
    "UPDATE clients SET customer_name = :customer_name, "
    "customer_name_source = :customer_name_source, tags = :tags, attributes = :attributes, "
    "updated_at = :now WHERE id = :id"
)
S_CLOSE_ONE = sql(
    "UPDATE conversations SET ended_at = CASE WHEN last_message_at > :at THEN last_message_at "
    "ELSE :at END, end_reason = :reason WHERE client_id = :client_id AND id = :id "
    "AND ended_at IS NULL"
)
S_CLEAR_OPEN = sql(
    "UPDATE clients SET open_conversation_id = NULL "
    "WHERE id = :client_id AND open_conversation_id = :id"
)
# The idle index holds hours: the candidates are the open conversations of the cutoff's hour
# and before, the exact time decides.
S_IDLE = sql(
    "SELECT client_id, id FROM conversations WHERE ended_at IS NULL AND last_hour <= :cutoff_hour "
    "AND last_message_at < :cutoff ORDER BY last_hour LIMIT :limit"
)
S_CLOSE_IDLE = sql(
    "UPDATE conversations SET ended_at = last_message_at, end_reason = 'idle' "
    "WHERE client_id = :client_id AND id = :id AND ended_at IS NULL "
    "AND last_message_at < :cutoff"
)
S_CLIENT_IDENTIFIER = sql(
    "SELECT client_id FROM identifiers WHERE tenant_id = :tenant_id AND kind = :kind "
    "AND value = :value"
)


def save_thread(
    tenant: int, keys: Sequence[Identifier], thread_id: str, provider: str | None, at: datetime
) -> Op[Row]:
    """The seed's ``saveThreadId``: a new thread starts (and counts) a new conversation."""
    client, created = yield from ops.ensure_client(tenant, keys, at)
    client_id = client["id"]
    if not created:
        client = yield from ops.locked_client(client_id)
    if client["thread_id"] == thread_id:
        yield Query(
            S_TOUCH, {"id": client_id, "provider": provider, "at": at, "hour": epoch_hour(at)}
        )
        return (yield from client_row(client_id))
    open_id = client["open_conversation_id"]
    adopted = False
    if open_id is not None:
        conv = yield Query(ops.S_CONVERSATION, {"client_id": client_id, "id": open_id}, "one")
        if conv is not None and conv["thread_id"] is None:
            # The bot recorded the first messages before it created the thread: same episode.
            yield Query(
                ops.S_SET_CONVERSATION_THREAD,
                {"client_id": client_id, "id": open_id, "thread_id": thread_id},
            )
            adopted = True
        else:
            yield Query(
                ops.S_CLOSE_CONVERSATION,
                {"client_id": client_id, "id": open_id, "reason": "thread_change"},
            )
    if not adopted:
        yield from ops.new_conversation(client_id, at, thread_id, open=True)
    yield Query(
        S_SAVE_THREAD,
        {
            "id": client_id,
            "thread_id": thread_id,
            "provider": provider,
            "at": at,
            "hour": epoch_hour(at),
        },
    )
    return (yield from client_row(client_id))


def client_row(client_id: int) -> Op[Row]:
    row = yield Query(ops.S_CLIENT, {"id": client_id}, "one")
    if row is None:
        raise ClientNotFound(f"client {client_id} does not exist")
    return row  # type: ignore[no-any-return]


def require_client(tenant: int, keys: Sequence[Identifier], who: str) -> Op[Row]:
    row = yield from ops.find_client(tenant, keys)
    if row is None:
        raise ClientNotFound(f"no client is known as {who!r}", who=who)
    return row


def identifiers_of(client_id: int) -> Op[list[Row]]:
    rows = yield Query(ops.S_IDENTIFIERS, {"client_id": client_id}, "all")
    return list(rows)


def set_handoff(
    tenant: int,
    keys: Sequence[Identifier],
    *,
    paused: bool,
    by: str | None,
    reason: str | None,
    now: datetime,
) -> Op[Row | None]:
    client: Row | None
    if paused:
        client, _ = yield from ops.ensure_client(tenant, keys, now)
    else:
        client = yield from ops.find_client(tenant, keys)
    if client is None:
        return None
    yield Query(
        S_HANDOFF,
        {
            "id": client["id"],
            "paused": paused,
            "by": by if paused else None,
            "reason": reason if paused else None,
            "since": now if paused else None,
            "now": now,
        },
    )
    return (yield from client_row(client["id"]))


@dataclass(frozen=True, slots=True)
class ClientChanges:
    customer_name: str | None = None
    clear_customer_name: bool = False
    name_source: str = "operator"
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    attributes: dict[str, Any] | None = None


def update_client(
    tenant: int, keys: Sequence[Identifier], who: str, changes: ClientChanges, now: datetime
) -> Op[Row]:
    found: Row = yield from require_client(tenant, keys, who)
    row = yield from ops.locked_client(found["id"])
    name, source = row["customer_name"], row["customer_name_source"]
    # A name learned from a conversation never overwrites one an operator set.
    protected = changes.name_source != "operator" and source == "operator"
    if changes.clear_customer_name:
        name, source = None, None
    elif changes.customer_name is not None and not protected:
        name, source = changes.customer_name, changes.name_source
    tags = [t for t in as_json(row["tags"]) or [] if t not in changes.remove_tags]
    tags += [t for t in dict.fromkeys(changes.add_tags) if t not in tags]
    attributes = dict(as_json(row["attributes"]) or {})
    for key, value in (changes.attributes or {}).items():
        if value is None:
            attributes.pop(key, None)
        else:
            attributes[key] = value
    yield Query(
        S_UPDATE_CLIENT,
        {
            "id": row["id"],
            "customer_name": name,
            "customer_name_source": source,
            "tags": tags,
            "attributes": attributes,
            "now": now,
        },
    )
    return (yield from client_row(row["id"]))


def link_identifier(
    tenant: int, keys: Sequence[Identifier], who: str, new: Identifier, now: datetime
) -> Op[Row]:
    client = yield from require_client(tenant, keys, who)
    owner = yield Query(
        S_CLIENT_IDENTIFIER,
        {"tenant_id": tenant, "kind": new.kind.value, "value": new.value},
        "one",
    )
    if owner is not None and owner["client_id"] != client["id"]:
        raise Conflict(f"identifier {new} already belongs to another client", identifier=str(new))
    if owner is None:
        yield from ops._claim(tenant, new, client["id"], now)
    return client


def close_conversation(
    tenant: int,
    keys: Sequence[Identifier],
    who: str,
    conversation_id: int | None,
    reason: str,
    at: datetime,
) -> Op[int | None]:
    client = yield from require_client(tenant, keys, who)
    target = conversation_id if conversation_id is not None else client["open_conversation_id"]
    if target is None:
        return None
    closed = yield Query(
        S_CLOSE_ONE, {"client_id": client["id"], "id": target, "reason": reason, "at": at}
    )
    yield Query(S_CLEAR_OPEN, {"client_id": client["id"], "id": target})
    return int(target) if closed else None


def idle_conversations(cutoff: datetime, limit: int) -> Op[list[Row]]:
    params = {"cutoff": cutoff, "cutoff_hour": epoch_hour(cutoff), "limit": limit}
    rows = yield Query(S_IDLE, params, "all")
    return list(rows)


def close_idle(pairs: Sequence[Row], cutoff: datetime) -> Op[int]:
    closed = 0
    for pair in pairs:
        params = {"client_id": pair["client_id"], "id": pair["id"]}
        n = yield Query(S_CLOSE_IDLE, {**params, "cutoff": cutoff})
        if n:
            closed += 1
            yield Query(S_CLEAR_OPEN, params)
    return closed


def history(
    client_id: int,
    *,
    limit: int,
    before: tuple[datetime, int] | None,
    conversation_id: int | None,
    roles: Sequence[str] | None,
) -> Op[list[Row]]:
    m = messages.c
    where: list[ColumnElement[bool]] = [m.client_id == client_id]
    if conversation_id is not None:
        where.append(m.conversation_id == conversation_id)
    if roles:
        where.append(m.role.in_([ROLE_CODES[r] for r in roles]))
    if before is not None:
        at, mid = before
        where.append((m.at < at) | and_(m.at == at, m.id < mid))
    stmt = select(messages).where(*where).order_by(m.at.desc(), m.id.desc()).limit(limit)
    rows = yield Query(stmt, {}, "all")
    return list(rows)


def list_clients(
    tenant: int,
    *,
    tag: str | None,
    name: str | None,
    active_since: datetime | None,
    paused: bool | None,
    limit: int,
    after: tuple[datetime | None, int] | None,
) -> Op[list[Row]]:
    """Clients, most recently active first, keyset-paged on (last_interaction_at, id). The
    activity index holds the hour (``active_hour``): the order is (hour, time, id), which is the
    order of time, and the bounds are put on the hour too so that the index can serve them."""
    c = clients.c
    where: list[ColumnElement[bool]] = [c.tenant_id == tenant]
    if name:
        pattern = f"%{name.lower()}%"
        where.append(c.customer_name.ilike(pattern) | c.profile_name.ilike(pattern))
    if active_since is not None:
        where.append(c.active_hour >= epoch_hour(active_since))
        where.append(c.last_interaction_at >= active_since)
    if paused is not None:
        where.append(c.bot_paused == paused)
    if after is not None:
        at, cid = after
        if at is None:
            where.append(c.last_interaction_at.is_(None) & (c.id < cid))
        else:
            where.append((c.active_hour <= epoch_hour(at)) | c.active_hour.is_(None))
            where.append(
                (c.last_interaction_at < at)
                | and_(c.last_interaction_at == at, c.id < cid)
                | c.last_interaction_at.is_(None)
            )
    stmt = (
        select(clients)
        .where(*where)
        .order_by(
            c.active_hour.desc().nulls_last(),
            c.last_interaction_at.desc().nulls_last(),
            c.id.desc(),
        )
    )
    rows: list[Row] = []
    # Tags are a JSON list; filtering them in Python keeps one query for both engines, and the
    # scan stays bounded by fetching pages of candidates.
    fetch = limit if tag is None else max(limit * 4, 200)
    offset = 0
    while len(rows) < limit:
        page = yield Query(stmt.limit(fetch).offset(offset), {}, "all")
        if not page:
            break
        rows.extend(r for r in page if tag is None or tag in (as_json(r["tags"]) or []))
        if len(page) < fetch:
            break
        offset += fetch
    return rows[:limit]


def list_conversations(client_id: int, *, limit: int, before_id: int | None) -> Op[list[Row]]:
    c = conversations.c
    where: list[ColumnElement[bool]] = [c.client_id == client_id]
    if before_id is not None:
        where.append(c.id < before_id)
    stmt = select(conversations).where(*where).order_by(c.id.desc()).limit(limit)
    rows = yield Query(stmt, {}, "all")
    return list(rows)
