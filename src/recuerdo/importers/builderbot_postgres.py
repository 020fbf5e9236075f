"""Reading a BuilderBot bot's PostgreSQL tables (``@builderbot/database-postgres``):
``history``, one row per message, and ``contact``, whose ``values`` are the client's attributes.

The adapter creates them as::

    contact (id SERIAL, phone VARCHAR, created_at TIMESTAMP, updated_in TIMESTAMP,
             last_interaction TIMESTAMP, values JSONB)
    history (id SERIAL, ref VARCHAR, keyword VARCHAR, answer TEXT, refSerialize TEXT,
             phone VARCHAR, options JSONB, created_at TIMESTAMP, updated_in TIMESTAMP,
             contact_id INTEGER)

Rows map to messages exactly as the other BuilderBot stores' entries do
(:func:`recuerdo.importers.builderbot.entry_to_message`); only reading is done here.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from recuerdo.errors import ImportFormatError, InvalidIdentifier
from recuerdo.importers.builderbot import client_who, entry_to_message, hash_id
from recuerdo.importers.recording import Sourced
from recuerdo.importers.report import ImportReport, ParseProblem
from recuerdo.model import NewMessage

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


@dataclass(frozen=True, slots=True)
class ClientAttributes:
    """A client's attributes from BuilderBot's ``contact.values``; apply them with
    ``await memory.update_client(c.who, attributes=c.attributes)``."""

    who: str
    attributes: dict[str, Any]


def history_row_to_message(row: Mapping[str, Any]) -> NewMessage | None:
    """The message of one row of BuilderBot's PostgreSQL ``history`` table.

    ``row`` has the table's columns (``id``, ``ref``, ``keyword``, ``answer``,
    ``refserialize``, ``phone``, ``options`` as JSON text or object) and ``at``: ``created_at``
    as an aware datetime. Raises :class:`InvalidIdentifier` for a row without a valid phone.

    >>> from datetime import UTC, datetime
    >>> row = {"id": 7, "ref": "ans_1", "keyword": "key_1", "answer": "Hola",
    ...        "phone": "573001234567", "options": '{"capture": false}',
    ...        "at": datetime(2024, 1, 2, tzinfo=UTC)}
    >>> history_row_to_message(row).content
    'Hola'
    """
    options = row.get("options")
    if isinstance(options, str):
        options = json.loads(options)
    entry = {**row, "options": options}
    who = client_who(row.get("phone"))
    at = row["at"]
    return entry_to_message(
        entry,
        who=who,
        at=at,
        external_id=hash_id(
            "builderbot-pg:", who, row.get("id"), at.isoformat(), row.get("answer")
        ),
        source="builderbot-postgres",
    )


def contact_row_to_attributes(row: Mapping[str, Any]) -> ClientAttributes | None:
    """A ``contact`` row's ``values`` as client attributes (``None`` when it holds none).

    >>> contact_row_to_attributes({"phone": "573001234567", "values": '{"name": "Ana"}'})
    ClientAttributes(who='573001234567', attributes={'name': 'Ana'})
    """
    values = row.get("values")
    if isinstance(values, str):
        values = json.loads(values)
    if not isinstance(values, Mapping) or not values:
        return None
    return ClientAttributes(client_who(row.get("phone")), dict(values))


def _unreadable(table: str, exc: Exception) -> ImportFormatError:
    return ImportFormatError(
        f"cannot read BuilderBot's {table} ({type(exc).__name__}: {exc})", received=table
    )


def _table(schema: str, name: str) -> str:
    if not _IDENT.fullmatch(schema):
        raise ImportFormatError(f"invalid schema name {schema!r}", received=schema)
    return f'"{schema}"."{name}"'


async def read_builderbot_postgres(
    dsn: str,
    *,
    schema: str = "public",
    tz: str | None = None,
    page_size: int = 1000,
    report: ImportReport | None = None,
) -> AsyncIterator[Sourced | ParseProblem]:
    """Messages of BuilderBot's PostgreSQL ``history`` table in insertion order, as
    ``(NewMessage, row_id)`` pairs, read page by page.

    ``created_at`` has no time zone; it is read in the server's ``TimeZone`` (the zone the bot's
    own ``current_timestamp`` used) unless ``tz`` names another.

    Example::

        report = ImportReport()
        rows = read_builderbot_postgres("postgresql://bot@db/builderbot", report=report)
        await record_in_batches(memory, rows, report, file="builderbot history")
    """
    import asyncpg  # type: ignore[import-untyped, unused-ignore]  # only these readers need it

    table = _table(schema, "history")
    zone_sql = "$2::text" if tz else "current_setting('TimeZone')"
    query = (
        f"SELECT id, ref, keyword, answer, refserialize, phone, options::text AS options, "
        f"created_at AT TIME ZONE {zone_sql} AS at FROM {table} "
        f"WHERE id > $1 ORDER BY id LIMIT {int(page_size)}"
    )
    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError) as exc:
        raise _unreadable(table, exc) from None
    try:
        last = 0
        while True:
            args: list[Any] = [last, tz] if tz else [last]
            try:
                rows = await conn.fetch(query, *args)
            except asyncpg.PostgresError as exc:
                raise _unreadable(table, exc) from None
            if not rows:
                return
            for row in rows:
                last = row["id"]
                record = dict(row)
                try:
                    message = history_row_to_message(record)
                except (InvalidIdentifier, ValueError) as exc:
                    reason = exc.message if isinstance(exc, InvalidIdentifier) else str(exc)
                    yield ParseProblem(f"{table}", last, str(record.get("answer"))[:200], reason)
                    continue
                if message is None:
                    if report is not None:
                        report.skipped += 1
                    continue
                yield message, last
    finally:
        await conn.close()


async def read_builderbot_contacts(
    dsn: str, *, schema: str = "public"
) -> tuple[list[ClientAttributes], list[ParseProblem]]:
    """Every client's ``contact.values`` from BuilderBot's PostgreSQL tables, to apply with
    ``memory.update_client(who, attributes=...)``; rows that cannot be read are reported.

    Example::

        found, problems = await read_builderbot_contacts("postgresql://bot@db/builderbot")
        for contact in found:
            await memory.update_client(contact.who, attributes=contact.attributes)
    """
    import asyncpg

    table = _table(schema, "contact")
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            f'SELECT id, phone, "values"::text AS values FROM {table} ORDER BY id'
        )
    finally:
        await conn.close()
    found: list[ClientAttributes] = []
    problems: list[ParseProblem] = []
    for row in rows:
        try:
            attributes = contact_row_to_attributes(dict(row))
        except (InvalidIdentifier, ValueError) as exc:
            reason = exc.message if isinstance(exc, InvalidIdentifier) else str(exc)
            problems.append(ParseProblem(table, row["id"], str(row["phone"]), reason))
            continue
        if attributes is not None:
            found.append(attributes)
    return found, problems
