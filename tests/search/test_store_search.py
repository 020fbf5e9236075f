"""Search through the store on SQLite and PostgreSQL: same results, index kept by its queue."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import pytest

from recuerdo import (
    ClientNotFound,
    InvalidIdentifier,
    InvalidInput,
    InvalidRole,
    Memory,
    NaiveDatetime,
)
from recuerdo.search.service import SearchService
from recuerdo.search.settings import SearchSettings
from recuerdo.store import search_ops
from recuerdo.store.query import Op, Query
from recuerdo.store.query import sql as sql_text
from tests.search.shop import ANA, BOB, CAROL, JUNE, MAY, S_SET_SUMMARY, SUMMARY, load_shop

# Computed once and checked on both engines: the same data gives the same ranking everywhere.
EXPECTED: list[tuple[str, str | None, list[str]]] = [
    ("camiseta azul", ANA, ["a2", "a1", "a3", "a4", "a8", "summary", "a7", "a6"]),
    ("pedido", ANA, ["a4", "a5", "a6", "a3", "a7", "a2", "a8", "summary"]),
    ("el pedido de marzo", ANA, ["a4", "a3", "a5", "a6", "a2", "a7", "summary", "a8"]),
    ("Carlos", ANA, ["a7", "a6", "a8", "a5"]),
    ("😀", ANA, ["a8", "a7", "a6"]),
    ("where is the order", BOB, ["b1", "b2", "b3"]),
    ("pedido", None, ["a5", "a6", "a4"]),
    ("order", None, ["b1", "b2"]),
    ("camisetas envío Cali", None, ["c1", "c2", "a2", "a1"]),
    ("4471", None, ["b2"]),
]


def refs(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.message.external_id if h.message else h.kind for h in hits]


async def pending(memory: Memory) -> bool:
    fulltext = search_ops.fulltext_for(memory.store.capabilities)
    return await memory.store.read(partial(search_ops.has_pending, fulltext))


async def stats(memory: Memory) -> tuple[int, int, dict[str, int]]:
    tenant = await memory.tenant_id()
    terms = ["ped", "camiset", "azul", "order", "😀"]
    return await memory.store.read(partial(search_ops.collection_stats, tenant, terms))


@pytest.mark.parametrize(("query", "who", "expected"), EXPECTED)
async def test_same_ranking_on_every_engine(
    memory: Memory, query: str, who: str | None, expected: list[str]
) -> None:
    await load_shop(memory)
    hits = await memory.search(query, who=who)
    # Ties are broken by id; "Carlos" ties a6/a8 (same neighbours), so compare as ranked sets.
    if query == "Carlos":
        assert refs(hits)[0] == "a7"
        assert set(refs(hits)) == set(expected)
    else:
        assert refs(hits) == expected
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_hits_carry_message_conversation_and_snippet(memory: Memory) -> None:
    await load_shop(memory)
    hits = await memory.search("pedido PED-2024-118", who=ANA, limit=3)
    first = hits[0]
    assert first.kind == "message"
    assert first.message is not None
    assert first.message.external_id == "a4"
    assert first.snippet == "Listo, su «pedido» es «PED-2024-118»"
    assert first.conversation.id == first.message.conversation_id
    assert first.client_id == first.message.client_id
    summary = next(h for h in await memory.search("compró", who=ANA) if h.kind == "summary")
    assert summary.message is None
    assert summary.conversation.summary == SUMMARY
    assert "«compró»" in summary.snippet


async def test_a_message_is_found_right_after_it_is_recorded(memory: Memory) -> None:
    await load_shop(memory)
    await memory.record_message(ANA, "user", "¿Y la factura electrónica?", external_id="a9")
    assert await pending(memory)
    assert refs(await memory.search("factura", who=ANA)) == ["a9"]
    await memory.record_message(BOB, "user", "I need the invoice too", external_id="b4")
    assert refs(await memory.search("invoice")) == ["b4"]
    assert not await pending(memory)


async def test_the_queue_indexes_each_message_once(memory: Memory) -> None:
    await load_shop(memory)
    service = SearchService.of(memory)
    assert await service.index_pending() == 13
    assert await service.index_pending() == 0
    doc_count, term_count, df = await stats(memory)
    assert term_count > doc_count
    assert doc_count == 13
    assert df == {"ped": 3, "camiset": 3, "azul": 3, "order": 2, "😀": 1}
    # A second message of the same client goes through the same queue, counted once.
    await memory.record_message(ANA, "user", "Otro pedido, por favor", external_id="a9")
    assert await service.index_pending(client_id=999_999) == 0  # another client's queue
    assert await service.index_pending(limit=1) == 1
    assert (await stats(memory))[2]["ped"] == 4


async def test_the_queue_marks_a_client_once_and_moves_past_what_was_indexed(
    memory: Memory,
) -> None:
    """A client's mark is the first message waiting: set by its first message, left as it is by
    the next ones, moved by an indexer round that stops halfway, cleared when nothing waits,
    set again by the next message, and lowered by a message older than the mark."""
    marks_sql = sql_text("SELECT unindexed_from FROM clients WHERE id = :id")

    async def mark(client_id: int) -> int | None:
        def op() -> Op[int | None]:
            row = yield Query(marks_sql, {"id": client_id}, "one")
            return None if row is None else row["unindexed_from"]

        return await memory.store.read(op)

    ids = [(await memory.record_message(ANA, "user", f"pedido {n}")).message.id for n in range(3)]
    client = ids and (await memory.client(ANA)).id
    assert await mark(client) == ids[0]
    service = SearchService.of(memory)
    assert await service.index_pending(limit=2) == 2
    assert await mark(client) == ids[2]
    assert await pending(memory)
    assert await service.index_pending() == 1
    assert await mark(client) is None
    assert not await pending(memory)
    later = (await memory.record_message(ANA, "user", "otro pedido")).message.id
    assert await mark(client) == later
    assert await service.index_pending() == 1
    # A mark above a new message comes down to it: another process, holding a later block of
    # ids, stored a message and set the mark before this one stored its own.
    bump = sql_text("UPDATE clients SET unindexed_from = :mark WHERE id = :id")
    await memory.store.write(lambda: _run(Query(bump, {"mark": later + 10_000, "id": client})))
    newest = (await memory.record_message(ANA, "user", "y otro más")).message.id
    assert newest < later + 10_000
    assert await mark(client) == newest
    assert await service.index_pending() == 1
    assert await mark(client) is None


def _run(query: Query) -> Op[None]:
    yield query


async def test_reindex_rebuilds_the_same_index(memory: Memory) -> None:
    await load_shop(memory)
    before = [refs(await memory.search(q, who=w)) for q, w, _ in EXPECTED]
    counts = await stats(memory)
    service = SearchService.of(memory)
    ana = await memory.client(ANA)
    # Damage: Ana's terms vanish while her messages stay marked as indexed.
    await memory.store.write(partial(search_ops.delete_client_terms, service.fulltext, ana.id))
    assert refs(await memory.search("camiseta", who=ANA)) == ["summary"]
    seen: list[tuple[int, int]] = []
    assert await service.reindex(lambda done, total: seen.append((done, total))) == 13
    assert seen[0] == (0, 13)
    assert seen[-1] == (13, 13)
    assert [refs(await memory.search(q, who=w)) for q, w, _ in EXPECTED] == before
    assert await stats(memory) == counts


async def test_forgetting_a_client_removes_its_terms_and_statistics(memory: Memory) -> None:
    await load_shop(memory)
    await memory.search("pedido")
    carol = await memory.client(CAROL)
    forgotten = await SearchService.of(memory).forget_client(carol.id)
    assert forgotten == 2
    assert refs(await memory.search("camisetas envío Cali")) == ["a2", "a1"]
    doc_count, _, df = await stats(memory)
    assert doc_count == 11
    assert df["camiset"] == 2


async def test_filters_apply_to_hits_in_both_scopes(memory: Memory) -> None:
    await load_shop(memory)
    assert refs(await memory.search("pedido", who=ANA, since=MAY)) == ["a5", "a6", "a7", "a8"]
    assert refs(await memory.search("pedido", who=ANA, until=MAY)) == ["a4", "a3", "a2", "summary"]
    assert refs(await memory.search("pedido", who=ANA, roles=["user"])) == ["a5", "a3", "a8"]
    assert refs(await memory.search("pedido", roles=["assistant"])) == ["a6", "a4"]
    assert refs(await memory.search("pedido", until=MAY)) == ["a4"]
    assert refs(await memory.search("order", since=JUNE + timedelta(minutes=9))) == ["b2"]
    assert await memory.search("pedido", since=JUNE) == []


async def test_a_period_alone_lists_that_periods_messages_of_a_client(memory: Memory) -> None:
    await load_shop(memory)
    assert refs(await memory.search("en marzo", who=ANA)) == ["a4", "a3", "a2", "a1"]
    # Words that no message holds: the period still answers.
    assert refs(await memory.search("¿qué dije en marzo?", who=ANA)) == ["a4", "a3", "a2", "a1"]
    assert await memory.search("en marzo") == []


async def test_limit_is_respected_and_summaries_can_be_left_out(memory: Memory) -> None:
    await load_shop(memory)
    assert len(await memory.search("pedido", who=ANA, limit=2)) == 2
    kinds = {h.kind for h in await memory.search("pedido", who=ANA, roles=["user", "assistant"])}
    assert kinds == {"message"}


BAD_QUERIES = [
    "",
    "   ",
    "el la de que y",
    "the and of",
    '"',
    "*",
    "NEAR",
    "'",
    "--",
    '"pedido" NEAR(a b) * OR -- \'',
    "pedido' OR '1'='1",
    "'; DROP TABLE messages; --",
    "pedido:*",
    "!!! ??? ...",
    "\x00pedido",
    "a & b | !c <-> d",
    "x" * 10_000,
    "pedido " * 2_000,
    "中文 العربية пример",
]


# (Queries with English words such as "or", "a" are read as English and stem "pedido" apart.)
FINDS_PEDIDO = {"pedido:*", "\x00pedido", "pedido " * 2_000}


@pytest.mark.parametrize("query", BAD_QUERIES, ids=lambda q: repr(q)[:24])
async def test_bad_queries_get_sensible_answers(memory: Memory, query: str) -> None:
    await load_shop(memory)
    for who in (ANA, None):
        hits = await memory.search(query, who=who)
        assert isinstance(hits, list)
        if query in FINDS_PEDIDO:
            assert hits, "a query holding 'pedido' still finds it"


async def test_bad_arguments_raise_recuerdo_errors(memory: Memory) -> None:
    await load_shop(memory)
    with pytest.raises(ClientNotFound):
        await memory.search("pedido", who="573009999999")
    with pytest.raises(ClientNotFound):
        await memory.search("", who="573009999999")
    with pytest.raises(InvalidIdentifier):
        await memory.search("pedido", who="not a phone")
    with pytest.raises(InvalidInput):
        await memory.search("pedido", limit=0)
    with pytest.raises(InvalidInput):
        await memory.search("pedido", limit=101)
    with pytest.raises(InvalidInput):
        await memory.search(42)  # type: ignore[arg-type]
    with pytest.raises(NaiveDatetime):
        await memory.search("pedido", since=datetime(2025, 1, 1))
    with pytest.raises(InvalidRole):
        await memory.search("pedido", roles=["customer"])
    far = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(-timedelta(hours=23)))
    with pytest.raises(InvalidInput):
        await memory.search("pedido", until=far)
    assert await memory.search("pedido", since=datetime(1, 1, 1, tzinfo=UTC)) != []


async def test_tenants_do_not_see_each_other(memory: Memory) -> None:
    await load_shop(memory)
    other = memory.for_tenant("otra-tienda")
    await other.record_message(ANA, "user", "Pedido secreto de otra tienda", external_id="x1")
    assert refs(await other.search("pedido")) == ["x1"]
    assert refs(await other.search("pedido", who=ANA)) == ["x1"]
    assert "x1" not in refs(await memory.search("pedido secreto"))
    assert "x1" not in refs(await memory.search("pedido secreto", who=ANA))


async def test_an_import_after_newer_messages_is_indexed_too(memory: Memory) -> None:
    await load_shop(memory)
    await memory.search("pedido")
    old = datetime(2024, 12, 1, 9, 0, tzinfo=UTC)
    await memory.record_message(ANA, "user", "Navidad: regalo envuelto", at=old, external_id="a0")
    assert refs(await memory.search("regalo", who=ANA)) == ["a0"]
    assert refs(await memory.search("regalo")) == ["a0"]


async def test_a_failing_round_is_retried_by_the_next(
    memory: Memory, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    from recuerdo.search.indexer import run_indexer

    await load_shop(memory)
    stop = asyncio.Event()
    task = asyncio.create_task(run_indexer(memory, stop, interval=0.01))
    for _ in range(500):
        if not await pending(memory):
            break
        await asyncio.sleep(0.01)
    assert not await pending(memory)
    await memory.record_message(ANA, "user", "Una más", external_id="a9")
    for _ in range(500):
        if not await pending(memory):
            break
        await asyncio.sleep(0.01)
    assert not await pending(memory)
    stop.set()
    with caplog.at_level(logging.ERROR, logger="recuerdo.search"):
        await asyncio.wait_for(task, 5)
    assert not caplog.records


async def test_cached_client_indexes_follow_messages_summaries_and_names(memory: Memory) -> None:
    await load_shop(memory)
    assert await memory.search("factura", who=ANA) == []
    await memory.record_message(ANA, "user", "¿Y la factura?", external_id="a9")
    assert refs(await memory.search("factura", who=ANA)) == ["a9"]
    ana = await memory.client(ANA)
    conversation = (await memory.conversations(ANA)).items[0]

    def new_summary() -> Op[int]:
        params = {"summary": "Ana pidió su factura", "client_id": ana.id, "id": conversation.id}
        changed: int = yield Query(S_SET_SUMMARY, params)
        return changed

    await memory.store.write(new_summary)
    assert refs(await memory.search("pidió", who=ANA)) == ["summary"]
    assert await memory.search("Mariana", who=ANA) == []
    await memory.update_client(ANA, customer_name="Mariana")
    assert "a9" in refs(await memory.search("Mariana", who=ANA))


async def test_concurrent_indexers_index_each_message_once(memory: Memory) -> None:
    import asyncio

    await load_shop(memory)
    for n in range(40):
        await memory.record_message(
            CAROL, "user", f"Pedido número {n} de camisetas", external_id=f"n{n}"
        )
    services = [SearchService(memory, settings=SearchSettings(index_batch=5)) for _ in range(3)]
    done = await asyncio.gather(*(s.index_pending(10_000) for s in services))
    assert sum(done) == 53
    doc_count, _, df = await stats(memory)
    assert doc_count == 53
    assert df["camiset"] == 43
    assert not await pending(memory)


@pytest.mark.parametrize("name", ["pending", "pending_of_client", "has_pending"])
def test_sqlite_reads_the_queue_from_the_marked_clients(tmp_path: Path, name: str) -> None:
    """The indexer's queries start from the marked clients (the queue's partial index) and read
    their messages from the mark on, in order: no scan of every message, no sort (a round runs
    under the write lock; on a large database a scan would hold it for long)."""
    import asyncio
    import sqlite3

    from sqlalchemy.dialects import sqlite as sqlite_dialect

    path = tmp_path / "q.db"

    async def create() -> None:
        async with await Memory.open(f"sqlite:///{path}") as memory:
            await memory.record_message(ANA, "user", "hola")

    asyncio.run(create())
    statement = getattr(search_ops.FTS5, name)
    text = statement.compile(dialect=sqlite_dialect.dialect(paramstyle="qmark")).string
    conn = sqlite3.connect(path)
    try:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {text}", [1] * text.count("?"))]
    finally:
        conn.close()
    assert "ix_clients_search_queue" in plan[0]
    assert plan[1].startswith("SEARCH m USING PRIMARY KEY")
    assert not any("TEMP B-TREE" in step or step.startswith("SCAN m") for step in plan)
