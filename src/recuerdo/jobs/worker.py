"""The background loop: close idle conversations, then summarise what is due; sleep when idle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from recuerdo.jobs.summaries import SummaryJobs
from recuerdo.memory import Memory

log = logging.getLogger("recuerdo.jobs")

ExtraJob = Callable[[], Awaitable[object]]


async def run_worker(
    memory: Memory,
    stop: asyncio.Event,
    *,
    interval: float = 5.0,
    jobs: SummaryJobs | None = None,
    extra: tuple[ExtraJob, ...] = (),
) -> None:
    """Work until ``stop`` is set. A failing round is logged and retried after ``interval``."""
    summaries = jobs or SummaryJobs(memory)
    try:
        await _loop(memory, stop, interval, summaries, extra)
    finally:
        if jobs is None:
            await summaries.aclose()


async def _loop(
    memory: Memory,
    stop: asyncio.Event,
    interval: float,
    summaries: SummaryJobs,
    extra: tuple[ExtraJob, ...],
) -> None:
    while not stop.is_set():
        busy = False
        try:
            closed = await memory.close_idle_conversations()
            report = await summaries.run_once()
            for job in extra:
                await job()
            busy = report.claimed > 0
            if closed or report.claimed:
                log.info(
                    "closed %d idle conversations; summaries: %d saved, %d failed",
                    closed,
                    report.saved,
                    report.failed,
                )
        except Exception:  # the process edge: log, count, try again next round
            log.exception("background round failed")
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
