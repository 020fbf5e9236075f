"""What a conversation summary holds, and the protocol every summariser follows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from recuerdo.model import Message

Party = Literal["business", "customer"]


class ConversationStatus(StrEnum):
    """How a conversation ended, for analytics and for the next conversation's context."""

    RESOLVED = "resolved"
    """The customer got what they came for (thanked, confirmed, bought, booked)."""
    PENDING = "pending"
    """Something was promised and is still to happen (a call back, a quote, a delivery)."""
    UNRESOLVED = "unresolved"
    """The customer left unhappy or the problem stayed open."""
    NO_REPLY = "no_reply"
    """The customer wrote last and nobody answered."""
    UNKNOWN = "unknown"


class Commitment(BaseModel):
    """Who promised what, and by when (``due`` as said, ``due_date`` when it can be dated).

    >>> Commitment(party="business", who="el asistente", what="enviar la cotización",
    ...            due="mañana", due_date=date(2025, 5, 4)).what
    'enviar la cotización'
    """

    model_config = ConfigDict(frozen=True)

    party: Party = Field(description="business (bot or operator) or customer")
    who: str = Field(description="who promised, as the summary names them")
    what: str = Field(description="what was promised, as a short clause")
    due: str | None = Field(None, description="when, as it was said: 'mañana', 'by Friday'")
    due_date: date | None = Field(None, description="the day it is due, when it can be told")


class ConversationSummary(BaseModel):
    """The summary of one conversation, whichever summariser wrote it.

    ``method`` says who: ``"llm:<model>"`` or ``"extractive"`` (offline rules).
    """

    model_config = ConfigDict(frozen=True)

    text: str = Field(description="the summary as a person reads it, at most about 120 words")
    topics: tuple[str, ...] = ()
    preferences: tuple[str, ...] = Field((), description="what the customer prefers or needs")
    commitments: tuple[Commitment, ...] = ()
    outcome: str | None = Field(None, description="how the conversation ended, one sentence")
    status: ConversationStatus = ConversationStatus.UNKNOWN
    customer_name: str | None = Field(None, description="only when the customer stated it")
    language: str = "es"
    method: str = "extractive"
    tokens_used: int = Field(0, description="LLM tokens spent, failed attempts included")
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def word_count(self) -> int:
        return len(self.text.split())


class Summarizer(Protocol):
    """Anything that turns a conversation's messages into a :class:`ConversationSummary`.

    ``language`` is ``"es"`` or ``"en"``; ``None`` lets the summariser detect it.
    """

    async def summarize(
        self, messages: Sequence[Message], *, language: str | None = None
    ) -> ConversationSummary: ...
