"""Storing imported messages in batches through ``Memory.store_many``.

Every importer ends here: it yields ``(NewMessage, line_no)`` pairs and problems; this module
reads them in batches (in a worker thread, so parsing never blocks the event loop), records
each batch with one call, and counts what was new and what was already stored. The next batch
is read while the current one is being stored, so the file and the database work at once.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from recuerdo.errors import InvalidInput
from recuerdo.importers.report import ImportReport, ParseProblem
from recuerdo.model import NewMessage

DEFAULT_BATCH = 1000
T = TypeVar("T")

Sourced = tuple[NewMessage, int]
"""A message to record and the line (or row) of the file it came from."""


class MessageRecorder(Protocol):
    """What an import needs from :class:`recuerdo.Memory`: recording many messages at once,
    answering for each, in order, whether it was new (``False`` for a message whose external
    id was already stored)."""

    async def store_many(self, messages: list[NewMessage], /) -> Sequence[bool]: ...


def _take(
    items: Iterator[Sourced | ParseProblem], size: int, report: ImportReport
) -> list[Sourced]:
    batch: list[Sourced] = []
    for item in items:
        if isinstance(item, ParseProblem):
            report.add_problem(item)
            continue
        batch.append(item)
        if len(batch) >= size:
            break
    return batch


async def _take_async(
    items: AsyncIterator[Sourced | ParseProblem], size: int, report: ImportReport
) -> list[Sourced]:
    batch: list[Sourced] = []
    async for item in items:
        if isinstance(item, ParseProblem):
            report.add_problem(item)
            continue
        batch.append(item)
        if len(batch) >= size:
            break
    return batch


async def record_in_batches(
    memory: MessageRecorder,
    items: Iterator[Sourced | ParseProblem] | AsyncIterator[Sourced | ParseProblem],
    report: ImportReport,
    *,
    file: str,
    batch_size: int = DEFAULT_BATCH,
    after_batch: Callable[[int], None] | None = None,
) -> None:
    """Record every message of ``items`` (an iterator, or an async one for database readers);
    problems go to ``report``.

    A batch that the store refuses as bad input is retried message by message, so one bad
    message is reported (with its file and line) and the others are still stored. External ids
    make the retry harmless. ``after_batch`` gets the last line number of each stored batch.

    >>> import asyncio
    >>> class Store:
    ...     async def store_many(self, messages):
    ...         return [True for _ in messages]
    >>> report = ImportReport()
    >>> asyncio.run(record_in_batches(Store(), iter([]), report, file="x.txt"))
    >>> report.imported
    0
    """
    if isinstance(items, AsyncIterator):
        source = items

        async def take() -> list[Sourced]:
            return await _take_async(source, batch_size, report)

    else:
        lines = items

        async def take() -> list[Sourced]:
            return await asyncio.to_thread(_take, lines, batch_size, report)

    async def store(batch: list[Sourced]) -> Sequence[bool]:
        try:
            return await memory.store_many([message for message, _ in batch])
        except InvalidInput:
            return await _one_by_one(memory, batch, report, file)

    await store_batches(take, store, report, after_batch)


async def store_batches(
    take: Callable[[], Awaitable[list[tuple[T, int]]]],
    store: Callable[[list[tuple[T, int]]], Awaitable[Sequence[bool]]],
    report: ImportReport,
    after_batch: Callable[[int], None] | None = None,
) -> None:
    """Store the batches ``take`` gives (items with their line numbers; an empty batch ends)
    with ``store``, reading the next batch while the current one is stored, and count what
    was new and what was already there."""
    # An import allocates millions of short-lived objects; at CPython's default thresholds the
    # collector would run every few hundred messages and rescan everything loaded (measured:
    # a fifth of the time). Collect less often while importing; the old thresholds come back.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), max(thresholds[1], 20), thresholds[2])
    try:
        batch = await take()
        while batch:
            following = asyncio.ensure_future(take())
            try:
                created = await store(batch)
            except BaseException:
                following.cancel()
                await asyncio.gather(following, return_exceptions=True)
                raise
            new = sum(created)
            report.imported += new
            report.duplicates += len(created) - new
            if after_batch is not None:
                after_batch(batch[-1][1])
            batch = await following
    finally:
        gc.set_threshold(*thresholds)


async def _one_by_one(
    memory: MessageRecorder, batch: list[Sourced], report: ImportReport, file: str
) -> list[bool]:
    created: list[bool] = []
    for message, line_no in batch:
        try:
            created.extend(await memory.store_many([message]))
        except InvalidInput as exc:
            report.add_problem(ParseProblem(file, line_no, message.content[:200], exc.message))
    return created
