"""Time expressions in search queries, Spanish and English: "el pedido de marzo", "last month".

:func:`find_time_window` reads the query the way a customer or an operator writes it and answers
the period it points at, so that ranking can favour messages from then, plus the query without the
time words (which would otherwise be searched as words: "month", "pasado").

Understood, with or without accents and in any case:

- days: ``today``/``hoy``, ``yesterday``/``ayer``, ``anteayer``/``antier``/``the day before
  yesterday``, weekdays (``on Monday``, ``el lunes``: the latest one before now);
- ``last``/``this`` ``week``/``month``/``year``, ``la semana pasada``, ``el mes pasado``,
  ``el año pasado``, ``este mes``, ``esta semana``, ``este año``;
- ``N days/weeks/months/years ago``, ``hace N días/semanas/meses/años`` (N in digits or words);
- month names (``marzo``, ``in May``, ``March 2024``, ``mayo de 2023``): the latest such month
  not after now, unless a year is given;
- dates: ``8 May 2023``, ``May 8, 2023``, ``8 de mayo de 2023``, ``2023-05-08``, ``08/05/2023``
  (day first in Spanish, month first in English when it can be);
- years after a preposition: ``in 2022``, ``en 2022``, ``del 2023``.

Example::

    >>> from datetime import datetime, UTC
    >>> found = find_time_window("el pedido de marzo", now=datetime(2024, 6, 1, tzinfo=UTC))
    >>> found.window.start.date(), found.window.end.date(), found.rest
    (datetime.date(2024, 3, 1), datetime.date(2024, 4, 1), 'el pedido')
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from recuerdo.search.text import fold

_FULL_MONTHS: dict[str, int] = {
    **{m.lower(): i for i, m in enumerate(calendar.month_name[1:], 1)},
    **{"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7},
    **{"agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11},
    "diciembre": 12,
}
# Abbreviations are words too ("ago", "mar" is the sea, "jan" a name): only next to a day or year.
MONTHS: dict[str, int] = {
    **_FULL_MONTHS,
    **{"jan": 1, "ene": 1, "feb": 2, "mar": 3, "apr": 4, "abr": 4, "jun": 6, "jul": 7},
    **{"aug": 8, "ago": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12, "dic": 12},
}
WEEKDAYS: dict[str, int] = {
    **{fold(d): i for i, d in enumerate(calendar.day_name)},
    **{"lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5},
    "domingo": 6,
}
NUMBERS: dict[str, int] = {
    **{"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6},
    **{"un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6},
    **{"a couple of": 2, "couple of": 2, "few": 3, "a few": 3, "unos": 3, "unas": 3},
}
_UNITS: dict[str, str] = {
    **dict.fromkeys(["day", "days", "dia", "dias"], "day"),
    **dict.fromkeys(["week", "weeks", "semana", "semanas"], "week"),
    **dict.fromkeys(["month", "months", "mes", "meses"], "month"),
    **dict.fromkeys(["year", "years", "ano", "anos"], "year"),
}

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(WEEKDAYS)
_NUMBER = "|".join(sorted(NUMBERS, key=len, reverse=True)) + r"|\d{1,2}"
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))
_YEAR = r"(?:19|20)\d\d"
_Builder = Callable[[re.Match[str], date], "tuple[date, date] | None"]
# English "may" is mostly the verb: as a month it needs a date, a year or a preposition.
_FULL_MONTH = "|".join(sorted(_FULL_MONTHS, key=len, reverse=True))
_MONTH_NAME = "|".join(m for m in _FULL_MONTHS if m != "may")


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A half-open period ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def distance(self, at: datetime) -> timedelta:
        """How far ``at`` lies outside the window (zero inside)."""
        if at < self.start:
            return self.start - at
        if at >= self.end:
            return at - self.end
        return timedelta(0)


@dataclass(frozen=True, slots=True)
class FoundTime:
    """What :func:`find_time_window` found: the window (or ``None``) and the query without it."""

    window: TimeWindow | None
    rest: str


def find_time_window(query: str, *, now: datetime, tz: tzinfo = UTC) -> FoundTime:
    """The period ``query`` refers to, relative to ``now`` and read in the time zone ``tz``.

    When several expressions appear, the first one found by precedence (dates before months
    before relative words) is used, and all recognised expressions are removed from ``rest``.

    >>> from datetime import datetime, UTC
    >>> now = datetime(2024, 6, 5, 9, tzinfo=UTC)
    >>> found = find_time_window("what did I order yesterday?", now=now)
    >>> found.window.start.isoformat(), found.rest
    ('2024-06-04T00:00:00+00:00', 'what did I order ?')
    """
    text = fold(query)
    today = now.astimezone(tz).date()
    windows: list[tuple[date, date]] = []
    spans: list[tuple[int, int]] = []
    for pattern, build in _RULES:
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in spans):
                continue
            period = build(match, today)
            if period is not None:
                windows.append(period)
                spans.append(match.span())
    if not windows:
        return FoundTime(None, query)
    start, end = windows[0]
    window = TimeWindow(_at_midnight(start, tz), _at_midnight(end, tz))
    return FoundTime(window, _remove(query, text, spans))


def _at_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def _remove(query: str, folded: str, spans: list[tuple[int, int]]) -> str:
    # fold() keeps one character per character for the text of a query except for rare
    # ligatures; when lengths differ, cut the folded text instead of the original.
    source = query if len(query) == len(folded) else folded
    kept, cursor = [], 0
    for start, end in sorted(spans):
        kept.append(source[cursor:start])
        cursor = end
    kept.append(source[cursor:])
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def _month_window(year: int, month: int) -> tuple[date, date]:
    end = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, 1), end


def _latest_month(month: int, today: date) -> tuple[date, date]:
    year = today.year if month <= today.month else today.year - 1
    return _month_window(year, month)


def _day(year: int, month: int, day: int) -> tuple[date, date] | None:
    try:
        start = date(year, month, day)
    except ValueError:
        return None
    return start, start + timedelta(days=1)


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _iso_date(m: re.Match[str], today: date) -> tuple[date, date] | None:
    return _day(int(m["y"]), int(m["m"]), int(m["d"]))


def _numeric_date(m: re.Match[str], today: date) -> tuple[date, date] | None:
    if not m["y"] and m["sep"] != "/":
        return None  # "3.5 kg", "10-12 días": numbers, not dates
    first, second = int(m["a"]), int(m["b"])
    year = int(m["y"]) if m["y"] else today.year
    if year < 100:
        year += 2000
    # Day first (Spanish, and most of the world) unless only month-first can be a date.
    if first > 12 or second <= 12:
        return _day(year, second, first) or _day(year, first, second)
    return _day(year, first, second)


def _named_date(m: re.Match[str], today: date) -> tuple[date, date] | None:
    month = MONTHS[m["mon"]]
    day = int(m["d"])
    if m["y"]:
        return _day(int(m["y"]), month, day)
    found = _day(today.year, month, day)
    if found and found[0] > today:
        found = _day(today.year - 1, month, day)
    return found


def _month_year(m: re.Match[str], today: date) -> tuple[date, date] | None:
    return _month_window(int(m["y"]), MONTHS[m["mon"]])


def _month_only(m: re.Match[str], today: date) -> tuple[date, date] | None:
    return _latest_month(MONTHS[m["mon"]], today)


def _year(m: re.Match[str], today: date) -> tuple[date, date] | None:
    year = int(m["y"])
    return date(year, 1, 1), date(year + 1, 1, 1)


def _ago(m: re.Match[str], today: date) -> tuple[date, date] | None:
    count = int(m["n"]) if m["n"].isdigit() else NUMBERS[m["n"]]
    unit = _UNITS[m["unit"]]
    # "3 weeks ago" is fuzzy: a window of one unit on each side of the point.
    if unit == "day":
        point, half = today - timedelta(days=count), timedelta(days=1)
        return point - half, point + half + timedelta(days=1)
    if unit == "week":
        point, half = today - timedelta(weeks=count), timedelta(weeks=1)
        return point - half, point + half
    months = 12 if unit == "year" else 1
    point = _shift_months(today, -count * months)
    return _shift_months(point, -months), _shift_months(point, months)


def _relative(m: re.Match[str], today: date) -> tuple[date, date] | None:
    unit = _UNITS[m["unit"]]
    back = 0 if m.groupdict().get("this") else 1
    if unit == "day":
        return None
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) - timedelta(weeks=back)
        return monday, monday + timedelta(weeks=1)
    if unit == "month":
        first = _shift_months(today.replace(day=1), -back)
        return first, _shift_months(first, 1)
    return date(today.year - back, 1, 1), date(today.year - back + 1, 1, 1)


def _named_day(m: re.Match[str], today: date) -> tuple[date, date] | None:
    back = {"today": 0, "hoy": 0, "yesterday": 1, "ayer": 1}.get(m["word"], 2)
    start = today - timedelta(days=back)
    return start, start + timedelta(days=1)


def _weekday(m: re.Match[str], today: date) -> tuple[date, date] | None:
    back = (today.weekday() - WEEKDAYS[m["wd"]]) % 7 or 7
    start = today - timedelta(days=back)
    return start, start + timedelta(days=1)


_B = r"(?<![\w-])"
_E = r"(?![\w-])"
_IN = r"(?:in|on|of|since|during|from|by|last|this|early|late|en|de|del|desde|durante|el)"

# Most specific first: a full date is not read again as its month or its year.
_RULES: list[tuple[re.Pattern[str], _Builder]] = [
    (re.compile(_B + pattern + _E), build)
    for pattern, build in [
        (r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})", _iso_date),
        (
            r"(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?",
            _numeric_date,
        ),
        (
            rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?: de| of)? (?P<mon>{_MONTH}),?"
            rf"(?:(?: de| del)? (?P<y>{_YEAR}))?",
            _named_date,
        ),
        (rf"(?P<mon>{_MONTH}) (?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,? (?P<y>{_YEAR}))?", _named_date),
        (rf"(?P<mon>{_MONTH}),?(?: de| del| of)? (?P<y>{_YEAR})", _month_year),
        (rf"(?:{_IN} )(?:the month of |el mes de )?(?P<mon>{_FULL_MONTH})", _month_only),
        (rf"(?P<mon>{_MONTH_NAME})", _month_only),
        (rf"(?:{_IN}|year|ano) (?:the year |el ano )?(?P<y>{_YEAR})", _year),
        (rf"(?P<n>{_NUMBER}) (?P<unit>{_UNIT}) ago", _ago),
        (rf"hace (?P<n>{_NUMBER}) (?P<unit>{_UNIT})", _ago),
        (rf"(?:(?P<last>last|past|previous)|(?P<this>this|current)) (?P<unit>{_UNIT})", _relative),
        (rf"(?:(?:el|la|the) )?(?P<unit>{_UNIT}) (?:pasad[oa]|anterior)", _relative),
        (rf"(?:(?P<this>est[ea]) )(?P<unit>{_UNIT})(?: actual)?", _relative),
        (r"(?P<word>the day before yesterday|antes de ayer|anteayer|antier)", _named_day),
        (r"(?P<word>today|hoy|yesterday|ayer)", _named_day),
        (rf"(?:on |last |el |este |el pasado )(?P<wd>{_WEEKDAY})(?: pasado)?", _weekday),
    ]
]
