"""The offline summariser on customer-service chats, Spanish and English."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recuerdo.model import Role
from recuerdo.summaries import ConversationStatus, ExtractiveSummarizer, Summarizer
from tests.summaries.chats import AGENT, BOOTS_ES, BOT, DAMAGED_EN, USER, conversation


@pytest.fixture
def summarizer() -> ExtractiveSummarizer:
    return ExtractiveSummarizer(timezone="America/Bogota")


def test_is_a_summarizer() -> None:
    summarizer: Summarizer = ExtractiveSummarizer()
    assert summarizer is not None


async def test_spanish_service_chat(summarizer: ExtractiveSummarizer) -> None:
    summary = await summarizer.summarize(BOOTS_ES)

    assert summary.method == "extractive"
    assert summary.language == "es"
    assert summary.tokens_used == 0
    # Who and when, in the business's time zone.
    assert summary.text.startswith(
        "Andrés Gómez y el asistente conversaron el 3 de mayo de 2025 a las 10:10."
    )
    # What was asked, and what is pending.
    assert "botas de cuero café en talla 42" in summary.text
    assert summary.text.endswith(
        "Quedó pendiente: el asistente debe enviar mañana la guía de la transportadora por "
        "este medio."
    )
    assert summary.word_count <= 120
    assert summary.customer_name == "Andrés Gómez"
    assert summary.preferences == ("prefiere pagar contraentrega",)
    [commitment] = summary.commitments
    assert commitment.party == "business"
    assert commitment.who == "el asistente"
    assert commitment.what == "enviar mañana la guía de la transportadora por este medio"
    assert commitment.due == "mañana"
    assert commitment.due_date == date(2025, 5, 4)
    assert summary.status is ConversationStatus.PENDING
    assert summary.outcome is not None
    assert summary.outcome.startswith("Quedó pendiente")
    assert {"envío", "precio", "pago"} <= set(summary.topics)
    assert summary.started_at == BOOTS_ES[0].at
    assert summary.ended_at == BOOTS_ES[-1].at


async def test_welcome_boilerplate_and_thanks_stay_out(summarizer: ExtractiveSummarizer) -> None:
    summary = await summarizer.summarize(BOOTS_ES)

    assert "Bienvenido" not in summary.text
    assert "ayudar" not in summary.text
    assert "quedo atento" not in summary.text


async def test_english_chat_in_reported_speech(summarizer: ExtractiveSummarizer) -> None:
    summary = await summarizer.summarize(DAMAGED_EN)

    assert summary.language == "en"
    assert summary.text.startswith(
        "The customer, the assistant and Laura (agent) had a conversation on 3 May 2025 at "
        "10:10 am."
    )
    assert "The customer's order #4471 arrived damaged" in summary.text
    assert " I " not in f" {summary.text} "
    assert [(c.who, c.what, c.due_date) for c in summary.commitments] == [
        ("Laura", "ship a replacement on Monday", date(2025, 5, 5)),
        ("Laura", "also email the customer a prepaid return label today", date(2025, 5, 3)),
    ]
    assert summary.preferences == ("would rather get a replacement than a refund",)
    assert summary.status is ConversationStatus.PENDING
    assert summary.customer_name is None  # "this is Laura" is the agent, not the customer


async def test_speaker_names_from_metadata(summarizer: ExtractiveSummarizer) -> None:
    chat = conversation(
        [
            (USER, "I went to the pottery class yesterday and made a bowl.", {"speaker": "Ana"}),
            (BOT, "That sounds lovely! What colour did you paint it?", {"speaker": "Sofía"}),
            (
                USER,
                "I painted it blue with little yellow flowers for my mother.",
                {"speaker": "Ana"},
            ),
        ]
    )

    summary = await summarizer.summarize(chat)

    assert summary.text.startswith("Ana and Sofía had a conversation on")
    assert "Ana painted it blue with little yellow flowers for their mother." in summary.text


async def test_complaint_after_the_promise_is_unresolved(summarizer: ExtractiveSummarizer) -> None:
    chat = conversation(
        [
            (USER, "Mi pedido 1189 no ha llegado y ya pasaron dos semanas."),
            (AGENT, "Hola, soy Marta. Le confirmamos el envío mañana sin falta."),
            (USER, "Eso mismo me dijeron la semana pasada, sigo esperando. Es pésimo el servicio."),
        ]
    )

    summary = await summarizer.summarize(chat)

    assert summary.status is ConversationStatus.UNRESOLVED
    assert summary.outcome is not None
    assert summary.outcome.startswith("Terminó sin resolverse: el cliente escribió «")
    assert "Marta (asesor)" in summary.text
    assert summary.commitments[0].who == "Marta"


async def test_unanswered_question_is_no_reply(summarizer: ExtractiveSummarizer) -> None:
    chat = conversation(
        [
            (USER, "Buenas, ¿tienen servicio a domicilio en Envigado?"),
            (BOT, "Sí, hacemos domicilios en todo el Valle de Aburrá."),
            (USER, "¿Y cuánto vale el domicilio a Envigado?"),
        ]
    )

    summary = await summarizer.summarize(chat)

    assert summary.status is ConversationStatus.NO_REPLY
    assert summary.outcome == (
        "El cliente escribió de último y no recibió respuesta: "
        "«¿Y cuánto vale el domicilio a Envigado»."
    )


async def test_thanks_at_the_end_is_resolved(summarizer: ExtractiveSummarizer) -> None:
    chat = conversation(
        [
            (USER, "What time do you open on Sundays?"),
            (BOT, "We open from 9 am to 2 pm on Sundays."),
            (USER, "Perfect, thanks a lot!"),
        ]
    )

    summary = await summarizer.summarize(chat)

    assert summary.status is ConversationStatus.RESOLVED
    assert summary.outcome == "In the end, the customer was satisfied: “Perfect, thanks a lot”."
    assert "opening hours" in summary.topics


async def test_system_messages_and_order_do_not_matter(summarizer: ExtractiveSummarizer) -> None:
    shuffled = [*reversed(BOOTS_ES)]
    with_system = [
        *conversation([(Role.SYSTEM, "Conversation closed by idle timeout.")]),
        *shuffled,
    ]

    assert (await summarizer.summarize(with_system)).text == (
        await summarizer.summarize(BOOTS_ES)
    ).text


async def test_language_can_be_forced(summarizer: ExtractiveSummarizer) -> None:
    summary = await summarizer.summarize(BOOTS_ES, language="en")

    assert summary.language == "en"
    assert summary.text.startswith("Andrés Gómez and the assistant had a conversation")


async def test_unknown_language_falls_back_to_detection(summarizer: ExtractiveSummarizer) -> None:
    summary = await summarizer.summarize(DAMAGED_EN, language="fr")

    assert summary.language == "en"


async def test_empty_conversation(summarizer: ExtractiveSummarizer) -> None:
    summary = await summarizer.summarize([], language="es")

    assert summary.text == ""
    assert summary.status is ConversationStatus.UNKNOWN


async def test_long_conversation_stays_within_the_word_limit() -> None:
    lines = []
    for day in range(150):
        lines.append((USER, f"Tengo una duda número {day} sobre la factura {1000 + day} de mayo."))
        lines.append((BOT, f"Claro, la factura {1000 + day} tiene un saldo de {day * 1000} pesos."))
    summary = await ExtractiveSummarizer(max_words=120).summarize(conversation(lines))

    assert 60 < summary.word_count <= 120
    assert "factura" in summary.topics


def test_too_small_a_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="max_words"):
        ExtractiveSummarizer(max_words=10)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([Role.USER, Role.ASSISTANT, Role.MANUAL_OPERATOR]),
            st.text(min_size=1, max_size=300),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_any_text_gives_a_bounded_summary(lines: list[tuple[Role, str]]) -> None:
    summary = ExtractiveSummarizer(max_words=80).summarize_now(conversation(lines))

    assert summary.word_count <= 81  # the cap may add an ellipsis to the last word
    assert summary.method == "extractive"


async def test_named_bot_and_agent_booking_and_name_given_on_request() -> None:
    chat = conversation(
        [
            (USER, "buenas noches"),
            (BOT, "¡Hola! 👋 Soy Sofi, la asistente virtual de Dental Sonrisas."),
            (USER, "hola quiero agendar una cita para limpieza dental"),
            (BOT, "Tenemos el viernes 13 a las 9:00 am. ¿Me regalas tu nombre completo?"),
            (USER, "maria fernanda lopez"),
            (AGENT, "Hola María Fernanda, te habla Camilo. Sura no cubre la limpieza."),
            (
                AGENT,
                "Queda agendada el viernes 13 a las 9:00 am. Te envío un recordatorio el jueves.",
            ),
            (USER, "super muchas gracias 😊"),
        ],
        start=datetime(2025, 6, 10, 2, 30, tzinfo=UTC),
    )

    summary = await ExtractiveSummarizer().summarize(chat)

    assert summary.text.startswith(
        "Maria Fernanda Lopez, Sofi (asistente) y Camilo (asesor) conversaron el 9 de junio de "
        "2025 a las 21:30."
    )
    assert summary.customer_name == "Maria Fernanda Lopez"
    assert "Acordado: agendada el viernes 13 a las 9:00 am." in summary.text
    assert summary.text.endswith("Quedó pendiente: Camilo debe enviar un recordatorio el jueves.")
    assert [c.due_date for c in summary.commitments] == [date(2025, 6, 13), date(2025, 6, 12)]
