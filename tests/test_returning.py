"""Memory.context_for end to end (the seed's enrichContextWithHistory), on both engines."""

from __future__ import annotations

from recuerdo import Memory
from recuerdo.jobs.summaries import SummaryJobs
from recuerdo.summaries import ExtractiveSummarizer
from tests.conftest import FakeClock

PHONE = "573003913251"


async def _past_order(memory: Memory, clock: FakeClock) -> None:
    await memory.record_message(
        PHONE,
        "user",
        "Hola, soy Marta. Quiero pedir 2 cajas de café de Huila.",
        profile_name="Marta R",
    )
    clock.advance(minutes=2)
    await memory.record_message(
        PHONE,
        "assistant",
        "Con gusto Marta. Su pedido PED-4471 queda registrado; le enviamos la guía mañana.",
    )
    clock.advance(minutes=2)
    await memory.record_message(PHONE, "user", "Perfecto, gracias. Prefiero entrega en la tarde.")
    clock.advance(hours=7)
    await memory.close_idle_conversations()
    await SummaryJobs(memory, ExtractiveSummarizer()).run_until_idle()


async def test_new_client_is_not_returning(memory: Memory) -> None:
    note = await memory.context_for(PHONE, "Hola")
    assert not note.is_returning
    assert not note.is_known
    assert note.note == ""


async def test_back_after_three_days_is_not_returning(memory: Memory, clock: FakeClock) -> None:
    await _past_order(memory, clock)
    clock.advance(days=3)
    await memory.record_message(PHONE, "user", "Hola de nuevo")
    note = await memory.context_for(PHONE, "Hola de nuevo")
    assert note.is_known
    assert not note.is_returning
    assert note.days_since == 3


async def test_back_after_45_days_gets_the_note(memory: Memory, clock: FakeClock) -> None:
    await _past_order(memory, clock)
    clock.advance(days=45)
    # The bot may record the message before asking: the current episode is not "last contact".
    await memory.record_message(PHONE, "user", "¿Qué pasó con mi pedido de café?")
    note = await memory.context_for(PHONE, "¿Qué pasó con mi pedido de café?")
    assert note.is_returning
    assert note.days_since == 45
    assert note.customer_name == "Marta"
    assert "NOTA DE SISTEMA" in note.note
    assert "45" in note.note
    assert note.last_summary
    assert any("PED-4471" in m.content for m in note.relevant_messages) or any(
        "PED-4471" in r["content"] for r in note.rehydration_messages
    )
    assert note.rehydration_messages
    english = await memory.context_for(PHONE, "what about my order?", language="en")
    assert "SYSTEM NOTE" in english.note.upper()
    assert english.language == "en"


async def test_an_operators_name_wins(memory: Memory, clock: FakeClock) -> None:
    await _past_order(memory, clock)
    await memory.update_client(PHONE, customer_name="Marta Rodríguez")
    clock.advance(days=40)
    note = await memory.context_for(PHONE)
    assert note.customer_name == "Marta Rodríguez"
    assert note.name_source == "operator"


async def test_a_small_budget_drops_the_least_valuable_parts(
    memory: Memory, clock: FakeClock
) -> None:
    await _past_order(memory, clock)
    clock.advance(days=60)
    full = await memory.context_for(PHONE, "pedido de café")
    small = await memory.context_for(PHONE, "pedido de café", token_budget=100)
    assert small.is_returning and small.days_since == 60
    assert small.tokens <= max(100, full.tokens)
    assert small.tokens < full.tokens
    assert small.dropped
    assert "Marta" in small.note
