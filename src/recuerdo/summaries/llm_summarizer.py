"""The LLM summariser: a chat model over :mod:`recuerdo.llm`, prompts in Spanish or English.

A conversation that fits the request budget (``LLMSettings.context_tokens``) is summarised in one
request. A longer one is cut into consecutive parts that fit, each part is summarised, and the
part summaries are merged (in rounds, if even they do not fit one request). Every answer is JSON
validated by :class:`~recuerdo.summaries.prompts.LLMSummaryPayload`; failures are retried by
:class:`~recuerdo.llm.LLMClient` and end in :class:`~recuerdo.errors.LLMError`, whose
``details["tokens_used"]`` counts every request made for this conversation, so the job can record
the failure and what it cost.

Example::

    summarizer = LLMSummarizer(LLMClient(LLMSettings(base_url="http://localhost:11434/v1",
                                                     model="qwen2.5:7b")))
    summary = await summarizer.summarize(messages)  # summary.method == "llm:qwen2.5:7b"
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from recuerdo.errors import LLMError
from recuerdo.llm import ChatMessage, LLMClient, estimate_tokens
from recuerdo.model import Message, Role
from recuerdo.search.text import detect_language, fold
from recuerdo.summaries.extractive import speaker_name
from recuerdo.summaries.model import Commitment, ConversationSummary
from recuerdo.summaries.phrasing import when
from recuerdo.summaries.prompts import (
    SYSTEM,
    LLMProfilePayload,
    LLMSummaryPayload,
    conversation_prompt,
    merge_prompt,
    part_prompt,
    profile_prompt,
)

_LABELS = {
    "es": {Role.USER: "Cliente", Role.ASSISTANT: "Bot", Role.MANUAL_OPERATOR: "Asesor"},
    "en": {Role.USER: "Customer", Role.ASSISTANT: "Bot", Role.MANUAL_OPERATOR: "Agent"},
}
_MIN_PART_TOKENS = 200


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    """A client's new profile summary and the tokens it cost."""

    text: str
    tokens_used: int


class LLMSummarizer:
    """Summaries (and profile updates) written by a chat model. See the module docstring."""

    def __init__(
        self,
        llm: LLMClient,
        *,
        max_words: int = 120,
        timezone: str = "America/Bogota",
        default_language: str = "es",
    ) -> None:
        self.llm = llm
        self.max_words = max_words
        self.zone = ZoneInfo(timezone)
        self.default_language = "en" if default_language == "en" else "es"

    @property
    def method(self) -> str:
        """``"llm:<model>"``, recorded with every summary."""
        return f"llm:{self.llm.model}"

    async def summarize(
        self, messages: Sequence[Message], *, language: str | None = None
    ) -> ConversationSummary:
        """Summarise one conversation; raises :class:`LLMError` when the model fails.

        Example: ``(await summarizer.summarize(messages, language="es")).commitments``.
        """
        turns = sorted(
            (m for m in messages if m.role is not Role.SYSTEM and m.content.strip()),
            key=lambda m: (m.at, m.id),
        )
        lang = self._language(turns, language)
        if not turns:
            return ConversationSummary(text="", language=lang, method=self.method)
        started = when(turns[0].at.astimezone(self.zone), lang)
        lines = [self._line(m, lang) for m in turns]
        spent = _Spend()
        skeleton = estimate_tokens(
            SYSTEM[lang]
            + part_prompt(lang, date=started, transcript="", part=1, parts=1, max_words=0)
        )
        budget = max(_MIN_PART_TOKENS, self.llm.settings.context_tokens - skeleton)
        parts = _split(lines, budget)
        if len(parts) == 1:
            prompt = conversation_prompt(
                lang, date=started, transcript=parts[0], max_words=self.max_words
            )
            payload = await self._ask(lang, prompt, spent)
        else:
            payloads = [
                await self._ask(
                    lang,
                    part_prompt(
                        lang,
                        date=started,
                        transcript=part,
                        part=i,
                        parts=len(parts),
                        max_words=self.max_words,
                    ),
                    spent,
                )
                for i, part in enumerate(parts, start=1)
            ]
            payload = await self._merge(lang, started, payloads, budget, spent)
        return self._summary(payload, turns, lang, spent.tokens)

    async def update_profile(
        self,
        old_profile: str | None,
        new: ConversationSummary,
        *,
        language: str | None = None,
        max_chars: int = 1200,
    ) -> ProfileUpdate:
        """The client's profile rewritten by the model with ``new`` folded in.

        Raises :class:`LLMError` when the model fails. The text is cut to ``max_chars``.
        """
        lang = "en" if (language or new.language) == "en" else "es"
        at = new.started_at or new.ended_at
        date = when(at.astimezone(self.zone), lang) if at else "?"
        prompt = profile_prompt(
            lang,
            old=old_profile,
            summary=_summary_for_profile(new, lang),
            date=date,
            max_chars=max_chars,
        )
        reply = await self.llm.complete_json(_chat(lang, prompt), LLMProfilePayload)
        # Keep the model's lines (a profile may be a short list), tidy the spaces inside them.
        lines = (" ".join(line.split()) for line in reply.value.profile.strip().splitlines())
        text = "\n".join(line for line in lines if line)
        return ProfileUpdate(text=_cut_chars(text, max_chars), tokens_used=reply.usage.total_tokens)

    # -- internals ---------------------------------------------------------------------------

    def _language(self, turns: Sequence[Message], language: str | None) -> str:
        if language in ("es", "en"):
            return language
        sample = " ".join(m.content for m in turns[:40])[:4000]
        return detect_language(sample, default="en" if self.default_language == "en" else "es")

    def _line(self, message: Message, lang: str) -> str:
        label = _LABELS[lang].get(message.role, message.role.value)
        name = speaker_name(message)
        if name:
            label = f"{label} ({name})"
        local = message.at.astimezone(self.zone)
        text = " / ".join(part.strip() for part in message.content.splitlines() if part.strip())
        return f"[{local:%Y-%m-%d %H:%M}] {label}: {text}"

    async def _ask(self, lang: str, prompt: str, spent: _Spend) -> LLMSummaryPayload:
        try:
            reply = await self.llm.complete_json(_chat(lang, prompt), LLMSummaryPayload)
        except LLMError as exc:
            raise _with_spend(exc, spent) from exc
        spent.tokens += reply.usage.total_tokens
        return reply.value

    async def _merge(
        self,
        lang: str,
        started: str,
        payloads: list[LLMSummaryPayload],
        budget: int,
        spent: _Spend,
    ) -> LLMSummaryPayload:
        while len(payloads) > 1:
            groups: list[list[str]] = [[]]
            for payload in payloads:
                encoded = payload.model_dump_json(exclude_none=True)
                group = groups[-1]
                # Two parts per merge at least, so that every round makes progress.
                if len(group) >= 2 and estimate_tokens("\n".join([*group, encoded])) > budget:
                    groups.append([])
                groups[-1].append(encoded)
            merged = []
            for group in groups:
                if len(group) == 1:
                    merged.append(LLMSummaryPayload.model_validate(json.loads(group[0])))
                    continue
                prompt = merge_prompt(lang, date=started, parts=group, max_words=self.max_words)
                merged.append(await self._ask(lang, prompt, spent))
            payloads = merged
        return payloads[0]

    def _summary(
        self, payload: LLMSummaryPayload, turns: Sequence[Message], lang: str, tokens: int
    ) -> ConversationSummary:
        said_by_customer = fold(" ".join(m.content for m in turns if m.role is Role.USER))
        name = payload.customer_name
        # Only a name the customer wrote: a model may take one from a greeting or invent it.
        if name and fold(name).split()[0] not in said_by_customer:
            name = None
        words = payload.summary.split()
        text = " ".join(words[: self.max_words]) + ("…" if len(words) > self.max_words else "")
        return ConversationSummary(
            text=text,
            topics=tuple(t.strip() for t in payload.topics if t.strip())[:5],
            preferences=tuple(p.strip() for p in payload.preferences if p.strip()),
            commitments=tuple(
                Commitment(party=c.party, who=c.who, what=c.what, due=c.due, due_date=c.due_date)
                for c in payload.commitments
            ),
            outcome=payload.outcome,
            status=payload.status,
            customer_name=name,
            language=payload.language if payload.language in ("es", "en") else lang,
            method=self.method,
            tokens_used=tokens,
            started_at=turns[0].at,
            ended_at=turns[-1].at,
        )


@dataclass(slots=True)
class _Spend:
    tokens: int = 0


def _chat(lang: str, prompt: str) -> list[ChatMessage]:
    return [{"role": "system", "content": SYSTEM[lang]}, {"role": "user", "content": prompt}]


def _with_spend(exc: LLMError, spent: _Spend) -> LLMError:
    details = dict(exc.details)
    details["tokens_used"] = int(str(details.get("tokens_used", 0))) + spent.tokens
    return LLMError(exc.message, **details)


def _split(lines: Sequence[str], budget: int) -> list[str]:
    """Consecutive lines joined into parts of at most ``budget`` estimated tokens each."""
    parts: list[list[str]] = [[]]
    used = 0
    for line in lines:
        cost = estimate_tokens(line) + 1
        if cost > budget:
            # One message longer than a whole request: keep its beginning.
            line = line[: budget * 3] + "…"
            cost = estimate_tokens(line) + 1
        if parts[-1] and used + cost > budget:
            parts.append([])
            used = 0
        parts[-1].append(line)
        used += cost
    return ["\n".join(part) for part in parts]


_PROFILE_LABELS = {
    "es": ("Preferencias", "Compromisos", "Cómo terminó"),
    "en": ("Preferences", "Commitments", "How it ended"),
}


def _summary_for_profile(summary: ConversationSummary, lang: str) -> str:
    preferences, commitments, outcome = _PROFILE_LABELS[lang]
    lines = [summary.text]
    if summary.preferences:
        lines.append(f"{preferences}: " + "; ".join(summary.preferences))
    if summary.commitments:
        promised = (
            f"{c.who}: {c.what}" + (f" ({c.due})" if c.due else "") for c in summary.commitments
        )
        lines.append(f"{commitments}: " + "; ".join(promised))
    if summary.outcome:
        lines.append(f"{outcome}: {summary.outcome}")
    return "\n".join(lines)


def _cut_chars(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # End on a sentence if one ends in the last third, else on a word.
    stop = cut.rfind(". ")
    if stop > limit * 2 // 3:
        return cut[: stop + 1]
    return cut.rsplit(" ", 1)[0] + "…"
