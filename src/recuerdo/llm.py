"""One thin client for chat models that answer JSON, over the official ``openai`` SDK.

It speaks the chat completions protocol, so it works with OpenAI, Azure, Ollama, vLLM, LM Studio
or any OpenAI-compatible server: set ``RECUERDO_LLM_BASE_URL`` and ``RECUERDO_LLM_MODEL``. Every
answer is parsed as JSON and validated with a pydantic model. Timeouts, rate limits (429), server
errors (5xx), dropped connections, malformed JSON and JSON that fails validation are retried with
exponential backoff; when the attempts run out, :class:`recuerdo.errors.LLMError` says why, how
many attempts were made and how many tokens they cost, so the caller can record the failure.

Example::

    llm = LLMClient(LLMSettings(base_url="http://localhost:11434/v1", model="qwen2.5:7b"))
    reply = await llm.complete_json(
        [{"role": "user", "content": 'Answer JSON {"ok": true}'}], schema=Ok
    )
    reply.value.ok, reply.usage.total_tokens
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypedDict, TypeVar

import openai
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from recuerdo.errors import LLMError

ModelT = TypeVar("ModelT", bound=BaseModel)

# Statuses worth another try: the server may answer differently a moment later. Other 4xx
# (bad key, unknown model, request too large) will fail the same way every time.
RETRYABLE_STATUSES = frozenset({408, 409, 429})


class ChatMessage(TypedDict):
    """One message of a chat completions request."""

    role: Literal["system", "user", "assistant"]
    content: str


class LLMSettings(BaseSettings):
    """How recuerdo reaches a chat model. Every field can be set as ``RECUERDO_LLM_<NAME>``.

    Example: ``RECUERDO_LLM_BASE_URL=http://localhost:11434/v1 RECUERDO_LLM_MODEL=qwen2.5:7b``.
    """

    model_config = SettingsConfigDict(env_prefix="RECUERDO_LLM_", extra="ignore")

    api_key: SecretStr | None = Field(
        None,
        description="API key sent as a bearer token. Leave empty for servers that need none "
        "(Ollama, vLLM); then setting base_url is enough to turn the LLM on.",
    )
    base_url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible API, e.g. http://localhost:11434/v1. "
        "Empty means OpenAI itself (https://api.openai.com/v1).",
    )
    model: str = Field("gpt-4o-mini", description="Model name sent with every request.")
    timeout_s: float = Field(
        60.0, gt=0, description="Seconds to wait for one answer before it counts as a timeout."
    )
    max_attempts: int = Field(
        4, ge=1, description="Attempts per request (the first try included) before giving up."
    )
    backoff_initial_s: float = Field(
        1.0, ge=0, description="Wait before the second attempt; it doubles at every retry."
    )
    backoff_max_s: float = Field(
        30.0, ge=0, description="Longest wait between attempts, also for a server's Retry-After."
    )
    temperature: float | None = Field(
        0.2,
        ge=0,
        le=2,
        description="Sampling temperature; empty to send none (reasoning models accept only "
        "their default).",
    )
    max_output_tokens: int = Field(
        800, ge=16, description="Most tokens the model may write in one answer."
    )
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = Field(
        "max_tokens",
        description="Request field that carries max_output_tokens: max_tokens is understood by "
        "every OpenAI-compatible server; OpenAI's reasoning models need max_completion_tokens.",
    )
    context_tokens: int = Field(
        6000,
        ge=500,
        description="Input tokens one request may carry; longer conversations are summarised "
        "in chunks that fit, then the chunk summaries are merged.",
    )
    json_mode: bool = Field(
        True,
        description='Send response_format={"type": "json_object"}. Turn off only for servers '
        "that reject it; the prompts ask for JSON either way.",
    )

    @property
    def configured(self) -> bool:
        """True when an API key or a base URL is set, i.e. an LLM is meant to be used."""
        return self.api_key is not None or self.base_url is not None


@dataclass(frozen=True, slots=True)
class LLMUsage:
    """Tokens billed by the provider; adds up across attempts."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: LLMUsage) -> LLMUsage:
        return LLMUsage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True, slots=True)
class LLMReply(Generic[ModelT]):
    """A validated answer: ``value``, the model that wrote it, attempts made and tokens used
    by all of them (failed attempts cost tokens too)."""

    value: ModelT
    model: str
    attempts: int
    usage: LLMUsage


class _RetryableFailure(Exception):
    def __init__(self, reason: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


def estimate_tokens(text: str) -> int:
    """A cheap token estimate, no tokenizer download: about four characters per token, and
    never fewer than the words (Spanish and English run at 1.2-1.4 tokens per word).

    >>> estimate_tokens("Hola, ¿tienen la talla 42 en negro?")
    9
    """
    if not text:
        return 0
    return max(math.ceil(len(text) / 4), len(text.split()))


class LLMClient:
    """Chat completions that must answer JSON matching a pydantic model.

    Example::

        class Verdict(BaseModel):
            ok: bool

        llm = LLMClient(LLMSettings(api_key="sk-…"))
        reply = await llm.complete_json([{"role": "user", "content": "…JSON…"}], Verdict)
    """

    def __init__(
        self,
        settings: LLMSettings | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings or LLMSettings()
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        # The SDK insists on a key; local servers ignore whatever is sent.
        self._client = openai.AsyncOpenAI(
            api_key=key or "no-key",
            base_url=self.settings.base_url,
            timeout=self.settings.timeout_s,
            # Retries are ours, so that malformed answers and HTTP failures share one policy
            # and one count.
            max_retries=0,
        )
        self._sleep = sleep

    @property
    def model(self) -> str:
        return self.settings.model

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        >>> LLMClient(LLMSettings(backoff_initial_s=1, backoff_max_s=30)).backoff(3)
        4.0
        """
        s = self.settings
        delay = min(s.backoff_max_s, s.backoff_initial_s * 2.0 ** (attempt - 1))
        if retry_after is not None:
            delay = max(delay, min(retry_after, s.backoff_max_s))
        return float(delay)

    async def complete_json(
        self,
        messages: Sequence[ChatMessage],
        schema: type[ModelT],
        *,
        max_output_tokens: int | None = None,
    ) -> LLMReply[ModelT]:
        """Send ``messages`` and return the answer parsed into ``schema``.

        Raises :class:`LLMError` with ``details["reason"]`` one of ``timeout``, ``rate_limited``,
        ``server_error``, ``connection``, ``invalid_json``, ``invalid_schema`` (after the last
        attempt) or ``http_<status>`` (at once: a request the server rejects will not improve).
        """
        s = self.settings
        usage = LLMUsage()
        failure: _RetryableFailure | None = None
        for attempt in range(1, s.max_attempts + 1):
            if failure is not None:
                await self._sleep(self.backoff(attempt - 1, failure.retry_after))
            try:
                content, call_usage = await self._call(messages, max_output_tokens)
                usage = usage + call_usage
                value = _parse(content, schema)
            except _RetryableFailure as exc:
                failure = exc
                continue
            return LLMReply(value=value, model=s.model, attempts=attempt, usage=usage)
        assert failure is not None
        raise LLMError(
            f"the language model gave no valid answer after {s.max_attempts} attempts "
            f"({failure.reason}): {failure.detail}",
            reason=failure.reason,
            attempts=s.max_attempts,
            tokens_used=usage.total_tokens,
            model=s.model,
        )

    async def _call(
        self, messages: Sequence[ChatMessage], max_output_tokens: int | None
    ) -> tuple[str | None, LLMUsage]:
        s = self.settings
        limit = max_output_tokens or s.max_output_tokens
        request: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": m["content"]}
            if m["role"] == "system"
            else {"role": "assistant", "content": m["content"]}
            if m["role"] == "assistant"
            else {"role": "user", "content": m["content"]}
            for m in messages
        ]
        try:
            completion = await self._client.chat.completions.create(
                model=s.model,
                messages=request,
                temperature=openai.omit if s.temperature is None else s.temperature,
                max_tokens=limit if s.max_tokens_field == "max_tokens" else openai.omit,
                max_completion_tokens=(
                    limit if s.max_tokens_field == "max_completion_tokens" else openai.omit
                ),
                response_format={"type": "json_object"} if s.json_mode else openai.omit,
            )
        except openai.APITimeoutError as exc:
            raise _RetryableFailure("timeout", f"no answer within {s.timeout_s:g}s") from exc
        except openai.APIConnectionError as exc:
            raise _RetryableFailure("connection", str(exc)) from exc
        except openai.APIStatusError as exc:
            detail = f"HTTP {exc.status_code}: {_short(exc.message)}"
            if exc.status_code == 429:
                retry_after = _retry_after(exc.response.headers.get("retry-after"))
                raise _RetryableFailure("rate_limited", detail, retry_after) from exc
            if exc.status_code >= 500:
                raise _RetryableFailure("server_error", detail) from exc
            if exc.status_code in RETRYABLE_STATUSES:
                raise _RetryableFailure(f"http_{exc.status_code}", detail) from exc
            raise LLMError(
                f"the language model server refused the request: {detail}",
                reason=f"http_{exc.status_code}",
                attempts=1,
                tokens_used=0,
                model=s.model,
            ) from exc
        except (openai.APIResponseValidationError, json.JSONDecodeError) as exc:
            # A proxy's HTML error page, or a server that is not OpenAI-compatible.
            raise _RetryableFailure(
                "invalid_json", f"the response is not a chat completion: {_short(str(exc))}"
            ) from exc
        call_usage = LLMUsage()
        usage = getattr(completion, "usage", None)
        if usage is not None:
            call_usage = LLMUsage(usage.prompt_tokens or 0, usage.completion_tokens or 0)
        # The SDK does not validate the envelope: a compatible server may leave parts out.
        choices = getattr(completion, "choices", None) or []
        message = getattr(choices[0], "message", None) if choices else None
        content = getattr(message, "content", None)
        return (content if isinstance(content, str) else None), call_usage


def _parse(content: str | None, schema: type[ModelT]) -> ModelT:
    if not content:
        raise _RetryableFailure("invalid_json", "empty answer")
    try:
        data = json.loads(_strip_fence(content))
    except json.JSONDecodeError as exc:
        raise _RetryableFailure(
            "invalid_json", f"{exc.msg} at char {exc.pos}: {_short(content)}"
        ) from exc
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        raise _RetryableFailure(
            "invalid_schema", f"{exc.error_count()} error(s), first at {where}: {first['msg']}"
        ) from exc


def _strip_fence(content: str) -> str:
    # Small local models wrap JSON in ```json fences even in JSON mode.
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
