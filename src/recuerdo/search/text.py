"""Text normalisation shared by every search engine: the one place that turns text into terms.

SQLite FTS5, PostgreSQL ``tsvector`` and the pure-Python ranking all index what
:func:`index_terms` returns and search what :func:`query_terms` returns, so the engines agree on
what matches. The pipeline, per message:

1. Unicode NFKC (full-width letters, ligatures and circled digits become plain ones);
2. tokens: words, numbers and codes kept whole (``PED-2024-118`` → ``ped_2024_118``,
   ``#4471`` → ``4471``, ``$1.500.000`` → ``1500000``), and each emoji as a token of its own
   (skin tones and variation selectors dropped, so 👍🏽 and 👍 match);
3. words: case folded, accents folded (``canción`` = ``cancion``: people type both), stop
   words of the message's language dropped, Snowball stem (``pedidos`` → ``ped``).

A term holds only ``[a-z0-9_]`` or is a single emoji, so it can be quoted into an FTS5 ``MATCH``
or a ``tsquery`` without any escaping question: ``"``, ``*``, ``NEAR``, ``'`` and ``--`` in a
user's text become plain terms (or nothing). Letters outside the Latin alphabet, which would break
that rule, are spelled as their code point (``中`` → ``_4e2d``), so they stay searchable.

For FTS5, index ``" ".join(index_terms(text))`` in a table with
``tokenize="ascii tokenchars '_'"``: it splits on the spaces only and keeps emoji (``unicode61``
would drop them). For PostgreSQL, ``array_to_tsvector`` of the terms keeps them verbatim.

Example::

    >>> index_terms("Quiero cambiar el pedido PED-2024-118 👍🏽", "es")
    ['quier', 'cambi', 'ped', 'ped_2024_118', '👍']
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import Stemmer

from recuerdo.search.stopwords import BY_LANGUAGE, ENGLISH_MARKERS, SPANISH_MARKERS

Language = Literal["es", "en"]
LANGUAGES: tuple[Language, ...] = ("es", "en")
MAX_TERM_LENGTH = 64
"""Longer terms are cut: PostgreSQL refuses lexemes over 2 KB and nobody searches for them."""

_STEMMER_NAMES: dict[Language, str] = {"es": "spanish", "en": "english"}

_WORD = r"[^\W_]+"
# A token is a run of letters/digits; "-", "/", "_", "." and apostrophes join runs
# ("PED-2024-118", "v2.0", "don't"), while "," and ":" join only digits ("1,500", "3:30"), so
# that "hola,gracias" typed without a space still splits.
_TOKEN = rf"{_WORD}(?:(?:[-./_'’]|(?<=\d)[,:](?=\d)){_WORD})*"
_EMOJI = (
    "[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
    "|[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]"
)
_SCANNER = re.compile(rf"(?P<emoji>{_EMOJI})|(?P<token>{_TOKEN})")
_SEPARATORS = re.compile(r"[-./_,:'’]")
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_THOUSANDS = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")

_local = threading.local()  # PyStemmer objects keep a cache and are not safe across threads


@dataclass(frozen=True, slots=True)
class Token:
    """One term found in a text, with where it sits in the NFKC form of that text."""

    start: int
    end: int
    term: str


def fold(text: str) -> str:
    """NFKC, case folding and accent folding.

    >>> fold("ÁRBOL Ñandú ＰＥＤ")
    'arbol nandu ped'
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def detect_language(text: str, default: Language = "es") -> Language:
    """The language of ``text`` by counting stop words that belong to only one language.

    Cheap and good enough for chat messages; with no evidence either way, ``default``.

    >>> detect_language("where is my order?")
    'en'
    >>> detect_language("👍", default="en")
    'en'
    """
    return _detect(text) or default


def _detect(text: str) -> Language | None:
    spanish = english = 0
    for word in re.findall(r"[a-z]+", fold(text)):
        spanish += word in SPANISH_MARKERS
        english += word in ENGLISH_MARKERS
    if spanish == english:
        return None
    return "es" if spanish > english else "en"


def index_terms(text: str, lang: Language | None = None, *, default: Language = "es") -> list[str]:
    """The terms to index for ``text``, in order, duplicates kept.

    ``lang`` forces the language; ``None`` detects it per message, falling back to ``default``.

    >>> index_terms("Los pedidos llegaron el 3/05, ¡gracias! 😀")
    ['ped', 'lleg', '3_05', 'graci', '😀']
    >>> index_terms("The blue ones, please", "en")
    ['blue', 'one', 'pleas']
    """
    language = lang or detect_language(text, default)
    return [t.term for t in tokens(text, language)]


def query_terms(text: str, lang: Language | None = None, *, default: Language = "es") -> list[str]:
    """The distinct terms to search for ``text``, in order of first appearance.

    When ``lang`` is ``None`` and the query has no word that tells the languages apart
    ("zapatos azules", "blue shoes"), the terms of both stemmers are returned, ``default``
    first, so that the query finds messages indexed in either language. A query of only stop
    words gives ``[]``.

    >>> query_terms("¿Ya llegó mi pedido?")
    ['lleg', 'ped']
    >>> query_terms("the and of")
    []
    """
    if lang is not None:
        languages: tuple[Language, ...] = (lang,)
    else:
        detected = _detect(text)
        other: Language = "en" if default == "es" else "es"
        languages = (detected,) if detected else (default, other)
    seen: dict[str, None] = {}
    for language in languages:
        for token in tokens(text, language):
            seen.setdefault(token.term, None)
    return list(seen)


def tokens(text: str, lang: Language) -> Iterator[Token]:
    """The terms of ``text`` with their spans in ``unicodedata.normalize("NFKC", text)``.

    >>> [(t.start, t.term) for t in tokens("Hola Ana", "es")]
    [(0, 'hol'), (5, 'ana')]
    """
    stopwords = BY_LANGUAGE[lang]
    stem = _stemmer(lang)
    for match in _SCANNER.finditer(unicodedata.normalize("NFKC", text)):
        start, end = match.span()
        emoji = match.group("emoji")
        if emoji is not None:
            if ord(emoji[0]) not in _SKIN_TONES:
                yield Token(start, end, emoji)
            continue
        raw = match.group("token")
        if any(c.isdigit() for c in raw):
            yield Token(start, end, _code_term(raw))
            continue
        for word in _words(raw):
            if word in stopwords:
                continue
            term = _ascii_term(stem(word))[:MAX_TERM_LENGTH]
            if term:
                yield Token(start, end, term)


def _words(raw: str) -> Iterator[str]:
    folded = fold(raw)
    parts = [p for p in _SEPARATORS.split(folded) if p]
    # "caroline's" is about Caroline: drop the English possessive rather than index an "s".
    if len(parts) > 1 and parts[-1] == "s" and folded[-2] in "'’":
        parts.pop()
    yield from parts


def _code_term(raw: str) -> str:
    raw = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in raw)
    if _THOUSANDS.fullmatch(raw):
        return re.sub(r"[.,]", "", raw)
    parts = [_ascii_term(p) for p in _SEPARATORS.split(fold(raw)) if p]
    return "_".join(parts)[:MAX_TERM_LENGTH]


def _ascii_term(word: str) -> str:
    if word.isascii():
        return word
    return "".join(c if c.isascii() else f"_{ord(c):x}" for c in word)


def _stemmer(lang: Language) -> Callable[[str], str]:
    stemmers: dict[str, Callable[[str], str]] | None = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    stem = stemmers.get(lang)
    if stem is None:
        stem = stemmers[lang] = Stemmer.Stemmer(_STEMMER_NAMES[lang]).stemWord
    return stem


def highlight(
    text: str, terms: Iterable[str], lang: Language | None = None, *, width: int = 160
) -> str:
    """A snippet of about ``width`` characters of ``text`` around the words matching ``terms``,
    each match marked with « ».

    The window is placed where most matches fall; "…" marks a cut. With no match, the start of
    the text.

    >>> highlight("Hola, mi pedido PED-2024-118 no llegó", query_terms("pedido no llegó"))
    'Hola, mi «pedido» PED-2024-118 no «llegó»'
    """
    wanted = set(terms)
    normal = unicodedata.normalize("NFKC", text)
    language = lang or detect_language(text)
    hits = _merge_spans(t for t in tokens(normal, language) if t.term in wanted)
    start, end = _best_window(normal, hits, width)
    pieces: list[str] = ["…"] if start > 0 else []
    cursor = start
    for hit_start, hit_end in hits:
        if hit_start < start or hit_end > end:
            continue
        pieces += [normal[cursor:hit_start], "«", normal[hit_start:hit_end], "»"]
        cursor = hit_end
    pieces.append(normal[cursor:end])
    if end < len(normal):
        pieces.append("…")
    return "".join(pieces).strip()


def _merge_spans(found: Iterable[Token]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for token in found:
        if spans and spans[-1] == (token.start, token.end):
            continue  # "don't" gives two terms for one span
        spans.append((token.start, token.end))
    return spans


def _best_window(text: str, hits: Sequence[tuple[int, int]], width: int) -> tuple[int, int]:
    if len(text) <= width:
        return 0, len(text)
    best_start, best_count = 0, 0
    for i, (hit_start, _) in enumerate(hits):
        count = sum(1 for s, e in hits[i:] if e <= hit_start + width)
        if count > best_count:
            best_start, best_count = hit_start, count
    # Open the window a little before the first match, on a word boundary, for context.
    start = max(0, best_start - width // 4) if best_count else 0
    while 0 < start < best_start and not text[start - 1].isspace():
        start += 1
    end = min(len(text), start + width)
    while start < end < len(text) and not text[end].isspace():
        end -= 1
    if end <= start:
        end = min(len(text), start + width)
    return start, end


_SAFE_TERM = re.compile(rf"[a-z0-9_]+|{_EMOJI}")


def checked_term(term: str) -> str:
    """``term`` if it is one :func:`index_terms` / :func:`query_terms` can make (letters, digits,
    ``_``, an emoji: nothing a full-text query language reads as syntax), else ``ValueError``.
    The engines' query builders (``store/search_ops.py``) quote only checked terms.

    >>> checked_term("ped_2024_118")
    'ped_2024_118'
    """
    if not _SAFE_TERM.fullmatch(term):
        raise ValueError(f"not a search term made by index_terms/query_terms: {term!r}")
    return term
