"""Summary jobs: restart-safe, lease-protected, retried with backoff, never dropped silently."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from recuerdo import Memory, Settings
from recuerdo.jobs.summaries import SummaryJobs
from recuerdo.llm import LLMClient, LLMSettings
from recuerdo.summaries import ExtractiveSummarizer, LLMSummarizer
from tests.conftest import FakeClock
from tests.fakes.openai_server import FakeOpenAIServer

PHONE = "573003913251"


async def _chat(memory: Memory, clock: FakeClock, phone: str = PHONE) -> None:
    await memory.record_message(
        phone, "user", "Hola, me llamo Laura Gómez. ¿Tienen la chaqueta azul en talla M?"
    )
    clock.advance(minutes=1)
    await memory.record_message(phone, "assistant", "Hola Laura, sí la tenemos. Cuesta $180.000.")
    clock.advance(minutes=1)
    await memory.record_message(phone, "user", "Perfecto, la quiero con envío a Medellín.")
    clock.advance(minutes=1)
    await memory.record_message(phone, "assistant", "Listo, le envío el link de pago mañana.")
    clock.advance(minutes=1)
    await memory.record_message(phone, "user", "Gracias!")


async def test_closed_conversation_is_summarised_and_profile_updated(
    memory: Memory, clock: FakeClock
) -> None:
    await _chat(memory, clock)
    jobs = SummaryJobs(memory, ExtractiveSummarizer())
    assert (await jobs.run_until_idle()).claimed == 0  # still open: nothing to do
    clock.advance(hours=7)
    await memory.close_idle_conversations()
    report = await jobs.run_until_idle()
    assert (report.saved, report.failed) == (1, 0)
    (conversation,) = (await memory.conversations(PHONE)).items
    assert conversation.summary_status == "done"
    assert conversation.summary
    assert "Laura" in conversation.summary
    client = await memory.client(PHONE)
    assert client.profile_summary
    assert client.customer_name == "Laura Gómez"
    assert client.customer_name_source == "conversation"
    assert (await jobs.run_until_idle()).claimed == 0  # done once, not again


async def test_a_learned_name_never_overwrites_the_operators(
    memory: Memory, clock: FakeClock
) -> None:
    await _chat(memory, clock)
    await memory.update_client(PHONE, customer_name="Laura G. (VIP)")
    await memory.close_conversation(PHONE)
    await SummaryJobs(memory, ExtractiveSummarizer()).run_until_idle()
    assert (await memory.client(PHONE)).customer_name == "Laura G. (VIP)"


async def test_llm_failures_are_retried_with_backoff_then_recorded(
    memory: Memory, clock: FakeClock
) -> None:
    await _chat(memory, clock)
    await memory.close_conversation(PHONE)
    with FakeOpenAIServer() as server:
        settings = LLMSettings(
            base_url=server.url,
            api_key="test",
            max_attempts=1,
            timeout_s=2,
            backoff_initial_s=0.01,
            backoff_max_s=0.01,
        )
        client = LLMClient(settings)
        llm = LLMSummarizer(client)
        jobs = SummaryJobs(memory, llm, profile_llm=llm, max_attempts=2)
        server.fail(500)
        first = await jobs.run_until_idle()
        assert (first.claimed, first.failed, first.gave_up) == (1, 1, 0)
        (conversation,) = (await memory.conversations(PHONE)).items
        assert conversation.summary_status == "failed"
        assert (await jobs.run_until_idle()).claimed == 0  # not before its backoff
        clock.advance(minutes=5)
        server.answer_content("this is not JSON")
        second = await jobs.run_until_idle()
        assert (second.failed, second.gave_up) == (1, 1)
        clock.advance(days=1)
        assert (await jobs.run_until_idle()).claimed == 0  # gave up, reason kept
        (conversation,) = (await memory.conversations(PHONE)).items
        assert conversation.summary_status == "failed"
        assert conversation.summary is None
        assert len(server.requests) == 2
        await client.aclose()
    assert (await memory.client(PHONE)).profile_summary is None


async def test_pending_work_survives_a_restart(db_url: str, clock: FakeClock) -> None:
    async with await Memory.open(db_url, clock=clock) as memory:
        await _chat(memory, clock)
        await memory.close_conversation(PHONE)
    async with await Memory.open(db_url, clock=clock) as memory:
        report = await SummaryJobs(memory, ExtractiveSummarizer()).run_until_idle()
        assert report.saved == 1


async def test_two_workers_never_do_the_same_job(db_url: str, clock: FakeClock) -> None:
    phones = [f"5730020{i:05d}" for i in range(16)]
    async with await Memory.open(db_url, clock=clock) as memory:
        for phone in phones:
            await _chat(memory, clock, phone)
            await memory.close_conversation(phone)
    first, second = (
        await Memory.open(db_url, clock=clock),
        await Memory.open(db_url, clock=clock),
    )
    claimed: list[int] = []
    try:
        jobs = [
            SummaryJobs(
                m,
                ExtractiveSummarizer(),
                batch=2,
                on_claimed=lambda j: claimed.append(j.conversation_id),
            )
            for m in (first, second)
        ]
        reports = await asyncio.gather(*(j.run_until_idle() for j in jobs))
        assert sum(r.saved for r in reports) == 16
        assert len(claimed) == len(set(claimed)) == 16
        for phone in phones:
            (conversation,) = (await first.conversations(phone)).items
            assert conversation.summary_status == "done"
    finally:
        await first.close()
        await second.close()


STUCK_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from recuerdo import Memory
    from recuerdo.jobs.summaries import SummaryJobs

    class Stuck:
        async def summarize(self, messages, *, language=None):
            print("summarising", flush=True)
            await asyncio.sleep(3600)

    async def main(url):
        memory = await Memory.open(url)
        await SummaryJobs(memory, Stuck()).run_once()

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_a_worker_killed_mid_summary_leaves_nothing_half_written(
    db_url: str, tmp_path: Path
) -> None:
    async with await Memory.open(db_url) as memory:
        clock = FakeClock(memory.clock.now())
        memory.clock = clock
        await _chat(memory, clock)
        await memory.close_conversation(PHONE)
    script = tmp_path / "stuck.py"
    script.write_text(STUCK_WORKER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.Popen(
        [sys.executable, str(script), db_url], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "summarising"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    async with await Memory.open(db_url) as memory:
        (conversation,) = (await memory.conversations(PHONE)).items
        assert conversation.summary_status == "running"
        assert conversation.summary is None
        assert (await memory.client(PHONE)).profile_summary is None
        jobs = SummaryJobs(memory, ExtractiveSummarizer(), lease=timedelta(minutes=10))
        assert (await jobs.run_until_idle()).claimed == 0  # the lease has not expired yet
        memory.clock = FakeClock(memory.clock.now() + timedelta(minutes=11))
        assert (await jobs.run_until_idle()).saved == 1
        (conversation,) = (await memory.conversations(PHONE)).items
        assert conversation.summary_status == "done"


async def test_exact_requests_sent_to_the_llm(memory: Memory, clock: FakeClock) -> None:
    await _chat(memory, clock)
    await memory.close_conversation(PHONE)
    summary = {
        "summary": "Laura pidió la chaqueta azul talla M con envío a Medellín.",
        "topics": ["chaqueta", "envío"],
        "preferences": ["talla M"],
        "commitments": [
            {
                "party": "business",
                "who": "el asistente",
                "what": "enviar el link de pago",
                "due": "mañana",
            }
        ],
        "outcome": "Compra acordada; falta el pago.",
        "status": "pending",
        "customer_name": "Laura Gómez",
        "language": "es",
    }
    with FakeOpenAIServer() as server:
        server.answer_json(summary)
        server.answer_json(
            {"profile": "Laura Gómez compra ropa; prefiere talla M; vive en Medellín."}
        )
        client = LLMClient(LLMSettings(base_url=server.url, api_key="k", model="m1"))
        llm = LLMSummarizer(client)
        report = await SummaryJobs(memory, llm, profile_llm=llm).run_until_idle()
        await client.aclose()
        assert report.saved == 1, report.errors
        body = server.requests[0].json
        assert body["model"] == "m1"
        assert body["response_format"] == {"type": "json_object"}
        assert "Laura Gómez" in json.dumps(body["messages"], ensure_ascii=False)
    (conversation,) = (await memory.conversations(PHONE)).items
    assert conversation.summary == summary["summary"]
    assert conversation.topics == ("chaqueta", "envío")
    note = await memory.context_for(PHONE)
    assert note.open_commitments[0].what == "enviar el link de pago"


def test_settings_default_to_the_offline_summariser() -> None:
    assert Settings().language == "es"
