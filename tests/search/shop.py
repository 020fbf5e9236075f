"""A small shop's history, loaded the same way on every engine for the search tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recuerdo import Memory
from recuerdo.store.query import Op, Query, sql

ANA = "573003913251"
BOB = "14155550123"
CAROL = "573001112233"
MARCH = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)
MAY = datetime(2025, 5, 20, 10, 0, tzinfo=UTC)
JUNE = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)

# (who, role, text, at, external_id)
HISTORY: list[tuple[str, str, str, datetime, str]] = [
    (ANA, "user", "Hola, quiero una camiseta", MARCH, "a1"),
    (ANA, "assistant", "¿La camiseta en rojo o en azul?", MARCH, "a2"),
    (ANA, "user", "Sí, la azul", MARCH, "a3"),
    (ANA, "assistant", "Listo, su pedido es PED-2024-118", MARCH, "a4"),
    (ANA, "user", "Buenas, el pedido llegó con la talla equivocada", MAY, "a5"),
    (ANA, "assistant", "Lo siento, le cambiamos el pedido", MAY, "a6"),
    (ANA, "manual_operator", "Hola Ana, soy Carlos; el cambio sale mañana", MAY, "a7"),
    (ANA, "user", "Me gusta el cielo azul de hoy 😀", MAY, "a8"),
    (BOB, "user", "Where is my order? It was supposed to arrive on Monday", JUNE, "b1"),
    (BOB, "assistant", "Your order #4471 ships tomorrow from the Bogotá warehouse", JUNE, "b2"),
    (BOB, "user", "thanks 👍", JUNE, "b3"),
    (CAROL, "user", "¿Tienen envíos a Cali? Necesito 3 camisetas", JUNE, "c1"),
    (CAROL, "assistant", "Sí, enviamos a todo el país en 3 días hábiles", JUNE, "c2"),
]
SUMMARY = "Ana compró una camiseta azul; su pedido PED-2024-118 quedó confirmado."

S_SET_SUMMARY = sql(
    "UPDATE conversations SET summary = :summary WHERE client_id = :client_id AND id = :id"
)


async def load_shop(memory: Memory) -> None:
    """Record the history one message at a time (a minute apart within a conversation) and
    give Ana's first conversation a summary."""
    for n, (who, role, text, at, ref) in enumerate(HISTORY):
        profile = {ANA: "Ana", BOB: "Bob", CAROL: "Carol"}[who] if role == "user" else None
        await memory.record_message(
            who, role, text, at=at + timedelta(minutes=n), external_id=ref, profile_name=profile
        )
    first = (await memory.history(ANA, limit=1, roles=["user"], before=None)).items[0]
    conversations = await memory.conversations(ANA)
    oldest = conversations.items[-1]
    assert oldest.id != first.conversation_id or len(conversations.items) == 1

    def set_summary() -> Op[int]:
        changed: int = yield Query(
            S_SET_SUMMARY, {"summary": SUMMARY, "client_id": oldest.client_id, "id": oldest.id}
        )
        return changed

    assert await memory.store.write(set_summary) == 1
