"""Batched recording (many concurrent calls, one group commit) stores exactly what recording the
same messages one call at a time stores: same conversations, counters and duplicates."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recuerdo import Memory, NewMessage, Recorded
from tests.conftest import FakeClock

PHONES = ["573001110001", "573001110002", "5215512345678", "55119876543@lid"]


def scenario(seed: int) -> list[NewMessage]:
    rnd = random.Random(seed)
    at = datetime(2026, 3, 1, 9, tzinfo=UTC)
    out = []
    for i in range(120):
        gap = rnd.choice([timedelta(seconds=30)] * 6 + [timedelta(hours=7), timedelta(days=3)])
        at += gap
        when = at - timedelta(hours=rnd.choice([1, 30])) if rnd.random() < 0.08 else at
        thread = rnd.choice([None, None, "thread_a", "thread_b"]) if rnd.random() < 0.3 else None
        external = f"w{rnd.randrange(150)}" if rnd.random() < 0.7 else None
        out.append(
            NewMessage(
                rnd.choice(PHONES),
                rnd.choice(["user", "assistant", "manual_operator"]),
                f"mensaje {i}",
                at=when,
                thread_id=thread,
                external_id=external,
                profile_name=rnd.choice([None, "Ana", "Beto"]),
            )
        )
    return out


async def snapshot(memory: Memory) -> list[object]:
    shot: list[object] = []
    for phone in PHONES:
        client = await memory.client(phone)
        convs = (await memory.conversations(phone, limit=1000)).items
        msgs = (await memory.history(phone, limit=1000)).items
        shot.append(
            (
                client.total_messages,
                client.total_conversations,
                client.last_interaction_at,
                sorted(
                    (
                        c.started_at,
                        c.last_message_at,
                        c.ended_at is None,
                        tuple(sorted(c.counts.items())),
                    )
                    for c in convs
                ),
                sorted((m.at, m.content, m.external_id, m.role.value) for m in msgs),
            )
        )
    return shot


async def record_one(memory: Memory, item: NewMessage) -> None:
    fields = item._asdict()
    await memory.record_message(
        fields.pop("who"), fields.pop("role"), fields.pop("content"), **fields
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("how", ["one_list", "concurrent_calls"])
async def test_batched_and_sequential_recording_agree(
    db_url: str, tmp_path: Path, seed: int, how: str
) -> None:
    """One caller's list (``record_many``) assumes its external ids are new and corrects itself
    when some are not; concurrent calls, merged by the writer, look them up first. Both must
    store what one call at a time stores."""
    items = scenario(seed)
    clock = FakeClock(datetime(2026, 6, 1, tzinfo=UTC))
    async with await Memory.open(db_url, clock=clock) as batched:
        # Chunks of 40: each lands in one group commit on SQLite.
        for start in range(0, len(items), 40):
            chunk = items[start : start + 40]
            if how == "one_list":
                await batched.record_many(chunk)
            else:  # queued in call order, as concurrent requests are
                await asyncio.gather(*(record_one(batched, item) for item in chunk))
        expected_db = f"sqlite:///{tmp_path / 'sequential.db'}"
        async with await Memory.open(expected_db, clock=clock) as sequential:
            for item in items:
                await sequential.record_many([item])
            assert await snapshot(batched) == await snapshot(sequential)


async def test_a_batch_finds_a_client_by_a_later_identifier_with_its_open_conversation(
    tmp_path: Path,
) -> None:
    """A client the batch's one read misses (its first identifier is not stored, a later one
    is) is found by that one, and its open conversation is read: it takes a message that
    continues it, and is closed by one after the idle timeout."""
    path = tmp_path / "r.db"
    clock = FakeClock(datetime(2026, 6, 1, tzinfo=UTC))
    async with await Memory.open(f"sqlite:///{path}", clock=clock) as memory:
        await memory.record_message("573001110001", "user", "hola")
    conn = sqlite3.connect(path)  # as data written before wa_id identifiers existed
    with conn:
        conn.execute("DELETE FROM identifiers WHERE kind = 'wa_id'")
    conn.close()
    async with await Memory.open(f"sqlite:///{path}", clock=clock) as memory:
        for later, text in ((timedelta(minutes=5), "¿en qué te ayudo?"), (timedelta(hours=7), "")):
            clock.advance(seconds=later.total_seconds())
            await memory.record_many(
                [
                    NewMessage("573001110001", "assistant", text or "¿sigues ahí?"),
                    NewMessage("573001110002", "user", "buenas"),
                ]
            )
        client = await memory.client("573001110001")
        conversations = sorted(
            (await memory.conversations("573001110001")).items, key=lambda c: c.started_at
        )
    assert (client.total_messages, client.total_conversations) == (3, 2)
    first, second = conversations
    assert first.counts == {"user": 1, "assistant": 1, "manual_operator": 0, "system": 0}
    assert first.ended_at is not None and first.end_reason == "idle"
    assert second.ended_at is None and second.counts["assistant"] == 1


@pytest.mark.parametrize("how", ["one_list", "concurrent_calls"])
async def test_a_batch_with_stored_external_ids_corrects_itself_without_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """SQLite's batch assumes its external ids are new; when the unique index leaves some out,
    the batch deletes the rows it wrote and plans again knowing the stored ones — inside the
    batch, not by the one-at-a-time retry that a failed batch falls back to."""
    from recuerdo.store.sqlite import SQLiteStore

    retried: list[object] = []
    original = SQLiteStore._commit_one

    async def spy(self: SQLiteStore, *args: object) -> None:
        retried.append(args)
        await original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SQLiteStore, "_commit_one", spy)
    phones = ["573001110001", "573001110002"]
    async with await Memory.open(f"sqlite:///{tmp_path / 'd.db'}") as memory:
        for n, phone in enumerate(phones):
            await memory.record_message(phone, "user", f"primero {n}", external_id=f"w{n}")
        items = [
            NewMessage(phones[0], "user", "nuevo a", external_id="w10"),
            NewMessage(phones[1], "user", "repetido", external_id="w1"),
            NewMessage(phones[0], "assistant", "nuevo b", external_id="w11"),
            NewMessage(phones[1], "assistant", "sin id"),
        ]
        if how == "one_list":
            created = [r.created for r in await memory.record_many(items)]
        else:
            results = await asyncio.gather(*(record_one_recorded(memory, i) for i in items))
            created = [r.created for r in results]
        assert created == [True, False, True, True]
        assert retried == []
        totals = [(await memory.client(p)).total_messages for p in phones]
        assert totals == [3, 2]
        stored = (await memory.history(phones[1], limit=10)).items
        assert sorted(m.content for m in stored) == ["primero 1", "sin id"]


async def record_one_recorded(memory: Memory, item: NewMessage) -> Recorded:
    fields = item._asdict()
    return await memory.record_message(
        fields.pop("who"), fields.pop("role"), fields.pop("content"), **fields
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_the_lone_callers_usual_path_stores_what_the_general_operation_stores(
    tmp_path: Path, seed: int
) -> None:
    """SQLite binds a lone caller's usual message by hand (the client known, its open
    conversation going on); with that path switched off every message goes through the general
    operation. Both must store the same (the scenario mixes usual messages with new clients,
    late ones, thread changes, idle gaps and repeated external ids)."""
    from recuerdo.store.sqlite import SQLiteStore

    items = scenario(seed)
    shots = []
    for usual in (True, False):
        clock = FakeClock(datetime(2026, 6, 1, tzinfo=UTC))
        url = f"sqlite:///{tmp_path / f'usual_{usual}.db'}"
        async with await Memory.open(url, clock=clock) as memory:
            store = memory.store
            assert isinstance(store, SQLiteStore)
            if not usual:
                store._usual = None
            answers = [await record_one_recorded(memory, item) for item in items]
        shots.append(([(a.created, a.message) for a in answers], tables(url)))
    assert shots[0] == shots[1]


def tables(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables a write touches, every column (same clock, same ids)."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return {
            name: conn.execute(f"SELECT * FROM {name} ORDER BY {key}").fetchall()
            for name, key in (
                ("clients", "id"),
                ("identifiers", "tenant_id, kind, value"),
                ("conversations", "client_id, id"),
                ("messages", "client_id, id"),
            )
        }
    finally:
        conn.close()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_kept_client_states_match_the_database_after_every_write(
    tmp_path: Path, seed: int
) -> None:
    """SQLite keeps what its last writes left of each client (so that the next message needs
    no read): after every batch and every lone write of a mixed scenario, each kept state is
    what the database holds."""
    from recuerdo.store.rows import as_dt
    from recuerdo.store.sqlite import SQLiteStore

    path = tmp_path / "kept.db"
    items = scenario(seed)
    clock = FakeClock(datetime(2026, 6, 1, tzinfo=UTC))
    checked = 0
    async with await Memory.open(f"sqlite:///{path}", clock=clock) as memory:
        store = memory.store
        assert isinstance(store, SQLiteStore)
        for start in range(0, len(items), 12):
            chunk = items[start : start + 12]
            if start % 24:
                for item in chunk:  # lone writes
                    await record_one(memory, item)
            else:  # concurrent calls: one batch
                await asyncio.gather(*(record_one(memory, item) for item in chunk))
            conn = sqlite3.connect(path)
            try:
                for (_, kind, value), kept in store._known.items():
                    row = conn.execute(
                        "SELECT c.id, v.id, v.last_message_at, v.thread_id, v.last_hour, "
                        "c.active_hour, c.last_interaction_at, c.unindexed_from "
                        "FROM identifiers i JOIN clients c ON c.id = i.client_id "
                        "JOIN conversations v ON v.client_id = c.id "
                        "AND v.id = c.open_conversation_id AND v.ended_at IS NULL "
                        "WHERE i.kind = ? AND i.value = ?",
                        (kind, value),
                    ).fetchone()
                    assert row is not None, (kind, value)
                    stored = (*row[:2], as_dt(row[2]), *row[3:6], as_dt(row[6]), row[7])
                    assert stored == (
                        kept.client_id,
                        kept.open_id,
                        kept.open_last_at,
                        kept.open_thread,
                        kept.open_last_hour,
                        kept.active_hour,
                        kept.last_at,
                        kept.unindexed_from,
                    )
                    checked += 1
            finally:
                conn.close()
    assert checked >= 10  # the scenario keeps states, and they were compared
