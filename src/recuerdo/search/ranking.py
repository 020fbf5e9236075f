"""BM25-style ranking of a client's messages, in pure Python, identical on every database.

A client's history is small (thousands of messages), so the store loads its terms and this module
scores them; tenant-wide search lets the database's full-text index find candidates and rescores
them here with :func:`score_candidates`. What plain BM25 misses in chat histories, and what this
ranking adds for it:

- a turn often only makes sense with the turns around it ("yes, the blue one"): each message is
  scored as a field-weighted document (BM25F) of its own terms plus its neighbours' terms in the
  same conversation at lower weight;
- people's names sit in the other speaker's turn or in nobody's words at all: the speaker's name
  is a field of the message;
- a message about the right topic is likelier inside a conversation about it: the conversation's
  own BM25 score (and its summary's, when there is one) lifts its messages;
- "el pedido de marzo", "last month": a time expression in the query favours messages from then
  (:mod:`recuerdo.search.timeexpr`); otherwise a mild prior favours recent messages;
- conversation summaries are searchable items of their own.

Example::

    >>> from datetime import datetime, UTC
    >>> from recuerdo.search.text import index_terms
    >>> at = datetime(2024, 3, 2, tzinfo=UTC)
    >>> docs = [
    ...     SearchDoc(1, 10, at, "assistant", "Tienda", index_terms("¿De qué color la quiere?")),
    ...     SearchDoc(2, 10, at, "user", "Ana", index_terms("Azul, talla M")),
    ... ]
    >>> [hit.id for hit in ClientIndex(docs).search("camiseta azul", now=at)]
    [2, 1]
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

from recuerdo.search.text import Language, index_terms, query_terms
from recuerdo.search.timeexpr import TimeWindow, find_time_window


@dataclass(frozen=True, slots=True)
class SearchDoc:
    """One message as the ranking sees it (``terms``: from ``text.index_terms``)."""

    id: int
    conversation_id: int
    at: datetime
    role: str
    speaker: str | None
    terms: Sequence[str]


@dataclass(frozen=True, slots=True)
class SummaryDoc:
    """A conversation summary as a searchable item (``at``: when the conversation started)."""

    conversation_id: int
    at: datetime
    terms: Sequence[str]


@dataclass(frozen=True, slots=True)
class Hit:
    """A ranked item: a message (``id`` is the message id) or a summary (``id`` is the
    conversation id)."""

    kind: Literal["message", "summary"]
    id: int
    conversation_id: int
    score: float


@dataclass(frozen=True, slots=True)
class RankingOptions:
    """The knobs of the ranking; the defaults are justified where they are set.

    ``neighbour_weights[d-1]`` is the weight of the terms of the turn ``d`` steps away.
    """

    # Short documents (chat turns are ~20 words): a lower b than the classic 0.75 punishes long
    # turns less, which matters because the informative turns are the long ones.
    k1: float = 1.2
    b: float = 0.4
    neighbour_weights: tuple[float, ...] = (0.5, 0.25)
    speaker_weight: float = 1.0
    conversation_weight: float = 0.3
    summary_weight: float = 0.3
    time_boost: float = 1.0
    recency_weight: float = 0.05
    recency_half_life: timedelta = timedelta(days=180)
    feedback_docs: int = 0
    feedback_terms: int = 10
    feedback_weight: float = 0.3


@dataclass(frozen=True, slots=True)
class CollectionStats:
    """Statistics of a whole collection (e.g. a tenant's messages), for scoring candidates that
    the database's full-text index found: number of messages, their average number of terms, and
    in how many messages each query term occurs."""

    doc_count: int
    average_length: float
    doc_freq: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A query split into its terms and the period it names (if any)."""

    terms: tuple[str, ...]
    window: TimeWindow | None = None
    weights: Mapping[str, float] = field(default_factory=dict)

    def weight(self, term: str) -> float:
        return self.weights.get(term, 1.0)


def parse_query(
    text: str,
    *,
    now: datetime,
    lang: Language | None = None,
    default: Language = "es",
    tz: tzinfo = UTC,
) -> ParsedQuery:
    """Terms and time window of a query; the time words are not searched as words.

    >>> from datetime import datetime, UTC
    >>> q = parse_query("el pedido de marzo", now=datetime(2024, 6, 1, tzinfo=UTC))
    >>> q.terms, q.window.start.month
    (('ped',), 3)
    """
    found = find_time_window(text, now=now, tz=tz)
    return ParsedQuery(tuple(query_terms(found.rest, lang, default=default)), found.window)


class ClientIndex:
    """The search index of one client's messages (and summaries), built once, searched often.

    >>> from datetime import datetime, UTC
    >>> doc = SearchDoc(7, 1, datetime(2024, 1, 5, tzinfo=UTC), "user", "Ana", ["ped", "4471"])
    >>> ClientIndex([doc]).search("pedido 4471", now=datetime(2024, 2, 1, tzinfo=UTC))[0].id
    7
    """

    def __init__(
        self,
        docs: Iterable[SearchDoc],
        summaries: Iterable[SummaryDoc] = (),
        *,
        options: RankingOptions | None = None,
        default: Language = "es",
        stats: CollectionStats | None = None,
    ) -> None:
        self.options = options or RankingOptions()
        self.default = default
        self.stats = stats
        # Conversations in time order, each message at its position: neighbours are looked up
        # by position, never across conversations.
        self.docs = sorted(docs, key=lambda d: (d.conversation_id, d.at, d.id))
        self.summaries = list(summaries)
        n = len(self.docs)
        self._conversation = [d.conversation_id for d in self.docs]
        self._speaker_terms = {
            name: index_terms(name, default) for name in {d.speaker for d in self.docs if d.speaker}
        }
        own_lengths = [len(d.terms) for d in self.docs]
        self._postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, doc in enumerate(self.docs):
            for term, tf in Counter(doc.terms).items():
                self._postings[term].append((i, tf))
        self._speaker_postings: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(self.docs):
            for term in set(self._speaker_terms.get(doc.speaker or "", ())):
                self._speaker_postings[term].append(i)
        self._df = {t: len(p) for t, p in self._postings.items()}
        for term, holders in self._speaker_postings.items():
            self._df[term] = len({i for i, _ in self._postings.get(term, [])} | set(holders))
        self._n = n
        self._lengths = [self._field_length(i, own_lengths) for i in range(n)]
        self._avg_length = (sum(self._lengths) / n) if n else 1.0
        if stats is not None and n and sum(own_lengths):
            # The collection's average length, scaled by how much the neighbour and speaker
            # fields add to a message here.
            scale = sum(self._lengths) / sum(own_lengths)
            self._avg_length = max(stats.average_length * scale, 1e-9)
        self._by_conversation: dict[int, list[int]] = defaultdict(list)
        for i, cid in enumerate(self._conversation):
            self._by_conversation[cid].append(i)
        self._conversation_bm25 = _Bm25Collection(
            {
                cid: [t for i in idx for t in self.docs[i].terms]
                for cid, idx in self._by_conversation.items()
            },
            self.options,
        )
        self._summary_bm25 = _Bm25Collection(
            {s.conversation_id: list(s.terms) for s in self.summaries}, self.options
        )

    def _field_length(self, i: int, own_lengths: list[int]) -> float:
        o = self.options
        length = own_lengths[i] + o.speaker_weight * len(
            self._speaker_terms.get(self.docs[i].speaker or "", ())
        )
        for j, weight in self._neighbours(i):
            length += weight * own_lengths[j]
        return length

    def _neighbours(self, i: int) -> Iterable[tuple[int, float]]:
        cid = self._conversation[i]
        for distance, weight in enumerate(self.options.neighbour_weights, 1):
            for j in (i - distance, i + distance):
                if 0 <= j < self._n and self._conversation[j] == cid:
                    yield j, weight

    def idf(self, term: str) -> float:
        """BM25's idf, never negative (a term in most messages still counts a little)."""
        n, df = self._n, self._df.get(term, 0)
        if self.stats is not None:
            n, df = self.stats.doc_count, self.stats.doc_freq.get(term, df)
        return math.log(1 + max(n - df + 0.5, 0.0) / (df + 0.5))

    def search(
        self,
        query: str | ParsedQuery,
        *,
        now: datetime,
        limit: int = 10,
        lang: Language | None = None,
        tz: tzinfo = UTC,
        include_summaries: bool = True,
    ) -> list[Hit]:
        """The best ``limit`` messages (and summaries) for ``query``, best first.

        A query with no terms but a time window ("¿qué dije ayer?") lists that period's messages,
        latest first; a query with neither gives ``[]``.
        """
        parsed = (
            query
            if isinstance(query, ParsedQuery)
            else parse_query(query, now=now, lang=lang, default=self.default, tz=tz)
        )
        scores = self.message_scores(parsed, now=now)
        o = self.options
        if o.feedback_docs and scores:
            parsed = self._with_feedback(parsed, scores)
            scores = self.message_scores(parsed, now=now)
        hits = [
            Hit("message", self.docs[i].id, self._conversation[i], s) for i, s in scores.items()
        ]
        if include_summaries and self.summaries and parsed.terms:
            for cid, s in self._summary_bm25.scores(parsed).items():
                summary_at = next(x.at for x in self.summaries if x.conversation_id == cid)
                hits.append(
                    Hit("summary", cid, cid, s * self._time_factor(summary_at, parsed, now))
                )
        hits.sort(key=lambda h: (-h.score, h.kind, h.id))
        return hits[:limit]

    def message_scores(self, parsed: ParsedQuery, *, now: datetime) -> dict[int, float]:
        """Score of every message that matches (by position in ``self.docs``)."""
        if not parsed.terms:
            if parsed.window is None:
                return {}
            inside = [
                i
                for i, d in enumerate(self.docs)
                if parsed.window.distance(d.at).total_seconds() == 0
            ]
            latest = sorted(inside, key=lambda i: self.docs[i].at, reverse=True)
            return {i: 1.0 / (rank + 1) for rank, i in enumerate(latest)}
        o = self.options
        tf: dict[int, dict[str, float]] = defaultdict(dict)
        for term in parsed.terms:
            for i, count in self._postings.get(term, ()):
                row = tf[i]
                row[term] = row.get(term, 0.0) + count
                for j, weight in self._neighbours(i):
                    tf[j][term] = tf[j].get(term, 0.0) + weight * count
            for i in self._speaker_postings.get(term, ()):
                tf[i][term] = tf[i].get(term, 0.0) + o.speaker_weight
        conversation = _normalised(self._conversation_bm25.scores(parsed))
        summary = _normalised(self._summary_bm25.scores(parsed))
        scores: dict[int, float] = {}
        for i, row in tf.items():
            norm = o.k1 * (1 - o.b + o.b * self._lengths[i] / self._avg_length)
            s = sum(
                parsed.weight(t) * self.idf(t) * f * (o.k1 + 1) / (f + norm) for t, f in row.items()
            )
            cid = self._conversation[i]
            s *= 1 + o.conversation_weight * conversation.get(cid, 0.0)
            s *= 1 + o.summary_weight * summary.get(cid, 0.0)
            scores[i] = s * self._time_factor(self.docs[i].at, parsed, now)
        return scores

    def _time_factor(self, at: datetime, parsed: ParsedQuery, now: datetime) -> float:
        o = self.options
        if parsed.window is not None:
            # Inside the window: full boost; outside it fades with the distance, measured in
            # window lengths ("March" is still a little likely for a message of early April).
            span = max(parsed.window.end - parsed.window.start, timedelta(days=1))
            distance = parsed.window.distance(at) / span
            return 1 + o.time_boost * math.exp(-distance)
        age = max((now - at).total_seconds(), 0.0)
        return 1 + o.recency_weight * math.exp2(-age / o.recency_half_life.total_seconds())

    def _with_feedback(self, parsed: ParsedQuery, scores: dict[int, float]) -> ParsedQuery:
        # Pseudo-relevance feedback (RM3-like): terms frequent in the best messages and rare in
        # the history join the query at a lower weight, bridging "vocabulary" gaps.
        o = self.options
        top = sorted(scores, key=scores.__getitem__, reverse=True)[: o.feedback_docs]
        best = scores[top[0]] or 1.0
        mass: dict[str, float] = defaultdict(float)
        for i in top:
            terms = self.docs[i].terms
            for term, count in Counter(terms).items():
                mass[term] += scores[i] / best * count / max(len(terms), 1) * self.idf(term)
        ranked = sorted(mass, key=mass.__getitem__, reverse=True)
        extra = [t for t in ranked if t not in parsed.terms][: o.feedback_terms]
        if not extra:
            return parsed
        total = sum(mass[t] for t in extra)
        weights = {t: o.feedback_weight * len(extra) * mass[t] / total for t in extra}
        return ParsedQuery(parsed.terms + tuple(extra), parsed.window, weights)


class _Bm25Collection:
    """Plain BM25 over a few larger documents (conversations, summaries), keyed by id."""

    def __init__(self, docs: Mapping[int, Sequence[str]], options: RankingOptions) -> None:
        self.options = options
        self.tf = {key: Counter(terms) for key, terms in docs.items()}
        self.lengths = {key: len(terms) for key, terms in docs.items()}
        self.avg = (sum(self.lengths.values()) / len(docs)) if docs else 1.0
        self.df: Counter[str] = Counter()
        for counts in self.tf.values():
            self.df.update(counts.keys())

    def scores(self, parsed: ParsedQuery) -> dict[int, float]:
        o, n = self.options, len(self.tf)
        out: dict[int, float] = {}
        for key, counts in self.tf.items():
            norm = o.k1 * (1 - o.b + o.b * self.lengths[key] / self.avg)
            s = 0.0
            for term in parsed.terms:
                f = counts.get(term, 0)
                if f:
                    idf = math.log(1 + (n - self.df[term] + 0.5) / (self.df[term] + 0.5))
                    s += parsed.weight(term) * idf * f * (o.k1 + 1) / (f + norm)
            if s > 0:
                out[key] = s
        return out


def _normalised(scores: Mapping[int, float]) -> dict[int, float]:
    top = max(scores.values(), default=0.0)
    return {k: v / top for k, v in scores.items()} if top > 0 else {}


def score_candidates(
    query: str | ParsedQuery,
    candidates: Iterable[SearchDoc],
    stats: CollectionStats,
    *,
    now: datetime,
    context: Iterable[SearchDoc] = (),
    limit: int = 10,
    options: RankingOptions | None = None,
    lang: Language | None = None,
    default: Language = "es",
    tz: tzinfo = UTC,
) -> list[Hit]:
    """Rescore the candidates a full-text index found across clients (the operator's search).

    ``stats`` are the whole collection's, so that a term's weight does not depend on which
    candidates were fetched; ``context`` may carry the messages next to the candidates (they
    lend their terms as neighbours, and are never returned themselves). The per-conversation
    prior is off: a handful of fetched messages says nothing about a whole conversation.

    >>> from datetime import datetime, UTC
    >>> at = datetime(2024, 5, 1, tzinfo=UTC)
    >>> docs = [SearchDoc(1, 1, at, "user", None, ["ped", "4471"]),
    ...         SearchDoc(2, 2, at, "user", None, ["ped"])]
    >>> stats = CollectionStats(1000, 8.0, {"ped": 300, "4471": 1})
    >>> [h.id for h in score_candidates("pedido 4471", docs, stats, now=at)]
    [1, 2]
    """
    wanted = {doc.id: doc for doc in candidates}
    extra = [doc for doc in context if doc.id not in wanted]
    chosen = options or RankingOptions()
    index = ClientIndex(
        [*wanted.values(), *extra],
        options=replace(chosen, conversation_weight=0.0, feedback_docs=0),
        default=default,
        stats=stats,
    )
    parsed = (
        query
        if isinstance(query, ParsedQuery)
        else parse_query(query, now=now, lang=lang, default=default, tz=tz)
    )
    hits = [
        Hit("message", index.docs[i].id, index.docs[i].conversation_id, s)
        for i, s in index.message_scores(parsed, now=now).items()
        if index.docs[i].id in wanted
    ]
    hits.sort(key=lambda h: (-h.score, h.id))
    return hits[:limit]
