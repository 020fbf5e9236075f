"""Conversations for the summary tests, built the way the store hands messages over."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from recuerdo.model import Message, Role

USER, BOT, AGENT = Role.USER, Role.ASSISTANT, Role.MANUAL_OPERATOR
START = datetime(2025, 5, 3, 15, 10, tzinfo=UTC)  # 10:10 in Bogotá


def conversation(
    lines: Sequence[tuple[Role, str] | tuple[Role, str, dict[str, Any]]],
    *,
    start: datetime = START,
    minutes: float = 2,
) -> list[Message]:
    """Messages from ``(role, text[, metadata])`` lines, ``minutes`` apart."""
    messages = []
    for i, line in enumerate(lines):
        role, text = line[0], line[1]
        metadata = line[2] if len(line) > 2 else {}  # type: ignore[misc]
        messages.append(
            Message(
                id=i + 1,
                client_id=1,
                conversation_id=1,
                thread_id="thread_abc",
                at=start + timedelta(minutes=minutes * i),
                role=role,
                content=text,
                metadata=dict(metadata),
            )
        )
    return messages


BOOTS_ES = conversation(
    [
        (USER, "Hola buenas tardes"),
        (BOT, "¡Hola! Bienvenido a Calzado Andino. ¿En qué te puedo ayudar?"),
        (USER, "Quería saber si tienen las botas de cuero café en talla 42"),
        (
            BOT,
            "Sí, tenemos las botas de cuero café en talla 42. Cuestan $289.000 y el envío a "
            "Medellín es gratis.",
        ),
        (USER, "Perfecto. Me llamo Andrés Gómez. Prefiero pagar contraentrega, ¿se puede?"),
        (
            BOT,
            "Claro Andrés, el pago contraentrega está disponible para Medellín. ¿A qué "
            "dirección enviamos el pedido?",
        ),
        (USER, "Calle 10 # 43-20, El Poblado, apartamento 502"),
        (
            BOT,
            "Listo, pedido registrado. Te envío mañana la guía de la transportadora por este "
            "medio.",
        ),
        (USER, "Muchas gracias, quedo atento"),
    ]
)

DAMAGED_EN = conversation(
    [
        (USER, "Hi, my order #4471 arrived damaged, the screen is cracked."),
        (BOT, "I'm sorry to hear that. Could you send a photo of the damage?"),
        (USER, "Sure, here it is. I'd rather get a replacement than a refund."),
        (
            AGENT,
            "Hi, this is Laura from support. I checked the photo and we'll ship a replacement "
            "on Monday.",
        ),
        (AGENT, "We will also email you a prepaid return label today."),
        (USER, "Ok thanks, that works for me."),
    ]
)
