"""SQLite's single writer: concurrent callers share commits; a lone caller's write is committed
when its call returns; a lock held by another process is waited for; a caller cancelled or a
store closed while a write is on its way loses nothing and leaves the store working."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from recuerdo import Memory, Settings
from recuerdo.store.sqlite import SQLiteStore

PHONES = [f"5730011{i:05d}" for i in range(64)]


@contextmanager
def transactions(memory: Memory) -> Iterator[list[str]]:
    """The transactions the writer connection begins, as they happen (SQLite's trace hook)."""
    store = memory.store
    assert isinstance(store, SQLiteStore)
    begun: list[str] = []

    def trace(statement: str) -> None:
        if statement.startswith("BEGIN"):
            begun.append(statement)

    store._writer.set_trace_callback(trace)
    try:
        yield begun
    finally:
        store._writer.set_trace_callback(None)


def stored_count(path: Path) -> int:
    conn = sqlite3.connect(path)  # another connection: sees only what was committed
    try:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
async def test_concurrent_callers_share_commits(tmp_path: Path, synchronous: str) -> None:
    path = tmp_path / "w.db"
    settings = Settings(sqlite_synchronous=synchronous)
    async with await Memory.open(f"sqlite:///{path}", settings=settings) as memory:
        await memory.tenant_id()
        with transactions(memory) as begun:
            results = await asyncio.gather(
                *(memory.record_message(p, "user", f"hola {i}") for i, p in enumerate(PHONES))
            )
        assert all(r.created for r in results)
        assert 1 <= len(begun) <= 4  # 64 callers: one commit for all, or very few
        assert stored_count(path) == 64  # every caller returned after its commit


async def test_a_lone_callers_write_is_committed_when_its_call_returns(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    async with await Memory.open(f"sqlite:///{path}") as memory:
        await memory.tenant_id()
        with transactions(memory) as begun:
            for n in range(1, 6):
                await memory.record_message("573001110001", "user", f"mensaje {n}")
                assert stored_count(path) == n
        assert len(begun) == 5


async def test_a_write_waits_for_the_lock_another_process_holds(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    async with await Memory.open(f"sqlite:///{path}") as memory:
        await memory.record_message("573001110001", "user", "primero")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process takes the write lock
        try:
            write = asyncio.create_task(memory.record_message("573001110001", "user", "luego"))
            await asyncio.sleep(0.2)
            assert not write.done()  # waiting, and the loop is free meanwhile
            assert (await memory.client("573001110001")).total_messages == 1
        finally:
            other.execute("COMMIT")
            other.close()
        recorded = await asyncio.wait_for(write, timeout=5)
        assert recorded.created
        assert (await memory.client("573001110001")).total_messages == 2


async def test_a_caller_cancelled_before_its_write_runs_leaves_the_store_working(
    tmp_path: Path,
) -> None:
    """A write already queued is done even if its caller goes away (as any queued write), and
    the writes after it go on."""
    path = tmp_path / "w.db"
    async with await Memory.open(f"sqlite:///{path}") as memory:
        await memory.tenant_id()
        first = asyncio.create_task(memory.record_message("573001110001", "user", "primero"))
        await asyncio.sleep(0)  # the first caller queued its write and gave the loop a turn
        first.cancel()
        second = await memory.record_message("573001110001", "user", "segundo")
        with pytest.raises(asyncio.CancelledError):
            await first
        assert second.created
        for _ in range(10):
            if stored_count(path) == 2:
                break
            await asyncio.sleep(0.01)
        client = await memory.client("573001110001")
        history = await memory.history("573001110001", limit=10)
        assert sorted(m.content for m in history.items) == ["primero", "segundo"]
        assert client.total_messages == 2


async def test_closing_while_a_write_is_on_its_way_finishes_it(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    memory = await Memory.open(f"sqlite:///{path}")
    await memory.tenant_id()
    write = asyncio.create_task(memory.record_message("573001110001", "user", "último"))
    await asyncio.sleep(0)  # queued, not yet committed
    await memory.close()
    assert (await write).created
    assert stored_count(path) == 1


async def test_a_caller_writing_in_a_loop_still_lets_other_tasks_run(tmp_path: Path) -> None:
    """A task writing again right after its own write skips the loop turn most times, not
    always: other tasks run meanwhile, and a caller that starts then shares a commit."""
    async with await Memory.open(f"sqlite:///{tmp_path / 'w.db'}") as memory:
        await memory.tenant_id()
        turns = 0
        stop = asyncio.Event()

        async def other() -> None:
            nonlocal turns
            while not stop.is_set():
                turns += 1
                await asyncio.sleep(0)

        ticker = asyncio.create_task(other())
        await asyncio.sleep(0)
        before = turns
        for n in range(40):
            await memory.record_message("573001110001", "user", f"mensaje {n}")
        assert turns - before >= 40 // 8 - 1
        stop.set()
        await ticker
        # Callers starting together after a loop of lone writes still share commits.
        with transactions(memory) as begun:
            await asyncio.gather(*(memory.record_message(p, "user", "juntos") for p in PHONES[:32]))
        assert len(begun) <= 4


async def test_a_lone_writer_notices_what_others_wrote_since_its_last_message(
    tmp_path: Path,
) -> None:
    """A lone caller's next message skips reading its client while nothing else has written;
    a write by another process, or another kind of write in this one, is seen all the same,
    and a repeated external id is still answered with the stored message."""
    path = tmp_path / "w.db"
    async with await Memory.open(f"sqlite:///{path}") as memory:
        first = await memory.record_message("573001110001", "user", "uno", external_id="x1")
        second = await memory.record_message("573001110001", "user", "dos", external_id="x2")
        assert second.message.conversation_id == first.message.conversation_id
        again = await memory.record_message("573001110001", "user", "dos", external_id="x2")
        assert (again.created, again.message.id) == (False, second.message.id)
        await memory.record_message("573001110001", "user", "dos y medio")

        other = sqlite3.connect(path)  # another process closes the conversation
        with other:
            other.execute(
                "UPDATE conversations SET ended_at = last_message_at, end_reason = 'operator'"
            )
            other.execute("UPDATE clients SET open_conversation_id = NULL")
        other.close()
        third = await memory.record_message("573001110001", "user", "tres")
        assert third.message.conversation_id != first.message.conversation_id

        fourth = await memory.record_message("573001110001", "user", "cuatro")
        assert fourth.message.conversation_id == third.message.conversation_id
        await memory.close_conversation("573001110001")  # another write of this process
        fifth = await memory.record_message("573001110001", "user", "cinco")
        assert fifth.message.conversation_id not in (
            first.message.conversation_id,
            third.message.conversation_id,
        )
        client = await memory.client("573001110001")
        assert (client.total_messages, client.total_conversations) == (6, 3)
