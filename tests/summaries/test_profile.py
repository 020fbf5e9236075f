"""The offline profile merge: deterministic, capped, and respectful of an operator's name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recuerdo.summaries import (
    ConversationStatus,
    ConversationSummary,
    merge_profile,
    merge_profile_offline,
)

MAY = datetime(2025, 5, 3, 15, 10, tzinfo=UTC)


def summary(**fields: object) -> ConversationSummary:
    values: dict[str, object] = {
        "text": "Andrés y el asistente conversaron el 3 de mayo. Andrés preguntó por botas.",
        "topics": ("envío", "precio"),
        "preferences": ("prefiere pagar contraentrega",),
        "outcome": "Quedó pendiente: el asistente debe enviar la guía.",
        "status": ConversationStatus.PENDING,
        "customer_name": "Andrés",
        "language": "es",
        "started_at": MAY,
    }
    values.update(fields)
    return ConversationSummary.model_validate(values)


def test_first_profile() -> None:
    assert merge_profile_offline(None, summary()) == (
        "Nombre: Andrés\n"
        "Temas: envío (1), precio (1)\n"
        "Preferencias: prefiere pagar contraentrega\n"
        "Conversaciones:\n"
        "- 03/05/2025 (envío, precio): Quedó pendiente: el asistente debe enviar la guía."
    )


def test_later_conversations_are_folded_in() -> None:
    first = merge_profile_offline(None, summary())
    second = merge_profile_offline(
        first,
        summary(
            topics=("envío", "devolución"),
            preferences=("talla 42", "prefiere pagar contraentrega"),
            outcome="Al final, el cliente quedó conforme: «Gracias».",
            started_at=MAY + timedelta(days=20),
        ),
    )

    assert second == (
        "Nombre: Andrés\n"
        "Temas: envío (2), devolución (1), precio (1)\n"
        "Preferencias: talla 42; prefiere pagar contraentrega\n"
        "Conversaciones:\n"
        "- 23/05/2025 (envío, devolución): Al final, el cliente quedó conforme: «Gracias».\n"
        "- 03/05/2025 (envío, precio): Quedó pendiente: el asistente debe enviar la guía."
    )
    # Same input, same output.
    assert merge_profile_offline(first, summary(started_at=MAY + timedelta(days=20))) == (
        merge_profile_offline(first, summary(started_at=MAY + timedelta(days=20)))
    )


def test_operator_name_is_never_replaced_by_a_learned_one() -> None:
    profile = merge_profile_offline(None, summary(), customer_name="Andrés Felipe Gómez")
    later = merge_profile_offline(profile, summary(customer_name="Pipe"))

    assert profile.startswith("Nombre: Andrés Felipe Gómez\n")
    assert later.startswith("Nombre: Andrés Felipe Gómez\n")


def test_summary_without_outcome_uses_its_second_sentence() -> None:
    profile = merge_profile_offline(None, summary(outcome=None, topics=()))

    assert profile.endswith("- 03/05/2025: Andrés preguntó por botas.")


def test_someone_elses_text_is_kept_as_notes() -> None:
    profile = merge_profile_offline("Cliente VIP, siempre pide factura electrónica.", summary())

    assert "Notas: Cliente VIP, siempre pide factura electrónica." in profile


def test_english_labels_and_reading_spanish_back() -> None:
    spanish = merge_profile_offline(None, summary())
    english = merge_profile_offline(
        spanish,
        summary(
            language="en",
            topics=("refund",),
            preferences=(),
            outcome="Resolved.",
            customer_name=None,
            started_at=MAY + timedelta(days=1),
        ),
    )

    assert english == (
        "Name: Andrés\n"
        "Topics: envío (1), precio (1), refund (1)\n"
        "Preferences: prefiere pagar contraentrega\n"
        "Conversations:\n"
        "- 2025-05-04 (refund): Resolved.\n"
        "- 03/05/2025 (envío, precio): Quedó pendiente: el asistente debe enviar la guía."
    )


def test_size_cap_drops_oldest_conversations_first() -> None:
    profile: str | None = None
    for day in range(30):
        profile = merge_profile_offline(
            profile,
            summary(started_at=MAY + timedelta(days=day), outcome=f"Resultado del día {day}."),
            max_chars=400,
        )

    assert profile is not None
    assert len(profile) <= 400
    assert profile.startswith("Nombre: Andrés\nTemas: envío (30), precio (30)")
    assert "Resultado del día 29." in profile
    assert "Resultado del día 0." not in profile


def test_too_small_a_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        merge_profile_offline(None, summary(), max_chars=10)


async def test_merge_profile_without_llm_is_the_offline_merge() -> None:
    assert await merge_profile(None, summary()) == merge_profile_offline(None, summary())


@settings(max_examples=40, deadline=None)
@given(
    old=st.one_of(st.none(), st.text(max_size=2000)),
    topics=st.lists(st.text(min_size=1, max_size=40), max_size=6),
    preferences=st.lists(st.text(min_size=1, max_size=200), max_size=6),
    outcome=st.one_of(st.none(), st.text(max_size=400)),
    cap=st.integers(min_value=80, max_value=1500),
)
def test_any_merge_respects_the_cap(
    old: str | None, topics: list[str], preferences: list[str], outcome: str | None, cap: int
) -> None:
    new = summary(topics=tuple(topics), preferences=tuple(preferences), outcome=outcome)

    assert len(merge_profile_offline(old, new, max_chars=cap)) <= cap
