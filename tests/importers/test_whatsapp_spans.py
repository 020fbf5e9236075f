"""Spans of a large export read on their own give exactly what one pass over the file gives:
the same messages, line numbers, problems and deterministic ids."""

from __future__ import annotations

import itertools
import random
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from recuerdo.errors import ImportFormatError
from recuerdo.importers import (
    DateOrder,
    ExportSource,
    ExportSurvey,
    parse_export,
    plan_roles,
    survey_export,
)
from recuerdo.importers.parallel import WorkerCrew
from recuerdo.importers.whatsapp_roles import to_new_messages
from recuerdo.importers.whatsapp_spans import Span, part_starts, plan_spans
from recuerdo.validation import Preparer

PHONE = "+57 300 123 4567"


def _messy_chat(path: Path, count: int, seed: int) -> Path:
    """A chat with what makes cutting hard: bursts of identical messages in one minute,
    clocks that go back a little or repeat a time from a while ago, impossible dates,
    continuation lines, system lines, CRLF endings, marks and accents."""
    rng = random.Random(seed)
    lines = ["\ufeff" + "Mensajes cifrados de extremo a extremo.\r\n"]
    at = datetime(2023, 10, 28, 22, 0)  # New York leaves summer time on 5 November
    history: list[datetime] = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.001 and history:
            at = rng.choice(history[-200:])  # a time seen a while ago comes back
        elif roll < 0.002:
            at -= timedelta(minutes=rng.randint(1, 5))  # slightly out of order
        else:
            at += timedelta(minutes=rng.choice((0, 0, 1, 1, 2, 7, 90)))
        history.append(at)
        who = rng.choice(("Ana", "Tienda Sol", "\u200eTienda Sol"))
        text = rng.choice(
            ("ok", "ok", "gracias", "¿precio?", f"pedido {n % 40}", "<Media omitted>")
        )
        ending = "\r\n" if rng.random() < 0.3 else "\n"
        if rng.random() < 0.01:
            lines.append(f"31/02/2023, 10:00 - Ana: fecha imposible{ending}")
        if rng.random() < 0.02:
            lines.append(f"{at:%d/%m/%Y, %H:%M} - Tienda Sol cambió su número{ending}")
            continue
        lines.append(f"{at:%d/%m/%Y, %H:%M} - {who}: {text}{ending}")
        if rng.random() < 0.05:
            lines.append(f"y una línea más{ending}")
    path.write_bytes("".join(lines).encode("utf-8"))
    return path


def _messages(source: ExportSource, spans: list[Span] | None, tz: str) -> list[object]:
    survey = survey_export(source)
    plan = plan_roles(survey, business="Tienda Sol", phone=PHONE)
    out: list[object] = []
    for span in spans or [None]:
        parsed = parse_export(source, tz=tz, survey=survey, span=span)
        out += list(to_new_messages(parsed, plan))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("tz", ["America/Bogota", "America/New_York"])
def test_spans_read_alone_give_what_one_pass_gives(tmp_path: Path, seed: int, tz: str) -> None:
    path = _messy_chat(tmp_path / "chat.txt", 12_000, seed)
    source = ExportSource.from_path(path)
    spans = plan_spans(survey_export(source), tz, span_bytes=16_384)

    assert len(spans) >= 5
    assert spans[0].start == 0 and spans[-1].end is None
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    whole = _messages(source, None, tz)
    assert _messages(source, spans, tz) == whole
    assert any(not isinstance(item, tuple) for item in whole)  # problems came through too


def test_a_chat_whose_time_never_settles_is_not_cut(tmp_path: Path) -> None:
    lines = []
    start = datetime(2024, 1, 1, 8, 0)
    for n in range(6000):  # every other message goes back a minute: no safe place to cut
        at = start + timedelta(minutes=n // 2 * 2 - (n % 2) * 3)
        lines.append(f"{at:%d/%m/%Y, %H:%M} - Ana: mensaje {n % 3}\n")
    path = tmp_path / "chat.txt"
    path.write_text("".join(lines), encoding="utf-8")
    source = ExportSource.from_path(path)

    assert plan_spans(survey_export(source), "UTC", span_bytes=8192) == [Span(0, None, 1)]


def test_small_zip_and_utf16_exports_are_one_span(tmp_path: Path) -> None:
    path = _messy_chat(tmp_path / "chat.txt", 3000, 7)
    archive = tmp_path / "chat.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(path, "WhatsApp Chat with Ana.txt")
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    whole = [Span(0, None, 1)]

    for export in (archive, utf16):
        assert plan_spans(survey_export(export), "UTC", span_bytes=4096) == whole
    assert plan_spans(survey_export(path), "UTC") == whole  # small next to the default size
    memory_source = ExportSource.from_bytes("chat.txt", path.read_bytes())
    assert plan_spans(survey_export(memory_source), "UTC", span_bytes=4096) == whole


def test_only_a_plain_file_reads_from_an_offset(tmp_path: Path) -> None:
    source = ExportSource.from_bytes("chat.txt", b"1/2/24, 10:00 - Ana: hola\n")
    with pytest.raises(ValueError, match="only a plain text file"):
        next(source.lines_between(0, None))


def _survey_fields(survey: ExportSurvey) -> tuple[object, ...]:
    return (
        survey.date_order,
        survey.date_order_certain,
        survey.lines,
        survey.headers,
        survey.system_lines,
        survey.group_notices,
        list(survey.authors.items()),
        survey.too_many_authors,
    )


def _ambiguous_chat(path: Path) -> Path:
    """Days and months never above 12, the clock going back now and then: only the votes
    (dates impossible or going back in each order) can tell the order."""
    rng = random.Random(5)
    lines = []
    for n in range(20_000):
        day, month = 1 + (n // 300) % 12, 1 + (n // 3600) % 12
        if rng.random() < 0.01:
            day, month = month, day
        lines.append(f"{month}/{day}/22, 10:{n % 60:02d} - {'Ana' if n % 2 else 'Luz'}: hola\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


async def test_workers_count_parts_of_a_survey_as_one_pass_would(tmp_path: Path) -> None:
    many_authors = tmp_path / "autores.txt"
    many_authors.write_text(
        "".join(f"1/2/24, 10:00 - Persona {n}: hola\n" for n in range(12_000)), encoding="utf-8"
    )
    exports = [
        _messy_chat(tmp_path / "chat.txt", 20_000, 11),
        _ambiguous_chat(tmp_path / "ambigua.txt"),
        many_authors,  # more authors than one pass counts: surveyed again in one pass
    ]
    crew = await WorkerCrew.spawn(Preparer(), 2)
    try:
        for export in exports:
            source = ExportSource.from_path(export)
            assert len(part_starts(source, 3)) == 2
            one_pass = survey_export(source)
            by_parts = await crew.survey(source)
            assert _survey_fields(by_parts) == _survey_fields(one_pass)
            forced = await crew.survey(source, date_order="ymd")
            assert forced.date_order is DateOrder.YMD and forced.date_order_certain
    finally:
        await crew.close()
    assert _survey_fields(one_pass)[-1] is True  # the last export had too many authors


async def test_a_survey_by_parts_refuses_what_one_pass_refuses(tmp_path: Path) -> None:
    not_chat = tmp_path / "notas.txt"
    not_chat.write_text("una nota cualquiera\n" * 5000, encoding="utf-8")
    binary = tmp_path / "foto.txt"
    binary.write_bytes(bytes(range(256)) * 400)
    crew = await WorkerCrew.spawn(Preparer(), 2)
    try:
        with pytest.raises(ImportFormatError, match="no WhatsApp message header"):
            await crew.survey(ExportSource.from_path(not_chat))
        source = ExportSource.from_path(_messy_chat(tmp_path / "chat.txt", 2000, 3))
        assert (await crew.survey(source)).headers == survey_export(source).headers
        with pytest.raises(ImportFormatError, match="binary file"):
            await crew.survey(ExportSource.from_path(binary))
        with pytest.raises(ImportFormatError, match="worker process"):
            await crew.survey(source)  # a crew that failed mid-survey is not used again
    finally:
        await crew.close()
    assert part_starts(ExportSource.from_bytes("x.txt", b"1/2/24, 10:00 - A: b\n"), 3) == []
