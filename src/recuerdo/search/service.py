"""Search over the store: keeping the index, and answering ``Memory.search``.

:class:`SearchService` joins the engine-independent ranking (:mod:`recuerdo.search.ranking`) with
the store (:mod:`recuerdo.store.search_ops`):

- **one client** (``who`` given, the returning-customer case): the client's terms and messages are
  loaded (a client's history is small) and ranked in Python by
  :class:`~recuerdo.search.ranking.ClientIndex`, conversation summaries included, so the result
  is the same on every engine; with embeddings on, the client's vectors are searched exactly and
  fused with :func:`~recuerdo.search.fusion.fuse_hybrid`;
- **the whole tenant** (the operator's search): the engine's full-text index proposes candidates
  (rarest query terms first), which :func:`~recuerdo.search.ranking.score_candidates` rescores
  with the tenant's statistics, then again with the turns around the best of them.

Before searching, messages that wait in the index queue are indexed (a bounded number), so a
message recorded a moment ago is found.

Example::

    service = SearchService.of(memory)
    await service.index_pending()
    for hit in await service.search("pedido de marzo", who="573003913251"):
        print(hit.score, hit.snippet, hit.message.external_id if hit.message else "(summary)")
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from recuerdo.errors import ConfigurationError, InvalidInput, LLMError
from recuerdo.model import Client, Conversation, Message, Role, require_aware
from recuerdo.search.documents import search_doc
from recuerdo.search.fusion import fuse_hybrid
from recuerdo.search.ranking import (
    ClientIndex,
    CollectionStats,
    Hit,
    ParsedQuery,
    SearchDoc,
    SummaryDoc,
    parse_query,
    score_candidates,
)
from recuerdo.search.settings import SearchSettings
from recuerdo.search.text import Language, detect_language, highlight, index_terms
from recuerdo.search.upkeep import IndexKeeper
from recuerdo.search.vectors import VectorIndex
from recuerdo.store import search_ops
from recuerdo.store.query import Row
from recuerdo.store.rows import as_dt, to_conversation, to_message
from recuerdo.store.schema import ROLE_CODES

if TYPE_CHECKING:
    pass

log = logging.getLogger("recuerdo.search")

MAX_LIMIT = 100
MAX_TERMS = 64
NEIGHBOURS = 2  # turns on each side that lend their terms to a tenant-wide hit
_RESCORE = 3  # tenant-wide: this many times ``limit`` best candidates are rescored with context


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: a message (``kind="message"``) or a conversation summary (``"summary"``,
    ``message`` is ``None``), its conversation, a score (higher is better; comparable only
    within one answer) and a snippet with the matching words marked « »."""

    kind: Literal["message", "summary"]
    score: float
    snippet: str
    conversation: Conversation
    message: Message | None = None

    @property
    def client_id(self) -> int:
        return self.conversation.client_id


class SearchService(IndexKeeper):
    """Search of one tenant (the tenant of ``memory``), with the index upkeep of
    :class:`~recuerdo.search.upkeep.IndexKeeper` (``index_pending``, ``reindex``,
    ``forget_client``, ``backfill_embeddings``).
    """

    # -- searching -----------------------------------------------------------------------------

    async def search(
        self,
        text: str,
        *,
        who: str | None = None,
        limit: int = 10,
        since: datetime | None = None,
        until: datetime | None = None,
        roles: Sequence[Role | str] | None = None,
    ) -> list[SearchHit]:
        """The best ``limit`` hits for ``text``: within one client (``who``) or the tenant.

        ``since`` (inclusive) and ``until`` (exclusive) bound the messages' time; ``roles``
        keeps messages of those roles only (and then no summaries). A query of only stop words
        or punctuation answers ``[]``; an unknown ``who`` raises ``ClientNotFound``.
        """
        query = self._query_text(text)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
        window = (
            _moment(since, "since", search_ops.EARLIEST),
            _moment(until, "until", search_ops.LATEST),
        )
        mask = _role_mask(roles)
        client = await self.memory.client(who) if who is not None else None
        if not query:
            return []
        now = self.memory.clock.now()
        parsed = parse_query(query, now=now, default=self._language, tz=self._zone())
        parsed = replace(parsed, terms=parsed.terms[:MAX_TERMS])
        if client is not None:
            return await self._search_client(client, query, parsed, now, limit, window, mask)
        return await self._search_tenant(parsed, now, limit, window, mask)

    async def _search_client(
        self,
        client: Client,
        query: str,
        parsed: ParsedQuery,
        now: datetime,
        limit: int,
        window: tuple[datetime, datetime],
        mask: int,
    ) -> list[SearchHit]:
        await self.index_pending(self.settings.catch_up, client_id=client.id)
        if not parsed.terms and parsed.window is None:
            return []
        index, summaries = await self._client_index(client)
        docs = index.docs
        hits = index.search(parsed, now=now, limit=len(docs) + len(summaries))
        if not hits and parsed.window is not None:
            # "¿qué dije en marzo?": no message holds the words, the period still answers.
            hits = index.search(replace(parsed, terms=()), now=now, limit=len(docs))
        if parsed.terms and self.embedder is not None:
            vector = await self._vector_scores(client, query, docs)
            if vector:
                hits = _fused(hits, vector, {d.id: d.conversation_id for d in docs}, self.settings)
        by_id = {d.id: d for d in docs}
        since, until = window

        def wanted(hit: Hit) -> bool:
            if hit.kind == "summary":
                start, end, _ = summaries[hit.id]
                return mask == search_ops.ALL_ROLES and start < until and end >= since
            doc = by_id[hit.id]
            return since <= doc.at < until and bool(mask >> ROLE_CODES[doc.role] & 1)

        chosen = [h for h in hits if wanted(h)][:limit]
        return await self._hits(chosen, parsed, {h.conversation_id: client.id for h in chosen})

    async def _client_index(
        self, client: Client
    ) -> tuple[ClientIndex, dict[int, tuple[datetime, datetime, str]]]:
        """The client's ranking index and summaries (``{conversation: (start, end, text)}``),
        from the cache while the client's indexed terms, summaries and name are unchanged."""
        store = self.memory.store
        fingerprint, summary_rows = await store.read(partial(search_ops.client_state, client.id))
        summaries = {
            int(s["id"]): (as_dt(s["started_at"]), as_dt(s["last_message_at"]), str(s["summary"]))
            for s in summary_rows
        }
        key = (fingerprint, client.name, self._language, tuple(summaries.items()))
        index = self._shared.cache.get(client.id, key)
        if index is None:
            rows = await store.read(partial(search_ops.client_docs, client.id))
            index = ClientIndex(
                [search_doc(r, client.name) for r in rows],
                [
                    SummaryDoc(cid, start, index_terms(text, default=self._language))
                    for cid, (start, _, text) in summaries.items()
                ],
                default=self._language,
            )
            self._shared.cache.put(client.id, key, index)
        return index, summaries

    async def _vector_scores(
        self, client: Client, query: str, docs: Sequence[SearchDoc]
    ) -> dict[int, float]:
        embedder = self.embedder
        assert embedder is not None
        store = self.memory.store
        stored = await store.read(partial(search_ops.client_vectors, client.id, embedder.name))
        have = {int(r["message_id"]) for r in stored}
        missing = [d.id for d in docs if d.id not in have][: self.settings.embed_on_search]
        try:
            if missing:
                rows = await store.read(
                    partial(search_ops.messages_by_key, [(client.id, m) for m in missing])
                )
                await self._embed_rows(rows, fail=True)
                stored = await store.read(
                    partial(search_ops.client_vectors, client.id, embedder.name)
                )
            query_vector = (await embedder.embed([query]))[0]
        except LLMError as exc:
            log.warning("embeddings unavailable (%s); searching by keywords only", exc)
            return {}
        index = VectorIndex((int(r["message_id"]), bytes(r["vector"])) for r in stored)
        try:
            return index.scores(query_vector)
        except ValueError as exc:  # vectors of another size: the model changed under its name
            log.warning("stored vectors do not fit the embedder (%s); keywords only", exc)
            return {}

    async def _search_tenant(
        self,
        parsed: ParsedQuery,
        now: datetime,
        limit: int,
        window: tuple[datetime, datetime],
        mask: int,
    ) -> list[SearchHit]:
        await self.index_pending(self.settings.catch_up)
        if not parsed.terms:
            return []  # a period alone names no messages across thousands of clients
        store = self.memory.store
        tenant = await self.memory.tenant_id()
        doc_count, term_count, df = await store.read(
            partial(search_ops.collection_stats, tenant, parsed.terms)
        )
        present = sorted((t for t in parsed.terms if df.get(t)), key=lambda t: (df[t], t))
        if not present or not doc_count:
            return []
        rows = await store.read(
            partial(
                search_ops.candidates,
                self.fulltext,
                tenant,
                present,
                budget=self.settings.candidates,
                since=window[0],
                until=window[1],
                roles=mask,
            )
        )
        names = {int(r["client_id"]): r["customer_name"] or r["profile_name"] for r in rows}
        docs = {
            int(r["message_id"]): search_doc(r, names.get(int(r["client_id"])), key="message_id")
            for r in rows
        }
        row_of = {int(r["message_id"]): r for r in rows}
        stats = CollectionStats(doc_count, term_count / doc_count, df)
        first = score_candidates(parsed, docs.values(), stats, now=now, limit=_RESCORE * limit)
        around = await store.read(
            partial(search_ops.neighbours, [row_of[h.id] for h in first], NEIGHBOURS)
        )
        context = [
            search_doc(r, names.get(int(r["client_id"])), terms=self._terms_of(r)) for r in around
        ]
        final = score_candidates(
            parsed, [docs[h.id] for h in first], stats, now=now, context=context, limit=limit
        )
        owners = {h.conversation_id: int(row_of[h.id]["client_id"]) for h in final}
        return await self._hits(final, parsed, owners)

    async def _hits(
        self, hits: Sequence[Hit], parsed: ParsedQuery, owners: dict[int, int]
    ) -> list[SearchHit]:
        """Ranked hits with their messages, conversations and snippets (``owners``: the client
        of each conversation)."""
        store = self.memory.store
        message_keys = [(owners[h.conversation_id], h.id) for h in hits if h.kind == "message"]
        message_rows = await store.read(partial(search_ops.messages_by_key, message_keys))
        conversation_rows = await store.read(
            partial(search_ops.conversations_by_key, sorted((c, v) for v, c in owners.items()))
        )
        found = {int(r["id"]): to_message(r) for r in message_rows}
        held = {int(r["id"]): to_conversation(r) for r in conversation_rows}
        out = []
        for hit in hits:
            conversation = held.get(hit.conversation_id)
            if conversation is None:
                continue  # deleted between ranking and loading
            if hit.kind == "summary":
                text, message = conversation.summary or "", None
            else:
                message = found.get(hit.id)
                if message is None:
                    continue
                text = message.content
            snippet = highlight(
                text,
                parsed.terms,
                detect_language(text, self._language),
                width=self.settings.snippet_chars,
            )
            out.append(SearchHit(hit.kind, round(hit.score, 6), snippet, conversation, message))
        return out

    # -- helpers -------------------------------------------------------------------------------

    @property
    def _language(self) -> Language:
        return self.memory.settings.language

    def _zone(self) -> ZoneInfo:
        name = self.memory.settings.timezone
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"unknown time zone {name!r} (RECUERDO_TIMEZONE)") from None

    def _query_text(self, text: object) -> str:
        if not isinstance(text, str):
            raise InvalidInput(f"the query must be text, got {type(text).__name__}")
        return text.replace("\x00", " ")[: self.settings.max_query_chars].strip()

    def _terms_of(self, row: Row) -> list[str]:
        if row["terms"] is not None:
            return str(row["terms"]).split()
        return index_terms(row["content"], default=self._language)


def _moment(value: datetime | None, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        moment = require_aware(value, name)
    except OverflowError:  # e.g. 9999-12-31T23:59-23:00 has no UTC equivalent
        raise InvalidInput(f"{name} is out of range: {value.isoformat()}") from None
    return min(max(moment, search_ops.EARLIEST), search_ops.LATEST)


def _role_mask(roles: Sequence[Role | str] | None) -> int:
    """The roles as the store's bit mask (bit ``code`` per role; every role when none given).

    >>> _role_mask(["user", "assistant"]), _role_mask(None) == search_ops.ALL_ROLES
    (6, True)
    """
    if not roles:
        return search_ops.ALL_ROLES
    if isinstance(roles, str):
        roles = [roles]
    return sum({1 << ROLE_CODES[Role.parse(r).value] for r in roles})


def _fused(
    hits: Sequence[Hit],
    vector: dict[int, float],
    conversation_of: dict[int, int],
    settings: SearchSettings,
) -> list[Hit]:
    """Keyword hits fused with vector similarities. Summaries take part on the keyword side
    under negative keys (message ids are positive), so that they keep their place."""
    keyword = {(h.id if h.kind == "message" else -h.id): h.score for h in hits}
    fused = fuse_hybrid(
        keyword, vector, method=settings.fusion, keyword_weight=settings.keyword_weight
    )
    return [
        Hit("message", key, conversation_of[key], score)
        if key > 0
        else Hit("summary", -key, -key, score)
        for key, score in fused
        if key < 0 or key in conversation_of
    ]
