"""Export a tenant's history (or one client's, or a date range) as ``NewMessage`` records, the
JSONL format's lines: export → import into an empty database gives the same clients,
conversations and messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial

from recuerdo.errors import StorageError
from recuerdo.memory import Memory
from recuerdo.model import IdentifierKind, NewMessage, require_aware
from recuerdo.store import client_ops, export_ops
from recuerdo.store.rows import as_dt, to_message

_PAGE = 1000
# The identifier an import should name the client by: as the provider sent it, first.
_PREFERRED = (IdentifierKind.WA_ID, IdentifierKind.LID, IdentifierKind.BSUID, IdentifierKind.PHONE)


async def export_messages(
    memory: Memory,
    *,
    who: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AsyncIterator[NewMessage]:
    """Every message of the tenant (or of ``who``), client by client, oldest first.

    >>> async for line in export_messages(memory, who="573003913251"):   # doctest: +SKIP
    ...     print(line.content)
    """
    start = require_aware(since, "since") if since else None
    end = require_aware(until, "until") if until else None
    client_id = (await memory.client(who)).id if who else None
    tenant = await memory.tenant_id()
    names: dict[int, str] = {}
    after: tuple[int, datetime, int] | None = None
    while True:
        rows = await memory.store.read(
            partial(
                export_ops.export_page,
                tenant,
                client_id=client_id,
                since=start,
                until=end,
                after=after,
                limit=_PAGE,
            )
        )
        for row in rows:
            cid = int(row["client_id"])
            if cid not in names:
                names[cid] = await _name_of(memory, cid)
            message = to_message(row)
            yield NewMessage(
                who=names[cid],
                role=message.role,
                content=message.content,
                at=message.at,
                thread_id=message.thread_id,
                external_id=message.external_id,
                content_type=message.content_type,
                metadata=message.metadata or None,
                profile_name=row["client_profile_name"],
            )
        if len(rows) < _PAGE:
            return
        last = rows[-1]
        after = (int(last["client_id"]), as_dt(last["at"]), int(last["id"]))


async def _name_of(memory: Memory, client_id: int) -> str:
    rows = await memory.store.read(partial(client_ops.identifiers_of, client_id))
    found = {IdentifierKind(r["kind"]): r["value"] for r in rows}
    for kind in _PREFERRED:
        if kind in found:
            value = found[kind]
            return f"lid:{value}" if kind is IdentifierKind.LID else value
    raise StorageError(f"client {client_id} has no identifier; the database is inconsistent")
