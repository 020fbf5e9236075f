"""The production engine: PostgreSQL 15+ through an asyncpg pool.

Operations (``ops.py``) run in a transaction on a pooled connection; concurrent writers for the
same client serialise on the client's row lock (``ops.locked_client``). A transaction that loses
a race (deadlock, serialization failure, a unique key taken by a concurrent insert) is retried.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as pg_dialect

from recuerdo.errors import RecuerdoError, StorageError
from recuerdo.model import Identifier
from recuerdo.store import ops
from recuerdo.store.query import NextIds, Op, Query, Row, StatementCache, Step
from recuerdo.store.record_batch import RecordCall, RecordCalls
from recuerdo.store.rows import EncodedJson, compact_json

T = TypeVar("T")
_Lookup = tuple[int, Sequence[Identifier], "asyncio.Future[Row | None]"]
_RETRY_STATES = {"40001", "40P01", "23505"}
_ATTEMPTS = 5
_ID_BLOCK = 100
_LOOKUPS_PER_QUERY = 500  # a few parameters each; PostgreSQL takes at most 32,767 per query


def _encode_json(value: Any) -> str:
    if type(value) is EncodedJson:  # validated and encoded already
        return value
    return compact_json(value)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the pool: recuerdo sets no session state
    (no SET, LISTEN, cursors or session advisory locks), and asyncpg rolls back an open
    transaction itself. The default reset runs a query on every release — a round trip per
    request that halved the rate of single reads."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name,
            encoder=_encode_json,
            decoder=json.loads,
            schema="pg_catalog",
        )


class PostgresStore:
    capabilities = frozenset({"row_locks", "skip_locked", "multi_process_writers", "tsvector"})
    needs_row_locks = True

    def __init__(self, pool: asyncpg.Pool, *, lanes: int = 2, batch_max: int = 256) -> None:
        self._pool = pool
        self._statements = StatementCache(
            pg_dialect.dialect(),  # type: ignore[no-untyped-call]
            _names,
        )
        self._closed = False
        self._batch_max = batch_max
        self._ids: dict[str, list[int]] = {}
        self._lanes: list[list[tuple[RecordCall, asyncio.Future[Any]]]] = [[] for _ in range(lanes)]
        self._busy = [False] * lanes
        self._conns: list[asyncpg.Connection | None] = [None] * lanes
        self._wakes: list[asyncio.Event] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._lookups: list[_Lookup] = []
        self._lookup_tasks: set[asyncio.Task[None]] = set()

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        min_size: int = 2,
        max_size: int = 16,
        lanes: int = 2,
        batch_max: int = 256,
    ) -> PostgresStore:
        try:
            pool = await asyncpg.create_pool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                init=_init_connection,
                reset=_keep_session,
            )
        except (OSError, asyncpg.PostgresError) as exc:
            raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
        assert pool is not None
        return cls(pool, lanes=lanes, batch_max=batch_max)

    async def write(self, factory: Callable[[], Op[T]]) -> T:
        """Run ``factory()`` in its own transaction, retrying lost races.

        Messages go through writer lanes instead: a client's messages always take the same lane
        (so they are stored in call order), and each lane commits what queued up while it was
        busy as one set-based batch in one transaction (a few round trips for the lot). A call
        that finds its lane idle makes the lane's call itself (see :meth:`_enqueue`)."""
        if self._closed:
            raise StorageError("the store is closed")
        if isinstance(factory, RecordCall):
            return await self._enqueue(factory)  # type: ignore[no-any-return]
        if isinstance(factory, RecordCalls):  # record_many: one function call for the lot
            calls = [factory.one(m) for m in factory.messages]
            return await self._record_run(calls)  # type: ignore[return-value]
        return await self._transaction(factory)

    async def _enqueue(self, call: RecordCall) -> Any:
        """Record ``call`` through its lane. When the lane is idle and nothing waits in it, the
        caller sends its message itself on the lane's connection, without the lane task's
        wake-up and its own wake-up after it (a lone caller's message: about 585 → 563 µs,
        twelve rounds, twice); calls arriving meanwhile queue and the lane task sends them
        next, in order. Such a caller, if cancelled while its message is on its way, may or may
        not have stored it (the function commits as one statement: all of it or nothing; a
        retry with the same external id is safe); a queued call is stored either way."""
        loop = asyncio.get_running_loop()
        if not self._tasks:
            self._wakes = [asyncio.Event() for _ in self._lanes]
            self._tasks = [
                loop.create_task(self._lane(n), name=f"recuerdo-pg-lane-{n}")
                for n in range(len(self._lanes))
            ]
        key = call.message.keys[0]
        lane = zlib.crc32(f"{key.kind.value}:{key.value}".encode()) % len(self._lanes)
        queue = self._lanes[lane]
        if not queue and not self._busy[lane]:
            self._busy[lane] = True
            try:
                return (await self._record_run([call], await self._lane_conn(lane)))[0]
            except BaseException:
                await self._drop_conn(lane)
                raise
            finally:
                self._busy[lane] = False
                if queue or self._closed:
                    self._wakes[lane].set()
        future: asyncio.Future[Any] = loop.create_future()
        queue.append((call, future))
        self._wakes[lane].set()
        return await future

    async def _lane(self, n: int) -> None:
        """A lane's writer: sends what queued while the lane was busy. The lane keeps one
        connection from the pool while it lives (taking one and giving it back per message
        cost the pool's release task, another turn of the event loop); a failed call gives it
        back and the next takes a fresh one."""
        queue, wake = self._lanes[n], self._wakes[n]
        while True:
            await wake.wait()
            wake.clear()
            while queue and not self._busy[n]:
                batch = queue[: self._batch_max]
                del queue[: self._batch_max]
                calls = [call for call, _ in batch]
                self._busy[n] = True
                try:
                    results = await self._record_run(calls, await self._lane_conn(n))
                except Exception as exc:
                    await self._drop_conn(n)
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                finally:
                    self._busy[n] = False
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
            if self._closed and not queue and not self._busy[n]:
                await self._drop_conn(n)
                return

    async def _lane_conn(self, n: int) -> asyncpg.Connection:
        conn = self._conns[n]
        if conn is None or conn.is_closed():
            conn = self._conns[n] = await self._pool.acquire()
        return conn

    async def _drop_conn(self, n: int) -> None:
        conn, self._conns[n] = self._conns[n], None
        if conn is not None:
            await self._pool.release(conn)

    async def _record_run(
        self, calls: Sequence[RecordCall], conn: asyncpg.Connection | None = None
    ) -> list[tuple[Row, bool]]:
        """Record a lane's batch with the server-side function: one round trip for the lot,
        except the items it hands back ('slow'), which the Python operation records in order."""
        results: list[tuple[Row, bool]] = []
        i = 0
        while i < len(calls):
            tenant = calls[i].tenant
            j = i
            while j < len(calls) and calls[j].tenant == tenant:
                j += 1
            run = calls[i:j]
            answer = await self._retrying(partial(self._call_record_function, run, conn))
            for entry in answer:
                status = entry["status"]
                if status == "slow":
                    results.append(await self._transaction(calls[i]))
                elif status == "created":
                    results.append((_created_row(calls[i].message, entry), True))
                else:
                    results.append((entry["row"], False))
                i += 1
        return results

    async def _call_record_function(
        self, run: Sequence[RecordCall], conn: asyncpg.Connection | None = None
    ) -> list[dict[str, Any]]:
        first = run[0]
        items = [
            {
                "keys": [[k.kind.value, k.value] for k in c.message.keys],
                "role": c.message.role,
                "role_code": c.message.role_code,
                "content": c.message.content,
                "content_type": c.message.content_type,
                "at": c.message.at.isoformat(),
                "thread_id": c.message.thread_id,
                "external_id": c.message.external_id,
                "metadata": None if c.message.metadata is None else c.message.metadata.source,
                "profile_name": c.message.profile_name,
            }
            for c in run
        ]
        now = max(c.now for c in run)
        args = (first.tenant, items, first.idle, now)
        if conn is not None:
            return list(await conn.fetchval(_CALL_RECORD, *args))
        async with self._pool.acquire() as pooled:
            return list(await pooled.fetchval(_CALL_RECORD, *args))

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        delay = 0.005
        for attempt in range(_ATTEMPTS):
            try:
                return await call()
            except asyncpg.PostgresError as exc:
                if getattr(exc, "sqlstate", None) in _RETRY_STATES and attempt < _ATTEMPTS - 1:
                    await asyncio.sleep(delay)
                    delay *= 2
                    continue
                raise StorageError(f"database error: {exc}") from exc
            except (OSError, asyncpg.InterfaceError) as exc:
                raise StorageError(f"database connection failed: {exc}") from exc
        raise StorageError("write gave up after repeated conflicts")  # pragma: no cover

    async def _transaction(self, factory: Callable[[], Op[T]]) -> T:
        async def attempt() -> T:
            async with self._pool.acquire() as conn, conn.transaction():
                return await self._drive(conn, factory())

        return await self._retrying(attempt)

    async def read(self, factory: Callable[[], Op[T]]) -> T:
        try:
            async with self._pool.acquire() as conn:
                return await self._drive(conn, factory())
        except RecuerdoError:
            raise
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as exc:
            raise StorageError(f"read failed: {exc}") from exc

    async def find_client(self, tenant: int, keys: Sequence[Identifier]) -> Row | None:
        """Lookups that arrive together share one query: every call made in one turn of the
        event loop (a busy server's requests for thread ids, clients, handoff flags) is answered
        by a single round trip after it, instead of one each."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Row | None] = loop.create_future()
        self._lookups.append((tenant, keys, future))
        if len(self._lookups) == 1:
            loop.call_soon(self._start_lookups)
        return await future

    def _start_lookups(self) -> None:
        batch, self._lookups = self._lookups, []
        task = asyncio.get_running_loop().create_task(self._run_lookups(batch))
        self._lookup_tasks.add(task)
        task.add_done_callback(self._lookup_tasks.discard)

    async def _run_lookups(self, batch: list[_Lookup]) -> None:
        by_tenant: dict[int, list[_Lookup]] = {}
        for lookup in batch:
            by_tenant.setdefault(lookup[0], []).append(lookup)
        for tenant, lookups in by_tenant.items():
            for first in range(0, len(lookups), _LOOKUPS_PER_QUERY):
                await self._answer(tenant, lookups[first : first + _LOOKUPS_PER_QUERY])

    async def _answer(self, tenant: int, lookups: list[_Lookup]) -> None:
        keysets = [keys for _, keys, _ in lookups]
        try:
            rows = await self.read(lambda: ops.find_clients(tenant, keysets))
        except Exception as exc:
            for *_, future in lookups:
                if not future.done():
                    future.set_exception(exc)
            return
        for (*_, future), row in zip(lookups, rows, strict=True):
            if not future.done():
                future.set_result(row)

    async def _drive(self, conn: asyncpg.Connection, op: Op[T]) -> T:
        result: Any = None
        try:
            step: Step = op.send(None)
            while True:
                if isinstance(step, Query):
                    result = await self._run(conn, step)
                elif isinstance(step, NextIds):
                    result = await self._next_ids(conn, step.table, step.number)
                else:
                    result = (await self._next_ids(conn, step.table, 1))[0]
                step = op.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    async def _run(self, conn: asyncpg.Connection, q: Query) -> Any:
        text, names, bound = self._statements.compile(q.stmt)
        if q.mode == "many":
            rows = q.params
            assert isinstance(rows, Sequence)
            await conn.executemany(text, [_positional(names, p, None) for p in rows])
            return None
        assert isinstance(q.params, Mapping)
        args = _positional(names, q.params, bound)
        if q.mode == "one":
            return await conn.fetchrow(text, *args)
        if q.mode == "all":
            return await conn.fetch(text, *args)
        status = await conn.execute(text, *args)
        return _rowcount(status)

    async def _next_ids(self, conn: asyncpg.Connection, table: str, count: int) -> list[int]:
        # Sequences ignore rollbacks, so ids fetched in bulk stay ours whatever happens to the
        # transaction: one round trip per _ID_BLOCK ids instead of one per id.
        pool = self._ids.setdefault(table, [])
        ids: list[int] = []
        while len(ids) < count:
            if not pool:
                rows = await conn.fetch(
                    f"SELECT nextval('{table}_id_seq') AS id FROM generate_series(1, {_ID_BLOCK})"
                )
                pool.extend(sorted((int(r["id"]) for r in rows), reverse=True))
            ids.append(pool.pop())
        return ids

    async def close(self) -> None:
        """Finish queued writes, then close the pool."""
        if not self._closed:
            self._closed = True
            for wake in self._wakes:
                wake.set()
            for task in self._tasks:
                await task
            await self._pool.close()


_CALL_RECORD = "SELECT recuerdo_record($1, $2::jsonb, $3, $4)"


def _positional(
    names: tuple[str, ...] | None, params: Mapping[str, Any], bound: Mapping[str, Any] | None
) -> list[Any]:
    if not names:
        return []
    if bound:
        merged = {**bound, **params}
        return [merged[n] for n in names]
    return [params[n] for n in names]


def _names(names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """asyncpg takes positional arguments: a statement's parameter names are all it needs."""
    return names


def _created_row(m: ops.PreparedMessage, stored: Mapping[str, Any]) -> Row:
    """The row the record function stored for ``m``, from what it answered (the ids)."""
    return ops.message_row(
        m, stored["client_id"], stored["id"], stored["conversation_id"], stored["thread_id"]
    )


def _rowcount(status: str) -> int:
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0
