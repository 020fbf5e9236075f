"""Batched recording (many concurrent calls, one group commit) stores exactly what recording the
same messages one call at a time stores: same conversations, counters and duplicates."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recuerdo import Memory, NewMessage
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


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_batched_and_sequential_recording_agree(
    db_url: str, tmp_path: Path, seed: int
) -> None:
    items = scenario(seed)
    clock = FakeClock(datetime(2026, 6, 1, tzinfo=UTC))
    async with await Memory.open(db_url, clock=clock) as batched:
        # Chunks of concurrent calls: each chunk lands in one group commit on SQLite.
        for start in range(0, len(items), 40):
            await batched.record_many(items[start : start + 40])
        expected_db = f"sqlite:///{tmp_path / 'sequential.db'}"
        async with await Memory.open(expected_db, clock=clock) as sequential:
            for item in items:
                await sequential.record_many([item])
            assert await snapshot(batched) == await snapshot(sequential)
