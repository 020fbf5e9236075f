"""The JSONL format: reading with per-line problems, writing, and export → import round trips."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recuerdo import Memory
from recuerdo.importers import ImportReport, ParseProblem, record_in_batches
from recuerdo.importers.jsonl import FIELDS, parse_line, read_jsonl, to_line, write_jsonl
from recuerdo.model import ContentType, Message, NewMessage, Role

WHO = "573001234567"
DOC = Path(__file__).resolve().parents[2] / "docs" / "jsonl-format.md"


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_full_line_is_read() -> None:
    message = parse_line(
        {
            "who": WHO,
            "role": "manual_operator",
            "content": "hola\nAna",
            "at": "2024-05-01T09:03:00-05:00",
            "thread_id": "conv_1",
            "external_id": "wamid.1",
            "content_type": "image",
            "metadata": {"k": [1, 2]},
            "profile_name": "Ana",
        }
    )
    assert message == NewMessage(
        WHO,
        Role.MANUAL_OPERATOR,
        "hola\nAna",
        datetime(2024, 5, 1, 14, 3, tzinfo=UTC),
        "conv_1",
        "wamid.1",
        "image",
        {"k": [1, 2]},
        "Ana",
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"role": "user", "content": "x"}', "'who' is required"),
        ('{"who": "nadie", "role": "user", "content": "x"}', "invalid client identifier"),
        ('{"who": "573001234567", "role": "bot", "content": "x"}', "unknown role"),
        ('{"who": "573001234567", "role": "user", "content": ""}', "'content' is required"),
        ('{"who": "573001234567", "role": "user", "content": "x", "at": "2024-05-01T09:00"}',
         "no UTC offset"),
        ('{"who": "573001234567", "role": "user", "content": "x", "at": "ayer"}', "not an ISO"),
        ('{"who": "573001234567", "role": "user", "content": "x", "content_type": "gif"}',
         "unknown content_type"),
        ('{"who": "573001234567", "role": "user", "content": "x", "metadata": [1]}',
         "'metadata' must be an object"),
        ('{"who": "573001234567", "role": "user", "content": "x", "thread_id": 5}',
         "'thread_id' must be a string"),
        ('{"who": "573001234567", "role": "user", "conten": "x"}', "unknown field(s) conten"),
    ],
)  # fmt: skip
def test_malformed_lines_are_reported_with_file_and_line(
    tmp_path: Path, line: str, reason: str
) -> None:
    good = '{"who": "573001234567", "role": "user", "content": "bien"}'
    path = _write(tmp_path, [good, line, "", good])
    items = list(read_jsonl(path))
    problems = [i for i in items if isinstance(i, ParseProblem)]
    assert len(problems) == 1
    assert (problems[0].file, problems[0].line_no) == (str(path), 2)
    assert reason in problems[0].reason
    assert [i[1] for i in items if not isinstance(i, ParseProblem)] == [1, 4]


def test_non_utf8_and_oversized_lines_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(b'{"who": "\xff"}\n' + b'{"x": "' + b"a" * (1024 * 1024) + b'"}\n')
    reasons = [i.reason for i in read_jsonl(path) if isinstance(i, ParseProblem)]
    assert reasons[0] == "not UTF-8"
    assert "over" in reasons[1]


def test_writer_leaves_out_empty_fields_and_writes_utc() -> None:
    at = datetime(2024, 5, 1, 9, 3, tzinfo=timezone(timedelta(hours=-5)))
    line = to_line(NewMessage(WHO, "user", "¡hola!", at=at))
    assert json.loads(line) == {
        "who": WHO,
        "role": "user",
        "content": "¡hola!",
        "at": "2024-05-01T14:03:00+00:00",
        "content_type": "text",
    }
    assert "¡hola!" in line  # readable UTF-8, not \\u escapes


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(str.strip)
messages = st.builds(
    NewMessage,
    who=st.sampled_from([WHO, "12345@lid", "CO.abc123"]),
    role=st.sampled_from(list(Role)),
    content=_TEXT,
    at=st.none() | st.datetimes(timezones=st.just(UTC)),
    thread_id=st.none() | st.text(max_size=10),
    external_id=st.none() | st.text(min_size=1, max_size=20),
    content_type=st.sampled_from([c.value for c in ContentType]),
    metadata=st.none() | st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5)),
    profile_name=st.none() | st.text(max_size=10),
)


@given(st.lists(messages, max_size=10))
def test_write_then_read_gives_the_same_messages(batch: list[NewMessage]) -> None:
    out = io.StringIO()
    assert write_jsonl(batch, out) == len(batch)
    text = out.getvalue()
    assert len(text.splitlines()) == len(batch)  # no stray line breaks inside a line
    back = [parse_line(json.loads(line)) for line in text.splitlines()]
    expected = [
        NewMessage(
            m.who,
            Role(m.role),
            m.content,
            m.at,
            m.thread_id,
            m.external_id,
            m.content_type,
            m.metadata or None,
            m.profile_name,
        )
        for m in batch
    ]
    assert back == expected


def test_every_field_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for name in FIELDS:
        assert f"| `{name}` |" in doc


async def test_export_then_import_into_an_empty_database(memory: Memory, tmp_path: Path) -> None:
    start = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
    await memory.record_many(
        [
            NewMessage(WHO, "user", "hola", at=start, external_id="wamid.1", profile_name="Ana"),
            NewMessage(WHO, "assistant", "¡Hola Ana!", at=start + timedelta(seconds=5),
                       thread_id="conv_1", external_id="wamid.2"),
            NewMessage(WHO, "manual_operator", "<image omitted>", at=start + timedelta(hours=9),
                       content_type="image", metadata={"author": "Laura"}, external_id="x3"),
        ]
    )  # fmt: skip
    page = await memory.history(WHO, limit=50)
    exported = [
        NewMessage(
            WHO, m.role, m.content, m.at, m.thread_id, m.external_id, m.content_type, m.metadata
        )
        for m in reversed(page.items)
    ]
    path = tmp_path / "export.jsonl"
    with path.open("w", encoding="utf-8") as fp:
        write_jsonl(exported, fp)

    fresh = await Memory.open(f"sqlite:///{tmp_path}/fresh.db")
    try:
        for expected_new in (3, 0):
            report = ImportReport()
            await record_in_batches(fresh, read_jsonl(path), report, file=str(path))
            assert (report.imported, report.duplicates) == (expected_new, 3 - expected_new)
        copy = await fresh.history(WHO, limit=50)
        original_conversations = {m.conversation_id for m in page.items}
        copied_conversations = {m.conversation_id for m in copy.items}
    finally:
        await fresh.close()

    def shape(items: tuple[Message, ...]) -> list[tuple[object, ...]]:
        return [
            (m.at, m.role, m.content, m.content_type, m.thread_id, m.external_id, m.metadata)
            for m in items
        ]

    assert shape(copy.items) == shape(page.items)
    assert len(copied_conversations) == len(original_conversations)
