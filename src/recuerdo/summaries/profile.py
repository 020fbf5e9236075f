"""The client's profile summary, updated after each conversation summary.

With an LLM, the model rewrites the profile with the new conversation folded in. Offline, the
profile is a few labelled lines that a deterministic merge keeps up to date, within a size cap::

    Nombre: Andrés Gómez
    Temas: envío (3), precio (2), botas (1)
    Preferencias: prefiere pagar contraentrega; talla 42
    Conversaciones:
    - 03/05/2025 (envío, precio): Quedó pendiente: el asistente debe enviar la guía.
    - 10/04/2025 (devolución): Al final, el cliente quedó conforme: «Gracias».

When the text is over ``max_chars``, the oldest conversations go first, then the rarest topics
and oldest preferences; the name stays. A profile written by someone else (an operator, or an
LLM before it was switched off) is kept under "Notas:" and shortened last.

Example::

    profile = await merge_profile(client.profile_summary, summary, customer_name=client.name)
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from recuerdo.search.text import fold
from recuerdo.summaries.llm_summarizer import LLMSummarizer
from recuerdo.summaries.model import ConversationSummary

_LABELS = {
    "es": {
        "name": "Nombre",
        "topics": "Temas",
        "preferences": "Preferencias",
        "history": "Conversaciones",
        "notes": "Notas",
    },
    "en": {
        "name": "Name",
        "topics": "Topics",
        "preferences": "Preferences",
        "history": "Conversations",
        "notes": "Notes",
    },
}
# Either language's labels are read back, so a business can switch language without losing data.
_READ = {fold(label): key for labels in _LABELS.values() for key, label in labels.items()}
_TOPIC_COUNT = re.compile(r"^(?P<topic>.+?)\s*\((?P<count>\d+)\)$")
_MAX_PREFERENCES = 10
_MAX_TOPICS = 8


@dataclass(slots=True)
class _Profile:
    name: str | None = None
    topics: Counter[str] = field(default_factory=Counter)
    preferences: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    notes: str | None = None


async def merge_profile(
    old_profile: str | None,
    new: ConversationSummary,
    *,
    summarizer: LLMSummarizer | None = None,
    customer_name: str | None = None,
    language: str | None = None,
    max_chars: int = 1200,
    timezone: str = "America/Bogota",
) -> str:
    """The client's profile summary with ``new`` folded in.

    With ``summarizer`` the model rewrites it (and :class:`~recuerdo.errors.LLMError` propagates:
    the job records the failure and retries); without, :func:`merge_profile_offline`.
    ``customer_name`` is the name the client record holds (an operator's wins over one learned
    from a conversation); it is written as is and never replaced by ``new.customer_name``.

    Example: ``await merge_profile(None, summary)`` starts a profile.
    """
    if summarizer is not None:
        update = await summarizer.update_profile(
            old_profile, new, language=language, max_chars=max_chars
        )
        return update.text
    return merge_profile_offline(
        old_profile,
        new,
        customer_name=customer_name,
        language=language,
        max_chars=max_chars,
        timezone=timezone,
    )


def merge_profile_offline(
    old_profile: str | None,
    new: ConversationSummary,
    *,
    customer_name: str | None = None,
    language: str | None = None,
    max_chars: int = 1200,
    timezone: str = "America/Bogota",
) -> str:
    """The deterministic merge (see the module docstring): same input, same profile.

    >>> from recuerdo.summaries.model import ConversationSummary
    >>> print(merge_profile_offline(None, ConversationSummary(
    ...     text="…", topics=("envío",), preferences=("prefiere pagar contraentrega",),
    ...     outcome="Terminó bien.", customer_name="Ana")))
    Nombre: Ana
    Temas: envío (1)
    Preferencias: prefiere pagar contraentrega
    Conversaciones:
    - (envío): Terminó bien.
    """
    if max_chars < 80:
        raise ValueError("max_chars below 80 leaves no room for a profile")
    lang = "en" if (language or new.language) == "en" else "es"
    profile = _parse(old_profile)
    profile.name = customer_name or profile.name or new.customer_name
    profile.topics.update(new.topics)
    fresh = [p for p in new.preferences if p.strip()]
    seen = {fold(p) for p in fresh}
    profile.preferences = fresh + [p for p in profile.preferences if fold(p) not in seen]
    profile.preferences = profile.preferences[:_MAX_PREFERENCES]
    entry = _history_entry(new, lang, ZoneInfo(timezone))
    if entry:
        profile.history.insert(0, entry)
    return _render_within(profile, lang, max_chars)


def _parse(text: str | None) -> _Profile:
    profile = _Profile()
    if not text or not text.strip():
        return profile
    unknown: list[str] = []
    section: str | None = None
    for raw in text.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        if section == "history" and line.startswith("- "):
            profile.history.append(line[2:].strip())
            continue
        label, sep, value = line.partition(":")
        key = _READ.get(fold(label.strip())) if sep else None
        section = key
        value = value.strip()
        if key == "name":
            profile.name = value or None
        elif key == "topics":
            for item in filter(None, (t.strip() for t in value.split(","))):
                match = _TOPIC_COUNT.match(item)
                if match:
                    profile.topics[match.group("topic")] += int(match.group("count"))
                else:
                    profile.topics[item] += 1
        elif key == "preferences":
            profile.preferences = [p.strip() for p in value.split(";") if p.strip()]
        elif key == "notes":
            unknown.append(value)
        elif key != "history":
            unknown.append(line)
    profile.notes = " ".join(unknown) or None
    return profile


def _history_entry(summary: ConversationSummary, lang: str, zone: ZoneInfo) -> str | None:
    what = summary.outcome or _first_sentences(summary.text)
    if not what:
        return None
    at = summary.started_at
    day = ""
    if at is not None:
        local = at.astimezone(zone)
        day = f"{local:%d/%m/%Y}" if lang == "es" else f"{local:%Y-%m-%d}"
    topics = f"({', '.join(summary.topics[:3])})" if summary.topics else ""
    head = " ".join(part for part in (day, topics) if part)
    return f"{head}: {what}" if head else what


def _first_sentences(text: str, limit: int = 160) -> str:
    # The header sentence says who and when; the next one says what it was about.
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    picked = " ".join(sentences[1:2] or sentences[:1])
    return picked if len(picked) <= limit else picked[: limit - 1].rsplit(" ", 1)[0] + "…"


def _render(profile: _Profile, lang: str) -> str:
    labels = _LABELS[lang]
    lines = []
    if profile.name:
        lines.append(f"{labels['name']}: {profile.name}")
    if profile.topics:
        ranked = sorted(profile.topics.items(), key=lambda kv: (-kv[1], kv[0]))[:_MAX_TOPICS]
        lines.append(f"{labels['topics']}: " + ", ".join(f"{t} ({n})" for t, n in ranked))
    if profile.preferences:
        lines.append(f"{labels['preferences']}: " + "; ".join(profile.preferences))
    if profile.notes:
        lines.append(f"{labels['notes']}: {profile.notes}")
    if profile.history:
        lines.append(f"{labels['history']}:")
        lines.extend(f"- {entry}" for entry in profile.history)
    return "\n".join(lines)


def _render_within(profile: _Profile, lang: str, max_chars: int) -> str:
    text = _render(profile, lang)
    # Oldest conversations first (keep the latest), then rare topics, old preferences, notes.
    while len(text) > max_chars and len(profile.history) > 1:
        profile.history.pop()
        text = _render(profile, lang)
    while len(text) > max_chars and len(profile.topics) > 3:
        rarest = min(profile.topics.items(), key=lambda kv: (kv[1], kv[0]))[0]
        del profile.topics[rarest]
        text = _render(profile, lang)
    while len(text) > max_chars and len(profile.preferences) > 2:
        profile.preferences.pop()
        text = _render(profile, lang)
    if len(text) > max_chars and profile.notes:
        room = max(0, len(profile.notes) - (len(text) - max_chars) - 1)
        profile.notes = (profile.notes[:room].rsplit(" ", 1)[0] + "…") if room > 20 else None
        text = _render(profile, lang)
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text
