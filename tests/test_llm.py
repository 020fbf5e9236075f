"""recuerdo.llm against a real OpenAI-compatible HTTP server on loopback."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import BaseModel, SecretStr

from recuerdo.errors import LLMError
from recuerdo.llm import ChatMessage, LLMClient, LLMSettings, LLMUsage, estimate_tokens
from tests.fakes.openai_server import FakeOpenAIServer


class Verdict(BaseModel):
    ok: bool
    reason: str


PROMPT: list[ChatMessage] = [
    {"role": "system", "content": "Responde solo con JSON."},
    {"role": "user", "content": 'Devuelve {"ok": true, "reason": "..."}'},
]


class Sleeps:
    """Records the backoff waits instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def settings_for(server: FakeOpenAIServer, **overrides: object) -> LLMSettings:
    values: dict[str, object] = {
        "base_url": server.url,
        "api_key": SecretStr("test-key"),
        "model": "test-model",
        "timeout_s": 0.5,
        "max_attempts": 3,
        "backoff_initial_s": 0.5,
        "backoff_max_s": 4.0,
    }
    values.update(overrides)
    return LLMSettings.model_validate(values)


@pytest.fixture
async def llm(server: FakeOpenAIServer, sleeps: Sleeps) -> AsyncIterator[LLMClient]:
    client = LLMClient(settings_for(server), sleep=sleeps)
    yield client
    await client.aclose()


async def test_sends_exact_request_and_returns_validated_value(
    server: FakeOpenAIServer, llm: LLMClient
) -> None:
    server.answer_json({"ok": True, "reason": "listo"}, prompt_tokens=42, completion_tokens=7)

    reply = await llm.complete_json(PROMPT, Verdict)

    assert reply.value == Verdict(ok=True, reason="listo")
    assert reply.attempts == 1
    assert reply.usage == LLMUsage(42, 7)
    assert reply.usage.total_tokens == 49
    assert reply.model == "test-model"
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.json == {
        "model": "test-model",
        "messages": [
            {"role": "system", "content": "Responde solo con JSON."},
            {"role": "user", "content": 'Devuelve {"ok": true, "reason": "..."}'},
        ],
        "temperature": 0.2,
        "max_tokens": 800,
        "response_format": {"type": "json_object"},
    }


async def test_optional_fields_follow_settings(server: FakeOpenAIServer, sleeps: Sleeps) -> None:
    settings = settings_for(
        server, json_mode=False, temperature=None, max_tokens_field="max_completion_tokens"
    )
    async with LLMClient(settings, sleep=sleeps) as llm:
        server.answer_json({"ok": False, "reason": "no"})
        await llm.complete_json(PROMPT, Verdict, max_output_tokens=50)

    body = server.requests[0].json
    assert "response_format" not in body
    assert "temperature" not in body
    assert "max_tokens" not in body
    assert body["max_completion_tokens"] == 50


async def test_rate_limit_and_server_errors_are_retried_with_backoff(
    server: FakeOpenAIServer, llm: LLMClient, sleeps: Sleeps
) -> None:
    server.fail(429, headers={"retry-after": "3"})
    server.fail(500)
    server.answer_json({"ok": True, "reason": "al tercer intento"})

    reply = await llm.complete_json(PROMPT, Verdict)

    assert reply.attempts == 3
    assert len(server.requests) == 3
    # Retry-After (3 s) beats the first backoff step (0.5 s); then 0.5 * 2.
    assert sleeps.delays == [3.0, 1.0]
    # A retry repeats the request exactly: nothing lost, nothing added.
    assert server.requests[0].json == server.requests[1].json == server.requests[2].json


async def test_timeout_is_retried(server: FakeOpenAIServer, llm: LLMClient) -> None:
    server.stall(3.0)
    server.answer_json({"ok": True, "reason": "rápido"})

    reply = await llm.complete_json(PROMPT, Verdict)

    assert reply.attempts == 2
    assert reply.value.reason == "rápido"


async def test_timeouts_until_the_end_raise_llm_error(
    server: FakeOpenAIServer, llm: LLMClient, sleeps: Sleeps
) -> None:
    for _ in range(3):
        server.stall(3.0)

    with pytest.raises(LLMError) as caught:
        await llm.complete_json(PROMPT, Verdict)

    assert caught.value.details["reason"] == "timeout"
    assert caught.value.details["attempts"] == 3
    assert "timeout" in caught.value.message
    assert sleeps.delays == [0.5, 1.0]


async def test_malformed_json_is_retried_and_its_tokens_counted(
    server: FakeOpenAIServer, llm: LLMClient
) -> None:
    server.answer_content('{"ok": true, "reason": ', prompt_tokens=10, completion_tokens=5)
    server.answer_json({"ok": True, "reason": "bien"}, prompt_tokens=10, completion_tokens=6)

    reply = await llm.complete_json(PROMPT, Verdict)

    assert reply.attempts == 2
    assert reply.usage == LLMUsage(20, 11)


async def test_json_failing_validation_ends_in_llm_error_with_reason(
    server: FakeOpenAIServer, llm: LLMClient
) -> None:
    for _ in range(3):
        server.answer_json({"ok": "quizás"}, prompt_tokens=10, completion_tokens=3)

    with pytest.raises(LLMError) as caught:
        await llm.complete_json(PROMPT, Verdict)

    error = caught.value
    assert error.details["reason"] == "invalid_schema"
    assert error.details["attempts"] == 3
    assert error.details["tokens_used"] == 39
    assert error.details["model"] == "test-model"
    assert "ok" in error.message
    assert len(server.requests) == 3


async def test_mixed_failures_report_the_last_reason(
    server: FakeOpenAIServer, llm: LLMClient
) -> None:
    server.fail(503)
    server.answer_content("no es JSON")
    server.raw(b"<html>gateway</html>")

    with pytest.raises(LLMError) as caught:
        await llm.complete_json(PROMPT, Verdict)

    assert caught.value.details["reason"] == "invalid_json"
    assert len(server.requests) == 3


async def test_empty_answer_is_invalid(server: FakeOpenAIServer, llm: LLMClient) -> None:
    server.answer_content("")
    server.answer_json({"ok": True, "reason": "x"})

    reply = await llm.complete_json(PROMPT, Verdict)

    assert reply.attempts == 2


async def test_json_in_code_fence_is_accepted(server: FakeOpenAIServer, llm: LLMClient) -> None:
    server.answer_content('```json\n{"ok": true, "reason": "cercado"}\n```')

    reply = await llm.complete_json(PROMPT, Verdict)

    assert reply.value.reason == "cercado"


async def test_client_errors_are_not_retried(server: FakeOpenAIServer, llm: LLMClient) -> None:
    server.fail(401)

    with pytest.raises(LLMError) as caught:
        await llm.complete_json(PROMPT, Verdict)

    assert caught.value.details["reason"] == "http_401"
    assert len(server.requests) == 1
    assert server.pending == 0


async def test_unreachable_server_is_a_connection_failure(sleeps: Sleeps) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = LLMSettings(base_url=f"http://127.0.0.1:{port}/v1", max_attempts=2)
    async with LLMClient(settings, sleep=sleeps) as llm:
        with pytest.raises(LLMError) as caught:
            await llm.complete_json(PROMPT, Verdict)

    assert caught.value.details["reason"] == "connection"
    assert sleeps.delays == [1.0]


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECUERDO_LLM_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("RECUERDO_LLM_MODEL", "qwen2.5:7b")
    monkeypatch.setenv("RECUERDO_LLM_TIMEOUT_S", "12")
    monkeypatch.setenv("RECUERDO_LLM_MAX_ATTEMPTS", "6")

    settings = LLMSettings()

    assert settings.configured
    assert settings.model == "qwen2.5:7b"
    assert settings.timeout_s == 12
    assert settings.max_attempts == 6


def test_not_configured_without_key_or_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RECUERDO_LLM_BASE_URL", "RECUERDO_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert not LLMSettings().configured


def test_every_setting_is_documented() -> None:
    for name, info in LLMSettings.model_fields.items():
        assert info.description, name


def test_backoff_doubles_and_is_capped() -> None:
    llm_settings = LLMSettings(backoff_initial_s=1, backoff_max_s=5)
    client = LLMClient(llm_settings)
    assert [client.backoff(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert client.backoff(1, retry_after=60) == 5.0


def test_estimate_tokens() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("Hola, ¿tienen la talla 42 en negro?") == 9
    assert estimate_tokens("a b c d e f") == 6
