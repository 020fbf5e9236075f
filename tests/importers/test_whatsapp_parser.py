"""The WhatsApp parser on hand-written exports: headers, dates, problems, bad files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from recuerdo.errors import ImportFormatError, InvalidInput
from recuerdo.importers import DateOrder, ExportSource, ParsedMessage, ParseProblem, parse_export
from recuerdo.importers.whatsapp import split_author, survey_export
from recuerdo.importers.whatsapp_headers import HEADER, DateOrderVotes, LocalClock


def _source(text: str, name: str = "chat.txt") -> ExportSource:
    return ExportSource.from_bytes(name, text.encode())


def _items(text: str, **kwargs: object) -> list[ParsedMessage | ParseProblem]:
    return list(parse_export(_source(text), **kwargs))  # type: ignore[arg-type]


def _messages(text: str, **kwargs: object) -> list[ParsedMessage]:
    items = _items(text, **kwargs)
    assert [i for i in items if isinstance(i, ParseProblem)] == []
    return [i for i in items if isinstance(i, ParsedMessage)]


@pytest.mark.parametrize(
    "line",
    [
        "31/12/23, 14:05 - Ana: hola",
        "12/31/23, 2:05 PM - Ana: hola",
        "31.12.23, 14:05 - Ana: hola",
        "2023-12-31, 14:05 - Ana: hola",
        "31/12/2023, 2:05 p. m. - Ana: hola",
        "31/12/2023, 2:05\u202fp.\u00a0m. - Ana: hola",
        "31/12/2023, 2:05\u202fPM - Ana: hola",
        "31/12/23 14:05 - Ana: hola",
        "31/12/23, 14:05 \u2013 Ana: hola",
        "[31/12/23, 14:05:09] Ana: hola",
        "[12/31/23, 2:05:09 PM] Ana: hola",
        "[31.12.23 14:05] Ana: hola",
        "[2023-12-31 14:05:09] Ana: hola",
        "[31/12/2023, 2:05:09\u202fa.m.] Ana: hola",
    ],
)
def test_header_variants_are_recognised(line: str) -> None:
    m = HEADER.match(line)
    assert m is not None
    assert line[m.end() :] == "Ana: hola"


@pytest.mark.parametrize(
    "line",
    [
        "31/12/23 hola",
        "[31/12/23, 14:05 - Ana: hola",  # a bracket opened and never closed
        "31/12/23, 14:05] Ana: hola",
        "hola 31/12/23, 14:05 - Ana",
        "31/12/23, 14 - Ana: hola",
    ],
)
def test_non_headers_are_not_recognised(line: str) -> None:
    assert HEADER.match(line) is None


def test_date_order_is_decided_from_the_whole_file() -> None:
    # The first lines read the same in both orders; only the last one says day first.
    lines = [f"0{d}/02/24, 10:00 - Ana: hola" for d in range(1, 9)] + [
        "13/02/24, 10:00 - Ana: hola"
    ]
    survey = survey_export(_source("\n".join(lines)))
    assert survey.date_order is DateOrder.DMY
    assert survey.date_order_certain
    first = _messages("\n".join(lines))[0]
    assert first.at == datetime(2024, 2, 1, 15, 0, tzinfo=UTC)


def test_going_back_in_time_votes_against_an_order() -> None:
    # 1/2 → 1/3 → 2/1: read month first it is Jan 2, Jan 3, Feb 1 — read day first it would
    # jump from 1 Mar back to 2 Jan.
    votes = DateOrderVotes()
    for a, b in [("1", "2"), ("1", "3"), ("2", "1")]:
        votes.add(a, b, "24")
    assert votes.decide() is DateOrder.MDY


def test_ambiguous_file_prefers_day_first_and_says_so() -> None:
    survey = survey_export(_source("1/2/24, 10:00 - Ana: hola\n"))
    assert survey.date_order is DateOrder.DMY
    assert not survey.date_order_certain
    forced = _messages("1/2/24, 10:00 - Ana: hola\n", date_order="mdy")
    assert forced[0].at == datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


def test_two_digit_year_is_not_taken_for_a_day() -> None:
    # "29.01.18" is 29 Jan 2018: read year first it would be 2029, in the future.
    assert survey_export(_source("29.01.18, 10:00 - Ana: hola")).date_order is DateOrder.DMY


def test_times_are_local_to_the_given_zone_with_dst() -> None:
    text = "[2024-07-01 12:00:00] Ana: verano\n[2024-12-01 12:00:00] Ana: invierno\n"
    summer, winter = _messages(text, tz="Europe/Berlin")
    assert summer.at == datetime(2024, 7, 1, 10, 0, tzinfo=UTC)
    assert winter.at == datetime(2024, 12, 1, 11, 0, tzinfo=UTC)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        _items("31/12/23, 14:05 - Ana: hola", tz="Mars/Olympus")


def test_local_clock_twelve_hour_edge_cases() -> None:
    clock = LocalClock(DateOrder.DMY, UTC)
    at = clock.to_utc
    assert at("1", "1", "24", "12", "00", None, "AM").hour == 0
    assert at("1", "1", "24", "12", "00", None, "p. m.").hour == 12
    assert at("1", "1", "24", "00", "08", None, "a. m.").hour == 0
    assert at("1", "1", "24", "23", "59", None, "PM").hour == 23  # seen in real German exports


@pytest.mark.parametrize(
    ("rest", "author", "text"),
    [
        ("Ana: hola", "Ana", "hola"),
        ("Ana: hola: qué tal", "Ana", "hola: qué tal"),
        ("+57 300 123 4567: hola", "+57 300 123 4567", "hola"),
        ("~\u202fAna Pérez: hola", "Ana Pérez", "hola"),
        ("Ana:", "Ana", ""),
        ("Ana:.", None, "Ana:."),
        ("Ana added Bob", None, "Ana added Bob"),
        (
            'Ana changed the subject to "Ventas: 2024"',
            None,
            'Ana changed the subject to "Ventas: 2024"',
        ),
        (
            "Tienda: Los mensajes y las llamadas están cifrados de extremo a extremo.",
            None,
            "Los mensajes y las llamadas están cifrados de extremo a extremo.",
        ),
    ],
)
def test_split_author(rest: str, author: str | None, text: str) -> None:
    assert split_author(rest) == (author, text)


def test_multi_line_messages_keep_their_lines_and_drop_trailing_blank_ones() -> None:
    text = "31/12/23, 14:05 - Ana: uno\ndos\n\ntres\n\n\n31/12/23, 14:06 - Bob: ok\n\n"
    first, second = _messages(text)
    assert first.content == "uno\ndos\n\ntres"
    assert (second.author, second.content) == ("Bob", "ok")


def test_system_lines_have_no_author() -> None:
    text = (
        "31/12/23, 14:00 - Los mensajes y las llamadas están cifrados de extremo a extremo.\n"
        "31/12/23, 14:05 - Ana: hola\n"
    )
    notice, hello = _messages(text)
    assert notice.is_system
    assert notice.author is None
    assert not hello.is_system


def test_unreadable_lines_are_reported_and_the_rest_is_parsed() -> None:
    text = (
        "basura antes del chat\n"
        "31/12/23, 14:05 - Ana: hola\n"
        "31/02/23, 10:00 - Ana: el 31 de febrero no existe\n"
        "y su segunda línea tampoco\n"
        "01/01/24, 10:00 - Ana: feliz año\n"
    )
    items = _items(text)
    problems = [i for i in items if isinstance(i, ParseProblem)]
    messages = [i for i in items if isinstance(i, ParsedMessage)]
    assert [(p.file, p.line_no) for p in problems] == [("chat.txt", 1), ("chat.txt", 3)]
    assert "before the first message" in problems[0].reason
    assert "impossible date" in problems[1].reason
    assert [m.content for m in messages] == ["hola", "feliz año"]


def test_truncated_file_reports_its_cut_last_line() -> None:
    full = "31/12/23, 14:05 - Ana: hola\n31/12/23, 14:06 - Bob: buenas tardes\n"
    cut = full[: full.index("14:06") + 3]  # "31/12/23, 14:"
    items = _items(cut)
    problems = [i for i in items if isinstance(i, ParseProblem)]
    assert len(problems) == 1
    assert problems[0].line_no == 2
    assert "looks like a message header" in problems[0].reason


def test_file_cut_inside_a_utf8_character_is_reported() -> None:
    data = "31/12/23, 14:05 - Ana: café".encode()[:-1]
    items = list(parse_export(ExportSource.from_bytes("c.txt", data)))
    problems = [i for i in items if isinstance(i, ParseProblem)]
    assert len(problems) == 1
    assert "UTF-8" in problems[0].reason
    assert isinstance(items[-1], ParsedMessage)


def test_file_in_an_unknown_format_is_refused() -> None:
    text = "\n".join(f"{i},hello,world" for i in range(300))
    with pytest.raises(ImportFormatError, match="no WhatsApp message header"):
        survey_export(_source(text, "data.csv"))


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 10)
    with pytest.raises(ImportFormatError, match="binary"):
        survey_export(path)


def test_very_long_message_is_cut_and_reported() -> None:
    text = "31/12/23, 14:05 - Ana: inicio\n" + ("x" * 100 + "\n") * 50 + "31/12/23, 14:06 - Bob: ok"
    items = list(parse_export(_source(text), max_message_chars=1000))
    problems = [i for i in items if isinstance(i, ParseProblem)]
    messages = [i for i in items if isinstance(i, ParsedMessage)]
    assert len(problems) == 1
    assert "cut" in problems[0].reason
    assert len(messages[0].content) <= 1000
    assert messages[1].content == "ok"


def test_zip_export_parses_like_its_text(tmp_path: Path) -> None:
    import zipfile

    text = "[31/12/23, 14:05:09] Ana: hola\n[31/12/23, 14:06:00] Bob: <adjunto: foto.jpg>\n"
    path = tmp_path / "chat.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("_chat.txt", text)
    messages = [i for i in parse_export(path) if isinstance(i, ParsedMessage)]
    assert [(m.author, m.content_type) for m in messages] == [("Ana", "text"), ("Bob", "image")]
