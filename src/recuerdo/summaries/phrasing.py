"""How the offline summary is worded, in Spanish and English.

English chat sentences are turned into reported speech ("I went to the store" said by Ana →
"Ana went to the store"), which English marks reliably with pronouns. Spanish marks the person in
the verb ending, which rules cannot change safely, so Spanish sentences are quoted with who said
them (Ana comentó: «Fui a la tienda»).

Example::

    >>> third_person("I love my new bike!", "Ana", "Luis")
    'Ana loves their new bike.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Phrases:
    """The words of one language."""

    customer: str
    assistant: str
    operator: str
    and_: str
    header: str
    said: tuple[str, ...]
    asked: str
    pending: str
    staff: str
    bot: str
    settled: str
    resolved: str
    unresolved: str
    no_reply: str
    agreed: str


SPANISH = Phrases(
    customer="el cliente",
    assistant="el asistente",
    operator="el asesor",
    and_="y",
    header="{who} conversaron el {when}.",
    said=("comentó", "dijo", "explicó", "añadió"),
    asked="preguntó",
    pending="Quedó pendiente: {who} debe {what}.",
    staff="{name} (asesor)",
    bot="{name} (asistente)",
    settled="Acordado: {what}.",
    resolved="Al final, {who} quedó conforme: «{quote}».",
    unresolved="Terminó sin resolverse: {who} escribió «{quote}».",
    no_reply="{who} escribió de último y no recibió respuesta: «{quote}».",
    agreed="Acordado: {who} debe {what}.",
)
ENGLISH = Phrases(
    customer="the customer",
    assistant="the assistant",
    operator="the agent",
    and_="and",
    header="{who} had a conversation on {when}.",
    said=("mentioned that", "said that", "shared that", "added that"),
    asked="asked",
    pending="Still pending: {who} will {what}.",
    staff="{name} (agent)",
    bot="{name} (assistant)",
    settled="Agreed: {what}.",
    resolved="In the end, {who} was satisfied: “{quote}”.",
    unresolved="It ended unresolved: {who} wrote “{quote}”.",
    no_reply="{who} wrote last and got no reply: “{quote}”.",
    agreed="Agreed: {who} will {what}.",
)
PHRASES = {"es": SPANISH, "en": ENGLISH}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ES_MONTHS = _words(
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
)
_EN_MONTHS = _words(
    "January February March April May June July August September October November December"
)


def when(at: datetime, lang: str) -> str:
    """The date and time of a conversation as people write it.

    >>> from datetime import UTC
    >>> when(datetime(2023, 5, 8, 13, 56, tzinfo=UTC), "es")
    '8 de mayo de 2023 a las 13:56'
    >>> when(datetime(2023, 5, 8, 13, 56, tzinfo=UTC), "en")
    '8 May 2023 at 1:56 pm'
    """
    if lang == "es":
        return f"{at.day} de {_ES_MONTHS[at.month - 1]} de {at.year} a las {at:%H:%M}"
    hour = at.hour % 12 or 12
    return f"{at.day} {_EN_MONTHS[at.month - 1]} {at.year} at {hour}:{at:%M} {at:%p}".replace(
        "AM", "am"
    ).replace("PM", "pm")


def join_names(names: list[str], lang: str) -> str:
    """``["Ana", "el asistente"]`` → ``"Ana y el asistente"``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {PHRASES[lang].and_} {names[-1]}"


def capitalise(text: str) -> str:
    """First letter upper case, the rest untouched."""
    return text[:1].upper() + text[1:]


# -- English reported speech -------------------------------------------------------------------

_ADVERBS = (
    "really|just|also|still|always|usually|never|actually|totally|definitely|finally|recently|"
    "even|often|sometimes|already|truly|absolutely|especially|mostly|only|probably|kind of|"
    "obviously|clearly|certainly|surely|seriously|genuinely|"
    "sort of"
)
_MODALS = frozenset(_words("can could should would will might must may shall"))
_PAST_IRREGULAR = frozenset(
    _words(
        """
    went was were had did made got saw took came felt thought found gave told knew left met kept
    began brought bought ran read said sent spent built caught chose drew drove ate fell fought
    flew forgot grew heard held hid hit hurt lost meant paid put quit rode rang rose sang sat slept
    spoke stood stole swam taught thought threw understood woke wore won wrote became set cut
        let shut cost
    """
    )
)
_SUBJECT_I = re.compile(
    rf"^[Ii](?P<contr>'m|’m|'ve|’ve|'ll|’ll|'d|’d)?(?:\s+(?P<adv>(?:(?:{_ADVERBS})\s+)*)"
    rf"(?P<verb>[A-Za-z']+))?",
)
_CONTRACTION = {"'m": "is", "'ve": "has", "'ll": "will", "'d": "would"}
# Case matters: "US" is a country, "us" a pronoun; chat writes "I" as "i" too.
_LATER = [
    (r"\b[Ii](?:'m|’m| am)\b", "they're"),
    (r"\b[Ii] was\b", "they were"),
    (r"\b[Ii](?:'ve|’ve)\b", "they've"),
    (r"\b[Ii](?:'ll|’ll)\b", "they'll"),
    (r"\b[Ii](?:'d|’d)\b", "they'd"),
    (r"\b[Ii]\b", "they"),
    (r"\bmyself\b", "themselves"),
    (r"\bmine\b", "theirs"),
    (r"\bmy\b", "their"),
    (r"\bme\b", "them"),
    (r"\bwe(?:'re|’re)\b", "they're"),
    (r"\bwe(?:'ve|’ve)\b", "they've"),
    (r"\bwe(?:'ll|’ll)\b", "they'll"),
    (r"\bwe\b", "they"),
    (r"\bourselves\b", "themselves"),
    (r"\bours\b", "theirs"),
    (r"\bour\b", "their"),
    (r"\bus\b", "them"),
]
_LATER_COMPILED = [(re.compile(p), r) for p, r in _LATER]
_LEAD = re.compile(
    r"^(?:(?:oh|wow|yeah|yes|yep|yup|hey|hi|hello|haha|hahaha|lol|well|so|aw+|awesome|cool|great|"
    r"nice|thanks|thank you|sure|right|totally|ok|okay|omg|gosh|ah|hmm|absolutely|definitely|"
    r"exactly|true|indeed|no way|whoa|oh man|man|hola|bueno|pues|claro|listo|vale|dale|sí|si|"
    r"ay|uy|jaja|jajaja|gracias|perfecto|genial|excelente|ok dale|buenas|buenos días)"
    r"[\s,!.:;…]+)+",
    re.I,
)
_CONJUNCTION = re.compile(r"^(?:but|and|so|also|pero|y|entonces|además|aunque)\s+", re.I)
_VOCATIVE = re.compile(r"^(?P<name>[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+)\s*[,!]+\s*")


def strip_lead(sentence: str, names: tuple[str, ...] = ()) -> str:
    """Drop interjections, and a speaker's name said as a greeting, at the start.

    >>> strip_lead("Wow, Mel! I went to a support group.", names=("Melanie",))
    'I went to a support group.'
    >>> strip_lead("Yesterday, I went out.", names=("Melanie",))
    'Yesterday, I went out.'
    """
    text = sentence.strip()
    while True:
        before = text
        text = _CONJUNCTION.sub("", _LEAD.sub("", text))
        vocative = _VOCATIVE.match(text)
        if vocative and any(
            n.lower().startswith(vocative.group("name").lower()) for n in names if len(n) > 2
        ):
            text = text[vocative.end() :]
        if text == before:
            break
    return text or sentence.strip()


def third_person(sentence: str, speaker: str, listener: str, verb: str = "said") -> str:
    """An English chat sentence as reported speech about ``speaker`` talking to ``listener``.

    >>> third_person("I've been painting a lot lately.", "Mel", "Caroline")
    'Mel has been painting a lot lately.'
    >>> third_person("The stories were inspiring!", "Caroline", "Mel")
    'Caroline said the stories were inspiring.'
    >>> third_person("My kids loved your drawing", "Mel", "Caroline")
    "Mel's kids loved Caroline's drawing."
    """
    text = sentence.strip().rstrip("!.…;: ").strip()
    text = re.sub(r"\s*[!]+\s*", ". ", text).strip()
    match = _SUBJECT_I.match(text)
    if match and (match.group("contr") or match.group("verb")):
        contr = (match.group("contr") or "").replace("’", "'")
        adverbs = match.group("adv") or ""
        main = match.group("verb") or ""
        if contr:
            head = f"{speaker} {_CONTRACTION[contr]} {adverbs}{main}".rstrip()
        else:
            head = f"{speaker} {adverbs}{_third_singular(main)}"
        body = head + text[match.end() :]
    elif re.match(r"^my\b", text, re.I):
        body = f"{speaker}'s" + text[2:]
    else:
        body = f"{speaker} {verb} {_lower_first(text)}"
    body = _swap_second_person(body, listener)
    for pattern, replacement in _LATER_COMPILED:
        body = pattern.sub(replacement, body)
    return body + "."


_COMMON_VERBS = (
    "have|do|go|know|want|need|like|love|make|get|think|feel|look|seem|sound|deserve|rock|"
    "inspire|take|keep|mean|say|see|work|live|play|write|try|enjoy|find|give|help|bring|"
    "come"
)
_YOU_VERB = re.compile(rf"\b[Yy]ou\s+(?P<adv>(?:(?:{_ADVERBS})\s+)*)(?P<verb>{_COMMON_VERBS})\b")


def _swap_second_person(text: str, listener: str) -> str:
    rules = [
        (r"\byou(?:'re|’re| are)\b", f"{listener} is"),
        (r"\byou were\b", f"{listener} was"),
        (r"\byou(?:'ve|’ve| have)\b", f"{listener} has"),
        # "a great way to express yourself" is about anyone, not the listener.
        (r"\byourself\b", "oneself"),
        (r"\byours\b", f"{listener}'s"),
        (r"\byour\b", f"{listener}'s"),
    ]
    for pattern, replacement in rules:
        text = re.sub(pattern, replacement, text, flags=re.I)
    # "you obviously have" → "Ana obviously has": the verb follows its new subject.
    text = _YOU_VERB.sub(
        lambda m: f"{listener} {m.group('adv') or ''}{_third_singular(m.group('verb'))}", text
    )
    return re.sub(r"\byou\b", listener, text, flags=re.I)


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    # Keep "I", names and acronyms as they are; lower an ordinary capitalised first word.
    if first == "I" or len(first) < 2 or not first[1:].islower():
        return text
    return text[:1].lower() + text[1:]


def _third_singular(verb: str) -> str:
    lower = verb.lower()
    special = {
        "am": "is",
        "have": "has",
        "do": "does",
        "go": "goes",
        "don't": "doesn't",
        "haven't": "hasn't",
        "am not": "is not",
    }
    if lower in special:
        return special[lower]
    if (
        lower in _MODALS
        or lower in _PAST_IRREGULAR
        or lower.endswith(("ed", "n't"))
        or not lower.isalpha()
    ):
        return verb
    if re.search(r"[^aeiou]y$", lower):
        return verb[:-1] + "ies"
    if lower.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    return verb + "s"


def quote(text: str, max_words: int) -> str:
    """``text`` cut to ``max_words`` words (with "…"), without closing punctuation."""
    words = text.split()
    cut = " ".join(words[:max_words]) + ("…" if len(words) > max_words else "")
    return cut.rstrip(".!?;:, ")
