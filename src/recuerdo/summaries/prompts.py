"""The prompts of the LLM summariser, in Spanish (default) and English.

Every prompt asks for a JSON object (OpenAI's JSON mode requires the word "JSON" in the prompt)
with the keys of :class:`LLMSummaryPayload`, which validates the answer.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from recuerdo.summaries.model import ConversationStatus, Party


class LLMCommitment(BaseModel):
    """One commitment as the model writes it."""

    model_config = ConfigDict(extra="ignore")

    party: Party = "business"
    who: str = Field(min_length=1)
    what: str = Field(min_length=1)
    due: str | None = None
    due_date: date | None = None

    @field_validator("due_date", mode="before")
    @classmethod
    def _unknown_date_is_none(cls, value: object) -> object:
        # Models write "", "null" or "unknown" for a date they cannot tell.
        if isinstance(value, str) and not value[:1].isdigit():
            return None
        return value


class LLMSummaryPayload(BaseModel):
    """The JSON a model must answer for a conversation (or a part of one)."""

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=1)
    topics: list[str] = Field(default_factory=list)
    preferences: list[str] = Field(default_factory=list)
    commitments: list[LLMCommitment] = Field(default_factory=list)
    outcome: str | None = None
    status: ConversationStatus = ConversationStatus.UNKNOWN
    customer_name: str | None = None
    language: str | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _unknown_status(cls, value: object) -> object:
        if isinstance(value, str) and value not in {s.value for s in ConversationStatus}:
            return ConversationStatus.UNKNOWN
        return value

    @field_validator("customer_name", "outcome", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in {"", "null", "none", "n/a"}:
            return None
        return value


class LLMProfilePayload(BaseModel):
    """The JSON a model must answer when it updates a client's profile."""

    model_config = ConfigDict(extra="ignore")

    profile: str = Field(min_length=1)


SYSTEM = {
    "es": "Eres un analista de atención al cliente por WhatsApp. Resumes conversaciones para el "
    "equipo de la empresa con precisión, sin inventar nada. Respondes solo con un objeto JSON "
    "válido, sin texto antes ni después.",
    "en": "You are a customer-service analyst for WhatsApp chats. You summarise conversations "
    "for the business's team accurately, inventing nothing. You answer with one valid JSON "
    "object only, with no text before or after it.",
}

_KEYS = {
    "es": """Devuelve un objeto JSON con estas claves:
- "summary": resumen de máximo {max_words} palabras, en tercera persona y en español, como lo \
escribiría una persona: quién habló y cuándo, qué pidió el cliente, qué se acordó y cómo terminó.
- "topics": de 1 a 5 temas principales (palabras o frases cortas).
- "preferences": preferencias o necesidades del cliente (p. ej. "prefiere pagar contraentrega"); \
lista vacía si no hay.
- "commitments": compromisos adquiridos, cada uno {{"party": "business" o "customer", "who": \
quién lo prometió, "what": qué prometió, empezando con un verbo en infinitivo, "due": cuándo, \
tal como se dijo, o null, "due_date": "AAAA-MM-DD" si se puede saber, o null}}.
- "outcome": una frase sobre cómo terminó la conversación.
- "status": "resolved", "pending", "unresolved", "no_reply" o "unknown".
- "customer_name": el nombre del cliente solo si él mismo lo dijo claramente en la conversación; \
si no, null. No lo adivines ni lo tomes de otra parte.
- "language": "es".""",
    "en": """Answer with a JSON object with these keys:
- "summary": a summary of at most {max_words} words, in the third person and in English, as a \
person would write it: who talked and when, what the customer asked for, what was agreed and how \
it ended.
- "topics": 1 to 5 main topics (words or short phrases).
- "preferences": the customer's preferences or needs (e.g. "prefers cash on delivery"); an empty \
list if none.
- "commitments": commitments made, each {{"party": "business" or "customer", "who": who \
promised, "what": what they promised, starting with a verb, "due": when, as it was said, or \
null, "due_date": "YYYY-MM-DD" if it can be told, or null}}.
- "outcome": one sentence on how the conversation ended.
- "status": "resolved", "pending", "unresolved", "no_reply" or "unknown".
- "customer_name": the customer's name only if they stated it clearly themselves in the \
conversation; otherwise null. Do not guess it or take it from elsewhere.
- "language": "en".""",
}

_CONVERSATION = {
    "es": """Resume esta conversación de WhatsApp entre un cliente y la empresa (un bot y, a \
veces, asesores humanos). Empezó el {date}.

{keys}

Conversación:
{transcript}""",
    "en": """Summarise this WhatsApp conversation between a customer and the business (a bot \
and, sometimes, human agents). It started on {date}.

{keys}

Conversation:
{transcript}""",
}

_PART = {
    "es": """Esta es la parte {part} de {parts} de una conversación larga de WhatsApp entre un \
cliente y la empresa, que empezó el {date}. Resume solo esta parte.

{keys}

Parte {part}:
{transcript}""",
    "en": """This is part {part} of {parts} of a long WhatsApp conversation between a customer \
and the business, which started on {date}. Summarise this part only.

{keys}

Part {part}:
{transcript}""",
}

_MERGE = {
    "es": """Estos son los resúmenes en JSON de las partes consecutivas de una misma \
conversación de WhatsApp, que empezó el {date}. Combínalos en un único resumen de toda la \
conversación: une temas, preferencias y compromisos sin repetirlos; el estado y el desenlace \
son los de la última parte.

{keys}

Partes:
{parts}""",
    "en": """These are the JSON summaries of consecutive parts of one WhatsApp conversation, \
which started on {date}. Merge them into one summary of the whole conversation: join topics, \
preferences and commitments without repeating them; the status and outcome are the last part's.

{keys}

Parts:
{parts}""",
}

_PROFILE = {
    "es": """Actualiza el perfil de un cliente con el resumen de su última conversación.

El perfil sirve para atenderlo mejor la próxima vez: quién es, qué compra o consulta, sus \
preferencias, datos útiles que haya dado (ciudad, talla, medio de pago…) y cómo terminaron sus \
últimas conversaciones. Conserva lo que sigue vigente, agrega lo nuevo, quita lo que la nueva \
conversación contradiga. No inventes nada. Máximo {max_chars} caracteres, en español.

Devuelve un objeto JSON con una sola clave: "profile" (el perfil actualizado, texto).

Perfil actual:
{old}

Última conversación ({date}):
{summary}""",
    "en": """Update a customer's profile with the summary of their latest conversation.

The profile helps serve them better next time: who they are, what they buy or ask about, their \
preferences, useful details they gave (city, size, payment method…) and how their latest \
conversations ended. Keep what still holds, add what is new, remove what the new conversation \
contradicts. Invent nothing. At most {max_chars} characters, in English.

Answer with a JSON object with one key: "profile" (the updated profile, as text).

Current profile:
{old}

Latest conversation ({date}):
{summary}""",
}

_NO_PROFILE = {"es": "(ninguno todavía)", "en": "(none yet)"}


def conversation_prompt(lang: str, *, date: str, transcript: str, max_words: int) -> str:
    """The user prompt for a whole conversation."""
    keys = _KEYS[lang].format(max_words=max_words)
    return _CONVERSATION[lang].format(date=date, keys=keys, transcript=transcript)


def part_prompt(
    lang: str, *, date: str, transcript: str, part: int, parts: int, max_words: int
) -> str:
    """The user prompt for one part of a conversation too long for one request."""
    keys = _KEYS[lang].format(max_words=max_words)
    return _PART[lang].format(date=date, keys=keys, transcript=transcript, part=part, parts=parts)


def merge_prompt(lang: str, *, date: str, parts: list[str], max_words: int) -> str:
    """The user prompt that merges the JSON summaries of consecutive parts."""
    keys = _KEYS[lang].format(max_words=max_words)
    numbered = "\n".join(f"{i}. {p}" for i, p in enumerate(parts, start=1))
    return _MERGE[lang].format(date=date, keys=keys, parts=numbered)


def profile_prompt(lang: str, *, old: str | None, summary: str, date: str, max_chars: int) -> str:
    """The user prompt that updates a client's profile."""
    return _PROFILE[lang].format(
        old=old or _NO_PROFILE[lang], summary=summary, date=date, max_chars=max_chars
    )
