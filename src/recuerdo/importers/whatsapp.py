"""Streaming parser of WhatsApp "Export chat" files (``.txt``, or the ``.zip`` the app shares).

The file is read twice and never held whole: :func:`survey_export` reads every header once to
learn the date order, the authors and whether the chat is a group; :func:`parse_export` then
streams :class:`ParsedMessage` and :class:`ParseProblem` items. Memory stays flat however long
the chat is.

>>> from recuerdo.importers.sources import ExportSource, SourceLine
>>> text = "13/01/24, 9:05 p. m. - Ana: hola\\nsigo aquí\\n"
>>> src = ExportSource.from_bytes("chat.txt", text.encode())
>>> [(m.author, m.content, m.at.isoformat()) for m in parse_export(src)]
[('Ana', 'hola\\nsigo aquí', '2024-01-14T02:05:00+00:00')]
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from recuerdo.errors import ImportFormatError, InvalidInput
from recuerdo.importers.report import ParseProblem
from recuerdo.importers.sources import ExportSource, SourceLine
from recuerdo.importers.whatsapp_content import ENCRYPTION_NOTICE, GROUP_NOTICE, classify
from recuerdo.importers.whatsapp_headers import (
    HEADER,
    HEADER_LIKE,
    DateOrder,
    DateOrderVotes,
    LocalClock,
)
from recuerdo.model import ContentType

DEFAULT_TZ = "America/Bogota"
MAX_MESSAGE_CHARS = 64 * 1024
"""Longest message kept; longer ones are cut and reported (it also bounds memory per message)."""

_SNIFF_LINES = 200  # non-empty lines read before deciding a file is not a WhatsApp export
_MAX_AUTHORS = 10_000  # authors counted one by one; a chat with more is a broadcast dump
_MAX_AUTHOR_CHARS = 100
_UNCLEAN_START = frozenset(" \u00a0\u202f~")
_UNCLEAN_END = frozenset(" \u00a0\u202f")
_ENCRYPTED = re.compile(r"encrypt|cifra|verschlüssel|criptograf|chiffr|crittograf", re.IGNORECASE)


@dataclass(slots=True)  # not frozen: a frozen init costs 4x, and there is one per message
class ParsedMessage:
    """One message of an export (read-only by convention).

    ``at`` is aware (UTC), converted from the export's wall-clock time in the import's time
    zone; ``author`` is ``None`` for the app's system lines; ``source_text`` is the message as
    the export wrote it (before placeholders), which is what its external id is made from.
    """

    line_no: int
    at: datetime
    author: str | None
    content: str
    content_type: str = ContentType.TEXT.value
    edited: bool = False
    source_text: str = ""

    @property
    def is_system(self) -> bool:
        return self.author is None


@dataclass(slots=True)
class ExportSurvey:
    """What a first pass over an export learnt: enough to plan the import before storing."""

    source: ExportSource
    date_order: DateOrder
    date_order_certain: bool
    lines: int = 0
    headers: int = 0
    system_lines: int = 0
    group_notices: int = 0
    authors: Counter[str] = field(default_factory=Counter)
    too_many_authors: bool = False

    @property
    def name(self) -> str:
        return self.source.name


def split_author(rest: str) -> tuple[str | None, str]:
    """Split what follows the header into (author, text); author ``None`` for system lines.

    >>> split_author("Ana María: hola: ¿qué tal?")
    ('Ana María', 'hola: ¿qué tal?')
    >>> split_author('Ana changed the subject to "Ventas: 2024"')
    (None, 'Ana changed the subject to "Ventas: 2024"')
    >>> split_author("Carol:")
    ('Carol', '')
    """
    cut = rest.find(": ")
    if cut < 0:
        if rest[-1:] == ":" and 0 < len(rest) - 1 <= _MAX_AUTHOR_CHARS and '"' not in rest:
            return _clean_author(rest[:-1]), ""  # an empty message: "Name:"
        return None, rest
    author = rest[:cut]
    # A quote before the colon means the colon belongs to a quoted group subject or name.
    if cut == 0 or cut > _MAX_AUTHOR_CHARS or '"' in author or "“" in author:
        return None, rest
    text = rest[cut + 2 :]
    if len(text) < 300 and _maybe_notice(text) and ENCRYPTION_NOTICE.search(text):
        return None, text  # some versions print the chat's name as the notice's author
    if author[0] in _UNCLEAN_START or author[-1] in _UNCLEAN_END:
        author = _clean_author(author)
    return author, text


def _maybe_notice(text: str) -> bool:
    # Plain substring tests first: a regex over every message would cost more than parsing it.
    return (
        "-to-end" in text
        or "extremo a extremo" in text
        or "Ende-zu-Ende" in text
        or "ponta a ponta" in text
        or "bout en bout" in text
    ) and _ENCRYPTED.search(text) is not None


def _clean_author(author: str) -> str:
    # Newer group exports mark people who are not in the phone's contacts with "~ ".
    author = author.strip()
    if author.startswith("~"):
        author = author[1:].lstrip(" \u00a0\u202f")
    return author


def survey_export(
    source: ExportSource | str | os.PathLike[str], *, date_order: DateOrder | str | None = None
) -> ExportSurvey:
    """First pass: date order, authors, group notices and line counts of an export.

    Raises :class:`ImportFormatError` for a file that is empty, binary, or holds no WhatsApp
    message header in its first lines.

    >>> from recuerdo.importers.sources import ExportSource, SourceLine
    >>> survey = survey_export(ExportSource.from_bytes("c.txt", b"[2024-01-31 10:00] Ana: hola\\n"))
    >>> survey.date_order, dict(survey.authors)
    (<DateOrder.YMD: 'ymd'>, {'Ana': 1})
    """
    src = source if isinstance(source, ExportSource) else ExportSource.from_path(source)
    tally = tally_lines(src.lines(), sniff=True)
    return _surveyed(src, tally, tally.votes, date_order)


@dataclass(slots=True)
class SurveyTally:
    """What a pass over an export, or over a part of one, counted. A part lists its header
    dates (each run of equal dates once) instead of voting on them, so parts counted side by
    side can be joined into exactly what one pass gives (:func:`survey_from_parts`)."""

    votes: DateOrderVotes = field(default_factory=DateOrderVotes)
    dates: list[tuple[str, ...]] | None = None
    lines: int = 0
    headers: int = 0
    system: int = 0
    groups: int = 0
    authors: Counter[str] = field(default_factory=Counter)
    too_many_authors: bool = False


_MAX_PART_DATES = 200_000
"""A part whose dates change more often than this is counted again in one pass instead."""


def tally_lines(lines: Iterable[SourceLine], *, sniff: bool, part: bool = False) -> SurveyTally:
    """Count ``lines`` (see :class:`SurveyTally`); with ``sniff``, give up after the first
    lines when none of them is a message header (the caller then refuses the file)."""
    tally = SurveyTally(dates=[] if part else None)
    votes, dates, authors = tally.votes, tally.dates, tally.authors
    lines_seen = headers = system = groups = non_empty = 0
    match = HEADER.match
    last_date: tuple[str, ...] = ()
    for text, _ in lines:
        lines_seen += 1
        m = match(text)
        if m is None:
            if sniff and headers == 0 and text.strip():
                non_empty += 1
                if non_empty >= _SNIFF_LINES:
                    break
            continue
        headers += 1
        date = m.group("a", "b", "c")
        if date != last_date:  # messages of one day share their date: vote once per change
            last_date = date
            if dates is None:
                votes.add(*date)
            elif len(dates) < _MAX_PART_DATES:
                dates.append(date)  # a part's dates are voted on when the parts are joined
            else:
                tally.dates = dates = None  # the file will be surveyed again in one pass
        author, rest = split_author(text[m.end() :])
        if author is None:
            system += 1
            if GROUP_NOTICE.search(rest):
                groups += 1
        else:
            count = authors.get(author)
            if count is not None:
                authors[author] = count + 1
            elif len(authors) < _MAX_AUTHORS:
                authors[author] = 1
            else:
                tally.too_many_authors = True
    tally.lines, tally.headers, tally.system, tally.groups = lines_seen, headers, system, groups
    return tally


def survey_from_parts(
    source: ExportSource,
    parts: Sequence[SurveyTally],
    *,
    date_order: DateOrder | str | None = None,
) -> ExportSurvey | None:
    """The survey of an export counted in consecutive parts (the first one sniffed), or
    ``None`` when the parts cannot be joined exactly (too many dates or authors in one): the
    caller then surveys the file in one pass."""
    votes = DateOrderVotes()
    joined = SurveyTally(votes=votes)
    if parts[0].headers == 0:
        return None  # one pass decides whether this is an export at all
    for part in parts:
        if part.dates is None or part.too_many_authors:
            return None
        for date in part.dates:
            votes.add(*date)
        for author, count in part.authors.items():
            if author not in joined.authors and len(joined.authors) >= _MAX_AUTHORS:
                return None
            joined.authors[author] += count
        joined.lines += part.lines
        joined.headers += part.headers
        joined.system += part.system
        joined.groups += part.groups
    return _surveyed(source, joined, votes, date_order)


def _surveyed(
    src: ExportSource,
    tally: SurveyTally,
    votes: DateOrderVotes,
    date_order: DateOrder | str | None,
) -> ExportSurvey:
    if tally.headers == 0:
        raise ImportFormatError(
            f"{src.name}: no WhatsApp message header found; expected lines like "
            "'31/12/23, 14:05 - Ana: hola' (Android) or '[31/12/23, 14:05:09] Ana: hola' (iOS)",
            received=src.name,
        )
    chosen = DateOrder(date_order) if date_order else votes.decide()
    return ExportSurvey(
        source=src,
        date_order=chosen,
        date_order_certain=bool(date_order) or votes.certain(),
        lines=tally.lines,
        headers=tally.headers,
        system_lines=tally.system,
        group_notices=tally.groups,
        authors=tally.authors,
        too_many_authors=tally.too_many_authors,
    )


def zone(tz: str) -> ZoneInfo:
    """The IANA time zone named ``tz``; an unknown name raises :class:`InvalidInput`.

    >>> zone("America/Bogota").key
    'America/Bogota'
    """
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {tz!r}; use an IANA name such as 'America/Bogota'", received=tz
        ) from None


def parse_export(
    source: ExportSource | str | os.PathLike[str],
    *,
    tz: str = DEFAULT_TZ,
    survey: ExportSurvey | None = None,
    date_order: DateOrder | str | None = None,
    max_message_chars: int = MAX_MESSAGE_CHARS,
    span: tuple[int, int | None, int] | None = None,
) -> Iterator[ParsedMessage | ParseProblem]:
    """Stream the messages (and problems) of an export, in file order.

    Times are wall-clock time in ``tz``; the date order is the survey's (detected from the
    whole file) unless ``date_order`` is given. Lines that cannot be read are yielded as
    :class:`ParseProblem` and the rest of the file is still parsed. ``span`` (a
    :class:`~recuerdo.importers.whatsapp_spans.Span`: start and end byte offsets, first line
    number) reads only that part of a plain text file.

    >>> text = b"[1/2/24 10:00] Ana: hola\\n[13/2/24 9:00] Ana: ok\\n"
    >>> src = ExportSource.from_bytes("c.txt", text)
    >>> [m.at.isoformat() for m in parse_export(src, tz="UTC")]
    ['2024-02-01T10:00:00+00:00', '2024-02-13T09:00:00+00:00']
    """
    if survey is None:
        survey = survey_export(source, date_order=date_order)
    elif date_order:
        survey.date_order = DateOrder(date_order)
    return _parse(survey, LocalClock(survey.date_order, zone(tz)), max_message_chars, span)


def _parse(
    survey: ExportSurvey,
    clock: LocalClock,
    max_chars: int,
    span: tuple[int, int | None, int] | None,
) -> Iterator[ParsedMessage | ParseProblem]:
    name = survey.name
    if span is None:
        lines, first_line = survey.source.lines(), 1
    else:
        lines, first_line = survey.source.lines_between(span[0], span[1]), span[2]
    match = HEADER.match
    # The message being gathered: header line number, time, author, its lines, its length.
    start = 0
    at: datetime | None = None
    author: str | None = None
    parts: list[str] = []
    size = 0
    cut = False
    skipping = False  # after an unreadable header, its continuation lines go with it
    seen_header = False
    # The header text (date and time as written) → its UTC time: consecutive messages often
    # share a minute, and a dict lookup is cheaper than building an aware datetime.
    stamps: dict[str, datetime] = {}
    for line_no, (text, bad_encoding) in enumerate(lines, start=first_line):
        if bad_encoding:
            yield ParseProblem(name, line_no, text, "invalid UTF-8 bytes (replaced by �)")
        m = match(text)
        if m is None:
            if not seen_header:
                if text.strip():
                    yield ParseProblem(name, line_no, text, "text before the first message")
                continue
            if skipping:
                continue
            if HEADER_LIKE.match(text):
                # Kept in the message it follows (it may be text someone typed), but shown: it
                # is also how a cut-off header of a truncated file looks.
                yield ParseProblem(
                    name,
                    line_no,
                    text,
                    "looks like a message header but cannot be read; kept as message text",
                )
            if size + len(text) + 1 > max_chars:
                if not cut:
                    cut = True
                    yield ParseProblem(
                        name, line_no, text[:200], f"message over {max_chars} characters cut"
                    )
                continue
            parts.append(text)
            size += len(text) + 1
            continue
        seen_header = True
        if at is not None:
            yield _message(name, start, at, author, parts)
            at = None
        end = m.end()
        stamp = stamps.get(text[:end])
        if stamp is None:
            try:
                stamp = clock.to_utc(*m.group("a", "b", "c", "hour", "minute", "second", "ampm"))
            except ValueError as exc:
                skipping = True
                yield ParseProblem(name, line_no, text, f"impossible date or time ({exc})")
                continue
            if len(stamps) >= 1024:
                stamps.clear()
            stamps[text[:end]] = stamp
        skipping = cut = False
        start, at = line_no, stamp
        author, first = split_author(text[end:])
        if len(first) > max_chars:
            first = first[:max_chars]
            cut = True
            yield ParseProblem(name, line_no, text[:200], f"message over {max_chars} cut")
        parts = [first]
        size = len(first)
    if at is not None:
        yield _message(name, start, at, author, parts)


def _message(
    name: str, line_no: int, at: datetime, author: str | None, parts: list[str]
) -> ParsedMessage | ParseProblem:
    text = parts[0].strip() if len(parts) == 1 else "\n".join(parts).strip()
    if author is None:
        if not text:
            return ParseProblem(name, line_no, "", "a message header with neither author nor text")
        return ParsedMessage(line_no, at, None, text, ContentType.TEXT.value, False, text)
    kind, content, edited = classify(text)
    return ParsedMessage(line_no, at, author, content, kind.value, edited, text)
