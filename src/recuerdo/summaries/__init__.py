"""Conversation summaries and the client profile built from them.

- :class:`Summarizer` — the protocol; :class:`ConversationSummary` — what it returns.
- :class:`ExtractiveSummarizer` — offline rules, the default when no LLM is configured.
- :class:`LLMSummarizer` — an OpenAI-compatible chat model, prompts in Spanish or English.
- :func:`merge_profile` — the client's profile summary, updated after each conversation.
"""

from recuerdo.summaries.extractive import ExtractiveSummarizer
from recuerdo.summaries.llm_summarizer import LLMSummarizer, ProfileUpdate
from recuerdo.summaries.model import (
    Commitment,
    ConversationStatus,
    ConversationSummary,
    Summarizer,
)
from recuerdo.summaries.profile import merge_profile, merge_profile_offline

__all__ = [
    "Commitment",
    "ConversationStatus",
    "ConversationSummary",
    "ExtractiveSummarizer",
    "LLMSummarizer",
    "ProfileUpdate",
    "Summarizer",
    "merge_profile",
    "merge_profile_offline",
]
