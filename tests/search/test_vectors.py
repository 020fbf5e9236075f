"""float16 vector codec, exact cosine search, and fusion."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from recuerdo.search import vectors
from recuerdo.search.fusion import fuse_hybrid, reciprocal_rank_fusion, weighted_score_fusion
from recuerdo.search.vectors import VectorIndex, decode_vector, encode_vector


def test_codec_is_numpy_float16_little_endian() -> None:
    rng = random.Random(7)
    vector = [rng.uniform(-1, 1) for _ in range(384)]
    data = encode_vector(vector)
    assert len(data) == 768
    assert data == np.asarray(vector, dtype="<f2").tobytes()
    decoded = decode_vector(data)
    assert max(abs(a - b) for a, b in zip(vector, decoded, strict=True)) < 1e-3


def test_codec_rejects_what_is_not_an_embedding() -> None:
    with pytest.raises(ValueError, match="float16"):
        encode_vector([1e6])
    with pytest.raises(ValueError, match="pairs"):
        decode_vector(b"\x00\x01\x02")
    assert decode_vector(encode_vector([])) == []


def test_exact_cosine_search_orders_by_similarity() -> None:
    items = [
        (1, encode_vector([1, 0, 0])),
        (2, encode_vector([1, 1, 0])),
        (3, encode_vector([0, 0, 5])),
    ]
    index = VectorIndex(items)
    assert [i for i, _ in index.search([1, 0.1, 0])] == [1, 2, 3]
    assert index.search([0, 0, 1], limit=1) == [(3, 1.0)]
    assert len(index) == 3
    assert VectorIndex([]).search([1.0, 0.0]) == []
    with pytest.raises(ValueError, match="dimensions"):
        index.scores([1.0, 0.0])


def test_pure_python_search_agrees_with_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    items = [(i, encode_vector([rng.gauss(0, 1) for _ in range(16)])) for i in range(50)]
    query = [rng.gauss(0, 1) for _ in range(16)]
    with_numpy = VectorIndex(items).scores(query)
    monkeypatch.setattr(vectors, "_numpy", lambda: None)
    without = VectorIndex(items).scores(query)
    assert with_numpy.keys() == without.keys()
    assert all(math.isclose(with_numpy[i], without[i], abs_tol=1e-5) for i in with_numpy)


def test_reciprocal_rank_fusion() -> None:
    fused = reciprocal_rank_fusion([{1: 9.0, 2: 5.0}, {2: 0.9, 3: 0.8}], k=60)
    assert [i for i, _ in fused] == [2, 1, 3]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert reciprocal_rank_fusion([{}, {}]) == []
    depth_one = reciprocal_rank_fusion([{1: 2.0, 2: 1.0}], depth=1)
    assert [i for i, _ in depth_one] == [1]


def test_weighted_score_fusion_normalises_each_side() -> None:
    # Keyword scores in the tens, cosines below one: each is brought to [0, 1] first.
    fused = weighted_score_fusion([{1: 30.0, 2: 10.0}, {2: 0.9, 1: 0.1}], [0.5, 0.5])
    assert fused == [(1, 0.5), (2, 0.5)]
    assert weighted_score_fusion([{1: 3.0}, {}], [0.7, 0.3]) == [(1, 0.0)]


def test_hybrid_default_lets_the_keyword_side_lead() -> None:
    keyword = {1: 8.0, 2: 6.0, 3: 1.0}
    vector = {2: 0.9, 3: 0.85, 1: 0.1}
    assert [i for i, _ in fuse_hybrid(keyword, vector)] == [2, 1, 3]
    assert [i for i, _ in fuse_hybrid(keyword, vector, method="rrf")] == [1, 2, 3]
