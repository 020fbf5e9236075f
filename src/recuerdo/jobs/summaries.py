"""Summarise closed conversations and fold each summary into the client's profile.

The work list is the database (see ``store/summary_ops.py``): restart-safe, several workers at
once on PostgreSQL, nothing half-written when a worker dies. A failed attempt (an LLM that times
out, answers garbage) is recorded with its reason and retried with exponential backoff; after
``max_attempts`` it stays ``failed`` with the reason, never silently dropped.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from recuerdo.errors import LLMError, RecuerdoError
from recuerdo.llm import LLMClient, LLMSettings
from recuerdo.memory import Memory
from recuerdo.store import summary_ops
from recuerdo.store.rows import to_message
from recuerdo.store.schema import ROLE_CODES
from recuerdo.store.summary_ops import Claimed, SummaryWrite
from recuerdo.summaries import (
    ConversationSummary,
    ExtractiveSummarizer,
    LLMSummarizer,
    Summarizer,
    merge_profile,
)

log = logging.getLogger("recuerdo.jobs")


@dataclass
class JobReport:
    claimed: int = 0
    saved: int = 0
    failed: int = 0
    gave_up: int = 0
    errors: list[str] = field(default_factory=list)


async def requeue_summaries(
    memory: Memory,
    *,
    who: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Mark the tenant's closed conversations (of ``who``, started in ``[since, until)``) to be
    summarised again; answer how many. Idle conversations are closed first."""
    client_id = (await memory.client(who)).id if who else None
    tenant = await memory.tenant_id()
    await memory.close_idle_conversations()
    pairs: list[tuple[int, int]] = []
    after = 0
    while True:
        rows = await memory.store.read(
            partial(summary_ops.closed_conversations, tenant, client_id, since, until, 1000, after)
        )
        pairs += [(int(r["client_id"]), int(r["id"])) for r in rows]
        if len(rows) < 1000:
            break
        after = int(rows[-1]["id"])
    await memory.store.write(partial(summary_ops.requeue, pairs))
    return len(pairs)


def summarizer_from_settings(memory: Memory) -> tuple[Summarizer, LLMSummarizer | None]:
    """The LLM summariser when an LLM is configured (RECUERDO_LLM_*), else the offline one."""
    llm_settings = LLMSettings()
    zone, lang = memory.settings.timezone, memory.settings.language
    if llm_settings.configured:
        llm = LLMSummarizer(LLMClient(llm_settings), timezone=zone, default_language=lang)
        return llm, llm
    return ExtractiveSummarizer(timezone=zone, default_language=lang), None


class SummaryJobs:
    """Claims due conversations, summarises them, saves summary + profile atomically."""

    def __init__(
        self,
        memory: Memory,
        summarizer: Summarizer | None = None,
        *,
        profile_llm: LLMSummarizer | None = None,
        lease: timedelta = timedelta(minutes=10),
        batch: int = 8,
        max_attempts: int = 5,
        backoff: timedelta = timedelta(minutes=1),
        on_claimed: Callable[[Claimed], None] | None = None,
    ) -> None:
        self._owned: LLMSummarizer | None = None
        if summarizer is None:
            summarizer, profile_llm = summarizer_from_settings(memory)
            self._owned = profile_llm
        self.memory = memory
        self.summarizer = summarizer
        self.profile_llm = profile_llm
        self.lease = lease
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._on_claimed = on_claimed

    async def aclose(self) -> None:
        """Close the LLM connection this object opened itself (if any)."""
        if self._owned is not None:
            await self._owned.llm.aclose()

    async def run_once(self) -> JobReport:
        """Claim one batch and work through it."""
        report = JobReport()
        now = self.memory.clock.now()
        token = secrets.token_hex(8)
        jobs = await self.memory.store.write(
            lambda: summary_ops.claim(now, now + self.lease, token, self.batch)
        )
        report.claimed = len(jobs)
        for job in jobs:
            if self._on_claimed is not None:
                self._on_claimed(job)
            await self._work(job, report)
        return report

    async def run_until_idle(self, *, max_rounds: int = 10_000) -> JobReport:
        """Run batches until nothing is due (used by ``recuerdo summarize`` and tests)."""
        total = JobReport()
        for _ in range(max_rounds):
            report = await self.run_once()
            total.claimed += report.claimed
            total.saved += report.saved
            total.failed += report.failed
            total.gave_up += report.gave_up
            total.errors += report.errors
            if report.claimed == 0:
                break
        return total

    async def _work(self, job: Claimed, report: JobReport) -> None:
        try:
            rows = await self.memory.store.read(
                lambda: summary_ops.conversation_messages(job.client_id, job.conversation_id)
            )
            # System lines (encryption notices, "X joined") say nothing about the customer.
            messages = [to_message(r) for r in rows if r["role"] != ROLE_CODES["system"]]
            summary = await self.summarizer.summarize(messages)
            outcome = await self._save(job, summary, has_messages=bool(messages))
        except (LLMError, RecuerdoError) as exc:
            await self._failed(job, f"{exc.code}: {exc.message}", report)
            return
        except Exception as exc:  # the job edge: record, count, retry later
            log.exception("summary of conversation %s failed", job.conversation_id)
            await self._failed(job, f"{type(exc).__name__}: {exc}", report)
            return
        if outcome == "saved":
            report.saved += 1

    async def _save(self, job: Claimed, summary: ConversationSummary, *, has_messages: bool) -> str:
        for _ in range(5):
            current = await self.memory.store.read(lambda: summary_ops.profile_of(job.client_id))
            old = current["profile_summary"]
            profile = old
            if has_messages:
                profile = await merge_profile(
                    old,
                    summary,
                    summarizer=self.profile_llm,
                    customer_name=current["customer_name"],
                    timezone=self.memory.settings.timezone,
                )
            write = SummaryWrite(
                summary=summary.text,
                data=summary.model_dump(mode="json"),
                outcome=summary.outcome,
                topics=summary.topics,
                profile=profile,
                profile_was=old,
                customer_name=summary.customer_name,
            )
            now = self.memory.clock.now()
            outcome = await self.memory.store.write(partial(summary_ops.save, job, write, now))
            if outcome != "profile-changed":
                if outcome == "lease-lost":
                    log.warning(
                        "lease on conversation %s lost to another worker", job.conversation_id
                    )
                return outcome
        raise RecuerdoError("the client's profile kept changing while this summary was merged")

    async def _failed(self, job: Claimed, reason: str, report: JobReport) -> None:
        now = self.memory.clock.now()
        give_up = job.attempts >= self.max_attempts
        next_at: datetime | None = None
        if not give_up:
            next_at = now + self.backoff * (2 ** (job.attempts - 1))
        await self.memory.store.write(lambda: summary_ops.fail(job, reason, next_at))
        report.failed += 1
        report.gave_up += int(give_up)
        report.errors.append(reason)
        log.warning(
            "summary of conversation %s failed (attempt %d%s): %s",
            job.conversation_id,
            job.attempts,
            ", giving up" if give_up else "",
            reason[:200],
        )
