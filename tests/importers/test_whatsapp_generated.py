"""Exports generated in every supported header format round-trip through the parser."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from recuerdo.importers import ExportSource, ParsedMessage, ParseProblem, parse_export
from recuerdo.importers.whatsapp import survey_export
from recuerdo.importers.whatsapp_content import classify
from recuerdo.importers.whatsapp_headers import HEADER_LIKE, DateOrder
from recuerdo.importers.whatsapp_roles import ExternalIds
from recuerdo.model import ContentType
from tests.importers.conftest import EXPORTS

BOGOTA = ZoneInfo("America/Bogota")
# Dates that settle the order in every format: a day above 12, and a day and a month below 9
# (which cannot be a two-digit year, WhatsApp being younger than 2009).
FIRST = datetime(2013, 1, 5, 8, 3, 4)
LAST = datetime(2025, 3, 20, 21, 45, 59)
MARKERS = {
    "AM": ("AM", "PM"),
    "am": ("am", "pm"),
    "a. m.": ("a. m.", "p. m."),
    "a.m.": ("a.m.", "p.m."),
    "a.\u00a0m.": ("a.\u00a0m.", "p.\u00a0m."),
}


@dataclass(frozen=True)
class HeaderFormat:
    order: DateOrder
    sep: str
    year4: bool
    ios: bool
    comma: bool
    seconds: bool
    marker: str | None  # None: 24-hour clock
    space: str
    pad: bool

    def header(self, at: datetime) -> str:
        fields = {
            "d": f"{at.day:02d}" if self.pad else str(at.day),
            "m": f"{at.month:02d}" if self.pad else str(at.month),
            "y": f"{at.year:04d}" if self.year4 else f"{at.year % 100:02d}",
        }
        date = self.sep.join(fields[c] for c in self.order.value)
        hour = at.hour if self.marker is None else (at.hour % 12 or 12)
        time = (f"{hour:02d}" if self.pad else str(hour)) + f":{at.minute:02d}"
        if self.seconds:
            time += f":{at.second:02d}"
        if self.marker is not None:
            time += self.space + MARKERS[self.marker][at.hour >= 12]
        stamp = date + ("," if self.comma else "") + " " + time
        return f"[{stamp}] " if self.ios else f"{stamp} - "


formats = st.builds(
    HeaderFormat,
    order=st.sampled_from(DateOrder),
    sep=st.sampled_from("/.-"),
    year4=st.booleans(),
    ios=st.booleans(),
    comma=st.booleans(),
    seconds=st.booleans(),
    marker=st.none() | st.sampled_from(sorted(MARKERS)),
    space=st.sampled_from([" ", "\u202f", "\u00a0"]),
    pad=st.booleans(),
)
_NAME_CHARS = st.characters(
    whitelist_categories=("Lu", "Ll", "Nd", "So"), whitelist_characters=" -.'&_"
)
authors = st.text(_NAME_CHARS, min_size=1, max_size=20).map(str.strip).filter(bool)
_TEXT_CHARS = st.characters(
    blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp", "Co", "Cn"), blacklist_characters="\ufffd"
)
lines = st.text(_TEXT_CHARS, min_size=1, max_size=40)
texts = st.lists(lines, min_size=1, max_size=3).map("\n".join)
times = st.datetimes(min_value=FIRST, max_value=LAST).map(lambda at: at.replace(microsecond=0))


def _readable(text: str) -> bool:
    """A text the parser must give back unchanged: no placeholder, no header-like line."""
    if text != text.strip() or classify(text) != (ContentType.TEXT, text, False):
        return False
    return not any(HEADER_LIKE.match(line) for line in text.split("\n")[1:])


def _export(fmt: HeaderFormat, messages: list[tuple[datetime, str, str]]) -> bytes:
    return "".join(f"{fmt.header(at)}{who}: {text}\n" for at, who, text in messages).encode()


def _expected(fmt: HeaderFormat, at: datetime) -> datetime:
    local = at if fmt.seconds else at.replace(second=0)
    return local.replace(tzinfo=BOGOTA).astimezone(UTC)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=formats,
    people=st.lists(authors, min_size=1, max_size=3, unique=True),
    body=st.lists(st.tuples(times, st.integers(0, 2), texts), min_size=0, max_size=25),
)
def test_generated_export_round_trips(
    fmt: HeaderFormat, people: list[str], body: list[tuple[datetime, int, str]]
) -> None:
    messages = [(FIRST, people[0], "hola")]
    messages += sorted((at, people[i % len(people)], text) for at, i, text in body)
    messages.append((LAST, people[-1], "chao"))
    assume(all(_readable(text) for _, _, text in messages))
    assume(all(":" not in who and not who.startswith("~") for _, who, _ in messages))
    source = ExportSource.from_bytes("gen.txt", _export(fmt, messages))

    survey = survey_export(source)
    items = list(parse_export(source, survey=survey))

    assert survey.date_order is fmt.order
    assert survey.date_order_certain
    assert [i for i in items if isinstance(i, ParseProblem)] == []
    parsed = [(m.at, m.author, m.content) for m in items if isinstance(m, ParsedMessage)]
    assert parsed == [(_expected(fmt, at), who, text) for at, who, text in messages]


def _whatstk_header(fmt: str, at: datetime, year4: bool) -> str:
    year = f"{at.year:04d}" if year4 else f"{at.year % 100:02d}"
    out = fmt.replace("%name:", "")
    for code, value in {
        "%y": year,
        "%m": f"{at.month:02d}",
        "%d": f"{at.day:02d}",
        "%H": f"{at.hour:02d}",
        "%I": f"{at.hour % 12 or 12:02d}",
        "%M": f"{at.minute:02d}",
        "%S": f"{at.second:02d}",
        "%p": "PM" if at.hour >= 12 else "AM",
    }.items():
        out = out.replace(code, value)
    return out


WHATSTK_FORMATS = [
    entry["format"]
    for entry in json.loads(
        (EXPORTS / "whatstk" / "header_format_support.json").read_text(encoding="utf-8")
    )
]


@pytest.mark.parametrize("year4", [False, True], ids=["yy", "yyyy"])
@pytest.mark.parametrize("fmt", WHATSTK_FORMATS)
def test_every_whatstk_header_format_parses(fmt: str, year4: bool) -> None:
    stamps = [FIRST, datetime(2019, 7, 14, 0, 30, 0), datetime(2019, 7, 14, 12, 5, 7), LAST]
    text = "".join(
        f"{_whatstk_header(fmt, at, year4)}Ana María: mensaje {n}\nsegunda línea\n"
        for n, at in enumerate(stamps)
    )
    items = list(parse_export(ExportSource.from_bytes("w.txt", text.encode())))
    assert [i for i in items if isinstance(i, ParseProblem)] == []
    messages = [i for i in items if isinstance(i, ParsedMessage)]
    seconds = "%S" in fmt
    assert [m.at for m in messages] == [
        (at if seconds else at.replace(second=0)).replace(tzinfo=BOGOTA).astimezone(UTC)
        for at in stamps
    ]
    assert {m.author for m in messages} == {"Ana María"}
    assert messages[2].content == "mensaje 2\nsegunda línea"


def test_whatstk_list_has_every_order_and_clock() -> None:
    orders = {re.sub(r"[^ymd]", "", f.split("%H")[0].split("%I")[0]) for f in WHATSTK_FORMATS}
    assert orders == {"ymd", "ydm", "dmy", "mdy"}


@settings(max_examples=100, deadline=None)
@given(
    body=st.lists(
        st.tuples(times, st.sampled_from(["Ana", "Tienda"]), st.sampled_from(["ok", "sí", "hola"])),
        min_size=1,
        max_size=40,
    ),
    cut=st.data(),
)
def test_overlapping_exports_give_the_same_ids(
    body: list[tuple[datetime, str, str]], cut: st.DataObject
) -> None:
    messages = sorted((at.replace(second=0, tzinfo=UTC), who, text) for at, who, text in body)
    n = len(messages)
    start = cut.draw(st.integers(0, n - 1))
    end = cut.draw(st.integers(start + 1, n))

    def ids(part: list[tuple[datetime, str, str]]) -> list[str]:
        maker = ExternalIds("573001234567")
        return [maker.next(at, who, text) for at, who, text in part]

    full = ids(messages)
    later = ids(messages[start:])
    earlier = ids(messages[:end])
    assert len(set(full)) == n  # identical messages in the same minute still differ
    assert earlier == full[:end]  # a prefix keeps its ids exactly
    assert set(later) <= set(full)  # a later-starting export maps into the same ids
    if len(set(messages)) == n:
        assert set(earlier) | set(later) == set(full)
