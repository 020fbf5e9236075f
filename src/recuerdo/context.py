"""The returning-customer context: the seed's ``enrichContextWithHistory``, as a pure function.

:func:`build_context_note` takes what the store knows about a client (name and where it came from,
last contact, profile summary, the last conversation's summary and outcome, open commitments, the
past messages most relevant to what the client just wrote, the latest messages) and returns a
:class:`ContextNote`: whether the client is returning (last contact more than
``returning_after_days`` ago, 30 by default), a ready note for the LLM in Spanish (default) or
English, and ``rehydration_messages`` to open a fresh LLM conversation when the old thread is gone
(OpenAI shut the Assistants API down on 2026-08-26; a ``thread_…`` id leads nowhere now).

Everything fits a token budget (a cheap estimate, about four characters a token). When it does
not, the least valuable parts go first: the oldest rehydration messages, then the least relevant
past messages, then profile detail, then detail of the last conversation, then later commitments.
The returning flag, the days since the last contact and the name are never dropped.

The note's wording is a :class:`string.Template` the business may replace. Placeholders:

=================== ============================================================================
``$client``         the client's phone or id, as the caller passes it
``$name``           the customer's name, or empty
``$name_line``      a sentence about the name and how sure we are of it (operator / customer /
                    WhatsApp profile), or that we do not know it
``$days``           whole days since the last contact
``$days_text``      "45 días" / "1 día" / "hoy" (English: "45 days" / "1 day" / "today")
``$last_date``      the last contact's date in the business's time zone
``$profile``        the client's profile summary
``$last_summary``   the last conversation's summary
``$last_outcome``   how the last conversation ended
``$commitments``    open commitments, one per line, each starting with "- "
``$relevant``       past messages relevant to what the client wrote, one per line
=================== ============================================================================

A template line whose placeholders are all empty is left out, so a client with no commitments
gets no "Compromisos pendientes:" line.

Example::

    note = build_context_note(
        now=datetime.now(UTC), last_interaction_at=client.last_interaction_at,
        client_label=client.phone, customer_name=client.customer_name,
        name_source=client.customer_name_source, profile_summary=client.profile_summary,
    )
    if note.is_returning:
        await state.update(historical_context=note.note, is_returning_customer=True)
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from recuerdo.errors import InvalidInput
from recuerdo.llm import estimate_tokens
from recuerdo.model import Message, Role, require_aware
from recuerdo.summaries.model import Commitment

TEMPLATE_ES = """\
[NOTA DE SISTEMA: Este cliente ($client) ha interactuado con nosotros anteriormente. \
Su última conversación fue hace $days_text ($last_date).
$name_line
Resumen del cliente: $profile
Última conversación: $last_summary
Cómo terminó: $last_outcome
Compromisos pendientes:$commitments
Mensajes anteriores relacionados con lo que escribe ahora:$relevant
Salúdalo como a un cliente que vuelve y no le pidas de nuevo lo que ya nos dijo.]"""

TEMPLATE_EN = """\
[SYSTEM NOTE: This customer ($client) has talked to us before. \
Their last conversation was $days_text ago ($last_date).
$name_line
Customer summary: $profile
Last conversation: $last_summary
How it ended: $last_outcome
Open commitments:$commitments
Earlier messages related to what they are writing now:$relevant
Greet them as a returning customer and do not ask again for what they already told us.]"""

TEMPLATES = {"es": TEMPLATE_ES, "en": TEMPLATE_EN}

_NAME_LINES = {
    "es": {
        "operator": "Su nombre es $name (registrado por un asesor): úsalo para personalizar el "
        "saludo.",
        "conversation": "Su nombre es $name (nos lo dijo en una conversación): úsalo para "
        "personalizar el saludo.",
        "profile": "Su nombre de perfil de WhatsApp es «$name»; puede no ser su nombre real, "
        "úsalo con cuidado.",
        "other": "Su nombre registrado es $name: úsalo para personalizar el saludo.",
        "unknown": "No tenemos su nombre registrado.",
    },
    "en": {
        "operator": "Their name is $name (recorded by an agent): use it to greet them.",
        "conversation": "Their name is $name (they told us in a conversation): use it to greet "
        "them.",
        "profile": "Their WhatsApp profile name is “$name”; it may not be their real name, use "
        "it with care.",
        "other": "Their recorded name is $name: use it to greet them.",
        "unknown": "We do not have their name on record.",
    },
}
_ROLE_WORDS = {
    "es": {Role.USER: "cliente", Role.ASSISTANT: "asistente", Role.MANUAL_OPERATOR: "asesor"},
    "en": {Role.USER: "customer", Role.ASSISTANT: "assistant", Role.MANUAL_OPERATOR: "agent"},
}
_DUE_WORDS = {"es": ("vence el", "vencía el"), "en": ("due", "was due")}
_NAME_SOURCE_KINDS = {
    "operator": "operator",
    "manual_operator": "operator",
    "api": "operator",
    "console": "operator",
    "conversation": "conversation",
    "summary": "conversation",
    "extracted": "conversation",
    "profile": "profile",
    "whatsapp_profile": "profile",
}
_MESSAGE_OVERHEAD_TOKENS = 4
"""What each chat message costs beyond its text (role and separators)."""
_MAX_QUOTE_WORDS = 40


@dataclass(frozen=True, slots=True)
class ContextNote:
    """The returning-customer context for one client at one moment.

    ``note`` is empty unless the client is returning (or ``note_when_recent`` was asked for);
    ``tokens`` counts the note plus the rehydration messages; ``dropped`` lists what the token
    budget left out, least valuable first.
    """

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
    open_commitments: tuple[Commitment, ...]
    relevant_messages: tuple[Message, ...]
    rehydration_messages: tuple[dict[str, str], ...]
    tokens: int
    language: str
    dropped: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the HTTP API (datetimes as ISO 8601 UTC).

        >>> build_context_note(now=datetime(2025, 1, 1, tzinfo=ZoneInfo("UTC")),
        ...                    last_interaction_at=None).to_dict()["is_returning"]
        False
        """
        return {
            "is_returning": self.is_returning,
            "is_known": self.is_known,
            "days_since": self.days_since,
            "last_interaction_at": _iso(self.last_interaction_at),
            "customer_name": self.customer_name,
            "name_source": self.name_source,
            "note": self.note,
            "profile_summary": self.profile_summary,
            "last_summary": self.last_summary,
            "last_outcome": self.last_outcome,
            "open_commitments": [c.model_dump(mode="json") for c in self.open_commitments],
            "relevant_messages": [_message_dict(m) for m in self.relevant_messages],
            "rehydration_messages": [dict(m) for m in self.rehydration_messages],
            "tokens": self.tokens,
            "language": self.language,
            "dropped": list(self.dropped),
        }


@dataclass(frozen=True, slots=True)
class _Parts:
    """What may go into the context; the budget shrinks it step by step."""

    profile: str | None
    last_summary: str | None
    last_outcome: str | None
    commitments: tuple[Commitment, ...]
    relevant: tuple[Message, ...]
    rehydration: tuple[dict[str, str], ...]
    dropped: tuple[str, ...] = field(default=())


def build_context_note(
    *,
    now: datetime,
    last_interaction_at: datetime | None,
    client_label: str | None = None,
    customer_name: str | None = None,
    name_source: str | None = None,
    profile_name: str | None = None,
    profile_summary: str | None = None,
    last_summary: str | None = None,
    last_outcome: str | None = None,
    open_commitments: Sequence[Commitment] = (),
    relevant_messages: Sequence[Message] = (),
    recent_messages: Sequence[Message] = (),
    returning_after_days: float = 30.0,
    language: str = "es",
    token_budget: int = 800,
    template: str | None = None,
    timezone: str = "America/Bogota",
    note_when_recent: bool = False,
) -> ContextNote:
    """The context for a client who is writing now (see the module docstring).

    ``last_interaction_at`` is the client's last contact *before* the message being answered
    (``None`` for a new client). ``customer_name`` wins over ``profile_name`` (the WhatsApp
    profile name); ``name_source`` says where ``customer_name`` came from (``operator``,
    ``conversation``, …). ``relevant_messages`` come most relevant first; ``recent_messages``
    (oldest first) become ``rehydration_messages``.

    >>> from datetime import UTC, timedelta
    >>> now = datetime(2025, 6, 1, tzinfo=UTC)
    >>> note = build_context_note(now=now, last_interaction_at=now - timedelta(days=45),
    ...                           client_label="573001234567", customer_name="Ana",
    ...                           name_source="operator")
    >>> note.is_returning, note.days_since, note.note.splitlines()[1]
    (True, 45, 'Su nombre es Ana (registrado por un asesor): úsalo para personalizar el saludo.')
    """
    if language not in TEMPLATES:
        raise InvalidInput(
            f"unknown language {language!r}; accepted: es, en", received=str(language)
        )
    now = require_aware(now, "now")
    zone = ZoneInfo(timezone)
    last = (
        require_aware(last_interaction_at, "last_interaction_at") if last_interaction_at else None
    )
    days_exact = (now - last).total_seconds() / 86_400 if last else None
    is_returning = days_exact is not None and days_exact > returning_after_days
    days = max(0, int(days_exact)) if days_exact is not None else None
    name, source = _pick_name(customer_name, name_source, profile_name)

    parts = _Parts(
        profile=_clean(profile_summary),
        last_summary=_clean(last_summary),
        last_outcome=_clean(last_outcome),
        commitments=tuple(open_commitments),
        relevant=tuple(relevant_messages),
        rehydration=_rehydration(recent_messages),
    )
    wants_note = last is not None and (is_returning or note_when_recent)

    def render(p: _Parts) -> str:
        if not wants_note or last is None or days is None:
            return ""
        return _render_note(
            template or TEMPLATES[language],
            language,
            zone,
            client=client_label or ("desconocido" if language == "es" else "unknown"),
            name=name,
            source=source,
            days=days,
            last=last,
            now=now,
            parts=p,
        )

    note = render(parts)
    for shrink in _SHRINK_STEPS:
        if _tokens(note, parts.rehydration) <= token_budget:
            break
        smaller = shrink(parts)
        while smaller is not None:
            parts = smaller
            note = render(parts)
            if _tokens(note, parts.rehydration) <= token_budget:
                break
            smaller = shrink(parts)

    return ContextNote(
        is_returning=is_returning,
        is_known=last is not None,
        days_since=days,
        last_interaction_at=last,
        customer_name=name,
        name_source=source,
        note=note,
        profile_summary=parts.profile,
        last_summary=parts.last_summary,
        last_outcome=parts.last_outcome,
        open_commitments=parts.commitments,
        relevant_messages=parts.relevant,
        rehydration_messages=parts.rehydration,
        tokens=_tokens(note, parts.rehydration),
        language=language,
        dropped=parts.dropped,
    )


def _pick_name(
    customer_name: str | None, name_source: str | None, profile_name: str | None
) -> tuple[str | None, str | None]:
    if customer_name and customer_name.strip():
        return customer_name.strip(), name_source or "other"
    if profile_name and profile_name.strip():
        return profile_name.strip(), "whatsapp_profile"
    return None, None


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


def _rehydration(messages: Sequence[Message]) -> tuple[dict[str, str], ...]:
    turns = sorted(
        (m for m in messages if m.role is not Role.SYSTEM and m.content.strip()),
        key=lambda m: (m.at, m.id),
    )
    # The new LLM conversation has two voices: the client, and us (bot or human operator).
    return tuple(
        {"role": "user" if m.role is Role.USER else "assistant", "content": m.content}
        for m in turns
    )


def _tokens(note: str, rehydration: Sequence[dict[str, str]]) -> int:
    return estimate_tokens(note) + sum(
        estimate_tokens(m["content"]) + _MESSAGE_OVERHEAD_TOKENS for m in rehydration
    )


# -- the budget: each step returns a smaller _Parts, or None when it has nothing left to cut ----


def _drop_oldest_rehydration(p: _Parts) -> _Parts | None:
    if not p.rehydration:
        return None
    return replace(p, rehydration=p.rehydration[1:], dropped=_note(p, "rehydration_message"))


def _drop_least_relevant(p: _Parts) -> _Parts | None:
    if not p.relevant:
        return None
    return replace(p, relevant=p.relevant[:-1], dropped=_note(p, "relevant_message"))


def _shorter(text: str, floor: int = 120) -> str | None:
    # Halve a long text at a word boundary; a short one goes altogether.
    return _cut(text, len(text) // 2) if len(text) > floor else None


def _shorten_profile(p: _Parts) -> _Parts | None:
    if not p.profile:
        return None
    shorter = _shorter(p.profile)
    dropped = p.dropped if shorter else _note(p, "profile_summary")
    return replace(p, profile=shorter, dropped=dropped)


def _shorten_last_summary(p: _Parts) -> _Parts | None:
    if not p.last_summary:
        return None
    shorter = _shorter(p.last_summary)
    dropped = p.dropped if shorter else _note(p, "last_summary")
    return replace(p, last_summary=shorter, dropped=dropped)


def _drop_later_commitments(p: _Parts) -> _Parts | None:
    if len(p.commitments) <= 1:
        return None
    return replace(p, commitments=p.commitments[:-1], dropped=_note(p, "commitment"))


def _drop_everything_optional(p: _Parts) -> _Parts | None:
    if not (p.commitments or p.last_outcome):
        return None
    return replace(
        p, commitments=(), last_outcome=None, dropped=_note(p, "commitments_and_outcome")
    )


_SHRINK_STEPS: tuple[Callable[[_Parts], _Parts | None], ...] = (
    _drop_oldest_rehydration,
    _drop_least_relevant,
    _shorten_profile,
    _shorten_last_summary,
    _drop_later_commitments,
    _drop_everything_optional,
)


def _note(p: _Parts, what: str) -> tuple[str, ...]:
    return p.dropped if what in p.dropped else (*p.dropped, what)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"


# -- rendering -------------------------------------------------------------------------------


def _render_note(
    template: str,
    language: str,
    zone: ZoneInfo,
    *,
    client: str,
    name: str | None,
    source: str | None,
    days: int,
    last: datetime,
    now: datetime,
    parts: _Parts,
) -> str:
    kind = _NAME_SOURCE_KINDS.get(source or "", "other") if name else "unknown"
    name_line = string.Template(_NAME_LINES[language][kind]).safe_substitute(name=name or "")
    values = {
        "client": client,
        "name": name or "",
        "name_line": name_line,
        "days": str(days),
        "days_text": _days_text(days, language),
        "last_date": _date(last, zone, language),
        "profile": parts.profile or "",
        "last_summary": parts.last_summary or "",
        "last_outcome": parts.last_outcome or "",
        "commitments": "".join(
            f"\n- {_commitment_line(c, now, zone, language)}" for c in parts.commitments
        ),
        "relevant": "".join(f"\n- {_message_line(m, zone, language)}" for m in parts.relevant),
    }
    lines = []
    for line in template.splitlines():
        used = _placeholders(line)
        if used and all(not values.get(p, "") for p in used):
            continue
        lines.append(string.Template(line).safe_substitute(values))
    return "\n".join(lines).strip()


def _placeholders(line: str) -> set[str]:
    found = set()
    for match in string.Template.pattern.finditer(line):
        named = match.group("named") or match.group("braced")
        if named:
            found.add(named)
    return found


def _days_text(days: int, language: str) -> str:
    if language == "es":
        return "hoy" if days == 0 else "1 día" if days == 1 else f"{days} días"
    return "today" if days == 0 else "1 day" if days == 1 else f"{days} days"


def _date(at: datetime, zone: ZoneInfo, language: str) -> str:
    local = at.astimezone(zone)
    return f"{local:%d/%m/%Y}" if language == "es" else f"{local:%Y-%m-%d}"


def _commitment_line(c: Commitment, now: datetime, zone: ZoneInfo, language: str) -> str:
    line = f"{c.who}: {c.what}"
    if c.due_date is not None:
        upcoming, past = _DUE_WORDS[language]
        word = past if c.due_date < now.astimezone(zone).date() else upcoming
        day = f"{c.due_date:%d/%m/%Y}" if language == "es" else f"{c.due_date:%Y-%m-%d}"
        line += f" ({word} {day})"
    elif c.due and c.due.lower() not in c.what.lower():
        line += f" ({c.due})"
    return line


def _message_line(m: Message, zone: ZoneInfo, language: str) -> str:
    who = _ROLE_WORDS[language].get(m.role, m.role.value)
    words = m.content.split()
    text = " ".join(words[:_MAX_QUOTE_WORDS]) + ("…" if len(words) > _MAX_QUOTE_WORDS else "")
    text = re.sub(r"\s+", " ", text)
    return f"{_date(m.at, zone, language)}, {who}: «{text}»"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def _message_dict(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "conversation_id": m.conversation_id,
        "at": _iso(m.at),
        "role": m.role.value,
        "content": m.content,
    }
