"""JSON shapes of the HTTP API (pydantic), converted from and to the domain objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from recuerdo.model import Client, Conversation, Handoff, Message


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageIn(_In):
    role: Literal["user", "assistant", "manual_operator", "system"]
    content: str = Field(max_length=70_000)
    at: AwareDatetime | None = None
    thread_id: str | None = Field(None, max_length=255)
    external_id: str | None = Field(None, max_length=255)
    content_type: str = Field("text", max_length=16)
    metadata: dict[str, Any] | None = None
    profile_name: str | None = Field(None, max_length=255)


class BatchMessageIn(MessageIn):
    who: str = Field(max_length=256)


class BatchIn(_In):
    messages: list[BatchMessageIn] = Field(min_length=1, max_length=500)


class ThreadIn(_In):
    thread_id: str = Field(min_length=1, max_length=255)
    provider: str | None = Field(None, max_length=255)


class HandoffIn(_In):
    by: str = Field(min_length=1, max_length=255)
    reason: str | None = Field(None, max_length=1000)


class ClientPatch(_In):
    customer_name: str | None = Field(None, max_length=255)
    add_tags: list[str] = Field(default_factory=list, max_length=50)
    remove_tags: list[str] = Field(default_factory=list, max_length=50)
    attributes: dict[str, Any] | None = None


class KeyIn(_In):
    name: str = Field(min_length=1, max_length=120)
    scope: Literal["bot", "operator", "admin"]


class MessageOut(BaseModel):
    id: int
    client_id: int
    conversation_id: int
    thread_id: str | None
    at: datetime
    role: str
    content: str
    content_type: str
    external_id: str | None
    metadata: dict[str, Any]

    @classmethod
    def of(cls, m: Message) -> MessageOut:
        return cls(
            id=m.id,
            client_id=m.client_id,
            conversation_id=m.conversation_id,
            thread_id=m.thread_id,
            at=m.at,
            role=m.role.value,
            content=m.content,
            content_type=m.content_type,
            external_id=m.external_id,
            metadata=m.metadata,
        )


class HandoffOut(BaseModel):
    paused: bool
    by: str | None
    reason: str | None
    since: datetime | None

    @classmethod
    def of(cls, h: Handoff) -> HandoffOut:
        return cls(paused=h.paused, by=h.by, reason=h.reason, since=h.since)


class ClientOut(BaseModel):
    id: int
    tenant: str
    phone: str | None
    identifiers: list[str]
    profile_name: str | None
    customer_name: str | None
    name: str | None
    thread_id: str | None
    thread_provider: str | None
    created_at: datetime
    last_interaction_at: datetime | None
    total_conversations: int
    total_messages: int
    tags: list[str]
    attributes: dict[str, Any]
    profile_summary: str | None
    handoff: HandoffOut

    @classmethod
    def of(cls, c: Client) -> ClientOut:
        return cls(
            id=c.id,
            tenant=c.tenant,
            phone=c.phone,
            identifiers=[str(i) for i in c.identifiers],
            profile_name=c.profile_name,
            customer_name=c.customer_name,
            name=c.name,
            thread_id=c.thread_id,
            thread_provider=c.thread_provider,
            created_at=c.created_at,
            last_interaction_at=c.last_interaction_at,
            total_conversations=c.total_conversations,
            total_messages=c.total_messages,
            tags=list(c.tags),
            attributes=c.attributes,
            profile_summary=c.profile_summary,
            handoff=HandoffOut.of(c.handoff),
        )


class ConversationOut(BaseModel):
    id: int
    client_id: int
    thread_id: str | None
    started_at: datetime
    last_message_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    counts: dict[str, int]
    handled_by: str
    summary: str | None
    summary_status: str | None
    outcome: str | None
    topics: list[str]

    @classmethod
    def of(cls, c: Conversation) -> ConversationOut:
        return cls(
            id=c.id,
            client_id=c.client_id,
            thread_id=c.thread_id,
            started_at=c.started_at,
            last_message_at=c.last_message_at,
            ended_at=c.ended_at,
            end_reason=c.end_reason,
            counts=c.counts,
            handled_by=c.handled_by.value,
            summary=c.summary,
            summary_status=c.summary_status,
            outcome=c.outcome,
            topics=list(c.topics),
        )


class ThreadOut(BaseModel):
    client_id: int | None = None
    thread_id: str | None
    provider: str | None


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class ClientPage(BaseModel):
    items: list[ClientOut]
    next_cursor: str | None


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class BatchResult(BaseModel):
    created: bool
    message: MessageOut


class BatchOut(BaseModel):
    results: list[BatchResult]


class KeyOut(BaseModel):
    id: int
    name: str
    scope: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class CreatedKeyOut(KeyOut):
    key: str


class KeyList(BaseModel):
    items: list[KeyOut]


class CommitmentOut(BaseModel):
    party: str
    who: str
    what: str
    due: str | None
    due_date: str | None


class ContextOut(BaseModel):
    """The seed's enrichContextWithHistory: `note` goes to the LLM as `historical_context`."""

    is_returning: bool
    is_known: bool
    days_since: int | None
    last_interaction_at: datetime | None
    customer_name: str | None
    name_source: str | None
    note: str
    profile_summary: str | None
    last_summary: str | None
    last_outcome: str | None
    open_commitments: list[CommitmentOut]
    relevant_messages: list[dict[str, Any]]
    rehydration_messages: list[dict[str, str]]
    tokens: int
    language: str
    dropped: list[str]


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str


class Status(BaseModel):
    status: str
