"""The header that starts every message of a WhatsApp export, and the dates inside it.

Two shapes, in every locale the app has written:

- Android: ``31/12/23, 14:05 - Ana: hola`` (also ``12/31/2023, 2:05 PM``, ``31.12.23, 14:05``,
  ``2023-12-31 14:05``, ``12/31/23, 2:05 p. m.``)
- iOS: ``[31/12/23, 14:05:09] Ana: hola`` (also ``[12/31/23 14:05]``, ``[31.12.23, 2:05:09 PM]``)

The date's field order is not written anywhere. :class:`DateOrderVotes` decides it from every
header date of the file (a field above 12 is a day, a 4-digit field is a year, and the wrong
order makes the chat jump back in time), so one pass over the headers is enough and memory
stays constant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum

_SPACE = r"[ \u00a0\u202f]"
# The AM/PM marker as locales write it: "PM", "pm", "p. m.", "p.m.", with any space kind.
_AMPM = r"(?P<ampm>[AaPp]\.?" + _SPACE + r"?[Mm]\.?)"

HEADER = re.compile(
    r"(?P<open>\[)?"
    r"(?P<a>\d{1,4})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})"
    r",?" + _SPACE + r"+"
    r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?"
    r"(?:" + _SPACE + r"*" + _AMPM + r")?"
    # iOS closes the bracket; Android separates with " - " (some locales use an en dash).
    r"(?(open)\]" + _SPACE + r"?|" + _SPACE + r"+[-\u2013]" + _SPACE + r"+)"
)
"""Matches a message header at the start of a line; ``line[m.end():]`` is "Author: text"."""

HEADER_LIKE = re.compile(r"\[?\d{1,4}[./-]\d{1,2}[./-]\d{1,4},?" + _SPACE + r"+\d{1,2}[:.]")
"""A line that starts like a header (date and the start of a time) but may not be one:
a continuation line that looks like this, yet is not a header, is reported, not merged."""


class DateOrder(StrEnum):
    """The order of day, month and year in a header date."""

    DMY = "dmy"
    MDY = "mdy"
    YMD = "ymd"
    YDM = "ydm"


# Tie-break when a whole file never shows which field is the day: day first, as written by
# the Spanish- and Portuguese-speaking markets recuerdo serves first.
_PREFERENCE = (DateOrder.DMY, DateOrder.MDY, DateOrder.YMD, DateOrder.YDM)
FIRST_YEAR = 2009
"""WhatsApp's first year: a reading that puts a message earlier is not the right one."""
# A reading that puts a message in the future is not the right one either (one year of slack
# for clocks and time zones); "29.01.18" is 29 Jan 2018, not 18 Jan 2029.
_LAST_YEAR = date.today().year + 1
_MONTH_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _year(text: str) -> int:
    value = int(text)
    return value + 2000 if len(text) <= 2 else value


def ymd(order: DateOrder, a: str, b: str, c: str) -> tuple[int, int, int]:
    """Year, month, day of a header date read in ``order``.

    >>> ymd(DateOrder.DMY, "31", "12", "23")
    (2023, 12, 31)
    >>> ymd(DateOrder.YDM, "2023", "31", "12")
    (2023, 12, 31)
    """
    if order is DateOrder.DMY:
        return _year(c), int(b), int(a)
    if order is DateOrder.MDY:
        return _year(c), int(a), int(b)
    if order is DateOrder.YMD:
        return _year(a), int(b), int(c)
    return _year(a), int(c), int(b)


def _plausible(order: DateOrder, a: str, b: str, c: str) -> tuple[int, int, int] | None:
    year_first = order in (DateOrder.YMD, DateOrder.YDM)
    year_text, other_text = (a, c) if year_first else (c, a)
    if len(year_text) == 3 or len(other_text) > 2:  # a 4-digit field can only be the year
        return None
    y, m, d = ymd(order, a, b, c)
    if not (1 <= m <= 12 and 1 <= d <= _MONTH_DAYS[m] and FIRST_YEAR <= y <= _LAST_YEAR):
        return None
    return y, m, d


@dataclass(slots=True)
class DateOrderVotes:
    """Evidence, gathered header by header, for each possible date order.

    An order loses a vote each time a header date is impossible in it (month 13, day 32, a
    4-digit day) and each time it would make the chat go back in time. The order with the
    fewest marks wins; ``certain`` is False when the evidence could not tell orders apart.

    >>> votes = DateOrderVotes()
    >>> for a, b, c in [("12", "1", "24"), ("13", "1", "24"), ("2", "2", "24")]:
    ...     votes.add(a, b, c)
    >>> votes.decide(), votes.certain()
    (<DateOrder.DMY: 'dmy'>, True)
    """

    impossible: dict[DateOrder, int] = field(default_factory=lambda: dict.fromkeys(DateOrder, 0))
    backwards: dict[DateOrder, int] = field(default_factory=lambda: dict.fromkeys(DateOrder, 0))
    _previous: dict[DateOrder, tuple[int, int, int]] = field(default_factory=dict)
    _last_key: tuple[str, str, str] | None = None
    dates: int = 0

    def add(self, a: str, b: str, c: str) -> None:
        key = (a, b, c)
        if key == self._last_key:  # consecutive messages share their date: nothing new
            return
        self._last_key = key
        self.dates += 1
        for order in DateOrder:
            date = _plausible(order, a, b, c)
            if date is None:
                self.impossible[order] += 1
                continue
            previous = self._previous.get(order)
            if previous is not None and date < previous:
                self.backwards[order] += 1
            self._previous[order] = date

    def _score(self, order: DateOrder) -> tuple[int, int, int]:
        return (self.impossible[order], self.backwards[order], _PREFERENCE.index(order))

    def decide(self) -> DateOrder:
        return min(DateOrder, key=self._score)

    def certain(self) -> bool:
        """True when the winner beats every other order on evidence, not on preference."""
        best = self.decide()
        best_score = self._score(best)[:2]
        return all(self._score(o)[:2] > best_score for o in DateOrder if o is not best)


class LocalClock:
    """Turns header fields into aware UTC datetimes from wall-clock time in one time zone.

    >>> from zoneinfo import ZoneInfo
    >>> clock = LocalClock(DateOrder.DMY, ZoneInfo("America/Bogota"))
    >>> clock.to_utc("31", "12", "23", "11", "05", None, "p. m.")
    datetime.datetime(2024, 1, 1, 4, 5, tzinfo=datetime.timezone.utc)
    """

    __slots__ = ("order", "zone")

    def __init__(self, order: DateOrder, zone: tzinfo) -> None:
        self.order = order
        self.zone = zone

    def to_utc(
        self,
        a: str,
        b: str,
        c: str,
        hour: str,
        minute: str,
        second: str | None,
        ampm: str | None,
    ) -> datetime:
        """Raise ValueError for an impossible date or time."""
        y, m, d = ymd(self.order, a, b, c)
        h = int(hour)
        if ampm is not None:
            h = _to_24h(h, ampm)
        local = datetime(y, m, d, h, int(minute), int(second or 0), tzinfo=self.zone)
        return local.astimezone(UTC)


def _to_24h(hour: int, ampm: str) -> int:
    # Real exports write "00:08 a. m." and even "23:59 PM": an hour already past 12 is kept.
    if hour > 12:
        return hour
    pm = ampm[0] in "Pp"
    if hour == 12:
        return 12 if pm else 0
    return hour + 12 if pm else hour
