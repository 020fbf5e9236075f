"""The embedded engine: one SQLite file in WAL mode, one writer with group commit.

Every write goes through one queue. The writer task takes everything queued, runs it in one
transaction and commits once, so concurrent callers share a commit (and, with
``synchronous=FULL``, its fsync); each caller's future resolves only after that commit. With
FULL the commit runs in a thread so the event loop keeps accepting writes for the next batch;
with NORMAL there is no fsync to wait for and everything stays on the loop (a thread hop would
cost more than the write).

Reads use a second connection; WAL lets them run while a write is in progress.
"""

from __future__ import annotations

import asyncio
import functools
import operator
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy.dialects import sqlite as sqlite_dialect

from recuerdo.errors import RecuerdoError, StorageError
from recuerdo.model import Identifier
from recuerdo.store import ops
from recuerdo.store.query import NextIds, Op, Query, Row, StatementCache, Step
from recuerdo.store.record_batch import Known, RecordCall, record_calls
from recuerdo.store.rows import compact_json
from recuerdo.store.sqlite_usual import UsualRecord, time_text

T = TypeVar("T")
# A caller writing alone gives the event loop a turn before every this-many-th write (see
# SQLiteStore.write).
_LONE_TURNS = 8
# Ids are reserved in blocks that outlive a transaction (one counter update per block, not per
# message); a process that exits leaves a gap, so ids are unique and increasing, not dense.
_ID_BLOCK = 1000


def _json(value: Any) -> str:
    return compact_json(value)


_CONVERT: dict[type, Any] = {datetime: time_text, dict: _json, list: _json, tuple: _json}
_NEEDS_CONVERT = frozenset(_CONVERT)


def _convert(values: Sequence[Any]) -> list[Any]:
    get = _CONVERT.get
    return [convert(v) if (convert := get(type(v))) is not None else v for v in values]


def _convert_column(values: tuple[Any, ...]) -> Sequence[Any]:
    """One column of an ``executemany``: left as it is when nothing in it needs converting
    (looked at with C-level ``map``, not value by value in Python)."""
    types = set(map(type, values))
    if types.isdisjoint(_NEEDS_CONVERT):
        return values
    if types == {datetime}:
        return list(map(time_text, values))
    return _convert(values)


def _picker(keys: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """The values at ``keys`` (names of a mapping, indexes of a sequence) as a tuple, in one C
    call (``itemgetter`` alone answers a bare value for one key)."""
    if not keys:
        return lambda values: ()
    if len(keys) == 1:
        key = keys[0]
        return lambda values: (values[key],)
    picker: Callable[[Any], tuple[Any, ...]] = operator.itemgetter(*keys)
    return picker


class _Binder:
    """Positional arguments of one compiled statement from parameter mappings (positional
    binding: SQLite looks named parameters up one by one, which costs microseconds each in a
    statement with thousands). Datetimes become fixed-width ISO text and JSON documents text.
    A name used several times (``CASE WHEN at < :at THEN :at …``) is converted once."""

    __slots__ = ("_expand", "_get", "_width")

    def __init__(self, names: tuple[str, ...]) -> None:
        unique = tuple(dict.fromkeys(names))
        self._width = len(unique)
        self._get = _picker(unique)
        self._expand = (
            None if len(unique) == len(names) else _picker([unique.index(n) for n in names])
        )

    def one(self, params: Mapping[str, Any]) -> Sequence[Any]:
        values = _convert(self._get(params))
        return values if self._expand is None else self._expand(values)

    def many(self, rows: Sequence[Mapping[str, Any]]) -> list[Sequence[Any]]:
        if not rows or not self._width:
            return [() for _ in rows]
        columns = [_convert_column(column) for column in zip(*map(self._get, rows), strict=True)]
        args: list[Sequence[Any]] = list(zip(*columns, strict=True))
        if self._expand is not None:
            args = list(map(self._expand, args))
        return args


@functools.lru_cache(maxsize=1024)
def _binder(names: tuple[str, ...]) -> _Binder:
    return _Binder(names)


class SQLiteStore:
    """Runs storage operations on a SQLite file (see the module docstring)."""

    capabilities = frozenset({"group_commit", "fts5"})
    needs_row_locks = False

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "NORMAL",
        wal_autocheckpoint: int | None = None,
        busy_timeout_ms: int = 10_000,
        batch_max: int = 256,
    ) -> None:
        self.path = path
        self.synchronous = synchronous.upper()
        self._busy_timeout = busy_timeout_ms / 1000
        self._batch_max = batch_max
        self._statements = StatementCache(
            sqlite_dialect.dialect(paramstyle="qmark"), lambda names: _binder(names or ())
        )
        self._writer = self._connect()
        self._writer.execute("PRAGMA busy_timeout = 0")  # waits happen in _begin, off the loop
        # Checkpoints run on the connection whose commit crosses the threshold: the writer's.
        if wal_autocheckpoint is None:
            wal_autocheckpoint = 1000 if self.synchronous in {"FULL", "EXTRA"} else 10_000
        self._writer.execute(f"PRAGMA wal_autocheckpoint = {int(wal_autocheckpoint)}")
        self._reader = self._connect()
        self._reader.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        self._ids: dict[str, list[int]] = {}
        self._queue: list[tuple[Callable[[], Op[Any]], asyncio.Future[Any]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._busy = False  # a batch is being run (by the writer task or a leading caller)
        self._lone_task: asyncio.Task[Any] | None = None  # the task of the last lone write
        self._lone_writes = 0  # its lone writes in a row (see write)
        self._usual: UsualRecord | None = UsualRecord(self)
        # Client states the last writes left (record_batch.KnownClient), so that a client's next
        # message needs no read. Valid while nothing else writes: any other write of this store
        # clears them, and so does a commit by another connection (PRAGMA data_version, read in
        # each write transaction, changes then).
        self._known: Known = {}
        self._version: int | None = None
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    # -- writing -------------------------------------------------------------------------------

    async def write(self, factory: Callable[[], Op[T]]) -> T:
        """Run the operation ``factory()`` in the next group commit; return once it is durable.

        When no batch is running or waiting, the caller runs the batch itself (it *leads*):
        after one loop turn, in which every caller already runnable queues its write behind
        this one, it takes the queue and, when that needs no waiting (the write lock is free;
        no commit to hand to a thread), begins, runs and commits it right here — without the
        writer task, its wake-up and the caller's own wake-up after it, which cost a lone
        caller more than its statements. Anything that needs waiting goes to the writer task.

        When the same task writes again right after its own lone write (a caller writing in a
        loop), the loop turn is left out — it is a sixth of a lone write's time and nobody would
        join — except every ``_LONE_TURNS``-th time, so that such a caller still lets other
        tasks run, and callers that became runnable meanwhile are found and batched. Any other
        task takes the turn, so concurrent callers starting together share a commit.
        """
        if self._closed:
            raise StorageError("the store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        queue = self._queue
        queue.append((factory, future))
        if self._busy or len(queue) > 1:  # a batch is running or about to: it takes this one
            self._wake_writer()
            return await future
        self._busy = True
        task = asyncio.current_task()
        try:
            if task is not self._lone_task or self._lone_writes % _LONE_TURNS == 0:
                await asyncio.sleep(0)
            # From here on nothing awaits, so a cancelled caller cannot stop a batch halfway.
            batch = queue[: self._batch_max]
            if self._commit_now(batch):
                del queue[: len(batch)]
                if len(batch) > 1 or task is not self._lone_task:
                    self._lone_task, self._lone_writes = (task if len(batch) == 1 else None), 0
                self._lone_writes += 1
        finally:
            self._busy = False
            if queue or self._closed:  # what was queued meanwhile, or what could not be done
                self._wake_writer()
        return await future  # done unless the writer task took the batch over

    def _wake_writer(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(
                self._write_loop(), name="recuerdo-sqlite-writer"
            )
        assert self._wake is not None
        self._wake.set()

    async def _write_loop(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue and not self._busy:  # a leading caller wakes this task after
                self._busy = True
                try:
                    batch = self._queue[: self._batch_max]
                    del self._queue[: self._batch_max]
                    self._lone_task = None  # callers are writing together
                    await self._commit_batch(batch)
                finally:
                    self._busy = False
            if self._closed and not self._queue and not self._busy:
                return

    def _commit_now(self, batch: list[tuple[Callable[[], Op[Any]], asyncio.Future[Any]]]) -> bool:
        """:meth:`_commit_batch` without waiting, for a leading caller: ``False`` (nothing done)
        when the write lock is held elsewhere, an operation fails (the writer task then retries
        them one by one) or the commit belongs in a thread (``FULL``, several callers)."""
        if self.synchronous in {"FULL", "EXTRA"} and len(batch) > 1:
            return False
        try:
            self._writer.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False  # locked by another process: the writer task waits for it
        try:
            results = self._run_batch([factory for factory, _ in batch])
        except Exception:
            self._rollback()
            return False
        try:
            self._writer.commit()
        except sqlite3.Error as exc:
            self._fail(batch, exc)
            return True
        self._resolve(batch, results)
        return True

    async def _commit_batch(
        self, batch: list[tuple[Callable[[], Op[Any]], asyncio.Future[Any]]]
    ) -> None:
        try:
            await self._begin()
            results = self._run_batch([factory for factory, _ in batch])
        except Exception:  # one bad operation must not sink the others: retry them one by one
            self._rollback()
            for item in batch:
                await self._commit_one(*item)
            return
        try:
            await self._commit(len(batch))
        except sqlite3.Error as exc:
            self._fail(batch, exc)
            return
        self._resolve(batch, results)

    def _fail(
        self, batch: list[tuple[Callable[[], Op[Any]], asyncio.Future[Any]]], exc: Exception
    ) -> None:
        self._rollback()
        error = StorageError(f"commit failed: {exc}")
        for _, future in batch:
            if not future.done():
                future.set_exception(error)

    @staticmethod
    def _resolve(
        batch: list[tuple[Callable[[], Op[Any]], asyncio.Future[Any]]], results: list[Any]
    ) -> None:
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _run_batch(self, factories: list[Callable[[], Op[Any]]]) -> list[Any]:
        """Run a batch's operations in order; consecutive record calls of one tenant run as one
        set-based batch (a few statements for the lot instead of several per message)."""
        version = self._writer.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:  # another connection committed: nothing kept holds
            self._known.clear()
            self._version = version
        if len(factories) == 1:  # a lone call: its own operation, no batch around it
            factory = factories[0]
            if type(factory) is RecordCall and self._usual is not None and not factory.lock:
                done, found = self._usual.record(factory)
                if done is not None:
                    return [done]
                self._known.clear()
                op = ops.record(*factory.args(), lock=False, found=found)  # read: not again
                return [self._drive(self._writer, op)]
            self._known.clear()
            return [self._drive(self._writer, factory())]
        results: list[Any] = []
        i = 0
        while i < len(factories):
            factory = factories[i]
            if not isinstance(factory, RecordCall):
                self._known.clear()
                results.append(self._drive(self._writer, factory()))
                i += 1
                continue
            j = i + 1
            while j < len(factories):
                other = factories[j]
                if not isinstance(other, RecordCall) or other.tenant != factory.tenant:
                    break
                j += 1
            calls = [f for f in factories[i:j] if isinstance(f, RecordCall)]
            known = None if self._usual is None else self._known
            results.extend(self._drive(self._writer, record_calls(calls, known)))
            i = j
        return results

    async def _commit_one(
        self, factory: Callable[[], Op[Any]], future: asyncio.Future[Any]
    ) -> None:
        try:
            await self._begin()
            self._known.clear()
            result = self._drive(self._writer, factory())
            await self._commit()
        except Exception as exc:
            self._rollback()
            if not future.done():
                future.set_exception(_translate(exc))
            return
        if not future.done():
            future.set_result(result)

    async def _begin(self) -> None:
        # BEGIN IMMEDIATE takes the write lock now; another process may hold it, so wait with
        # asyncio.sleep instead of SQLite's busy handler, which would block the event loop.
        deadline: float | None = None
        delay = 0.001
        while True:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if deadline is None:
                    deadline = time.monotonic() + self._busy_timeout
                if time.monotonic() > deadline:
                    raise StorageError(
                        "the database is locked by another process; gave up after "
                        f"{self._busy_timeout:.1f}s"
                    ) from exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)

    async def _commit(self, batch_size: int = 1) -> None:
        # With FULL the commit waits for an fsync: in a thread, the loop meanwhile queues the next
        # batch. For a lone caller (a batch of one, nothing queued) the thread hop (~180 µs)
        # costs more than it lets overlap, so that commit runs here.
        if self.synchronous in {"FULL", "EXTRA"} and (batch_size > 1 or self._queue):
            await asyncio.to_thread(self._writer.commit)
        else:
            self._writer.commit()

    def _rollback(self) -> None:
        self._known.clear()
        self._ids.clear()  # blocks reserved in the rolled-back transaction are not reserved
        if self._writer.in_transaction:
            self._writer.rollback()

    # -- reading -------------------------------------------------------------------------------

    async def read(self, factory: Callable[[], Op[T]]) -> T:
        """Run a read-only operation on the reader connection."""
        if self._closed:
            raise StorageError("the store is closed")
        try:
            return self._drive(self._reader, factory())
        except sqlite3.Error as exc:
            raise StorageError(f"read failed: {exc}") from exc

    async def find_client(self, tenant: int, keys: Sequence[Identifier]) -> Row | None:
        return await self.read(lambda: ops.find_client(tenant, keys))

    # -- running operations ---------------------------------------------------------------------

    def _drive(self, conn: sqlite3.Connection, op: Op[T]) -> T:
        try:
            step: Step = next(op)
            while True:
                if isinstance(step, Query):
                    result = self._run(conn, step)
                elif isinstance(step, NextIds):
                    result = self._next_ids(step.table, step.number)
                else:
                    result = self._next_ids(step.table, 1)[0]
                step = op.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def _run(self, conn: sqlite3.Connection, q: Query) -> Any:
        stmt, params, mode = q
        text, binder, bound = self._statements.compile(stmt)  # a text statement's binder is kept
        if mode == "many":
            rows = cast(Sequence[Mapping[str, Any]], params)
            return conn.executemany(text, binder.many(rows)).rowcount
        one = cast(Mapping[str, Any], params)
        cursor = conn.execute(text, binder.one({**bound, **one} if bound else one))
        if mode == "one":
            row = cursor.fetchone()
            cursor.fetchall()  # finish the statement so RETURNING rows are all written
            return row
        if mode == "all":
            return cursor.fetchall()
        return cursor.rowcount

    def _next_ids(self, table: str, count: int) -> list[int]:
        ids: list[int] = []
        while len(ids) < count:
            block = self._ids.get(table)
            if not block or block[0] > block[1]:
                row = self._writer.execute(
                    "UPDATE id_counters SET value = value + ? WHERE name = ? RETURNING value",
                    (_ID_BLOCK, table),
                ).fetchone()
                if row is None:
                    raise StorageError(f"no id counter for {table}; run `recuerdo db upgrade`")
                block = [row[0] - _ID_BLOCK + 1, row[0]]
                self._ids[table] = block
            take = min(count - len(ids), block[1] - block[0] + 1)
            ids.extend(range(block[0], block[0] + take))
            block[0] += take
        return ids

    # -- lifecycle -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Finish pending writes, then close both connections."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None or self._busy or self._queue:
            self._wake_writer()  # it finishes what is queued, after a leading caller if any
            assert self._task is not None
            await self._task
        self._writer.close()
        self._reader.close()


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, RecuerdoError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return StorageError(f"database error: {exc}")
    return exc
