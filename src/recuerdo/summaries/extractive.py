"""The offline summariser: rules and sentence selection, no model, Spanish and English.

The summary reads like one a person would write, in the conversation's language, in at most
``max_words`` words (120 by default):

1. who talked and when ("Ana y el asistente conversaron el 3 de mayo de 2025 a las 10:15.");
2. the conversation's central sentences, chosen by how much they share with the whole
   conversation (TF-IDF centrality), preferring sentences with names, numbers and plans and
   avoiding repeats (maximal marginal relevance), told in the order they were said;
3. what was agreed (commitments the business made) and how it ended (the last turns).

It fills the structured fields by rules too: topics (keywords), the customer's preferences,
commitments with due dates, the customer's name when they state it, the final status.
Everything it writes is labelled ``method="extractive"``.

Example::

    summarizer = ExtractiveSummarizer()
    summary = await summarizer.summarize(messages)
    summary.text, summary.commitments, summary.status
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from recuerdo.model import Message, Role
from recuerdo.search.text import detect_language, fold, index_terms
from recuerdo.summaries.model import (
    Commitment,
    ConversationStatus,
    ConversationSummary,
    Party,
)
from recuerdo.summaries.patterns import find_commitment, find_preference, find_stated_name
from recuerdo.summaries.phrasing import (
    PHRASES,
    capitalise,
    join_names,
    quote,
    strip_lead,
    third_person,
    when,
)
from recuerdo.summaries.topics import find_topics

SPEAKER_KEYS = ("speaker", "sender_name", "sender", "author", "name")
"""Message metadata keys that may name who wrote it (importers and bots set one of them)."""

# A sentence ends at . ! ? … or a line break; in Spanish "¿" and "¡" also open a new one
# ("Prefiero contraentrega, ¿se puede?").
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+|[,;]?\s+(?=[¿¡])")
_PHATIC = frozenset(
    index_terms(
        "gracias muchas genial perfecto excelente super chevere bacano listo claro bueno vale "
        "dale saludos feliz alegro encanta lindo hermoso increible wow jaja igualmente "
        "bienvenido bienvenida ayudar ayudarte ayudarle servirle lamento disculpa disculpe "
        "placer atento atenta",
        "es",
    )
    + index_terms(
        "thanks thank great awesome cool amazing wonderful glad happy nice love lovely wow "
        "fantastic incredible sounds good bye see take care congrats congratulations proud "
        "sweet fun exciting excited hear welcome help sorry apologize apologies pleasure",
        "en",
    )
)
# The business's welcome and offer of help open every conversation and tell nothing about it.
_BOILERPLATE = re.compile(
    r"(?:bienvenid|welcome|gracias por (?:escribir|contactar|comunicarte|comunicarse)|"
    r"thanks? (?:you )?for (?:contacting|reaching|writing)|"
    r"(?:en que|como) (?:te|le|les) (?:puedo|podemos) (?:ayudar|servir|colaborar)|"
    r"how (?:can|may) (?:i|we) help)"
)
_POSITIVE_END = re.compile(
    r"\b(?:gracias|perfecto|listo|excelente|genial|de acuerdo|dale|super|chevere|vale|ok|"
    r"confirmo|lo compro|lo llevo|ya pague|ya transferi|thanks|thank you|perfect|great|"
    r"awesome|sounds good|ok|okay|confirmed|deal)\b"
)
_NEGATIVE_END = re.compile(
    r"\b(?:no me sirve|no sirve|pesimo|pesima|malisimo|terrible|queja|reclamo|cancelar|cancelo|"
    r"decepcion|sigo esperando|nadie me responde|no funciona|estafa|devuelvan|horrible|"
    r"not working|still waiting|refund|cancel|complaint|disappointed|unacceptable|awful|"
    r"worst|useless|segunda vez|otra vez lo mismo|second time)\b"
)


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who wrote a message, as the summary names them."""

    label: str
    party: Party


@dataclass(slots=True)
class _Sentence:
    order: int
    speaker: Speaker
    text: str
    words: int
    question: bool
    vector: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


class ExtractiveSummarizer:
    """Offline summariser (see the module docstring). Safe to share between tasks.

    ``timezone`` is the business's zone, used to say when the conversation happened.
    """

    method = "extractive"

    def __init__(
        self,
        *,
        max_words: int = 120,
        timezone: str = "America/Bogota",
        default_language: str = "es",
    ) -> None:
        if max_words < 30:
            raise ValueError("max_words below 30 leaves no room for a summary")
        self.max_words = max_words
        self.zone = ZoneInfo(timezone)
        self.default_language = default_language

    async def summarize(
        self, messages: Sequence[Message], *, language: str | None = None
    ) -> ConversationSummary:
        """Summarise one conversation (messages in any order; system messages are ignored).

        Example: ``(await ExtractiveSummarizer().summarize(msgs, language="es")).text``.
        """
        return self.summarize_now(messages, language=language)

    def summarize_now(
        self, messages: Sequence[Message], *, language: str | None = None
    ) -> ConversationSummary:
        """The same as :meth:`summarize`, without awaiting (it does no I/O)."""
        turns = sorted(
            (m for m in messages if m.role is not Role.SYSTEM and m.content.strip()),
            key=lambda m: (m.at, m.id),
        )
        # Spanish and English are what the rules know; any other language is detected instead.
        lang = language if language in PHRASES else self._language(turns)
        if not turns:
            return ConversationSummary(text="", language=lang, method=self.method)
        customer_name = _stated_name(turns)
        staff = _staff_names(turns)
        speakers = [_speaker(m, lang, customer_name, staff) for m in turns]
        local_start = turns[0].at.astimezone(self.zone)
        today = local_start.date()
        commitments = _commitments(turns, speakers, lang, today)
        preferences = _preferences(turns, lang)
        status, outcome, outcome_sentence = _outcome(turns, speakers, commitments, lang)
        header = PHRASES[lang].header.format(
            who=capitalise(join_names(_participants(speakers, staff, lang), lang)),
            when=when(local_start, lang),
        )
        closing, told = _closing_lines(outcome, commitments, lang)
        if outcome_sentence:
            told.add(fold(outcome_sentence))
        # A summary nearly as long as the conversation is a transcript: short chats get short
        # summaries.
        spoken = sum(len(m.content.split()) for m in turns)
        length = min(self.max_words, max(70, spoken * 6 // 10))
        budget = length - len(header.split()) - sum(len(c.split()) for c in closing)
        body = _body(turns, speakers, lang, budget, told)
        text = " ".join([header, *body, *closing])
        return ConversationSummary(
            text=_cap_words(text, self.max_words),
            topics=tuple(
                find_topics(
                    [m.content for m in turns], lang, exclude=[s.label for s in set(speakers)]
                )
            ),
            preferences=tuple(preferences),
            commitments=tuple(commitments),
            outcome=outcome,
            status=status,
            customer_name=customer_name,
            language=lang,
            method=self.method,
            tokens_used=0,
            started_at=turns[0].at,
            ended_at=turns[-1].at,
        )

    def _language(self, turns: Sequence[Message]) -> str:
        sample = " ".join(m.content for m in turns[:40])[:4000]
        return detect_language(sample, default="en" if self.default_language == "en" else "es")


def speaker_name(message: Message) -> str | None:
    """The name in the message's metadata (see :data:`SPEAKER_KEYS`), if any."""
    for key in SPEAKER_KEYS:
        value = message.metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _speaker(
    message: Message, lang: str, customer_name: str | None, staff: dict[Role, str]
) -> Speaker:
    phrases = PHRASES[lang]
    name = speaker_name(message)
    if message.role is Role.USER:
        return Speaker(name or customer_name or phrases.customer, "customer")
    if message.role is Role.MANUAL_OPERATOR:
        return Speaker(name or staff.get(message.role) or phrases.operator, "business")
    return Speaker(name or staff.get(message.role) or phrases.assistant, "business")


def _staff_names(turns: Sequence[Message]) -> dict[Role, str]:
    # "Hola, soy Laura de soporte": the agent (or a named bot) introduced themselves.
    names: dict[Role, str] = {}
    for message in turns:
        if message.role in (Role.ASSISTANT, Role.MANUAL_OPERATOR) and message.role not in names:
            if speaker_name(message):
                continue
            name = find_stated_name(message.content)
            if name:
                names[message.role] = name
    return names


def _participants(speakers: Sequence[Speaker], staff: dict[Role, str], lang: str) -> list[str]:
    operator = staff.get(Role.MANUAL_OPERATOR)
    bot = staff.get(Role.ASSISTANT)
    seen: dict[str, None] = {}
    for speaker in speakers:
        label = speaker.label
        if label == operator:
            label = PHRASES[lang].staff.format(name=label)
        elif label == bot:
            label = PHRASES[lang].bot.format(name=label)
        seen.setdefault(label, None)
    return list(seen)


def _stated_name(turns: Sequence[Message]) -> str | None:
    previous_business: str | None = None
    for message in turns:
        if message.role is Role.USER:
            name = find_stated_name(message.content, previous_business_text=previous_business)
            if name:
                return name
        else:
            previous_business = message.content
    return None


def _sentences_of(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _commitments(
    turns: Sequence[Message], speakers: Sequence[Speaker], lang: str, today: date
) -> list[Commitment]:
    found: list[Commitment] = []
    seen: set[str] = set()
    for message, speaker in zip(turns, speakers, strict=True):
        day = message.at.date() if message.at else today
        for sentence in _sentences_of(message.content):
            promise = find_commitment(sentence, lang, today=day)
            if promise is None:
                continue
            what, due, due_date = promise
            what = _report_object(what, speaker, speakers, lang)
            key = fold(what)
            if key in seen:
                continue
            seen.add(key)
            found.append(
                Commitment(
                    party=speaker.party, who=speaker.label, what=what, due=due, due_date=due_date
                )
            )
    return found


def _report_object(what: str, speaker: Speaker, speakers: Sequence[Speaker], lang: str) -> str:
    # "send you the invoice" said to Ana is "send Ana the invoice" in a summary.
    other = next((s.label for s in speakers if s.party != speaker.party), None)
    if other is None:
        return what
    if lang == "en":
        what = re.sub(r"\byour\b", f"{other}'s", what, flags=re.I)
        return re.sub(r"\byou\b", other, what, flags=re.I)
    what = re.sub(r"\btus\b", "sus", what, flags=re.I)
    return re.sub(r"\btu\b", "su", what, flags=re.I)


def _preferences(turns: Sequence[Message], lang: str) -> list[str]:
    found: dict[str, str] = {}
    for message in turns:
        if message.role is not Role.USER:
            continue
        for sentence in _sentences_of(message.content):
            preference = find_preference(sentence, lang)
            if preference:
                found.setdefault(fold(preference), preference)
    return list(found.values())[:8]


def _outcome(
    turns: Sequence[Message],
    speakers: Sequence[Speaker],
    commitments: Sequence[Commitment],
    lang: str,
) -> tuple[ConversationStatus, str | None, str | None]:
    """The status, the outcome sentence, and the chat sentence it quotes."""
    phrases = PHRASES[lang]
    pairs = list(zip(turns, speakers, strict=True))
    last, last_speaker = pairs[-1]
    business_spoke = any(s.party == "business" for s in speakers)
    if business_spoke and last_speaker.party == "customer" and "?" in last.content:
        said = last.content
        return (
            ConversationStatus.NO_REPLY,
            phrases.no_reply.format(who=capitalise(last_speaker.label), quote=quote(said, 14)),
            said,
        )
    customer_tail = [(i, m, sp) for i, (m, sp) in enumerate(pairs) if sp.party == "customer"][-2:]
    complaint = _last_sentence_matching(customer_tail, _NEGATIVE_END)
    promised = [c for c in commitments if c.party == "business"]
    last_promise_at = max(
        (i for i, (m, s) in enumerate(pairs) if s.party == "business" and _promises(m, lang)),
        default=-1,
    )
    # A complaint answered by a promise is pending; a complaint after the promise is not.
    if complaint and (not promised or complaint[0] > last_promise_at):
        return (
            ConversationStatus.UNRESOLVED,
            phrases.unresolved.format(who=complaint[1].label, quote=quote(complaint[2], 14)),
            complaint[2],
        )
    if promised:
        commitment = promised[-1]
        return ConversationStatus.PENDING, _promise_line(commitment, lang, pending=True), None
    thanks = _last_sentence_matching(customer_tail, _POSITIVE_END)
    if thanks and business_spoke:
        return (
            ConversationStatus.RESOLVED,
            phrases.resolved.format(who=thanks[1].label, quote=quote(thanks[2], 8)),
            thanks[2],
        )
    return ConversationStatus.UNKNOWN, None, None


def _promises(message: Message, lang: str) -> bool:
    return any(
        find_commitment(sentence, lang, today=None) for sentence in _sentences_of(message.content)
    )


def _last_sentence_matching(
    turns: Sequence[tuple[int, Message, Speaker]], pattern: re.Pattern[str]
) -> tuple[int, Speaker, str] | None:
    for index, message, speaker in reversed(turns):
        for sentence in reversed(_sentences_of(message.content)):
            if pattern.search(fold(sentence)):
                return index, speaker, sentence
    return None


_INFINITIVE = re.compile(r"[a-záéíóúñ]+(?:ar|er|ir)(?:lo|la|los|las|le|te|se)?\b")


def _promise_line(commitment: Commitment, lang: str, *, pending: bool) -> str:
    phrases = PHRASES[lang]
    what = _with_due(commitment)
    # "el asesor debe enviar…" needs an infinitive; "agendada el viernes…" is a settled fact.
    if lang == "es" and not re.match(
        r"[a-záéíóúñ]+(?:ar|er|ir)(?:lo|la|los|las|le|te|se)?\b", what
    ):
        return phrases.settled.format(what=what)
    template = phrases.pending if pending else phrases.agreed
    return template.format(who=commitment.who, what=what)


def _with_due(commitment: Commitment) -> str:
    if commitment.due and fold(commitment.due) not in fold(commitment.what):
        return f"{commitment.what} ({commitment.due})"
    return commitment.what


def _closing_lines(
    outcome: str | None, commitments: Sequence[Commitment], lang: str
) -> tuple[list[str], set[str]]:
    """The closing sentences, and the commitments they tell (folded), which the body skips."""
    lines: list[str] = []
    promised = [c for c in commitments if c.party == "business"]
    told = {fold(c.what) for c in promised[-3:]}
    # The last promise is in the outcome already; earlier ones are worth a line each.
    for commitment in promised[-3:-1]:
        lines.append(_promise_line(commitment, lang, pending=False))
    if outcome:
        lines.append(outcome)
    return lines, told


# -- choosing the central sentences ------------------------------------------------------------


def _candidates(
    turns: Sequence[Message], speakers: Sequence[Speaker], lang: str, told: set[str]
) -> list[_Sentence]:
    names = tuple(s.label for s in speakers)
    found: list[_Sentence] = []
    for message, speaker in zip(turns, speakers, strict=True):
        for raw in _sentences_of(message.content):
            text = capitalise(strip_lead(raw, names).rstrip(",; "))
            words = len(text.split())
            if words < 4:
                continue
            # "Me llamo Ana", "this is Laura from support": the header names them already.
            if words <= 8 and find_stated_name(raw):
                continue
            promise = find_commitment(text, lang, today=None)
            if promise and fold(_report_object(promise[0], speaker, speakers, lang)) in told:
                continue
            if fold(raw) in told or _BOILERPLATE.match(fold(text)):
                continue
            found.append(_Sentence(len(found), speaker, text, words, text.endswith("?")))
    return found


def _score(sentences: list[_Sentence], lang: str) -> None:
    term_lists = [index_terms(s.text, "en" if lang == "en" else "es") for s in sentences]
    df: Counter[str] = Counter()
    for terms in term_lists:
        df.update(set(terms))
    n = len(sentences)
    centroid: Counter[str] = Counter()
    for sentence, terms in zip(sentences, term_lists, strict=True):
        tf = Counter(t for t in terms if len(t) > 1)
        sentence.vector = {t: c * (math.log((n + 1) / (df[t] + 0.5))) for t, c in tf.items()}
        centroid.update(sentence.vector)
    centroid_norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
    for sentence, terms in zip(sentences, term_lists, strict=True):
        norm = math.sqrt(sum(v * v for v in sentence.vector.values())) or 1.0
        centrality = sum(w * centroid[t] for t, w in sentence.vector.items()) / (
            norm * centroid_norm
        )
        content = [t for t in terms if len(t) > 1]
        phatic = sum(t in _PHATIC for t in content) / len(content) if content else 1.0
        density = min(1.0, len(set(content)) / 5)
        bonus = 1.0
        bonus += 0.15 * min(2, _proper_nouns(sentence.text))
        bonus += 0.1 * bool(re.search(r"\d", sentence.text))
        bonus += 0.2 * (find_commitment(sentence.text, lang, today=None) is not None)
        length = min(1.0, sentence.words / 8) * min(1.0, 30 / sentence.words)
        question = 0.35 if sentence.question else 1.0
        # Mostly thanks, praise or greetings: nothing a later reader needs.
        chatter = 0.0 if phatic >= 0.6 else 1 - 0.7 * phatic
        sentence.score = centrality * density * bonus * length * question * chatter


def _proper_nouns(text: str) -> int:
    words = re.findall(r"[\wÁÉÍÓÚÑáéíóúñ']+", text)
    return sum(1 for w in words[1:] if w[:1].isupper() and w != "I" and not w.isupper())


def _similarity(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _render(sentence: _Sentence, listener: str, lang: str, nth: int = 0) -> str:
    phrases = PHRASES[lang]
    speaker = capitalise(sentence.speaker.label)
    if sentence.question:
        return (
            f"{speaker} {phrases.asked}: “{quote(sentence.text, 25)}?”"
            if lang == "en"
            else (f"{speaker} {phrases.asked}: «{quote(sentence.text, 25)}?»")
        )
    if lang == "en":
        verb = phrases.said[nth % len(phrases.said)]
        return third_person(sentence.text, speaker, listener, verb)
    verb = phrases.said[nth % len(phrases.said)]
    return f"{speaker} {verb}: «{quote(sentence.text, 30)}»."


def _body(
    turns: Sequence[Message], speakers: Sequence[Speaker], lang: str, budget: int, told: set[str]
) -> list[str]:
    sentences = _candidates(turns, speakers, lang, told)
    if not sentences or budget < 6:
        return []
    _score(sentences, lang)
    # What the customer came for: their first real request leads a service summary.
    request = next(
        (s for s in sentences if s.speaker.party == "customer" and s.score > 0 and s.words >= 5),
        None,
    )
    if request is not None and any(s.party == "business" for s in speakers):
        request.score *= 1.5
    top = max(s.score for s in sentences) or 1.0
    listeners = {s.label: _listener(s, speakers) for s in set(speakers)}
    # Rendered once: every reporting verb has as many words as the first one.
    pool = {
        s.order: (s, len(_render(s, listeners[s.speaker.label], lang).split()))
        for s in sentences
        if s.score > 0
    }
    redundancy = dict.fromkeys(pool, 0.0)
    chosen: list[_Sentence] = []
    remaining = budget
    while pool and remaining >= 6:
        best: tuple[float, int] | None = None
        for order, (sentence, words) in pool.items():
            if words > remaining:
                continue
            value = 0.7 * sentence.score / top - 0.3 * redundancy[order]
            if best is None or value > best[0]:
                best = (value, order)
        if best is None:
            break
        picked, words = pool.pop(best[1])
        chosen.append(picked)
        remaining -= words
        for order, (sentence, _) in pool.items():
            similarity = _similarity(sentence.vector, picked.vector)
            redundancy[order] = max(redundancy[order], similarity)
    chosen.sort(key=lambda sentence: sentence.order)
    # In reading order the reporting verbs take turns; they all have the same number of words,
    # so the budget still holds.
    return [_render(s, listeners[s.speaker.label], lang, i) for i, s in enumerate(chosen)]


def _listener(speaker: Speaker, speakers: Sequence[Speaker]) -> str:
    return next((s.label for s in speakers if s.label != speaker.label), speaker.label)


def _cap_words(text: str, limit: int) -> str:
    words = text.split()
    if len(words) <= limit:
        return text
    return " ".join(words[:limit]).rstrip(",;:") + "…"
