"""Summary jobs, driven by the conversations table itself (no separate queue to lose).

A closed conversation waits with ``summary_status = 'pending'``. A worker claims a few with a
lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never take the same one; the
single writer serialises claims on SQLite), summarises them outside any transaction, then saves
summary, profile and learned name in one transaction that first checks the lease is still its
own. A worker killed mid-job leaves the lease to expire and the job is claimed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, text

from recuerdo.store.query import Op, Query, Row, sql
from recuerdo.store.schema import clients, conversations

_c = conversations.c

S_TAKE = sql(
    "UPDATE conversations SET summary_status = 'running', summary_lease = :lease, "
    "summary_lease_until = :until, summary_attempts = summary_attempts + 1 "
    "WHERE client_id = :client_id AND id = :id"
)
S_MESSAGES = sql(
    "SELECT * FROM messages WHERE client_id = :client_id AND conversation_id = :conversation_id "
    "ORDER BY at, id"
)
S_SAVE = sql(
    "UPDATE conversations SET summary = :summary, summary_status = 'done', "
    "summary_data = :data, outcome = :outcome, topics = :topics, summary_error = NULL, "
    "summary_next_at = NULL, summary_lease = NULL, summary_lease_until = NULL "
    "WHERE client_id = :client_id AND id = :id AND summary_lease = :lease"
)
S_LEASE_HELD = sql(
    "SELECT summary_lease FROM conversations WHERE client_id = :client_id AND id = :id"
)
S_PROFILE = sql(
    "SELECT profile_summary, customer_name, customer_name_source FROM clients WHERE id = :id"
)
S_SET_PROFILE = sql(
    "UPDATE clients SET profile_summary = :profile, updated_at = :now WHERE id = :id"
)
S_LEARN_NAME = sql(
    "UPDATE clients SET customer_name = :name, customer_name_source = 'conversation', "
    "updated_at = :now WHERE id = :id "
    "AND (customer_name_source IS NULL OR customer_name_source <> 'operator')"
)
S_FAIL = sql(
    "UPDATE conversations SET summary_status = 'failed', summary_error = :error, "
    "summary_next_at = :next_at, summary_lease = NULL, summary_lease_until = NULL "
    "WHERE client_id = :client_id AND id = :id AND summary_lease = :lease"
)
S_REQUEUE = sql(
    "UPDATE conversations SET summary_status = 'pending', summary_error = NULL, "
    "summary_next_at = NULL, summary_attempts = 0 "
    "WHERE client_id = :client_id AND id = :id AND ended_at IS NOT NULL"
)


@dataclass(frozen=True, slots=True)
class Claimed:
    client_id: int
    conversation_id: int
    lease: str
    attempts: int


def claim(now: datetime, until: datetime, lease: str, limit: int) -> Op[list[Claimed]]:
    """Take up to ``limit`` conversations due for a summary, under ``lease`` until ``until``."""
    due = and_(
        # The partial index's condition, literally: an engine uses a partial index only when it
        # can prove the query implies it, which bound parameters would hide.
        text("summary_status IN ('pending', 'failed', 'running')"),
        _c.ended_at.is_not(None),
        or_(
            _c.summary_status == "pending",
            and_(_c.summary_status == "failed", _c.summary_next_at <= now),
            and_(_c.summary_status == "running", _c.summary_lease_until < now),
        ),
    )
    stmt = (
        select(_c.client_id, _c.id, _c.summary_attempts)
        .where(due)
        .order_by(_c.ended_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # rendered on PostgreSQL only; SQLite has one writer
    )
    rows = yield Query(stmt, {}, "all")
    taken = []
    for row in rows:
        yield Query(
            S_TAKE, {"client_id": row["client_id"], "id": row["id"], "lease": lease, "until": until}
        )
        taken.append(
            Claimed(int(row["client_id"]), int(row["id"]), lease, int(row["summary_attempts"]) + 1)
        )
    return taken


def conversation_messages(client_id: int, conversation_id: int) -> Op[list[Row]]:
    rows = yield Query(
        S_MESSAGES, {"client_id": client_id, "conversation_id": conversation_id}, "all"
    )
    return list(rows)


def profile_of(client_id: int) -> Op[Row]:
    row = yield Query(S_PROFILE, {"id": client_id}, "one")
    return row  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class SummaryWrite:
    summary: str
    data: dict[str, Any]
    outcome: str | None
    topics: Sequence[str]
    profile: str | None
    profile_was: str | None
    customer_name: str | None


def save(job: Claimed, write: SummaryWrite, now: datetime) -> Op[str]:
    """Save summary, profile and learned name together. Answers ``saved``, ``lease-lost`` (another
    worker took over) or ``profile-changed`` (merged from a stale profile: redo the merge)."""
    held = yield Query(S_LEASE_HELD, {"client_id": job.client_id, "id": job.conversation_id}, "one")
    if held is None or held["summary_lease"] != job.lease:
        return "lease-lost"
    current = yield from profile_of(job.client_id)
    if (current["profile_summary"] or None) != (write.profile_was or None):
        return "profile-changed"
    yield Query(
        S_SAVE,
        {
            "client_id": job.client_id,
            "id": job.conversation_id,
            "lease": job.lease,
            "summary": write.summary,
            "data": write.data,
            "outcome": write.outcome,
            "topics": list(write.topics),
        },
    )
    if write.profile is not None:
        yield Query(S_SET_PROFILE, {"id": job.client_id, "profile": write.profile, "now": now})
    if write.customer_name:
        yield Query(S_LEARN_NAME, {"id": job.client_id, "name": write.customer_name, "now": now})
    return "saved"


def fail(job: Claimed, error: str, next_at: datetime | None) -> Op[None]:
    """Record a failed attempt; ``next_at=None`` gives up (the reason stays recorded)."""
    yield Query(
        S_FAIL,
        {
            "client_id": job.client_id,
            "id": job.conversation_id,
            "lease": job.lease,
            "error": error[:2000],
            "next_at": next_at,
        },
    )


def requeue(pairs: Sequence[tuple[int, int]]) -> Op[int]:
    """Mark closed conversations to be summarised again (``recuerdo summarize``)."""
    n = 0
    for client_id, conversation_id in pairs:
        n += yield Query(S_REQUEUE, {"client_id": client_id, "id": conversation_id})
    return n


def closed_conversations(
    tenant: int,
    client_id: int | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    after: int,
) -> Op[list[Row]]:
    """A tenant's closed conversations to (re)summarise, paged by id."""
    of_tenant = select(clients.c.id).where(clients.c.tenant_id == tenant)
    where = [_c.ended_at.is_not(None), _c.id > after, _c.client_id.in_(of_tenant)]
    if client_id is not None:
        where.append(_c.client_id == client_id)
    if since is not None:
        where.append(_c.started_at >= since)
    if until is not None:
        where.append(_c.started_at < until)
    stmt = select(_c.client_id, _c.id).where(*where).order_by(_c.id).limit(limit)
    rows = yield Query(stmt, {}, "all")
    return list(rows)
