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

import json
import logging
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from recuerdo.errors import ConfigurationError, InvalidInput, LLMError
from recuerdo.model import Client, Conversation, Message, Role, require_aware
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
from recuerdo.search.vectors import VectorIndex, encode_vector
from recuerdo.store import search_ops
from recuerdo.store.query import Row
from recuerdo.store.rows import as_dt, to_conversation, to_message
from recuerdo.store.schema import ROLE_CODES, ROLE_NAMES

if TYPE_CHECKING:
    from recuerdo.memory import Memory
    from recuerdo.search.embeddings import Embedder

log = logging.getLogger("recuerdo.search")

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while a long operation runs."""

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


class ClientIndexCache:
    """Recently built per-client ranking indexes, least recently used dropped first, holding at
    most ``max_docs`` messages in all (about 1 KB each). An entry is used only while its key
    (the client's index fingerprint, summaries, name and language) is unchanged.

    >>> cache = ClientIndexCache(max_docs=100)
    >>> cache.put(7, ("v1",), ClientIndex([]))
    >>> cache.get(7, ("v1",)) is not None, cache.get(7, ("v2",))
    (True, None)
    """

    def __init__(self, max_docs: int) -> None:
        self.max_docs = max_docs
        self._entries: OrderedDict[int, tuple[Hashable, ClientIndex]] = OrderedDict()
        self._docs = 0

    def get(self, client_id: int, key: Hashable) -> ClientIndex | None:
        entry = self._entries.get(client_id)
        if entry is None or entry[0] != key:
            return None
        self._entries.move_to_end(client_id)
        return entry[1]

    def put(self, client_id: int, key: Hashable, index: ClientIndex) -> None:
        self.discard(client_id)
        size = len(index.docs)
        if size > self.max_docs:
            return
        self._entries[client_id] = (key, index)
        self._docs += size
        while self._docs > self.max_docs:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._docs -= len(dropped.docs)

    def discard(self, client_id: int | None = None) -> None:
        """Forget one client's entry, or every entry."""
        if client_id is None:
            self._entries.clear()
            self._docs = 0
        elif (entry := self._entries.pop(client_id, None)) is not None:
            self._docs -= len(entry[1].docs)


class _Shared:
    """What every view (tenant) of one store shares: settings, the (slow to load) embedder and
    the per-client index cache."""

    def __init__(self, settings: SearchSettings, embedder: Embedder | None) -> None:
        self.settings = settings
        self.cache = ClientIndexCache(settings.cache_docs)
        self._embedder = embedder
        self._made = embedder is not None

    @property
    def embedder(self) -> Embedder | None:
        if not self._made:
            self._embedder = make_embedder(self.settings)
            self._made = True
        return self._embedder


_SHARED: weakref.WeakKeyDictionary[object, _Shared] = weakref.WeakKeyDictionary()


def make_embedder(settings: SearchSettings) -> Embedder | None:
    """The embedder the settings ask for (``None`` when embeddings are off).

    >>> make_embedder(SearchSettings(embeddings="off")) is None
    True
    """
    if settings.embeddings == "off":
        return None
    from recuerdo.search.embeddings import LocalEmbedder, OpenAIEmbedder

    if settings.embeddings == "local":
        return LocalEmbedder(settings.embedding_model, batch_size=settings.embedding_batch)
    key = settings.embedding_api_key
    return OpenAIEmbedder(
        settings.embedding_model,
        base_url=settings.embedding_base_url,
        api_key=key.get_secret_value() if key else None,
        dimensions=settings.embedding_dimensions,
        batch_size=settings.embedding_batch,
    )


class SearchService:
    """Search of one tenant (the tenant of ``memory``); index upkeep for the whole database.

    ``settings`` default to :class:`SearchSettings` from the environment; ``embedder`` replaces
    the one the settings name (tests pass a fake).
    """

    def __init__(
        self,
        memory: Memory,
        *,
        settings: SearchSettings | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.memory = memory
        self._shared = _Shared(settings or SearchSettings(), embedder)
        self.fulltext = search_ops.fulltext_for(memory.store.capabilities)

    @classmethod
    def of(cls, memory: Memory) -> SearchService:
        """The service for ``memory``, sharing settings and embedder with every view of its
        store (what ``Memory.search`` uses)."""
        shared = _SHARED.get(memory.store)
        service = cls(memory, settings=shared.settings if shared else None)
        if shared is None:
            _SHARED[memory.store] = service._shared
        else:
            service._shared = shared
        return service

    @property
    def settings(self) -> SearchSettings:
        return self._shared.settings

    @property
    def embedder(self) -> Embedder | None:
        return self._shared.embedder

    # -- keeping the index -----------------------------------------------------------------------

    async def index_pending(self, limit: int = 10_000, *, client_id: int | None = None) -> int:
        """Index up to ``limit`` messages waiting in the queue (of one client, if given); answer
        how many were indexed. With embeddings on, their vectors are stored too."""
        store = self.memory.store
        if limit <= 0 or not await store.read(
            partial(search_ops.has_pending, self.fulltext, client_id)
        ):
            return 0
        language = self.memory.settings.language
        done = 0
        while done < limit:
            size = min(self.settings.index_batch, limit - done)
            rows = await store.write(
                partial(
                    search_ops.index_pending,
                    self.fulltext,
                    size,
                    client_id=client_id,
                    default=language,
                )
            )
            done += len(rows)
            if rows and self.embedder is not None:
                await self._embed_rows(rows)
            if len(rows) < size:
                break
        return done

    async def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild the whole index (every tenant), a few clients at a time: while it runs, those
        clients' messages are missing from results for a moment. Answers how many messages
        were indexed. Vectors are kept (they do not depend on the text normalisation)."""
        store = self.memory.store
        total = await store.read(search_ops.count_messages)
        done, after = 0, 0
        if progress:
            progress(0, total)
        while True:
            last, _ = await store.write(partial(search_ops.reset_clients, self.fulltext, after, 50))
            while (n := await self.index_pending(self.settings.index_batch * 8)) > 0:
                done += n
                if progress:
                    progress(done, max(total, done))
            self._shared.cache.discard()
            if last is None:
                return done
            after = last

    async def forget_client(self, client_id: int) -> int:
        """Remove a client's index entries and vectors (erasure); answers how many messages
        were in the index. Call it when the client's rows are deleted."""
        forgotten = await self.memory.store.write(
            partial(search_ops.delete_client_terms, self.fulltext, client_id)
        )
        self._shared.cache.discard(client_id)
        return forgotten

    async def backfill_embeddings(self, progress: Progress | None = None) -> int:
        """Embed every message that has no vector of the configured model yet (every tenant);
        answers how many were embedded."""
        embedder = self.embedder
        if embedder is None:
            raise ConfigurationError(
                "embeddings are off: set RECUERDO_SEARCH_EMBEDDINGS=local or openai first"
            )
        store = self.memory.store
        total = await store.read(search_ops.count_messages)
        done = embedded = after = 0
        if progress:
            progress(0, total)
        while (client_id := await store.read(partial(search_ops.next_client, after))) is not None:
            after = client_id
            rows = await store.read(partial(search_ops.client_messages, client_id))
            have = set(await store.read(partial(search_ops.vector_ids, client_id, embedder.name)))
            missing = [r for r in rows if int(r["id"]) not in have]
            step = self.settings.embedding_batch * 4
            for start in range(0, len(missing), step):
                chunk = [{**dict(r), "client_id": client_id} for r in missing[start : start + step]]
                await self._embed_rows(chunk, fail=True)
                embedded += len(chunk)
            done += len(rows)
            if progress:
                progress(done, max(total, done))
        return embedded

    async def _embed_rows(self, rows: Sequence[Row], *, fail: bool = False) -> None:
        """Embed and store messages (rows with client_id, id, role, content, metadata)."""
        embedder = self.embedder
        assert embedder is not None
        store = self.memory.store
        names = await store.read(
            partial(search_ops.client_names, sorted({int(r["client_id"]) for r in rows}))
        )
        texts = [_embedding_text(r, names.get(int(r["client_id"]))) for r in rows]
        try:
            vectors = await embedder.embed(texts)
        except LLMError as exc:
            if fail:
                raise
            log.warning(
                "embedding %d messages failed (%s); they wait for a backfill", len(rows), exc
            )
            return
        by_client: dict[int, list[tuple[int, bytes]]] = {}
        for row, vector in zip(rows, vectors, strict=True):
            by_client.setdefault(int(row["client_id"]), []).append(
                (int(row["id"]), encode_vector(vector))
            )
        for client_id, pairs in by_client.items():
            await store.write(partial(search_ops.store_vectors, client_id, embedder.name, pairs))

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
                [_doc(r, client.name) for r in rows],
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
            int(r["message_id"]): _doc(r, names.get(int(r["client_id"])), key="message_id")
            for r in rows
        }
        row_of = {int(r["message_id"]): r for r in rows}
        stats = CollectionStats(doc_count, term_count / doc_count, df)
        first = score_candidates(parsed, docs.values(), stats, now=now, limit=_RESCORE * limit)
        around = await store.read(
            partial(search_ops.neighbours, [row_of[h.id] for h in first], NEIGHBOURS)
        )
        context = [_doc(r, names.get(int(r["client_id"])), terms=self._terms_of(r)) for r in around]
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
    if not roles:
        return search_ops.ALL_ROLES
    if isinstance(roles, str):
        roles = [roles]
    return sum({1 << ROLE_CODES[Role.parse(r).value] for r in roles})


def _doc(
    row: Row, client_name: str | None, *, key: str = "id", terms: list[str] | None = None
) -> SearchDoc:
    role = int(row["role"])
    return SearchDoc(
        int(row[key]),
        int(row["conversation_id"]),
        as_dt(row["at"]),
        ROLE_NAMES[role],
        speaker_of(role, row["metadata"], client_name),
        terms if terms is not None else str(row["terms"]).split(),
    )


def speaker_of(role: int, metadata: Any, client_name: str | None) -> str | None:
    """Who wrote a message, as ranking and embeddings use it: the ``author`` (or ``speaker``)
    in its metadata (the WhatsApp importer stores one), else the client's name for the client's
    own messages.

    >>> speaker_of(1, None, "Ana"), speaker_of(2, '{"author": "Tienda"}', "Ana")
    ('Ana', 'Tienda')
    """
    if isinstance(metadata, str | bytes):
        text = metadata.decode() if isinstance(metadata, bytes) else metadata
        try:
            metadata = json.loads(text) if '"author"' in text or '"speaker"' in text else None
        except ValueError:
            metadata = None
    if isinstance(metadata, dict):
        for key in ("author", "speaker"):
            value = metadata.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:80]
    return client_name if role == ROLE_CODES["user"] else None


def _embedding_text(row: Row, client_name: str | None) -> str:
    from recuerdo.search.embeddings import embedding_text

    return embedding_text(
        row["content"], speaker_of(int(row["role"]), row["metadata"], client_name)
    )


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
