"""The returning-customer context note (the seed's enrichContextWithHistory)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from recuerdo.context import TEMPLATE_ES, ContextNote, build_context_note
from recuerdo.errors import InvalidInput, NaiveDatetime
from recuerdo.model import Message, Role
from recuerdo.summaries import Commitment

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 10:00 in Bogotá
PHONE = "573003913251"
PROFILE = (
    "Cliente desde 2025. Compra botas y zapatos de cuero talla 42; prefiere pagar "
    "contraentrega; vive en Medellín (El Poblado)."
)
LAST_SUMMARY = (
    "Andrés Gómez y el asistente conversaron el 24 de enero de 2026 a las 07:00. Andrés Gómez "
    "dijo: «Quería saber si tienen las botas de cuero café en talla 42»."
)
LAST_OUTCOME = "Quedó pendiente: el asistente debe enviar la guía de la transportadora."
GUIDE = Commitment(
    party="business",
    who="el asistente",
    what="enviar la guía de la transportadora",
    due="mañana",
    due_date=date(2026, 1, 25),
)


def message(id: int, role: Role, text: str, *, days_ago: float) -> Message:
    return Message(
        id=id,
        client_id=1,
        conversation_id=1,
        thread_id="thread_old",
        at=NOW - timedelta(days=days_ago),
        role=role,
        content=text,
    )


BOOTS = message(
    1, Role.USER, "Quería saber si tienen las botas de cuero café en talla 42", days_ago=45
)
RECENT = [
    message(2, Role.USER, "Hola, ¿ya enviaron la guía?", days_ago=45.1),
    message(3, Role.SYSTEM, "conversation closed", days_ago=45.09),
    message(4, Role.MANUAL_OPERATOR, "Hola Andrés, ya te la comparto", days_ago=45.08),
    message(5, Role.ASSISTANT, "Aquí está tu guía: 7001234", days_ago=45.05),
]


def full_context(**overrides: Any) -> ContextNote:
    values: dict[str, Any] = {
        "now": NOW,
        "last_interaction_at": NOW - timedelta(days=45, hours=3),
        "client_label": PHONE,
        "customer_name": "Andrés Gómez",
        "name_source": "conversation",
        "profile_summary": PROFILE,
        "last_summary": LAST_SUMMARY,
        "last_outcome": LAST_OUTCOME,
        "open_commitments": [GUIDE],
        "relevant_messages": [BOOTS],
        "recent_messages": RECENT,
    }
    values.update(overrides)
    return build_context_note(**values)


def test_new_client_gets_no_note() -> None:
    context = build_context_note(now=NOW, last_interaction_at=None, client_label=PHONE)

    assert not context.is_returning
    assert not context.is_known
    assert context.days_since is None
    assert context.note == ""
    assert context.customer_name is None
    assert context.rehydration_messages == ()
    assert context.tokens == 0


def test_back_after_45_days_in_spanish() -> None:
    context = full_context()

    assert context.is_returning
    assert context.is_known
    assert context.days_since == 45
    assert context.customer_name == "Andrés Gómez"
    assert context.name_source == "conversation"
    assert context.note == (
        "[NOTA DE SISTEMA: Este cliente (573003913251) ha interactuado con nosotros "
        "anteriormente. Su última conversación fue hace 45 días (24/01/2026).\n"
        "Su nombre es Andrés Gómez (nos lo dijo en una conversación): úsalo para personalizar "
        "el saludo.\n"
        f"Resumen del cliente: {PROFILE}\n"
        f"Última conversación: {LAST_SUMMARY}\n"
        f"Cómo terminó: {LAST_OUTCOME}\n"
        "Compromisos pendientes:\n"
        "- el asistente: enviar la guía de la transportadora (vencía el 25/01/2026)\n"
        "Mensajes anteriores relacionados con lo que escribe ahora:\n"
        "- 24/01/2026, cliente: «Quería saber si tienen las botas de cuero café en talla 42»\n"
        "Salúdalo como a un cliente que vuelve y no le pidas de nuevo lo que ya nos dijo.]"
    )
    assert context.profile_summary == PROFILE
    assert context.last_summary == LAST_SUMMARY
    assert context.last_outcome == LAST_OUTCOME
    assert context.open_commitments == (GUIDE,)
    assert context.relevant_messages == (BOOTS,)
    assert context.dropped == ()


def test_rehydration_messages_rebuild_the_thread() -> None:
    context = full_context()

    # System lines are not part of the chat; a human operator speaks as the assistant.
    assert context.rehydration_messages == (
        {"role": "user", "content": "Hola, ¿ya enviaron la guía?"},
        {"role": "assistant", "content": "Hola Andrés, ya te la comparto"},
        {"role": "assistant", "content": "Aquí está tu guía: 7001234"},
    )


def test_back_after_3_days_is_not_returning() -> None:
    context = full_context(last_interaction_at=NOW - timedelta(days=3))

    assert not context.is_returning
    assert context.is_known
    assert context.days_since == 3
    assert context.note == ""
    assert context.customer_name == "Andrés Gómez"
    # The rest is there for a bot that must open a new LLM conversation anyway.
    assert len(context.rehydration_messages) == 3
    assert context.last_outcome == LAST_OUTCOME


def test_recent_client_note_on_request() -> None:
    context = full_context(last_interaction_at=NOW - timedelta(days=3), note_when_recent=True)

    assert not context.is_returning
    assert "Su última conversación fue hace 3 días (07/03/2026)." in context.note


def test_threshold_is_configurable_and_strict() -> None:
    assert not full_context(last_interaction_at=NOW - timedelta(days=30)).is_returning
    assert full_context(last_interaction_at=NOW - timedelta(days=30, seconds=1)).is_returning
    assert full_context(
        last_interaction_at=NOW - timedelta(days=8), returning_after_days=7
    ).is_returning


def test_name_from_operator_and_from_conversation() -> None:
    by_operator = full_context(customer_name="Andrés Felipe Gómez", name_source="operator")
    by_customer = full_context(customer_name="Andrés", name_source="conversation")

    assert by_operator.note.splitlines()[1] == (
        "Su nombre es Andrés Felipe Gómez (registrado por un asesor): úsalo para personalizar "
        "el saludo."
    )
    assert by_customer.note.splitlines()[1] == (
        "Su nombre es Andrés (nos lo dijo en una conversación): úsalo para personalizar el saludo."
    )


def test_profile_name_is_only_a_hint_and_never_beats_a_confirmed_name() -> None:
    only_profile = full_context(customer_name=None, name_source=None, profile_name="Andy 🎸")
    both = full_context(customer_name="Andrés", name_source="operator", profile_name="Andy 🎸")
    nothing = full_context(customer_name=None, name_source=None)

    assert only_profile.customer_name == "Andy 🎸"
    assert only_profile.name_source == "whatsapp_profile"
    assert "Su nombre de perfil de WhatsApp es «Andy 🎸»" in only_profile.note
    assert both.customer_name == "Andrés"
    assert nothing.customer_name is None
    assert "No tenemos su nombre registrado." in nothing.note


def test_english_note() -> None:
    context = full_context(
        language="en",
        customer_name="Sarah",
        name_source="operator",
        profile_summary="Buys running shoes, size 8.",
        last_summary="Sarah asked about a refund for order 4471.",
        last_outcome="Still pending: the agent will email a return label.",
        open_commitments=[
            Commitment(party="business", who="the agent", what="email a return label")
        ],
        relevant_messages=[message(9, Role.USER, "Can I get a refund?", days_ago=45)],
    )

    assert context.note == (
        "[SYSTEM NOTE: This customer (573003913251) has talked to us before. Their last "
        "conversation was 45 days ago (2026-01-24).\n"
        "Their name is Sarah (recorded by an agent): use it to greet them.\n"
        "Customer summary: Buys running shoes, size 8.\n"
        "Last conversation: Sarah asked about a refund for order 4471.\n"
        "How it ended: Still pending: the agent will email a return label.\n"
        "Open commitments:\n"
        "- the agent: email a return label\n"
        "Earlier messages related to what they are writing now:\n"
        "- 2026-01-24, customer: «Can I get a refund?»\n"
        "Greet them as a returning customer and do not ask again for what they already told us.]"
    )


def test_missing_parts_leave_no_empty_lines() -> None:
    context = full_context(
        profile_summary=None, last_summary="  ", open_commitments=[], relevant_messages=[]
    )

    assert "Resumen del cliente" not in context.note
    assert "Última conversación" not in context.note
    assert "Compromisos" not in context.note
    assert "Mensajes anteriores" not in context.note
    assert "Cómo terminó: Quedó pendiente" in context.note


def test_business_template() -> None:
    template = "Cliente $name vuelve tras $days días.\nPerfil: $profile\nPendiente:$commitments"
    context = full_context(template=template, profile_summary=None)

    assert context.note == (
        "Cliente Andrés Gómez vuelve tras 45 días.\n"
        "Pendiente:\n- el asistente: enviar la guía de la transportadora (vencía el 25/01/2026)"
    )


def test_default_template_uses_only_documented_placeholders() -> None:
    import recuerdo.context as module

    documented = {
        "client", "name", "name_line", "days", "days_text", "last_date", "profile",
        "last_summary", "last_outcome", "commitments", "relevant",
    }  # fmt: skip
    for template in module.TEMPLATES.values():
        assert module._placeholders(template) <= documented
    for placeholder in documented:
        assert f"``${placeholder}``" in (module.__doc__ or "")


def test_budget_drops_least_valuable_first() -> None:
    long_history = [
        message(100 + i, Role.USER if i % 2 else Role.ASSISTANT, f"mensaje número {i} " * 8,
                days_ago=46 - i / 100)
        for i in range(40)
    ]  # fmt: skip
    relevant = [message(200 + i, Role.USER, f"botas café número {i} " * 6, days_ago=50 + i)
                for i in range(5)]  # fmt: skip
    unlimited = full_context(
        recent_messages=long_history, relevant_messages=relevant, token_budget=100_000
    )
    limited = full_context(
        recent_messages=long_history, relevant_messages=relevant, token_budget=350
    )

    assert unlimited.dropped == ()
    assert unlimited.tokens > 350
    assert limited.tokens <= 350
    # Rehydration goes first, oldest messages first: what is left is the end of the thread.
    assert limited.rehydration_messages == ()
    assert limited.dropped[0] == "rehydration_message"
    # Then the least relevant messages; the most relevant stays.
    assert (
        limited.relevant_messages == unlimited.relevant_messages[: len(limited.relevant_messages)]
    )
    assert limited.profile_summary == PROFILE


def test_budget_keeps_the_newest_rehydration_messages() -> None:
    history = [
        message(100 + i, Role.USER, f"mensaje {i} " + "palabra " * 20, days_ago=46 - i / 100)
        for i in range(20)
    ]
    context = full_context(recent_messages=history, token_budget=700)

    kept = context.rehydration_messages
    assert 0 < len(kept) < 20
    assert kept[-1]["content"] == history[-1].content
    assert context.dropped == ("rehydration_message",)
    assert context.tokens <= 700


def test_tiny_budget_never_drops_flag_name_or_days() -> None:
    context = full_context(token_budget=10)

    assert context.is_returning
    assert context.tokens > 10
    assert "hace 45 días" in context.note
    assert "Andrés Gómez" in context.note
    assert context.profile_summary is None
    assert context.last_summary is None
    assert context.relevant_messages == ()
    assert context.rehydration_messages == ()
    assert context.open_commitments == ()
    assert context.dropped == (
        "rehydration_message",
        "relevant_message",
        "profile_summary",
        "last_summary",
        "commitments_and_outcome",
    )


def test_upcoming_commitment_wording() -> None:
    upcoming = GUIDE.model_copy(update={"due_date": date(2026, 3, 12)})
    context = full_context(open_commitments=[upcoming])

    assert "(vence el 12/03/2026)" in context.note


def test_to_dict_is_json() -> None:
    data = full_context().to_dict()

    encoded = json.loads(json.dumps(data))
    assert encoded["is_returning"] is True
    assert encoded["last_interaction_at"] == "2026-01-24T12:00:00Z"
    assert encoded["relevant_messages"][0]["at"] == "2026-01-24T15:00:00Z"
    assert encoded["open_commitments"][0]["due_date"] == "2026-01-25"
    assert encoded["rehydration_messages"][0] == {
        "role": "user",
        "content": "Hola, ¿ya enviaron la guía?",
    }


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput, match="language"):
        full_context(language="fr")
    with pytest.raises(NaiveDatetime):
        full_context(now=datetime(2026, 3, 10))
    with pytest.raises(NaiveDatetime):
        full_context(last_interaction_at=datetime(2026, 1, 1))


def test_default_spanish_template_follows_the_seed() -> None:
    assert TEMPLATE_ES.startswith(
        "[NOTA DE SISTEMA: Este cliente ($client) ha interactuado con nosotros anteriormente. "
        "Su última conversación fue hace $days_text"
    )
