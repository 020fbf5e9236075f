"""Every real export of ../shared/data/whatsapp-exports parses completely and correctly."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from recuerdo.importers import DateOrder, ParsedMessage, ParseProblem, parse_export, survey_export
from recuerdo.model import ContentType
from tests.importers.conftest import EXPORTS, export_files

BOGOTA = ZoneInfo("America/Bogota")

WHATSR_AUTHORS = {"Mallory": 1, "Dave": 4, "Alice": 13, "Bob": 19, "Carol": 5}
CHAT_MINER_AUTHORS = {"John Doe": 2, "Jahn Doe": 1, "John-John Doe": 1, "John Doe 🤓": 1, "🤓": 1}
LOREM_2000 = {"+1 123 456 789": 507, "Mary": 496, "John": 481, "Giuseppe": 516}
LOREM = {"+1 123 456 789": 145, "Mary": 113, "John": 124, "Giuseppe": 118}
POKEMON = {
    "Ash Ketchum": 4,
    "Brock": 3,
    "Misty": 4,
    "Prof. Oak": 2,
    "Jessie & James": 1,
    "Raichu": 2,
    "Meowth": 1,
    "Wobbuffet": 1,
}

# file → (messages per author, system lines, date order); counts checked by hand with grep.
EXPECTED: dict[str, tuple[dict[str, int], int, DateOrder]] = {
    **{
        f"WhatsR/english{v}.txt": (WHATSR_AUTHORS, 8, DateOrder.MDY)
        for v in ("android24h", "androidampm", "ios24h", "iosampm")
    },
    **{
        f"WhatsR/german{v}.txt": (WHATSR_AUTHORS, 8, DateOrder.DMY)
        for v in ("android24h", "androidampm", "ios24h", "iosampm")
    },
    "chat-analytics/2A_5M.txt": ({"A": 3, "B": 2}, 0, DateOrder.DMY),
    "chat-analytics/4A_11M.txt": (
        {"Alice": 3, "Bob": 2, "Eve": 2, "Mallory": 2, "Trent": 2},
        3,
        DateOrder.DMY,
    ),
    "chat-miner/test_[mmddyy]_24hrs.txt": (CHAT_MINER_AUTHORS, 3, DateOrder.MDY),
    "chat-miner/test_ddmmyy_24hrs.txt": (CHAT_MINER_AUTHORS, 3, DateOrder.DMY),
    "chat-miner/test_mmddyy_24hrs.txt": (CHAT_MINER_AUTHORS, 3, DateOrder.MDY),
    "chat-miner/test_mmddyyyy_12hrs.txt": (CHAT_MINER_AUTHORS, 3, DateOrder.MDY),
    "chat-miner/test_yyyymmdd_24hrs.txt": (CHAT_MINER_AUTHORS, 3, DateOrder.YMD),
    "rwhatsapp/sample.txt": ({"Johannes Gruber": 6, "Test": 1}, 2, DateOrder.DMY),
    "whatstk/pokemon.txt": (POKEMON, 2, DateOrder.DMY),
    "whatstk/lorem.txt": (LOREM, 0, DateOrder.DMY),
    "whatstk/lorem-2000.txt": (LOREM_2000, 0, DateOrder.YMD),
}


def _parse(path: Path) -> tuple[list[ParsedMessage], list[ParseProblem]]:
    messages: list[ParsedMessage] = []
    problems: list[ParseProblem] = []
    for item in parse_export(path):
        if isinstance(item, ParseProblem):
            problems.append(item)
        else:
            messages.append(item)
    return messages, problems


def test_every_export_file_is_covered() -> None:
    found = {str(p.relative_to(EXPORTS)) for p in export_files()}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_export_parses_with_zero_problems_and_expected_counts(name: str) -> None:
    authors, system_lines, order = EXPECTED[name]
    path = EXPORTS / name
    survey = survey_export(path)
    messages, problems = _parse(path)

    assert problems == []
    assert survey.date_order is order
    assert dict(Counter(m.author for m in messages if m.author is not None)) == authors
    assert sum(m.is_system for m in messages) == system_lines == survey.system_lines
    assert dict(survey.authors) == authors
    assert all(m.at.tzinfo is not None for m in messages)
    assert all(m.content for m in messages)


@pytest.mark.parametrize("path", sorted(EXPORTS.glob("chat-miner/*.txt")), ids=lambda p: p.name)
def test_chat_miner_files_match_target_json(path: Path) -> None:
    target = json.loads((EXPORTS / "chat-miner" / "target.json").read_text(encoding="utf-8"))
    expected = sorted((t["timestamp"], t["author"], t["message"]) for t in target)
    messages, _ = _parse(path)
    # chat-miner leaves system lines out and joins the lines of a message with a space.
    got = sorted(
        (
            m.at.astimezone(BOGOTA).replace(tzinfo=None).isoformat(),
            m.author,
            m.content.replace("\n", " "),
        )
        for m in messages
        if m.author is not None
    )
    assert got == expected


def test_whatsr_android_media_location_and_empty_messages() -> None:
    messages, _ = _parse(EXPORTS / "WhatsR" / "englishandroid24h.txt")
    by_kind = {(m.author, m.content_type, m.content) for m in messages if m.content_type != "text"}
    assert by_kind == {
        ("Alice", ContentType.AUDIO, "<attached: PTT-20180129-WA0025.opus>"),
        ("Bob", ContentType.OTHER, "<media omitted>"),
        ("Bob", ContentType.LOCATION, "location: https://maps.google.com/?q=50.9425526,6.9523387"),
        ("Alice", ContentType.LOCATION, "<live location shared>"),
        ("Carol", ContentType.OTHER, "<empty message>"),
    }


def test_whatsr_ios_german_attachments_images_and_stray_boms() -> None:
    messages, _ = _parse(EXPORTS / "WhatsR" / "germanios24h.txt")
    kinds = {(m.content_type, m.content) for m in messages if m.content_type != "text"}
    assert (ContentType.AUDIO, "<attached: PTT-20180129-WA0025.opus>") in kinds
    assert (ContentType.IMAGE, "<image omitted>") in kinds
    texts = [m.content for m in messages]
    # "JuKo00\ufeff7" in the file: the BOM in the middle of the word is gone.
    assert "https://github.com/JuKo007" in texts
    assert not any("\ufeff" in t or "\u200e" in t for t in texts)


def test_multi_line_message_and_times_in_bogota() -> None:
    messages, _ = _parse(EXPORTS / "rwhatsapp" / "sample.txt")
    test_message = next(m for m in messages if m.author == "Test")
    assert test_message.content == "It's fun doing text analysis with R\nisn't it?"
    assert test_message.at.astimezone(BOGOTA).replace(tzinfo=None) == datetime(2017, 7, 13, 9, 12)


def test_twelve_hour_clock_with_spanish_markers_and_hour_zero() -> None:
    messages, _ = _parse(EXPORTS / "chat-miner" / "test_mmddyyyy_12hrs.txt")
    local = [m.at.astimezone(BOGOTA).replace(tzinfo=None) for m in messages]
    assert datetime(2019, 1, 30, 20, 49) in local  # 08:49 p. m.
    assert datetime(2020, 6, 20, 0, 8) in local  # "00:08 a. m."
    assert datetime(2021, 12, 20, 12, 10) in local  # 12:10 p. m.


def test_encryption_notice_with_the_chat_as_author_is_a_system_line() -> None:
    messages, _ = _parse(EXPORTS / "whatstk" / "pokemon.txt")
    assert messages[0].author is None
    assert messages[0].content.startswith("Messages and calls are end-to-end encrypted")


def test_group_chats_are_flagged_by_their_notices() -> None:
    assert survey_export(EXPORTS / "chat-analytics" / "4A_11M.txt").group_notices >= 1
    assert survey_export(EXPORTS / "chat-analytics" / "2A_5M.txt").group_notices == 0
