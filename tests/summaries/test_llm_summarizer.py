"""The LLM summariser against a real OpenAI-compatible server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import pytest
from pydantic import SecretStr

from recuerdo.errors import LLMError
from recuerdo.llm import LLMClient, LLMSettings
from recuerdo.summaries import (
    ConversationStatus,
    ConversationSummary,
    LLMSummarizer,
    Summarizer,
    merge_profile,
)
from tests.fakes.openai_server import FakeOpenAIServer
from tests.summaries.chats import BOOTS_ES, BOT, DAMAGED_EN, USER, conversation

BOOTS_ANSWER: dict[str, Any] = {
    "summary": "Andrés Gómez preguntó por botas de cuero café talla 42 ($289.000, envío gratis a "
    "Medellín) y pidió pago contraentrega. El asistente registró el pedido y quedó en enviar la "
    "guía al día siguiente.",
    "topics": ["botas", "envío", "pago contraentrega"],
    "preferences": ["prefiere pagar contraentrega"],
    "commitments": [
        {
            "party": "business",
            "who": "el asistente",
            "what": "enviar la guía de la transportadora",
            "due": "mañana",
            "due_date": "2025-05-04",
        }
    ],
    "outcome": "Pedido registrado; falta enviar la guía.",
    "status": "pending",
    "customer_name": "Andrés Gómez",
    "language": "es",
}


class NoSleep:
    async def __call__(self, seconds: float) -> None:
        return None


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


def make_client(server: FakeOpenAIServer, **overrides: Any) -> LLMClient:
    values: dict[str, Any] = {
        "base_url": server.url,
        "api_key": SecretStr("test-key"),
        "model": "test-model",
        "timeout_s": 0.5,
        "max_attempts": 2,
    }
    values.update(overrides)
    return LLMClient(LLMSettings.model_validate(values), sleep=NoSleep())


@pytest.fixture
async def summarizer(server: FakeOpenAIServer) -> AsyncIterator[LLMSummarizer]:
    client = make_client(server)
    yield LLMSummarizer(client)
    await client.aclose()


def test_is_a_summarizer(summarizer: LLMSummarizer) -> None:
    protocol: Summarizer = summarizer
    assert protocol is summarizer
    assert summarizer.method == "llm:test-model"


async def test_one_request_in_spanish(server: FakeOpenAIServer, summarizer: LLMSummarizer) -> None:
    server.answer_json(BOOTS_ANSWER, prompt_tokens=700, completion_tokens=150)

    summary = await summarizer.summarize(BOOTS_ES)

    [request] = server.requests
    body = request.json
    assert request.path == "/v1/chat/completions"
    assert body["model"] == "test-model"
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system["role"] == "system"
    assert system["content"].startswith("Eres un analista de atención al cliente por WhatsApp.")
    assert "JSON" in system["content"]
    assert user["role"] == "user"
    assert user["content"].startswith(
        "Resume esta conversación de WhatsApp entre un cliente y la empresa"
    )
    assert "Empezó el 3 de mayo de 2025 a las 10:10." in user["content"]
    assert '"customer_name": el nombre del cliente solo si él mismo lo dijo' in user["content"]
    assert user["content"].endswith(
        "Conversación:\n"
        "[2025-05-03 10:10] Cliente: Hola buenas tardes\n"
        "[2025-05-03 10:12] Bot: ¡Hola! Bienvenido a Calzado Andino. ¿En qué te puedo ayudar?\n"
        "[2025-05-03 10:14] Cliente: Quería saber si tienen las botas de cuero café en talla 42\n"
        "[2025-05-03 10:16] Bot: Sí, tenemos las botas de cuero café en talla 42. Cuestan "
        "$289.000 y el envío a Medellín es gratis.\n"
        "[2025-05-03 10:18] Cliente: Perfecto. Me llamo Andrés Gómez. Prefiero pagar "
        "contraentrega, ¿se puede?\n"
        "[2025-05-03 10:20] Bot: Claro Andrés, el pago contraentrega está disponible para "
        "Medellín. ¿A qué dirección enviamos el pedido?\n"
        "[2025-05-03 10:22] Cliente: Calle 10 # 43-20, El Poblado, apartamento 502\n"
        "[2025-05-03 10:24] Bot: Listo, pedido registrado. Te envío mañana la guía de la "
        "transportadora por este medio.\n"
        "[2025-05-03 10:26] Cliente: Muchas gracias, quedo atento"
    )

    assert summary.method == "llm:test-model"
    assert summary.text == BOOTS_ANSWER["summary"]
    assert summary.tokens_used == 850
    assert summary.topics == ("botas", "envío", "pago contraentrega")
    assert summary.preferences == ("prefiere pagar contraentrega",)
    [commitment] = summary.commitments
    assert commitment.due_date == date(2025, 5, 4)
    assert commitment.party == "business"
    assert summary.status is ConversationStatus.PENDING
    assert summary.customer_name == "Andrés Gómez"
    assert summary.language == "es"
    assert summary.started_at == BOOTS_ES[0].at
    assert summary.ended_at == BOOTS_ES[-1].at


async def test_english_prompt(server: FakeOpenAIServer, summarizer: LLMSummarizer) -> None:
    server.answer_json({**BOOTS_ANSWER, "customer_name": None, "language": "en"})

    summary = await summarizer.summarize(DAMAGED_EN)

    system, user = server.requests[0].json["messages"]
    assert system["content"].startswith("You are a customer-service analyst")
    assert user["content"].startswith("Summarise this WhatsApp conversation")
    assert "[2025-05-03 10:16] Agent: Hi, this is Laura from support." in user["content"]
    assert summary.language == "en"


async def test_a_name_the_customer_never_wrote_is_dropped(
    server: FakeOpenAIServer, summarizer: LLMSummarizer
) -> None:
    server.answer_json({**BOOTS_ANSWER, "customer_name": "Laura"})

    summary = await summarizer.summarize(DAMAGED_EN)

    assert summary.customer_name is None


async def test_sloppy_but_usable_answers_are_accepted(
    server: FakeOpenAIServer, summarizer: LLMSummarizer
) -> None:
    server.answer_json(
        {
            "summary": "palabra " * 200,
            "commitments": [{"who": "bot", "what": "llamar", "due_date": "desconocida"}],
            "status": "closed",
            "customer_name": "null",
            "extra": "ignored",
        }
    )

    summary = await summarizer.summarize(BOOTS_ES)

    assert summary.word_count == 120
    assert summary.commitments[0].due_date is None
    assert summary.status is ConversationStatus.UNKNOWN
    assert summary.customer_name is None


async def test_long_conversation_is_split_and_merged(server: FakeOpenAIServer) -> None:
    lines = []
    for i in range(60):
        lines.append((USER, f"Pregunta {i}: ¿la factura {1000 + i} ya tiene el descuento? " * 2))
        lines.append((BOT, f"Respuesta {i}: sí, la factura {1000 + i} tiene 10% de descuento."))
    chat = conversation(lines)
    client = make_client(server, context_tokens=1500)
    summarizer = LLMSummarizer(client)
    part = {**BOOTS_ANSWER, "summary": "Parte resumida.", "customer_name": None}
    for _ in range(12):
        server.answer_json(part, prompt_tokens=10, completion_tokens=5)

    summary = await summarizer.summarize(chat)
    await client.aclose()

    prompts = [r.json["messages"][1]["content"] for r in server.requests]
    part_prompts = [p for p in prompts if p.startswith("Esta es la parte")]
    merge_prompts = [p for p in prompts if p.startswith("Estos son los resúmenes en JSON")]
    assert len(part_prompts) >= 3
    assert part_prompts[0].startswith(f"Esta es la parte 1 de {len(part_prompts)} ")
    assert merge_prompts
    assert '1. {"summary":"Parte resumida."' in merge_prompts[0]
    assert len(prompts) == len(part_prompts) + len(merge_prompts)
    # Every part stays within the request budget (about four characters a token).
    assert all(len(p) <= 1500 * 4 for p in part_prompts)
    # Every message went into exactly one part, in order.
    transcript = "".join(p.split("\n\nParte ", 1)[1] for p in part_prompts)
    assert transcript.count("Pregunta ") == 120
    assert transcript.index("Pregunta 0:") < transcript.index("Pregunta 59:")
    assert summary.tokens_used == 15 * len(prompts)


async def test_failure_is_raised_with_its_reason_and_cost(
    server: FakeOpenAIServer, summarizer: LLMSummarizer
) -> None:
    server.answer_json({"topics": ["sin resumen"]}, prompt_tokens=50, completion_tokens=5)
    server.answer_content("{roto", prompt_tokens=50, completion_tokens=5)

    with pytest.raises(LLMError) as caught:
        await summarizer.summarize(BOOTS_ES)

    assert caught.value.details["reason"] == "invalid_json"
    assert caught.value.details["attempts"] == 2
    assert caught.value.details["tokens_used"] == 110
    assert len(server.requests) == 2


async def test_timeout_then_answer(server: FakeOpenAIServer, summarizer: LLMSummarizer) -> None:
    server.stall(3.0)
    server.answer_json(BOOTS_ANSWER)

    summary = await summarizer.summarize(BOOTS_ES)

    assert summary.status is ConversationStatus.PENDING
    assert len(server.requests) == 2


async def test_profile_update_by_the_model(
    server: FakeOpenAIServer, summarizer: LLMSummarizer
) -> None:
    for _ in range(2):
        server.answer_json(
            {"profile": "Andrés Gómez, de Medellín.\nCompra botas talla 42; paga contraentrega."},
            prompt_tokens=300,
            completion_tokens=40,
        )
    summary = ConversationSummary(
        text="Andrés pidió botas.",
        preferences=("prefiere pagar contraentrega",),
        outcome="Quedó pendiente la guía.",
        started_at=BOOTS_ES[0].at,
    )

    update = await summarizer.update_profile("Cliente de Medellín.", summary)
    text = await merge_profile("Cliente de Medellín.", summary, summarizer=summarizer)

    assert update.text == "Andrés Gómez, de Medellín.\nCompra botas talla 42; paga contraentrega."
    assert update.tokens_used == 340
    assert text == update.text
    prompt = server.requests[0].json["messages"][1]["content"]
    assert "Perfil actual:\nCliente de Medellín." in prompt
    assert "Última conversación (3 de mayo de 2025 a las 10:10):\nAndrés pidió botas." in prompt
    assert "Preferencias: prefiere pagar contraentrega" in prompt
    assert "Cómo terminó: Quedó pendiente la guía." in prompt


async def test_profile_from_the_model_is_cut_to_size(
    server: FakeOpenAIServer, summarizer: LLMSummarizer
) -> None:
    server.answer_json({"profile": "Dato importante. " * 200})

    update = await summarizer.update_profile(None, ConversationSummary(text="x"), max_chars=300)

    assert len(update.text) <= 300
    assert update.text.endswith(".")


async def test_profile_update_failure_propagates(
    server: FakeOpenAIServer, summarizer: LLMSummarizer
) -> None:
    server.fail(500)
    server.fail(503)

    with pytest.raises(LLMError) as caught:
        await merge_profile(None, ConversationSummary(text="x"), summarizer=summarizer)

    assert caught.value.details["reason"] == "server_error"


async def test_no_messages_no_request(server: FakeOpenAIServer, summarizer: LLMSummarizer) -> None:
    summary = await summarizer.summarize(conversation([(BOT, "   ")]), language="es")

    assert summary.text == ""
    assert server.requests == []
