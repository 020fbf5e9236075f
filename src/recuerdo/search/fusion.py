"""Fusing the keyword ranking with the embedding ranking.

Two ways, both measured on LoCoMo by ``bench/locomo_retrieval.py`` (a fusion can score below its
better side, so the choice is measured, not assumed):

- :func:`reciprocal_rank_fusion`: only ranks count (Cormack et al., 2009), robust to scores on
  different scales;
- :func:`weighted_score_fusion`: scores normalised to ``[0, 1]`` per list, then a weighted sum;
  keeps how *much* better the first hit is than the tenth.

Example::

    >>> keyword = {1: 9.0, 2: 4.0, 3: 1.0}
    >>> vector = {3: 0.8, 2: 0.7, 4: 0.1}
    >>> [i for i, _ in reciprocal_rank_fusion([keyword, vector])]
    [3, 2, 1, 4]
    >>> [i for i, _ in weighted_score_fusion([keyword, vector], [0.5, 0.5])]
    [2, 1, 3, 4]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

KEYWORD_WEIGHT = 0.7
"""The keyword side's weight in :func:`fuse_hybrid`. Offline keyword search finds much more
than a small general-purpose embedding model on chat turns (LoCoMo recall@10 0.76 vs 0.49), so
it leads and the vectors break ties and add paraphrases; 0.5 and 0.3 scored lower
(``bench/results/locomo_retrieval.md``)."""


def fuse_hybrid(
    keyword: Mapping[int, float],
    vector: Mapping[int, float],
    *,
    method: Literal["weighted", "rrf"] = "weighted",
    keyword_weight: float = KEYWORD_WEIGHT,
    depth: int = 100,
    k: float = 60.0,
) -> list[tuple[int, float]]:
    """recuerdo's hybrid ranking: keyword scores and vector similarities by message id, fused.

    ``weighted`` (the default, measured best) is :func:`weighted_score_fusion` over the top
    ``depth`` of each side; ``rrf`` is :func:`reciprocal_rank_fusion`.

    >>> fuse_hybrid({1: 5.0, 2: 1.0, 3: 0.5}, {2: 0.9, 1: 0.2, 3: 0.1})
    [(1, 0.7375), (2, 0.377777778), (3, 0.0)]
    """
    weights = [keyword_weight, 1 - keyword_weight]
    if method == "rrf":
        return reciprocal_rank_fusion([keyword, vector], k=k, weights=weights, depth=depth)
    return weighted_score_fusion([keyword, vector], weights, depth=depth)


def reciprocal_rank_fusion(
    rankings: Sequence[Mapping[int, float]],
    *,
    k: float = 60.0,
    weights: Sequence[float] | None = None,
    depth: int | None = None,
) -> list[tuple[int, float]]:
    """Fuse score maps by reciprocal rank: ``Σ weight / (k + rank)``, best first.

    ``depth`` keeps only the top ``depth`` of each list (an item beyond it contributes nothing).

    >>> reciprocal_rank_fusion([{1: 3.0, 2: 1.0}, {2: 0.9}], k=1)
    [(2, 0.833333333), (1, 0.5)]
    """
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for scores, weight in zip(rankings, weights, strict=True):
        ordered = sorted(scores, key=lambda i: (-scores[i], i))[:depth]
        for rank, item in enumerate(ordered, 1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return _best_first(fused)


def weighted_score_fusion(
    rankings: Sequence[Mapping[int, float]],
    weights: Sequence[float],
    *,
    depth: int | None = None,
) -> list[tuple[int, float]]:
    """Fuse score maps by min-max normalised scores: ``Σ weight · (s - min) / (max - min)``.

    The minimum is taken over the top ``depth`` of each list (all of it by default), so that
    a long tail of near-zero scores does not flatten the differences that matter.

    >>> weighted_score_fusion([{1: 10.0, 2: 5.0, 3: 0.0}, {2: 1.0, 3: 0.0}], [0.5, 0.5])
    [(2, 0.75), (1, 0.5), (3, 0.0)]
    """
    fused: dict[int, float] = {}
    for scores, weight in zip(rankings, weights, strict=True):
        ordered = sorted(scores, key=lambda i: (-scores[i], i))[:depth]
        if not ordered:
            continue
        top, bottom = scores[ordered[0]], scores[ordered[-1]]
        spread = (top - bottom) or 1.0
        for item in ordered:
            fused[item] = fused.get(item, 0.0) + weight * (scores[item] - bottom) / spread
    return _best_first(fused)


def _best_first(fused: dict[int, float]) -> list[tuple[int, float]]:
    return sorted(((i, round(s, 9)) for i, s in fused.items()), key=lambda kv: (-kv[1], kv[0]))
