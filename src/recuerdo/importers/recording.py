"""Storing imported messages in batches through ``Memory.record_many``.

Every importer ends here: it yields ``(NewMessage, line_no)`` pairs and problems; this module
reads them in batches (in a worker thread, so parsing never blocks the event loop), records
each batch with one call, and counts what was new and what was already stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Protocol

from recuerdo.errors import InvalidInput
from recuerdo.importers.report import ImportReport, ParseProblem
from recuerdo.model import NewMessage, Recorded

DEFAULT_BATCH = 500

Sourced = tuple[NewMessage, int]
"""A message to record and the line (or row) of the file it came from."""


class MessageRecorder(Protocol):
    """What an import needs from :class:`recuerdo.Memory`: recording many messages at once,
    answering one :class:`Recorded` per message, in order (``created`` False for a message
    whose external id was already stored)."""

    async def record_many(self, messages: list[NewMessage], /) -> Sequence[Recorded]: ...


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
    ...     async def record_many(self, messages):
    ...         return [type("R", (), {"created": True})() for _ in messages]
    >>> report = ImportReport()
    >>> asyncio.run(record_in_batches(Store(), iter([]), report, file="x.txt"))
    >>> report.imported
    0
    """
    while True:
        if isinstance(items, AsyncIterator):
            batch = await _take_async(items, batch_size, report)
        else:
            batch = await asyncio.to_thread(_take, items, batch_size, report)
        if not batch:
            return
        messages = [message for message, _ in batch]
        try:
            results = await memory.record_many(messages)
        except InvalidInput:
            results = await _one_by_one(memory, batch, report, file)
        for result in results:
            if result.created:
                report.imported += 1
            else:
                report.duplicates += 1
        if after_batch is not None:
            after_batch(batch[-1][1])


async def _one_by_one(
    memory: MessageRecorder, batch: list[Sourced], report: ImportReport, file: str
) -> list[Recorded]:
    results: list[Recorded] = []
    for message, line_no in batch:
        try:
            results.extend(await memory.record_many([message]))
        except InvalidInput as exc:
            report.add_problem(ParseProblem(file, line_no, message.content[:200], exc.message))
    return results
