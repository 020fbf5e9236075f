"""Database rows to domain objects. Values arrive as each driver gives them (SQLite: ISO text and
JSON text; PostgreSQL: datetimes and decoded JSON), so each converter accepts both."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from recuerdo.model import (
    Client,
    Conversation,
    HandledBy,
    Handoff,
    Identifier,
    IdentifierKind,
    Message,
    Role,
)
from recuerdo.store.schema import ROLE_NAMES

Row = Mapping[str, Any]


def as_dt(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def as_opt_dt(value: Any) -> datetime | None:
    return None if value is None else as_dt(value)


def epoch_hour(at: datetime) -> int:
    """The hour ``at`` falls in, counted from 1970-01-01 UTC: the coarse time that the activity
    and idle indexes hold (``clients.active_hour``, ``conversations.last_hour``), so a message
    moves their entries once an hour instead of every time."""
    if at.tzinfo is UTC:  # the usual case by calendar numbers: half the time, no timedelta
        return at.toordinal() * 24 + at.hour - _EPOCH_HOURS
    return (at - _EPOCH) // _HOUR


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_HOURS = _EPOCH.toordinal() * 24
_HOUR = timedelta(hours=1)


# One encoder for every document: json.dumps with options builds a new encoder per call (2x).
compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


_UNDECODED = object()


class EncodedJson(str):
    """A JSON document encoded once (when validated) that still knows the object it encodes:
    engines store the text as it is, and reading it back needs no decoding."""

    _source: Any

    def __new__(cls, source: Any) -> EncodedJson:
        self = super().__new__(cls, compact_json(source))
        self._source = source
        return self

    @classmethod
    def of_text(cls, text: str) -> EncodedJson:
        """JSON text encoded (and validated) elsewhere, e.g. in an import worker process; it is
        decoded only if someone asks for :attr:`source`."""
        self = super().__new__(cls, text)
        self._source = _UNDECODED
        return self

    @property
    def source(self) -> Any:
        if self._source is _UNDECODED:
            self._source = json.loads(self)
        return self._source


def as_json(value: Any) -> Any:
    if type(value) is EncodedJson:
        return value.source
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value


def db_time(value: datetime) -> str:
    """The SQLite text form of a UTC datetime: fixed width, so text order is time order."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


_ROLE_OF: dict[int | str, Role] = {
    **{code: Role(name) for code, name in ROLE_NAMES.items()},
    **{role.value: role for role in Role},
}


def _message_builder() -> Callable[..., Message]:
    """A :class:`Message` from its ten fields in order, without the frozen dataclass's
    ``__init__`` (which sets each field through ``object.__setattr__`` and checks the default
    factory): the same object in half the time, and every recorded and listed message is built
    here. The slots' own setters, one statement each (a loop would cost what it saves)."""
    names = [f.name for f in fields(Message)]
    assert len(names) == 10, "to_message passes Message's ten fields in order"
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9 = (getattr(Message, n).__set__ for n in names)
    new = object.__new__

    def build(
        v0: Any, v1: Any, v2: Any, v3: Any, v4: Any, v5: Any, v6: Any, v7: Any, v8: Any, v9: Any
    ) -> Message:
        m = new(Message)
        s0(m, v0)
        s1(m, v1)
        s2(m, v2)
        s3(m, v3)
        s4(m, v4)
        s5(m, v5)
        s6(m, v6)
        s7(m, v7)
        s8(m, v8)
        s9(m, v9)
        return m

    return build


_build_message = _message_builder()


def to_message(row: Row) -> Message:
    # In the fields' order (id, client_id, conversation_id, thread_id, at, role, content,
    # content_type, external_id, metadata).
    return _build_message(
        int(row["id"]),
        int(row["client_id"]),
        int(row["conversation_id"]),
        row["thread_id"],
        as_dt(row["at"]),
        _ROLE_OF[row["role"]],
        row["content"],
        row["content_type"],
        row["external_id"],
        as_json(row["metadata"]) or {},
    )


def to_client(row: Row, tenant: str, identifier_rows: Iterable[Row]) -> Client:
    identifiers = tuple(Identifier(IdentifierKind(r["kind"]), r["value"]) for r in identifier_rows)
    phone = next((i.value for i in identifiers if i.kind is IdentifierKind.PHONE), None)
    return Client(
        id=int(row["id"]),
        tenant=tenant,
        phone=phone,
        identifiers=identifiers,
        profile_name=row["profile_name"],
        customer_name=row["customer_name"],
        customer_name_source=row["customer_name_source"],
        thread_id=row["thread_id"],
        thread_provider=row["thread_provider"],
        created_at=as_dt(row["created_at"]),
        last_interaction_at=as_opt_dt(row["last_interaction_at"]),
        total_conversations=int(row["total_conversations"]),
        total_messages=int(row["total_messages"]),
        tags=tuple(as_json(row["tags"]) or ()),
        attributes=dict(as_json(row["attributes"]) or {}),
        profile_summary=row["profile_summary"],
        handoff=to_handoff(row),
    )


def to_handoff(row: Row) -> Handoff:
    return Handoff(
        paused=bool(row["bot_paused"]),
        by=row["paused_by"],
        reason=row["paused_reason"],
        since=as_opt_dt(row["paused_at"]),
    )


def to_conversation(row: Row) -> Conversation:
    counts = {
        "user": int(row["n_user"]),
        "assistant": int(row["n_assistant"]),
        "manual_operator": int(row["n_operator"]),
        "system": int(row["n_system"]),
    }
    bot, human = counts["assistant"] > 0, counts["manual_operator"] > 0
    handled = (
        HandledBy.BOTH
        if bot and human
        else HandledBy.BOT
        if bot
        else HandledBy.OPERATOR
        if human
        else HandledBy.NOBODY
    )
    return Conversation(
        id=int(row["id"]),
        client_id=int(row["client_id"]),
        thread_id=row["thread_id"],
        started_at=as_dt(row["started_at"]),
        last_message_at=as_dt(row["last_message_at"]),
        ended_at=as_opt_dt(row["ended_at"]),
        end_reason=row["end_reason"],
        counts=counts,
        handled_by=handled,
        summary=row["summary"],
        summary_status=row["summary_status"],
        outcome=row["outcome"],
        topics=tuple(as_json(row["topics"]) or ()),
    )
