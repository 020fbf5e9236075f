"""Reading a tenant's messages out in a stable order, page by page, for export."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.sql import ColumnElement

from recuerdo.store.query import Op, Query, Row
from recuerdo.store.schema import clients, messages


def export_page(
    tenant: int,
    *,
    client_id: int | None,
    since: datetime | None,
    until: datetime | None,
    after: tuple[int, datetime, int] | None,
    limit: int,
) -> Op[list[Row]]:
    """Messages ordered by client, then time (the order an import needs), keyset-paged."""
    m, c = messages.c, clients.c
    where: list[ColumnElement[bool]] = [c.tenant_id == tenant]
    if client_id is not None:
        where.append(m.client_id == client_id)
    if since is not None:
        where.append(m.at >= since)
    if until is not None:
        where.append(m.at < until)
    if after is not None:
        cid, at, mid = after
        where.append(
            or_(
                m.client_id > cid,
                and_(m.client_id == cid, m.at > at),
                and_(m.client_id == cid, m.at == at, m.id > mid),
            )
        )
    stmt = (
        select(messages, c.profile_name.label("client_profile_name"))
        .join(clients, clients.c.id == m.client_id)
        .where(*where)
        .order_by(m.client_id, m.at, m.id)
        .limit(limit)
    )
    rows = yield Query(stmt, {}, "all")
    return list(rows)
