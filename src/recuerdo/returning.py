"""Gathering what the returning-customer note needs (the seed's ``enrichContextWithHistory``).

``context.py`` writes the note from plain values; this module fetches them: the client, the last
summarised conversation and how it ended, commitments still open, the past messages most relevant
to what the client just wrote, and the recent messages that rehydrate a fresh LLM conversation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from recuerdo.context import ContextNote, build_context_note
from recuerdo.model import Message, Role
from recuerdo.store import client_ops
from recuerdo.store.query import Row
from recuerdo.store.rows import as_dt, as_json
from recuerdo.summaries import Commitment

if TYPE_CHECKING:
    from recuerdo.memory import Memory

_RECENT_CONVERSATIONS = 5
_REHYDRATION_MESSAGES = 20
_RELEVANT_MESSAGES = 5


async def context_for(
    memory: Memory,
    who: str,
    incoming_text: str | None = None,
    *,
    language: str | None = None,
    token_budget: int | None = None,
) -> ContextNote:
    """The context note for ``who`` writing ``incoming_text`` now."""
    settings = memory.settings
    now = memory.clock.now()
    lang = language or settings.language
    budget = token_budget or settings.context_token_budget
    client = await memory.find_client(who)
    if client is None:
        return build_context_note(
            now=now,
            last_interaction_at=None,
            returning_after_days=settings.returning_after_days,
            language=lang,
            token_budget=budget,
            template=settings.context_template,
            timezone=settings.timezone,
        )
    rows = await memory.store.read(
        lambda: client_ops.list_conversations(
            client.id, limit=_RECENT_CONVERSATIONS, before_id=None
        )
    )
    idle = timedelta(hours=settings.idle_timeout_hours)
    past = _past_conversations(rows, now, idle)
    last_contact = as_dt(past[0]["last_message_at"]) if past else None
    summarised = next((r for r in past if r["summary"]), None)
    recent = (await memory.history(who, limit=_REHYDRATION_MESSAGES)).items
    relevant = await _relevant(memory, who, incoming_text, recent)
    return build_context_note(
        now=now,
        last_interaction_at=last_contact,
        client_label=client.phone or (str(client.identifiers[0]) if client.identifiers else None),
        customer_name=client.customer_name,
        name_source=client.customer_name_source,
        profile_name=client.profile_name,
        profile_summary=client.profile_summary,
        last_summary=summarised["summary"] if summarised else None,
        last_outcome=summarised["outcome"] if summarised else None,
        open_commitments=_open_commitments(past, now.date()),
        relevant_messages=relevant,
        recent_messages=tuple(reversed(recent)),
        returning_after_days=settings.returning_after_days,
        language=lang,
        token_budget=budget,
        template=settings.context_template,
        timezone=settings.timezone,
    )


def _past_conversations(rows: Sequence[Row], now: datetime, idle: timedelta) -> list[Row]:
    """Conversations before the current one: the client may already be writing (and the bot may
    have recorded the message) when it asks for context; that episode is not 'the last contact'."""
    if rows and rows[0]["ended_at"] is None and now - as_dt(rows[0]["last_message_at"]) <= idle:
        return list(rows[1:])
    return list(rows)


def _open_commitments(rows: Sequence[Row], today: date) -> tuple[Commitment, ...]:
    """Promises from recent summaries whose day has not passed (or that named no day)."""
    found: list[Commitment] = []
    for row in rows:
        data: dict[str, Any] = as_json(row["summary_data"]) or {}
        for raw in data.get("commitments", ()):
            try:
                commitment = Commitment.model_validate(raw)
            except ValidationError:
                continue
            if commitment.due_date is None or commitment.due_date >= today:
                found.append(commitment)
    return tuple(found)


async def _relevant(
    memory: Memory, who: str, text: str | None, recent: Sequence[Message]
) -> tuple[Message, ...]:
    """Past messages most relevant to what the client just wrote (not the ones already in the
    rehydration window, which the note carries anyway)."""
    if not text or not text.strip():
        return ()
    hits = await memory.search(text, who=who, limit=_RELEVANT_MESSAGES + len(recent))
    shown = {m.id for m in recent}
    picked = [h.message for h in hits if h.message is not None and h.message.id not in shown]
    return tuple(m for m in picked if m.role is not Role.SYSTEM)[:_RELEVANT_MESSAGES]
