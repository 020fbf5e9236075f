"""Value objects of recuerdo's domain: frozen dataclasses and string enums.

These are what :class:`recuerdo.Memory` returns. They carry no behaviour that touches storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar, cast

from recuerdo.errors import InvalidRole, NaiveDatetime

T = TypeVar("T")


class Role(StrEnum):
    """Who wrote a message (the seed's ``role``)."""

    USER = "user"
    ASSISTANT = "assistant"
    MANUAL_OPERATOR = "manual_operator"
    SYSTEM = "system"

    @classmethod
    def parse(cls, value: Role | str) -> Role:
        """``Role.parse("user") is Role.USER``; anything else raises :class:`InvalidRole`."""
        if type(value) is cls:
            return value
        # A name's member by a dict lookup (calling the class costs ten times as much).
        member = cls._value2member_map_.get(value) if isinstance(value, str) else None
        if member is not None:
            return cast(Role, member)
        try:
            return cls(value)
        except ValueError:
            accepted = ", ".join(r.value for r in cls)
            raise InvalidRole(
                f"unknown role {value!r}; accepted roles: {accepted}", received=str(value)
            ) from None


class ContentType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACT = "contact"
    DELETED = "deleted"
    OTHER = "other"


class IdentifierKind(StrEnum):
    """How a client is known: E.164 phone digits, a WhatsApp id as sent, a Baileys lid, a BSUID."""

    PHONE = "phone"
    WA_ID = "wa_id"
    LID = "lid"
    BSUID = "bsuid"


class HandledBy(StrEnum):
    NOBODY = "nobody"
    BOT = "bot"
    OPERATOR = "operator"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class Identifier:
    kind: IdentifierKind
    value: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}"


@dataclass(frozen=True, slots=True)
class ThreadInfo:
    """A client's current LLM thread (what ``getThreadId`` needs, without the whole record)."""

    client_id: int
    thread_id: str | None
    provider: str | None


@dataclass(frozen=True, slots=True)
class Handoff:
    """The persistent "bot paused" flag (BuilderBot's blacklist, kept across restarts)."""

    paused: bool
    by: str | None = None
    reason: str | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Client:
    """The seed's ClientThreads record."""

    id: int
    tenant: str
    phone: str | None
    identifiers: tuple[Identifier, ...]
    profile_name: str | None
    customer_name: str | None
    customer_name_source: str | None
    thread_id: str | None
    thread_provider: str | None
    created_at: datetime
    last_interaction_at: datetime | None
    total_conversations: int
    total_messages: int
    tags: tuple[str, ...]
    attributes: dict[str, Any]
    profile_summary: str | None
    handoff: Handoff

    @property
    def name(self) -> str | None:
        """The best name known: confirmed customer name, else WhatsApp profile name."""
        return self.customer_name or self.profile_name


@dataclass(frozen=True, slots=True)
class Conversation:
    """One episode of contact: from the first message after the idle timeout to its close."""

    id: int
    client_id: int
    thread_id: str | None
    started_at: datetime
    last_message_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    counts: dict[str, int]
    handled_by: HandledBy
    summary: str | None = None
    summary_status: str | None = None
    outcome: str | None = None
    topics: tuple[str, ...] = ()

    @property
    def open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class Message:
    """The seed's ConversationHistory record."""

    id: int
    client_id: int
    conversation_id: int
    thread_id: str | None
    at: datetime
    role: Role
    content: str
    content_type: str = ContentType.TEXT.value
    external_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What ``record_message`` answers: the message, and whether this call stored it."""

    message: Message
    created: bool


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; ``next_cursor`` is ``None`` on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None


def require_aware(value: datetime, what: str = "datetime") -> datetime:
    """Return ``value`` in UTC; a naive datetime raises :class:`NaiveDatetime`."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetime(
            f"{what} {value.isoformat()} has no timezone; pass an aware datetime "
            "(e.g. datetime.now(UTC))",
            received=value.isoformat(),
        )
    return value.astimezone(UTC)


class NewMessage(NamedTuple):
    """One message to record, with the arguments of ``Memory.record_message`` (used by batches
    and importers). A named tuple: importers build millions, and a frozen dataclass costs four
    times as much to build."""

    who: str
    role: Role | str
    content: str
    at: datetime | None = None
    thread_id: str | None = None
    external_id: str | None = None
    content_type: str = ContentType.TEXT.value
    metadata: dict[str, Any] | None = None
    profile_name: str | None = None
