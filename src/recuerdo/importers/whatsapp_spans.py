"""Cutting a large export into spans that worker processes read independently.

A span starts at a message header and runs to the next span's start, so a worker that parses
only its span gathers the same messages, with the same line numbers, as one pass over the file
would. The deterministic external ids (:class:`~recuerdo.importers.whatsapp_roles.ExternalIds`)
count repeats of a message among the most recent timestamps, so a span may only start where
that memory holds nothing the span will need: a cut is placed only inside a stretch of headers
whose times never go back, with ``2 x RECENT_TIMESTAMPS`` distinct times before it (whatever the
counters held before that stretch has been forgotten) and ``RECENT_TIMESTAMPS`` distinct later
times after it (everything before the cut is forgotten before any time repeats). A file where no
such place exists near a cut is simply cut less often.

>>> from recuerdo.importers.sources import ExportSource
>>> from recuerdo.importers.whatsapp import survey_export
>>> survey = survey_export(ExportSource.from_bytes("c.txt", b"1/2/24, 10:00 - Ana: hola\\n"))
>>> plan_spans(survey, "UTC")
[Span(start=0, end=None, first_line=1)]
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import IO, NamedTuple

from recuerdo.importers.sources import ExportSource, strip_marks
from recuerdo.importers.whatsapp import ExportSurvey, split_author, zone
from recuerdo.importers.whatsapp_headers import HEADER, LocalClock
from recuerdo.importers.whatsapp_roles import RECENT_TIMESTAMPS

SPAN_BYTES = 2 << 20
"""About 30,000 messages: a worker whose span waits to be stored reads ahead about as much
(its pipe and the parent's buffer), so both workers stay busy; memory stays flat."""

_SCAN_LINES = 50_000
"""How far past a nominal cut to look for a place to cut before giving that cut up."""


class Span(NamedTuple):
    """Where a worker reads: bytes ``start`` up to ``end`` (``None``: the end of the file);
    ``first_line`` is the line number of the line at ``start``."""

    start: int
    end: int | None
    first_line: int


def plan_spans(survey: ExportSurvey, tz: str, span_bytes: int | None = None) -> list[Span]:
    """The spans of a surveyed export, in file order, of about ``span_bytes`` (default
    :data:`SPAN_BYTES`): one for a small file, for a file that is not plain UTF-8 text on disk
    (a ``.zip``, UTF-16), or when no safe cut exists."""
    span_bytes = span_bytes or SPAN_BYTES
    source = survey.source
    whole = [Span(0, None, 1)]
    if not source.plain or source.path is None:
        return whole
    try:
        size = os.path.getsize(source.path)
        if size < 2 * span_bytes:
            return whole
        clock = LocalClock(survey.date_order, zone(tz))
        cuts: list[int] = []
        with open(source.path, "rb") as fp:
            if fp.read(2) in (b"\xff\xfe", b"\xfe\xff"):
                return whole
            nominal = span_bytes
            while nominal + span_bytes // 2 < size:
                cut = _cut_after(fp, nominal, clock)
                if cut is None or cut >= size:
                    break
                cuts.append(cut)
                nominal = cut + span_bytes
            lines = _line_numbers(fp, cuts)
    except OSError:
        return whole  # the import itself will report an unreadable file
    starts = [0, *cuts]
    ends: list[int | None] = [*cuts, None]
    return [Span(s, e, n) for s, e, n in zip(starts, ends, [1, *lines], strict=True)]


def part_starts(source: ExportSource, parts: int) -> list[int]:
    """Where the 2nd, 3rd … of ``parts`` about equal parts of a plain UTF-8 export file start
    (each at the start of a line), for counting them side by side; empty for an export that
    cannot be cut (not a plain file on disk, UTF-16, or too small)."""
    if not source.plain or source.path is None or parts < 2:
        return []
    starts: list[int] = []
    try:
        size = os.path.getsize(source.path)
        with open(source.path, "rb") as fp:
            if fp.read(2) in (b"\xff\xfe", b"\xfe\xff"):
                return []
            for k in range(1, parts):
                fp.seek(size * k // parts)
                fp.readline()
                start = fp.tell()
                if start < size and (not starts or start > starts[-1]):
                    starts.append(start)
    except OSError:
        return []
    return starts


def _cut_after(fp: IO[bytes], offset: int, clock: LocalClock) -> int | None:
    """The byte offset of the first safe cut (see the module docstring) after ``offset``."""
    fp.seek(offset)
    position = offset + len(fp.readline())  # the rest of the line ``offset`` falls in
    last: datetime | None = None
    before = 0  # distinct times so far in the current stretch of non-decreasing times
    cut: int | None = None
    after = 0  # distinct times since the cut
    for _ in range(_SCAN_LINES):
        raw = fp.readline()
        if not raw:
            return None
        start, position = position, position + len(raw)
        text = strip_marks(raw.decode("utf-8", "replace").rstrip("\r\n"))
        m = HEADER.match(text)
        if m is None:
            continue
        at = _time(clock, m.group("a", "b", "c", "hour", "minute", "second", "ampm"))
        author, rest = split_author(text[m.end() :])
        if at is None:
            continue  # an unreadable header gives no message and leaves the counters alone
        if author is None and not rest:
            # A header a message may or may not come from (it depends on the lines after
            # it): the stretch starts again after it.
            last, before, cut, after = None, 0, None, 0
            continue
        if last is None or at < last:  # the first header of a stretch
            last, before, cut, after = at, 1, None, 0
            continue
        if at > last:
            if cut is not None:
                after += 1
                if after >= RECENT_TIMESTAMPS:
                    return cut
            elif before >= 2 * RECENT_TIMESTAMPS:
                cut, after = start, 1
            else:
                before += 1
            last = at
    return None


def _time(clock: LocalClock, fields: tuple[str | None, ...]) -> datetime | None:
    a, b, c, hour, minute, second, ampm = fields
    try:
        assert a is not None and b is not None and c is not None
        assert hour is not None and minute is not None
        return clock.to_utc(a, b, c, hour, minute, second, ampm)
    except ValueError:
        return None


def _line_numbers(fp: IO[bytes], offsets: list[int]) -> list[int]:
    """The line number of the line starting at each of ``offsets`` (increasing)."""
    fp.seek(0)
    numbers, line, position = [], 1, 0
    for offset in offsets:
        while position < offset:
            block = fp.read(min(1 << 20, offset - position))
            if not block:
                break
            line += block.count(b"\n")
            position += len(block)
        numbers.append(line)
    return numbers
