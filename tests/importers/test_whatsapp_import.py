"""WhatsApp exports stored through Memory.record_many, on SQLite and PostgreSQL."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recuerdo import ClientNotFound, Memory, Role
from recuerdo.errors import ImportFormatError, InvalidInput
from recuerdo.importers import ImportProgress, import_whatsapp
from tests.importers.conftest import EXPORTS

PHONE = "+57 300 123 4567"


def _chat(count: int, start: datetime = datetime(2024, 3, 1, 8, 0)) -> list[str]:
    """A 1:1 chat of ``count`` messages between a client and a shop, a few with the same text."""
    lines = []
    for n in range(count):
        at = start + timedelta(minutes=7 * n)
        who = "Ana" if n % 2 else "Tienda Sol"
        text = "ok" if n % 5 == 0 else f"mensaje {n}"
        lines.append(f"{at:%d/%m/%Y, %H:%M} - {who}: {text}\n")
    return lines


async def _all_messages(memory: Memory, who: str = PHONE) -> list[tuple[datetime, str, str]]:
    page = await memory.history(who, limit=500)
    return sorted((m.at, m.role.value, m.content) for m in page.items)


async def test_import_stores_every_message_with_roles_and_times(memory: Memory) -> None:
    path = EXPORTS / "chat-analytics" / "2A_5M.txt"
    report = await import_whatsapp(memory, [path], business="A", phone=PHONE)

    assert (report.imported, report.duplicates, report.problem_count) == (5, 0, 0)
    assert dict(report.authors) == {"A": 3, "B": 2}
    stored = await _all_messages(memory)
    assert len(stored) == 5
    assert stored[0] == (datetime(2021, 1, 1, 17, 0, tzinfo=UTC), "assistant", "Hi")
    page = await memory.history(PHONE, limit=10)
    media = next(m for m in page.items if m.content == "<media omitted>")
    assert media.role is Role.USER
    assert media.content_type == "other"
    assert media.metadata["source"] == "whatsapp-export"
    assert media.metadata["author"] == "B"
    assert media.external_id is not None
    assert media.external_id.startswith("wa-export:")


async def test_reimporting_the_same_file_stores_nothing_twice(memory: Memory) -> None:
    path = EXPORTS / "whatstk" / "lorem-2000.txt"
    first = await import_whatsapp(memory, [path], business=["Mary", "John"], operators=["Giuseppe"])
    again = await import_whatsapp(memory, [path], business=["Mary", "John"], operators=["Giuseppe"])

    assert (first.imported, first.duplicates) == (2000, 0)
    assert (again.imported, again.duplicates) == (0, 2000)
    client = await memory.client("+1 123 456 789")
    assert client.total_messages == 2000


async def test_overlapping_exports_store_each_message_once(memory: Memory, tmp_path: Path) -> None:
    lines = _chat(300)
    older, newer = tmp_path / "old.txt", tmp_path / "new.txt"
    older.write_text("".join(lines[:200]), encoding="utf-8")
    newer.write_text("".join(lines[120:]), encoding="utf-8")

    first = await import_whatsapp(memory, [older], business="Tienda Sol", phone=PHONE)
    second = await import_whatsapp(memory, [newer], business="Tienda Sol", phone=PHONE)

    assert (first.imported, first.duplicates) == (200, 0)
    assert (second.imported, second.duplicates) == (100, 80)
    assert len((await memory.history(PHONE, limit=500)).items) == 300


async def test_zip_and_txt_of_the_same_chat_are_the_same_messages(
    memory: Memory, tmp_path: Path
) -> None:
    text = "".join(_chat(20))
    txt = tmp_path / "WhatsApp Chat with Ana.txt"
    txt.write_text(text, encoding="utf-8")
    archive = tmp_path / "WhatsApp Chat with Ana.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("WhatsApp Chat with Ana.txt", text)

    from_zip = await import_whatsapp(memory, [archive], business="Tienda Sol", phone=PHONE)
    from_txt = await import_whatsapp(memory, [txt], business="Tienda Sol", phone=PHONE)
    assert (from_zip.imported, from_txt.imported, from_txt.duplicates) == (20, 0, 20)


async def test_bad_lines_are_reported_and_the_rest_is_imported(
    memory: Memory, tmp_path: Path
) -> None:
    lines = _chat(10)
    lines.insert(4, "31/02/2024, 10:00 - Ana: el 31 de febrero\n")
    path = tmp_path / "chat.txt"
    path.write_text("".join(lines), encoding="utf-8")

    report = await import_whatsapp(memory, [path], business="Tienda Sol", phone=PHONE)

    assert report.imported == 10
    assert [(p.file, p.line_no) for p in report.problems] == [(str(path), 5)]
    assert "impossible date" in report.problems[0].reason


async def test_wrong_business_name_imports_nothing(memory: Memory, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("".join(_chat(10)), encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text("".join(_chat(10)).replace("Tienda Sol", "Tienda Luna"), encoding="utf-8")

    with pytest.raises(InvalidInput, match="'Tienda Luna' \\(5\\)"):
        await import_whatsapp(memory, [good, other], business="Tienda Sol", phone=PHONE)
    with pytest.raises(ClientNotFound):
        await memory.client(PHONE)


async def test_group_chat_is_refused_unless_allowed(memory: Memory) -> None:
    path = EXPORTS / "chat-analytics" / "4A_11M.txt"
    with pytest.raises(InvalidInput, match="group chat"):
        await import_whatsapp(memory, [path], business="Alice", phone=PHONE)
    with pytest.raises(ClientNotFound):
        await memory.client(PHONE)

    report = await import_whatsapp(
        memory, [path], business="Alice", phone=PHONE, allow_groups=True, keep_system=False
    )
    assert (report.imported, report.system_lines, report.skipped) == (11, 3, 3)


async def test_unreadable_files_import_nothing(memory: Memory, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("".join(_chat(10)), encoding="utf-8")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    unknown = tmp_path / "notes.txt"
    unknown.write_text("una lista de compras\nleche\npan\n", encoding="utf-8")

    for bad in (binary, unknown):
        with pytest.raises(ImportFormatError):
            await import_whatsapp(memory, [good, bad], business="Tienda Sol", phone=PHONE)
    with pytest.raises(ClientNotFound):
        await memory.client(PHONE)


async def test_progress_is_reported_after_each_batch(memory: Memory, tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text("".join(_chat(25)), encoding="utf-8")
    seen: list[ImportProgress] = []

    await import_whatsapp(
        memory, [path], business="Tienda Sol", phone=PHONE, batch_size=10, progress=seen.append
    )

    assert [p.imported for p in seen] == [10, 20, 25]
    assert seen[-1].lines_read == seen[-1].lines_total == 25


async def test_every_shared_one_to_one_export_imports(memory: Memory) -> None:
    cases = [
        ("chat-analytics/2A_5M.txt", "A", 5),
        ("whatstk/lorem.txt", ["Mary", "John", "Giuseppe"], 500),
    ]
    for name, business, count in cases:
        report = await import_whatsapp(memory, [EXPORTS / name], business=business, phone=PHONE)
        assert (report.imported, report.problem_count) == (count, 0)


async def test_ambiguous_dates_are_warned_about(memory: Memory) -> None:
    path = EXPORTS / "chat-analytics" / "2A_5M.txt"
    report = await import_whatsapp(memory, [path], business="A", phone=PHONE)
    assert any("day or the month" in w for w in report.warnings)
