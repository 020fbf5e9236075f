"""Topics: customer-service subjects, then keywords; no chatter, no names."""

from __future__ import annotations

from recuerdo.summaries.topics import find_topics


def test_subjects_in_the_conversation_language() -> None:
    texts = [
        "Hola, ¿cuánto cuesta el envío a Cali?",
        "El envío cuesta 10.000 y el precio de las botas es 289.000",
        "¿Puedo pagar con Nequi? El pago lo hago hoy",
    ]
    assert set(find_topics(texts, "es")[:3]) == {"precio", "envío", "pago"}
    assert find_topics(["How much is shipping?", "Shipping costs $5, price includes tax"], "en")[
        :2
    ] == ["price", "shipping"]


def test_a_subject_named_once_is_chance() -> None:
    texts = ["I read a great book about whales", "Whales are amazing", "Whales sing"]
    assert find_topics(texts, "en") == ["whales"]


def test_chatter_and_names_are_no_topics() -> None:
    texts = [
        "Awesome, Melanie! That's great, I love it",
        "Thanks Caroline, great to see you, the garden looks amazing",
        "The garden is lovely this year",
    ]
    assert find_topics(texts, "en", exclude=["Melanie", "Caroline"]) == ["garden"]


def test_limit() -> None:
    texts = ["factura envío pago precio pedido cita talla"] * 2
    assert len(find_topics(texts, "es", limit=3)) == 3
