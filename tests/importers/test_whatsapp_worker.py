"""Large exports read by a worker process: the same result as one process, and clear errors."""

from __future__ import annotations

import signal
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from recuerdo import Memory
from recuerdo.errors import ImportFormatError, InvalidInput
from recuerdo.importers import (
    ExportSource,
    ImportProgress,
    ImportReport,
    import_whatsapp,
    parallel,
    survey_export,
    whatsapp_spans,
)
from recuerdo.importers.parallel import ReadJob, WorkerCrew, WorkerReader, import_in_worker
from recuerdo.importers.whatsapp_roles import plan_roles
from recuerdo.importers.whatsapp_spans import Span

PHONE = "+57 300 123 4567"


def _write_chat(path: Path, count: int) -> Path:
    lines = ["Mensajes cifrados de extremo a extremo.\n"]  # text before the first message
    start = datetime(2024, 3, 1, 8, 0)
    for n in range(count):
        at = start + timedelta(minutes=3 * n)
        who = "Ana" if n % 2 else "Tienda Sol"
        text = "ok" if n % 7 == 0 else f"mensaje {n}"
        lines.append(f"{at:%d/%m/%Y, %H:%M} - {who}: {text}\n")
        if n % 50 == 0:
            lines.append("segunda línea del mensaje\n")
        if n == 10:
            lines.append("31/02/2024, 10:00 - Ana: una fecha imposible\n")
        if n == 20:
            lines.append(f"{at:%d/%m/%Y, %H:%M} - Tienda Sol: <Multimedia omitido>\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


async def _stored(memory: Memory) -> list[tuple[object, ...]]:
    out, cursor = [], None
    while True:
        page = await memory.history(PHONE, limit=1000, before=cursor)
        out += [
            (m.at, m.role, m.content, m.content_type, m.external_id, m.metadata) for m in page.items
        ]
        if page.next_cursor is None:
            return sorted(out, key=repr)
        cursor = page.next_cursor


def _problems(report: ImportReport) -> list[tuple[int, str]]:
    return [(p.line_no, p.reason) for p in report.problems]


async def test_a_worker_imports_exactly_what_one_process_does(
    memory: Memory, tmp_path: Path
) -> None:
    path = _write_chat(tmp_path / "chat.txt", 2500)
    other = memory.for_tenant("comparacion")
    by_worker = await import_whatsapp(
        memory, [path], business="Tienda Sol", phone=PHONE, worker=True, batch_size=300
    )
    in_process = await import_whatsapp(
        other, [path], business="Tienda Sol", phone=PHONE, worker=False, batch_size=300
    )

    assert by_worker.imported == in_process.imported == 2501
    assert _problems(by_worker) == _problems(in_process)
    assert [line for line, _ in _problems(by_worker)] == [1, 14]
    assert await _stored(memory) == await _stored(other)
    client = await memory.client(PHONE)
    assert client.total_messages == 2501
    assert client.profile_name == "Ana"

    again = await import_whatsapp(memory, [path], business="Tienda Sol", phone=PHONE, worker=True)
    assert (again.imported, again.duplicates) == (0, 2501)


@pytest.mark.parametrize("workers", [2, 1])  # one on a machine with one processor
async def test_workers_reading_spans_in_turn_import_what_one_process_does(
    memory: Memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    path = _write_chat(tmp_path / "chat.txt", 6000)
    monkeypatch.setattr(whatsapp_spans, "SPAN_BYTES", 16_384)
    monkeypatch.setattr(parallel, "crew_size", lambda: workers)
    assert len(whatsapp_spans.plan_spans(survey_export(path), "America/Bogota")) > 8
    other = memory.for_tenant("comparacion")
    progress: list[ImportProgress] = []
    by_worker = await import_whatsapp(
        memory,
        [path],
        business="Tienda Sol",
        phone=PHONE,
        worker=True,
        batch_size=250,
        progress=progress.append,
    )
    in_process = await import_whatsapp(
        other, [path], business="Tienda Sol", phone=PHONE, worker=False, batch_size=250
    )

    assert by_worker.imported == in_process.imported == 6001
    assert _problems(by_worker) == _problems(in_process)
    assert await _stored(memory) == await _stored(other)
    client = await memory.client(PHONE)
    assert (client.total_messages, client.total_conversations) == (6001, 1)
    lines = [p.lines_read for p in progress]
    assert lines == sorted(lines) and lines[-1] == progress[-1].lines_total
    again = await import_whatsapp(memory, [path], business="Tienda Sol", phone=PHONE, worker=True)
    assert (again.imported, again.duplicates) == (0, 6001)


async def test_several_files_each_get_a_worker_with_the_same_options(
    memory: Memory, tmp_path: Path
) -> None:
    first = _write_chat(tmp_path / "uno.txt", 300)
    second = tmp_path / "dos.txt"
    second.write_text(
        "01/06/2024, 08:00 - Ana: ¿siguen abiertos?\n"
        "01/06/2024, 08:01 - Tienda Sol cambió el asunto a «Ventas»\n"
        "01/06/2024, 08:02 - Tienda Sol: sí, hasta las 8 p. m.\n",
        encoding="utf-8",
    )
    other = memory.for_tenant("comparacion")
    reports = [
        await import_whatsapp(
            target,
            [first, second],
            business="Tienda Sol",
            phone=PHONE,
            keep_system=False,
            tz="UTC",
            worker=worker,
        )
        for target, worker in ((memory, True), (other, False))
    ]
    by_worker, in_process = reports

    assert by_worker.files == in_process.files
    assert (by_worker.imported, by_worker.skipped) == (in_process.imported, in_process.skipped)
    assert by_worker.imported == 303
    assert by_worker.skipped == 1  # the system line, left out
    assert _problems(by_worker) == _problems(in_process)
    assert await _stored(memory) == await _stored(other)
    latest = (await memory.history(PHONE, limit=1)).items[0]
    assert latest.at.hour == 8 and latest.at.minute == 2  # read as UTC, as asked


async def test_a_worker_reports_messages_its_checks_refuse(tmp_path: Path) -> None:
    from recuerdo import Settings

    path = tmp_path / "chat.txt"
    path.write_text(
        "01/03/2024, 08:00 - Ana: hola\n"
        f"01/03/2024, 08:01 - Ana: {'x' * 300}\n"
        "01/03/2024, 08:02 - Tienda Sol: ¡hola!\n",
        encoding="utf-8",
    )
    settings = Settings(max_content_bytes=200)
    async with await Memory.open(f"sqlite:///{tmp_path}/db.sqlite", settings=settings) as memory:
        report = await import_whatsapp(
            memory, [path], business="Tienda Sol", phone=PHONE, worker=True
        )
        assert report.imported == 2
        assert [(p.line_no, "limit is 200 bytes" in p.reason) for p in report.problems] == [
            (2, True)
        ]


async def test_a_worker_needs_a_file_and_a_local_memory(memory: Memory) -> None:
    source = ExportSource.from_bytes("chat.txt", b"01/03/2024, 08:00 - Ana: hola\n")
    with pytest.raises(InvalidInput, match="worker=True needs a local Memory and an export file"):
        await import_whatsapp(memory, [source], business="Tienda", phone=PHONE, worker=True)
    assert await memory.find_client(PHONE) is None


async def test_small_files_are_read_in_this_process(memory: Memory, tmp_path: Path) -> None:
    path = _write_chat(tmp_path / "chat.txt", 30)

    async def no_worker(cls: object, preparer: object) -> WorkerReader:
        raise AssertionError("a worker was started for a small file")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WorkerReader, "spawn", classmethod(no_worker))
        report = await import_whatsapp(memory, [path], business="Tienda Sol", phone=PHONE)
    assert report.imported == 31


async def test_a_worker_that_dies_is_a_clear_error(memory: Memory, tmp_path: Path) -> None:
    path = _write_chat(tmp_path / "chat.txt", 40_000)
    survey = survey_export(path)
    plan = plan_roles(survey, business="Tienda Sol", phone=PHONE)
    reader = await WorkerReader.spawn(memory.preparer)
    await reader.start(ReadJob(survey, plan, "America/Bogota", True, 500), [Span(0, None, 1)])
    report = ImportReport()
    first = await reader.take(report)
    assert first is not None and len(first) == 500
    reader._process.send_signal(signal.SIGKILL)
    with pytest.raises(ImportFormatError, match="stopped unexpectedly"):
        await _drain(reader, report)
    await reader.close()


async def test_a_crew_whose_second_worker_dies_stops_with_a_clear_error(
    memory: Memory, tmp_path: Path
) -> None:
    path = _write_chat(tmp_path / "chat.txt", 40_000)
    survey = survey_export(path)
    plan = plan_roles(survey, business="Tienda Sol", phone=PHONE)
    spans = whatsapp_spans.plan_spans(survey, "America/Bogota", span_bytes=100_000)
    assert len(spans) >= 4
    crew = await WorkerCrew.spawn(memory.preparer, 2)
    try:
        await crew.start(ReadJob(survey, plan, "America/Bogota", True, 500), spans)
        report = ImportReport()
        first = await crew.take(report)
        assert first[0][1] == 2  # the first message, after the line before it
        crew._readers[1]._process.send_signal(signal.SIGKILL)
        with pytest.raises(ImportFormatError, match="stopped unexpectedly"):
            await _drain_crew(crew, report)
    finally:
        await crew.close()
    assert all(r._process.returncode is not None for r in crew._readers)


async def _drain_crew(crew: WorkerCrew, report: ImportReport) -> None:
    while await crew.take(report):
        pass


async def _drain(reader: WorkerReader, report: ImportReport) -> None:
    while await reader.take(report):
        pass


async def test_a_file_gone_before_the_worker_reads_it(memory: Memory, tmp_path: Path) -> None:
    path = _write_chat(tmp_path / "chat.txt", 100)
    survey = survey_export(path)
    plan = plan_roles(survey, business="Tienda Sol", phone=PHONE)
    path.unlink()
    crew = await WorkerCrew.spawn(memory.preparer)
    with pytest.raises(ImportFormatError, match="no such file"):
        await import_in_worker(
            memory,
            crew,
            survey,
            plan,
            ImportReport(),
            tz="America/Bogota",
            keep_system=True,
            batch_size=100,
        )
    assert await memory.find_client(PHONE) is None
