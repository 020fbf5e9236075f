"""The background indexer: drains the search index queue while ``recuerdo serve`` runs.

Searches index what waits before they run (a bounded number), so this loop only keeps the queue
short, e.g. after an import. It indexes every tenant of the database.

Example::

    stop = asyncio.Event()
    task = asyncio.create_task(run_indexer(memory, stop, interval=2.0))
    ...
    stop.set()
    await task
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from recuerdo.search.service import SearchService

if TYPE_CHECKING:
    from recuerdo.memory import Memory

log = logging.getLogger("recuerdo.search")

ROUND = 10_000
"""Messages indexed per round at most; a longer queue goes on in the next round at once."""


async def run_indexer(memory: Memory, stop_event: asyncio.Event, interval: float = 2.0) -> None:
    """Index waiting messages every ``interval`` seconds until ``stop_event`` is set.

    A failure is logged and retried in the next round (the queue keeps what was not indexed).
    """
    service = SearchService.of(memory)
    while not stop_event.is_set():
        indexed = 0
        try:
            indexed = await service.index_pending(ROUND)
        except Exception:  # the job loop is a process edge: log, count, go on
            log.exception("search indexer round failed; retrying in %.1fs", interval)
        if indexed:
            log.debug("search indexer: %d messages indexed", indexed)
        if indexed >= ROUND:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), timeout=interval)
