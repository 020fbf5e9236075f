"""The storage contract: every test here runs unchanged on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from recuerdo import (
    ClientNotFound,
    Conflict,
    InvalidContent,
    InvalidCursor,
    InvalidIdentifier,
    InvalidInput,
    InvalidRole,
    Memory,
    NaiveDatetime,
    NewMessage,
    Role,
)
from recuerdo.errors import StorageError
from recuerdo.store.query import Op, Query, Row, sql
from recuerdo.store.rows import as_dt, epoch_hour
from tests.conftest import FakeClock

PHONE = "573003913251"


async def test_save_and_get_thread_id_like_the_seed(memory: Memory) -> None:
    assert await memory.get_thread_id(PHONE) is None
    client = await memory.save_thread_id(f"{PHONE}@s.whatsapp.net", "thread_abc", "openai")
    assert client.thread_id == "thread_abc"
    assert client.thread_provider == "openai"
    assert client.total_conversations == 1
    assert client.created_at == client.last_interaction_at
    assert await memory.get_thread_id("+57 300 391 3251") == "thread_abc"


async def test_a_new_thread_counts_a_new_conversation(memory: Memory, clock: FakeClock) -> None:
    await memory.save_thread_id(PHONE, "thread_1")
    clock.advance(minutes=5)
    same = await memory.save_thread_id(PHONE, "thread_1")
    assert same.total_conversations == 1
    assert same.last_interaction_at == clock.now()
    clock.advance(minutes=5)
    changed = await memory.save_thread_id(PHONE, "conv_2")
    assert changed.total_conversations == 2
    assert changed.thread_id == "conv_2"
    conversations = (await memory.conversations(PHONE)).items
    assert [c.thread_id for c in conversations] == ["conv_2", "thread_1"]
    assert conversations[1].end_reason == "thread_change"


async def test_thread_saved_after_first_message_joins_that_conversation(memory: Memory) -> None:
    await memory.record_message(PHONE, "user", "Hola")
    client = await memory.save_thread_id(PHONE, "thread_1")
    assert client.total_conversations == 1
    await memory.record_message(PHONE, "assistant", "¡Hola!", thread_id="thread_1")
    (conversation,) = (await memory.conversations(PHONE)).items
    assert conversation.thread_id == "thread_1"
    assert conversation.counts == {"user": 1, "assistant": 1, "manual_operator": 0, "system": 0}


async def test_record_message_creates_client_and_keeps_counters(
    memory: Memory, clock: FakeClock
) -> None:
    first = await memory.record_message(PHONE, Role.USER, "Hola", profile_name="Juan P")
    assert first.created
    assert first.message.role is Role.USER
    assert first.message.at == clock.now()
    clock.advance(seconds=30)
    await memory.record_message(PHONE, "assistant", "¿En qué le ayudo?")
    clock.advance(seconds=30)
    await memory.record_message(PHONE, "manual_operator", "Soy Ana, la asesora")
    client = await memory.client(PHONE)
    assert client.total_messages == 3
    assert client.total_conversations == 1
    assert client.last_interaction_at == clock.now()
    assert client.profile_name == "Juan P"
    assert client.name == "Juan P"
    (conversation,) = (await memory.conversations(PHONE)).items
    assert conversation.handled_by.value == "both"


async def test_external_id_is_idempotent(memory: Memory) -> None:
    first = await memory.record_message(PHONE, "user", "Hola", external_id="wamid.AAA")
    again = await memory.record_message(PHONE, "user", "Hola otra vez", external_id="wamid.AAA")
    assert first.created and not again.created
    assert again.message == first.message
    assert (await memory.client(PHONE)).total_messages == 1


async def test_idle_timeout_starts_a_new_conversation(memory: Memory, clock: FakeClock) -> None:
    await memory.record_message(PHONE, "user", "Hola")
    clock.advance(hours=5, minutes=59)
    await memory.record_message(PHONE, "user", "¿Siguen ahí?")
    clock.advance(hours=6, minutes=1)
    third = await memory.record_message(PHONE, "user", "Buenos días")
    conversations = (await memory.conversations(PHONE)).items
    assert len(conversations) == 2
    assert conversations[0].id == third.message.conversation_id
    assert conversations[1].end_reason == "idle"
    assert conversations[1].ended_at == conversations[1].last_message_at
    assert (await memory.client(PHONE)).total_conversations == 2


async def test_a_late_message_lands_in_the_conversation_of_its_time(
    memory: Memory, clock: FakeClock
) -> None:
    start = clock.now()
    await memory.record_message(PHONE, "user", "primera")
    clock.advance(days=2)
    await memory.record_message(PHONE, "user", "dos días después")
    late = await memory.record_message(
        PHONE, "assistant", "respuesta tardía", at=start + timedelta(minutes=1)
    )
    old = await memory.record_message(
        PHONE, "user", "de hace un mes", at=start - timedelta(days=30)
    )
    conversations = (await memory.conversations(PHONE)).items
    assert len(conversations) == 3
    by_id = {c.id: c for c in conversations}
    assert by_id[late.message.conversation_id].started_at == start
    assert by_id[old.message.conversation_id].ended_at is not None
    open_ones = [c for c in conversations if c.open]
    assert len(open_ones) == 1
    client = await memory.client(PHONE)
    assert client.total_conversations == 3
    assert client.last_interaction_at == clock.now()


async def test_history_pages_with_stable_cursors(memory: Memory, clock: FakeClock) -> None:
    for i in range(7):
        await memory.record_message(PHONE, "user" if i % 2 == 0 else "assistant", f"m{i}")
        if i != 3:  # two messages share a timestamp: the cursor must still be exact
            clock.advance(seconds=1)
    seen: list[str] = []
    cursor = None
    while True:
        page = await memory.history(PHONE, limit=3, before=cursor)
        seen += [m.content for m in page.items]
        if page.next_cursor is None:
            break
        # A message recorded now does not shift the older pages.
        await memory.record_message(PHONE, "user", "nuevo")
        cursor = page.next_cursor
    assert seen == [f"m{i}" for i in reversed(range(7))]
    users = await memory.history(PHONE, limit=50, roles=["assistant"])
    assert [m.content for m in users.items] == ["m5", "m3", "m1"]


async def test_history_of_one_conversation(memory: Memory, clock: FakeClock) -> None:
    a = await memory.record_message(PHONE, "user", "a")
    clock.advance(days=1)
    await memory.record_message(PHONE, "user", "b")
    page = await memory.history(PHONE, limit=10, conversation_id=a.message.conversation_id)
    assert [m.content for m in page.items] == ["a"]


async def test_update_client_name_tags_attributes(memory: Memory) -> None:
    await memory.record_message(PHONE, "user", "Hola")
    client = await memory.update_client(
        PHONE, customer_name="María", add_tags=["vip", "mayorista"], attributes={"ciudad": "Cali"}
    )
    assert client.customer_name == "María"
    assert client.tags == ("vip", "mayorista")
    client = await memory.update_client(
        PHONE, remove_tags=["vip"], add_tags=["mayorista"], attributes={"ciudad": None, "nit": "9"}
    )
    assert client.tags == ("mayorista",)
    assert client.attributes == {"nit": "9"}
    learned = await memory.update_client(PHONE, customer_name="Mari", name_source="conversation")
    assert learned.customer_name == "María"  # an operator's name wins over a learned one


async def test_clients_listing_filters_and_pages(memory: Memory, clock: FakeClock) -> None:
    phones = [f"57300000{i:04d}" for i in range(5)]
    for i, phone in enumerate(phones):
        await memory.record_message(phone, "user", "hola", profile_name=f"Cliente {i}")
        clock.advance(minutes=1)
    await memory.update_client(phones[1], add_tags=["vip"])
    await memory.update_client(phones[3], add_tags=["vip"])
    vip = await memory.clients(tag="vip")
    assert [c.phone for c in vip.items] == [phones[3], phones[1]]
    by_name = await memory.clients(name="cliente 2")
    assert [c.phone for c in by_name.items] == [phones[2]]
    recent = await memory.clients(active_since=clock.now() - timedelta(minutes=2))
    assert [c.phone for c in recent.items] == [phones[4], phones[3]]
    assert await _phones_by_pages(memory) == list(reversed(phones))


async def _phones_by_pages(memory: Memory) -> list[str | None]:
    """Every client's phone, most recently active first, two per page."""
    collected, cursor = [], None
    while True:
        page = await memory.clients(limit=2, cursor=cursor)
        collected += [c.phone for c in page.items]
        if not page.next_cursor:
            return collected
        cursor = page.next_cursor


async def test_handoff_flag(memory: Memory) -> None:
    assert not await memory.bot_paused(PHONE)
    handoff = await memory.pause_bot(PHONE, by="ana@tienda", reason="reclamo")
    assert handoff.paused and handoff.by == "ana@tienda" and handoff.reason == "reclamo"
    assert await memory.bot_paused(f"{PHONE}@c.us")
    assert not (await memory.resume_bot(PHONE)).paused
    assert not await memory.bot_paused(PHONE)
    assert not (await memory.resume_bot("573009999999")).paused


async def test_identifiers_link_phone_lid_and_quirky_wa_ids(memory: Memory) -> None:
    await memory.record_message("5215512345678@s.whatsapp.net", "user", "Hola desde México")
    assert (await memory.client("+52 55 1234 5678")).total_messages == 1
    await memory.link_identifier("+52 55 1234 5678", "987654321012@lid")
    client = await memory.client("987654321012@lid")
    assert client.phone == "525512345678"
    await memory.record_message("44123456789@lid", "user", "otro")
    with pytest.raises(Conflict):
        await memory.link_identifier("44123456789@lid", "987654321012@lid")


async def test_close_conversation_and_close_idle(memory: Memory, clock: FakeClock) -> None:
    await memory.record_message(PHONE, "user", "hola")
    closed = await memory.close_conversation(PHONE, reason="handoff")
    assert closed is not None
    assert await memory.close_conversation(PHONE) is None
    clock.advance(minutes=1)
    after = await memory.record_message(PHONE, "user", "sigo aquí")
    assert after.message.conversation_id != closed
    await memory.record_message("573001112233", "user", "hola")
    assert await memory.close_idle_conversations(clock.now() + timedelta(hours=1)) == 0
    clock.advance(hours=7)
    assert await memory.close_idle_conversations() == 2
    conversations = (await memory.conversations("573001112233")).items
    assert conversations[0].end_reason == "idle"
    again = await memory.record_message("573001112233", "user", "volví")
    assert again.message.conversation_id != conversations[0].id
    assert (await memory.client("573001112233")).total_conversations == 2


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: m.record_message("hola", "user", "x"), InvalidIdentifier),
        (lambda m: m.record_message("123@g.us", "user", "x"), InvalidIdentifier),
        (lambda m: m.record_message(PHONE, "customer", "x"), InvalidRole),
        (lambda m: m.record_message(PHONE, "user", "   "), InvalidContent),
        (lambda m: m.record_message(PHONE, "user", "x" * (64 * 1024 + 1)), InvalidContent),
        (lambda m: m.record_message(PHONE, "user", "a\x00b"), InvalidContent),
        (lambda m: m.record_message(PHONE, "user", "x", at=datetime(2026, 1, 1)), NaiveDatetime),
        (lambda m: m.record_message(PHONE, "user", "x", content_type="gif"), InvalidInput),
        (lambda m: m.record_message(PHONE, "user", "x", metadata=[1]), InvalidInput),
        (lambda m: m.save_thread_id(PHONE, ""), InvalidInput),
        (lambda m: m.history(PHONE, limit=10, before="garbage"), InvalidCursor),
        (lambda m: m.history(PHONE, limit=0), InvalidInput),
        (lambda m: m.client("573009999999"), ClientNotFound),
        (lambda m: m.update_client("573009999999", customer_name="X"), ClientNotFound),
        (lambda m: m.clients(active_since=datetime(2026, 1, 1)), NaiveDatetime),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(memory: Memory, call, error) -> None:  # type: ignore[no-untyped-def]
    await memory.record_message(PHONE, "user", "antes")
    before = await memory.client(PHONE)
    with pytest.raises(error) as info:
        await call(memory)
    assert info.value.message
    after = await memory.client(PHONE)
    assert after == before
    assert [m.content for m in (await memory.history(PHONE, limit=5)).items] == ["antes"]


async def test_record_many_refuses_the_whole_batch_on_one_bad_item(memory: Memory) -> None:
    items = [NewMessage(PHONE, "user", "uno"), NewMessage(PHONE, "robot", "dos")]
    with pytest.raises(InvalidRole, match="item 1"):
        await memory.record_many(items)
    assert await memory.find_client(PHONE) is None


async def test_a_batch_with_stored_and_repeated_ids_counts_each_message_once(
    memory: Memory,
) -> None:
    # On SQLite a batch first assumes its ids are new; here one is stored and one repeats in
    # the batch, so it is planned again knowing them.
    await memory.record_many([NewMessage(PHONE, "user", "uno", external_id="a")])
    results = await memory.record_many(
        [
            NewMessage(PHONE, "assistant", "dos", external_id="b"),
            NewMessage(PHONE, "user", "uno otra vez", external_id="a"),
            NewMessage(PHONE, "user", "tres", external_id="c"),
            NewMessage(PHONE, "user", "tres repetido", external_id="c"),
        ]
    )
    assert [r.created for r in results] == [True, False, True, False]
    assert [r.message.content for r in results] == ["dos", "uno", "tres", "tres"]
    assert results[2].message.id == results[3].message.id
    client = await memory.client(PHONE)
    assert (client.total_messages, client.total_conversations) == (3, 1)
    (conversation,) = (await memory.conversations(PHONE, limit=5)).items
    assert conversation.counts["user"] == 2 and conversation.counts["assistant"] == 1
    page = await memory.history(PHONE, limit=10)
    assert [m.content for m in reversed(page.items)] == ["uno", "dos", "tres"]


async def test_the_repeated_hour_when_clocks_go_back_is_two_instants(memory: Memory) -> None:
    new_york = ZoneInfo("America/New_York")
    first = datetime(2024, 11, 3, 1, 30, tzinfo=new_york)  # 05:30 UTC
    second = first.replace(fold=1)  # the same wall time an hour later: 06:30 UTC
    assert first == second  # Python compares them as wall times: stores must not
    await memory.record_many(
        [
            NewMessage(PHONE, "user", "antes", at=first),
            NewMessage(PHONE, "user", "después", at=second),
        ]
    )
    page = await memory.history(PHONE, limit=5)
    stored = {m.content: m.at.astimezone(UTC).hour for m in page.items}
    assert stored == {"antes": 5, "después": 6}


async def test_store_many_answers_whether_each_message_was_new(memory: Memory) -> None:
    meta = {"source": "import", "author": "Ana Pérez", "n": [1, 2]}
    first = [
        NewMessage(PHONE, "user", f"m{i}", external_id=f"x{i}", metadata=meta) for i in range(3)
    ]
    assert await memory.store_many(first) == [True, True, True]
    again = [*first[1:], NewMessage(PHONE, "assistant", "nuevo", external_id="x9")]
    assert await memory.store_many(again) == [False, False, True]
    page = await memory.history(PHONE, limit=10)
    assert [m.content for m in reversed(page.items)] == ["m0", "m1", "m2", "nuevo"]
    assert page.items[-1].metadata == meta  # the JSON encoded once when validated, read back
    assert (await memory.client(PHONE)).total_messages == 4
    with pytest.raises(InvalidInput, match="item 0: metadata"):
        await memory.store_many([NewMessage(PHONE, "user", "x", metadata={"bad": {1, 2}})])
    assert (await memory.client(PHONE)).total_messages == 4


async def test_concurrent_lookups_each_find_their_own_client(memory: Memory) -> None:
    # On PostgreSQL lookups made together share one query; each must still get its own answer.
    phones = [f"5730013{i:05d}" for i in range(30)]
    other = memory.for_tenant("otra-tienda")
    for i, phone in enumerate(phones):
        await memory.save_thread_id(phone, f"thread_{i}")
        if i % 2:
            await other.save_thread_id(phone, f"otra_{i}")
    await memory.link_identifier(phones[0], "98765@lid")
    lookups = [
        *(memory.get_thread_id(p) for p in phones),
        *(other.get_thread_id(p) for p in phones),
        memory.get_thread_id("573001399999"),
        memory.get_thread_id("98765@lid"),
        memory.get_thread_id(f"+57 {phones[3][2:5]} {phones[3][5:]}"),
    ]
    answers = await asyncio.gather(*lookups)
    assert answers[:30] == [f"thread_{i}" for i in range(30)]
    assert answers[30:60] == [f"otra_{i}" if i % 2 else None for i in range(30)]
    assert answers[60:] == [None, "thread_0", "thread_3"]


async def test_a_crowd_of_lookups_all_get_answers(memory: Memory) -> None:
    # More lookups at once than one query takes (PostgreSQL answers them in several).
    phones = [f"5730014{i:05d}" for i in range(50)]
    for i, phone in enumerate(phones[:40]):  # the last ten are nobody
        await memory.save_thread_id(phone, f"thread_{i}")
    answers = await asyncio.gather(*(memory.get_thread_id(phones[i % 50]) for i in range(1200)))
    assert answers == [f"thread_{i % 50}" if i % 50 < 40 else None for i in range(1200)]


async def test_lookups_on_a_closed_store_fail_clearly(memory: Memory) -> None:
    await memory.save_thread_id(PHONE, "thread_1")
    await memory.close()
    results = await asyncio.gather(
        memory.get_thread_id(PHONE), memory.get_thread_id("573001300001"), return_exceptions=True
    )
    assert all(isinstance(r, StorageError) and "closed" in str(r) for r in results)


async def test_concurrent_writers_lose_and_duplicate_nothing(memory: Memory) -> None:
    phones = [f"5730012{i:05d}" for i in range(20)]

    async def writer(i: int) -> None:
        same = await memory.record_message(PHONE, "user", f"mismo {i}", external_id=f"s{i}")
        other = await memory.record_message(
            phones[i % 20], "user", f"otro {i}", external_id=f"o{i}"
        )
        dup = await memory.record_message(PHONE, "user", "duplicado", external_id="dup")
        assert same.created and other.created
        assert dup.message.external_id == "dup"

    await asyncio.gather(*(writer(i) for i in range(100)))
    client = await memory.client(PHONE)
    assert client.total_messages == 101
    assert client.total_conversations == 1
    page = await memory.history(PHONE, limit=1000)
    assert len(page.items) == 101
    assert len({m.id for m in page.items}) == 101
    for phone in phones:
        other = await memory.client(phone)
        assert other.total_messages == 5
        assert other.total_conversations == 1
    listed = await memory.clients(limit=100)
    assert len(listed.items) == 21


@pytest.mark.parametrize("turns", [0, 1, 3, 10])
async def test_a_cancelled_record_leaves_the_store_whole_and_working(
    memory: Memory, turns: int
) -> None:
    """A caller cancelled at any point of its write: its message is stored whole or not at all,
    the counters agree with what is stored, and the writes after it (and its retry) go on."""
    phone = "573001112299"
    await memory.record_message(phone, "user", "antes", external_id="c0")
    task = asyncio.create_task(memory.record_message(phone, "user", "uno", external_id="c1"))
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    after = await memory.record_message(phone, "user", "dos", external_id="c2")
    retry = await memory.record_message(phone, "user", "uno", external_id="c1")
    assert after.created
    history = await memory.history(phone, limit=10)
    assert sorted(m.external_id for m in history.items if m.external_id) == ["c0", "c1", "c2"]
    assert (await memory.client(phone)).total_messages == len(history.items) == 3
    assert retry.message.content == "uno"


async def test_concurrent_first_calls_are_stored_in_call_order(memory: Memory) -> None:
    # The very first calls of a fresh Memory wait for the tenant's id: they must still reach
    # the writer in the order they were made (a thread change between two of them decides
    # where each conversation ends). Same time for all: the history's order is the ids'.
    threads = ["hilo_a", "hilo_b"] * 5
    await asyncio.gather(
        *(
            memory.record_message(PHONE, "user", f"m{i}", thread_id=thread)
            for i, thread in enumerate(threads)
        )
    )
    page = await memory.history(PHONE, limit=20)
    assert [m.content for m in reversed(page.items)] == [f"m{i}" for i in range(10)]
    conversations = (await memory.conversations(PHONE, limit=20)).items
    assert len(conversations) == 10  # every message changed the thread


async def test_two_writers_meeting_the_same_new_clients_create_each_once(
    db_url: str, clock: FakeClock
) -> None:
    # Two services on one database: on PostgreSQL both may try to create a client in the same
    # instant; one creates it, the other's message joins it.
    phones = [f"5730013{i:05d}" for i in range(30)]
    first = await Memory.open(db_url, clock=clock)
    second = await Memory.open(db_url, clock=clock)
    try:

        async def write(memory: Memory, tag: str) -> None:
            await asyncio.gather(
                *(memory.record_message(p, "user", f"{tag} {p}", external_id=tag) for p in phones)
            )

        await asyncio.gather(write(first, "a"), write(second, "b"))
        assert len((await first.clients(limit=100)).items) == 30
        for phone in phones:
            client = await second.client(phone)
            assert (client.total_messages, client.total_conversations) == (2, 1)
            history = await first.history(phone, limit=5)
            assert sorted(m.external_id or "" for m in history.items) == ["a", "b"]
    finally:
        await first.close()
        await second.close()


async def test_tenants_are_isolated(memory: Memory) -> None:
    other = memory.for_tenant("otra-tienda")
    await memory.record_message(PHONE, "user", "tienda 1")
    await other.record_message(PHONE, "user", "tienda 2")
    assert [m.content for m in (await other.history(PHONE, limit=5)).items] == ["tienda 2"]
    assert (await memory.client(PHONE)).id != (await other.client(PHONE)).id


def _hour_rows() -> Op[tuple[list[Row], list[Row]]]:
    clients_ = yield Query(sql("SELECT last_interaction_at, active_hour FROM clients"), {}, "all")
    conversations_ = yield Query(
        sql("SELECT last_message_at, last_hour FROM conversations"), {}, "all"
    )
    return list(clients_), list(conversations_)


async def test_activity_hours_follow_the_times_they_index(memory: Memory, clock: FakeClock) -> None:
    """The activity and idle indexes hold hours (``active_hour``, ``last_hour``); every way of
    writing a time keeps them equal to the hour of that time."""
    other = "573001112233"
    for step in range(6):  # live messages crossing hour boundaries, one call at a time
        await memory.record_message(PHONE, "user" if step % 2 == 0 else "assistant", f"m{step}")
        clock.advance(minutes=25)
    await memory.record_many(  # a batch: a new client, then messages an hour apart
        [
            NewMessage(other, "user", "hola", at=clock.now()),
            NewMessage(other, "assistant", "¡hola!", at=clock.now() + timedelta(minutes=70)),
            NewMessage(PHONE, "user", "sigo", at=clock.now() + timedelta(minutes=75)),
        ]
    )
    # A late message (lands in a past conversation, moves no time forward) and an old import.
    await memory.record_message(PHONE, "user", "tarde", at=clock.now() - timedelta(minutes=30))
    await memory.record_message(PHONE, "user", "viejo", at=clock.now() - timedelta(days=40))
    clock.advance(hours=3)
    await memory.save_thread_id(PHONE, "thread_new")  # a thread: a new conversation, a touch
    clock.advance(minutes=61)
    await memory.save_thread_id(PHONE, "thread_new")
    clock.advance(hours=8)
    assert await memory.close_idle_conversations() == 2
    clients_, conversations_ = await memory.store.read(_hour_rows)
    assert len(clients_) == 2
    assert len(conversations_) == 3  # the live one (adopting the thread), the other, the old
    for row in clients_:
        assert row["active_hour"] == epoch_hour(as_dt(row["last_interaction_at"]))
    for row in conversations_:
        assert row["last_hour"] == epoch_hour(as_dt(row["last_message_at"]))


async def test_clients_active_in_the_same_hour_list_by_exact_time(
    memory: Memory, clock: FakeClock
) -> None:
    clock.current = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    phones = [f"57300000{i:04d}" for i in range(5)]
    # Same hour, times in an order unlike the clients' creation order; one the hour before.
    minutes = {phones[0]: 5, phones[1]: 50, phones[2]: 20, phones[3]: 35, phones[4]: -10}
    for phone in phones:
        await memory.record_message(
            phone, "user", "hola", at=clock.now() + timedelta(minutes=minutes[phone])
        )
    expected = sorted(phones, key=lambda p: -minutes[p])
    assert await _phones_by_pages(memory) == expected
    since = await memory.clients(active_since=clock.now() + timedelta(minutes=20))
    assert [c.phone for c in since.items] == [phones[1], phones[3], phones[2]]
