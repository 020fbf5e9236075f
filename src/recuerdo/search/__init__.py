"""Search: text normalisation, index terms, ranking, embeddings and their fusion.

One module per concept, engine-independent (no SQL here; ``store/`` calls these):

- :mod:`~recuerdo.search.text`: ``index_terms`` / ``query_terms`` (what FTS5 and ``tsvector``
  index and search), ``highlight`` snippets, ``checked_term`` (what the engines' query
  builders in ``store/search_ops.py`` quote);
- :mod:`~recuerdo.search.timeexpr`: "el pedido de marzo", "last month" → a time window;
- :mod:`~recuerdo.search.ranking`: ``ClientIndex`` (per-client BM25F with neighbour turns,
  speaker names, conversation prior, time awareness, summaries) and ``score_candidates``
  (tenant-wide rescoring with collection statistics);
- :mod:`~recuerdo.search.vectors`: float16 vector codec and exact cosine ``VectorIndex``;
- :mod:`~recuerdo.search.embeddings`: the ``Embedder`` protocol, ``OpenAIEmbedder``,
  ``LocalEmbedder`` (sentence-transformers, optional extra);
- :mod:`~recuerdo.search.fusion`: ``fuse_hybrid`` (weighted score fusion by default, measured),
  ``reciprocal_rank_fusion``, ``weighted_score_fusion``.

Measured on LoCoMo by ``bench/locomo_retrieval.py`` (results in ``bench/results/``).
"""
