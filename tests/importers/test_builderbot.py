"""BuilderBot history: its JSON file, mongoexport lines and PostgreSQL tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from recuerdo import Memory
from recuerdo.errors import ImportFormatError
from recuerdo.importers import ImportReport, ParseProblem, record_in_batches
from recuerdo.importers.builderbot import (
    entry_role,
    read_builderbot_json,
    read_builderbot_mongo_export,
)
from recuerdo.importers.builderbot_postgres import (
    ClientAttributes,
    contact_row_to_attributes,
    history_row_to_message,
    read_builderbot_contacts,
    read_builderbot_postgres,
)
from recuerdo.model import NewMessage, Role
from tests.conftest import fresh_pg_database

CLIENT = "573001234567"
ANSWER_OPTIONS = {"media": None, "buttons": [], "capture": False, "delay": 0}

# What BuilderBot saves for one conversation, in order (see the module docstring).
ENTRIES: list[dict[str, Any]] = [
    {"ref": "ans_1", "keyword": "key_1", "answer": "¡Hola! ¿En qué te ayudo?",
     "refSerialize": "a1", "from": CLIENT, "options": {**ANSWER_OPTIONS, "capture": True}},
    {"ref": "6f0c", "keyword": "a1", "answer": "quiero una pizza", "refSerialize": "b2",
     "from": CLIENT, "options": {}},
    {"ref": "ans_2", "keyword": "ans_1", "answer": "__call_action__", "refSerialize": "c3",
     "from": CLIENT, "options": {**ANSWER_OPTIONS, "callback": True}},
    {"ref": "9d2e", "keyword": None, "answer": "Te envío el menú", "refSerialize": "d4",
     "from": CLIENT, "options": {**ANSWER_OPTIONS, "media": "https://x.co/menu.jpg"}},
    {"ref": "ans_3", "keyword": "ans_2", "answer": "Elige una opción",
     "refSerialize": "e5", "from": CLIENT,
     "options": {**ANSWER_OPTIONS, "buttons": [{"body": "Grande"}, {"body": "Mediana"}]}},
    {"ref": "1a2b", "keyword": "e5", "answer": "_event_voice_note__7e1c-44", "refSerialize": "f6",
     "from": CLIENT, "options": {}},
    {"ref": "ans_1", "keyword": "key_1", "answer": "¡Hola! ¿En qué te ayudo?",
     "refSerialize": "a1", "from": CLIENT, "options": {**ANSWER_OPTIONS, "capture": True}},
]  # fmt: skip
EXPECTED = [
    (Role.ASSISTANT, "¡Hola! ¿En qué te ayudo?", "text"),
    (Role.USER, "quiero una pizza", "text"),
    (Role.ASSISTANT, "Te envío el menú", "image"),
    (Role.ASSISTANT, "Elige una opción", "text"),
    (Role.USER, "<voice note received>", "audio"),
    (Role.ASSISTANT, "¡Hola! ¿En qué te ayudo?", "text"),
]


def _messages(items: Any) -> list[NewMessage]:
    out = []
    for item in items:
        assert not isinstance(item, ParseProblem), item
        out.append(item[0])
    return out


def _summary(messages: list[NewMessage]) -> list[tuple[Role | str, str, str]]:
    return [(m.role, m.content, m.content_type) for m in messages]


@pytest.mark.parametrize(
    ("entry", "role"),
    [
        ({"ref": "ans_x", "answer": "hola"}, Role.ASSISTANT),
        ({"ref": "uuid", "keyword": "abc", "answer": "hola", "options": {}}, Role.USER),
        ({"ref": "uuid", "answer": "hola", "options": {"delay": 0}}, Role.ASSISTANT),
        ({"ref": "key_x", "answer": ["hola", "buenas"]}, None),
        ({"ref": "ans_x", "answer": "__goto_flow__"}, None),
        ({"ref": "ans_x", "answer": "__capture_only_intended__"}, None),
    ],
)
def test_entry_roles(entry: dict[str, Any], role: Role | None) -> None:
    assert entry_role(entry) == role


def test_json_database_in_order_with_media_buttons_and_events(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    path.write_text(json.dumps(ENTRIES, indent=2), encoding="utf-8")
    end = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    report = ImportReport()

    messages = _messages(read_builderbot_json(path, last_at=end, report=report))

    assert _summary(messages) == EXPECTED
    assert report.skipped == 1  # the __call_action__ marker
    assert {m.who for m in messages} == {CLIENT}
    assert messages[-1].at == end
    assert [m.at for m in messages] == sorted(m.at for m in messages)
    assert messages[2].metadata is not None
    assert messages[2].metadata["media"] == "https://x.co/menu.jpg"
    assert messages[3].metadata is not None
    assert messages[3].metadata["buttons"] == ["Grande", "Mediana"]
    assert messages[0].metadata is not None
    assert messages[0].metadata["at_estimated"] is True
    ids = [m.external_id for m in messages]
    assert len(set(ids)) == len(ids)  # the repeated greeting is a second message


def test_json_ids_survive_the_file_growing(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    path.write_text(json.dumps(ENTRIES[:4]), encoding="utf-8")
    before = {m.external_id for m in _messages(read_builderbot_json(path))}
    path.write_text(json.dumps(ENTRIES), encoding="utf-8")
    after = {m.external_id for m in _messages(read_builderbot_json(path))}
    assert before < after
    assert len(after - before) == 3


def test_json_entries_without_a_client_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    path.write_text(json.dumps([{"ref": "ans_1", "answer": "hola", "from": "nadie"}, 5]))
    problems = list(read_builderbot_json(path))
    assert [(p.line_no, type(p).__name__) for p in problems] == [
        (1, "ParseProblem"),
        (2, "ParseProblem"),
    ]


@pytest.mark.parametrize("content", ["{}", "not json", '{"history": []}'])
def test_json_file_that_is_not_a_history_list_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "db.json"
    path.write_text(content)
    with pytest.raises(ImportFormatError):
        list(read_builderbot_json(path))


def test_mongoexport_lines_with_extended_json(tmp_path: Path) -> None:
    lines = [
        {**ENTRIES[0], "_id": {"$oid": "65f0a0000000000000000001"},
         "date": {"$date": "2024-03-12T15:00:00.000Z"}},
        {**ENTRIES[1], "_id": {"$oid": "65f0a0000000000000000002"},
         "date": {"$date": {"$numberLong": "1710255605000"}}},
        {**ENTRIES[3], "_id": {"$oid": "65f0a0000000000000000003"},
         "options": {**ANSWER_OPTIONS, "delay": {"$numberInt": "0"},
                     "media": "https://x.co/menu.jpg"}},
    ]  # fmt: skip
    path = tmp_path / "history.json"
    text = "\n".join(json.dumps(line) for line in lines)
    path.write_text(text[:-1] + "\nnot json at all\n", encoding="utf-8")

    items = list(read_builderbot_mongo_export(path))

    problems = [i for i in items if isinstance(i, ParseProblem)]
    assert [p.line_no for p in problems] == [3, 4]  # the cut third line, the garbage line
    messages = _messages(i for i in items if not isinstance(i, ParseProblem))
    assert _summary(messages) == EXPECTED[:2]
    assert messages[0].at == datetime(2024, 3, 12, 15, 0, tzinfo=UTC)
    assert messages[1].at == datetime(2024, 3, 12, 15, 0, 5, tzinfo=UTC)
    assert messages[0].external_id == "builderbot-mongo:65f0a0000000000000000001"


def test_mongo_document_without_date_uses_its_object_id(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text(json.dumps({**ENTRIES[1], "_id": {"$oid": "65f0a0000000000000000002"}}))
    (message,) = _messages(read_builderbot_mongo_export(path))
    assert message.at == datetime.fromtimestamp(0x65F0A000, UTC)


def test_postgres_rows_map_to_messages_and_contacts() -> None:
    row = {
        "id": 3, "ref": "ans_1", "keyword": "key_1", "answer": "Hola", "refserialize": "a1",
        "phone": CLIENT, "options": json.dumps(ANSWER_OPTIONS),
        "at": datetime(2024, 1, 1, tzinfo=UTC),
    }  # fmt: skip
    message = history_row_to_message(row)
    assert message is not None
    assert (message.role, message.content, message.who) == (Role.ASSISTANT, "Hola", CLIENT)
    assert message.external_id is not None
    assert message.external_id.startswith("builderbot-pg:")
    assert contact_row_to_attributes({"phone": CLIENT, "values": None}) is None
    assert contact_row_to_attributes({"phone": CLIENT, "values": '{"plan": "pro"}'}) == (
        ClientAttributes(CLIENT, {"plan": "pro"})
    )


BUILDERBOT_DDL = """
CREATE TABLE contact (
    id SERIAL PRIMARY KEY, phone VARCHAR(255) NOT NULL,
    created_at TIMESTAMP DEFAULT current_timestamp, updated_in TIMESTAMP,
    last_interaction TIMESTAMP, values JSONB);
CREATE TABLE history (
    id SERIAL PRIMARY KEY, ref VARCHAR(255) NOT NULL, keyword VARCHAR(255),
    answer TEXT NOT NULL, refSerialize TEXT NOT NULL, phone VARCHAR(255) NOT NULL,
    options JSONB, created_at TIMESTAMP DEFAULT current_timestamp, updated_in TIMESTAMP,
    contact_id INTEGER REFERENCES contact(id));
"""


@pytest.fixture
async def builderbot_pg(pg_server_url: str) -> str:
    """A PostgreSQL database holding BuilderBot's tables, filled as its adapter would."""
    url = await fresh_pg_database(pg_server_url)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET TimeZone = 'UTC'")
        await conn.execute(BUILDERBOT_DDL)
        contact_id = await conn.fetchval(
            "INSERT INTO contact (phone, values) VALUES ($1, $2) RETURNING id",
            CLIENT,
            json.dumps({"nombre": "Ana", "ciudad": "Bogotá"}),
        )
        await conn.execute("INSERT INTO contact (phone, values) VALUES ('573009999999', NULL)")
        for n, entry in enumerate(ENTRIES):
            await conn.execute(
                "INSERT INTO history (ref, keyword, answer, refserialize, phone, options, "
                "contact_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                entry["ref"],
                entry["keyword"],
                entry["answer"],
                entry["refSerialize"],
                entry["from"],
                json.dumps(entry["options"]),
                contact_id,
                datetime(2024, 5, 1, 12, 0, n),
            )
        await conn.execute(
            "INSERT INTO history (ref, answer, refserialize, phone) VALUES ('x', 'hola', 'y', '12')"
        )
    finally:
        await conn.close()
    return url


async def test_postgres_tables_are_read_in_order(builderbot_pg: str) -> None:
    report = ImportReport()
    items = [i async for i in read_builderbot_postgres(builderbot_pg, tz="UTC", page_size=3)]
    problems = [i for i in items if isinstance(i, ParseProblem)]
    messages = _messages(i for i in items if not isinstance(i, ParseProblem))

    assert _summary(messages) == EXPECTED
    assert messages[0].at == datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert [p.line_no for p in problems] == [8]  # the row whose phone is "12"

    in_bogota = [
        i async for i in read_builderbot_postgres(builderbot_pg, tz="America/Bogota", report=report)
    ]
    bogota = _messages(i for i in in_bogota if not isinstance(i, ParseProblem))
    assert bogota[0].at == datetime(2024, 5, 1, 17, 0, 0, tzinfo=UTC)


async def test_postgres_contacts_become_client_attributes(builderbot_pg: str) -> None:
    found, problems = await read_builderbot_contacts(builderbot_pg)
    assert found == [ClientAttributes(CLIENT, {"nombre": "Ana", "ciudad": "Bogotá"})]
    assert problems == []


async def test_missing_tables_are_a_clear_error(pg_server_url: str) -> None:
    url = await fresh_pg_database(pg_server_url)
    with pytest.raises(ImportFormatError, match="history"):
        [i async for i in read_builderbot_postgres(url)]


async def test_builderbot_history_imports_into_memory_once(
    builderbot_pg: str, tmp_path: Path
) -> None:
    memory = await Memory.open(f"sqlite:///{tmp_path}/t.db")
    try:
        for expected_new in (6, 0):
            report = ImportReport()
            await record_in_batches(
                memory,
                read_builderbot_postgres(builderbot_pg, tz="UTC"),
                report,
                file="history",
                batch_size=4,
            )
            assert (report.imported, report.problem_count) == (expected_new, 1)
        found, _ = await read_builderbot_contacts(builderbot_pg)
        for contact in found:
            await memory.update_client(contact.who, attributes=contact.attributes)
        page = await memory.history(CLIENT, limit=10)
        assert [m.content for m in reversed(page.items)] == [c for _, c, _ in EXPECTED]
        client = await memory.client(CLIENT)
        assert client.attributes == {"nombre": "Ana", "ciudad": "Bogotá"}
    finally:
        await memory.close()
