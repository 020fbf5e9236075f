"""Keeping the search index: the queue, rebuilds, erasure and embedding backfills.

:class:`IndexKeeper` is the upkeep half of :class:`~recuerdo.search.service.SearchService`
(which adds searching); ``recuerdo search reindex`` / ``index`` / ``embed`` and the background
indexer call it. Index upkeep covers the whole database (every tenant).

Example::

    keeper = IndexKeeper.of(memory)
    await keeper.index_pending()
    await keeper.reindex(lambda done, total: print(done, total))
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from recuerdo.errors import ConfigurationError, LLMError
from recuerdo.search.client_cache import ClientIndexCache
from recuerdo.search.documents import embedding_text_of
from recuerdo.search.settings import SearchSettings
from recuerdo.search.vectors import encode_vector
from recuerdo.store import search_ops
from recuerdo.store.query import Row

if TYPE_CHECKING:
    from recuerdo.memory import Memory
    from recuerdo.search.embeddings import Embedder

log = logging.getLogger("recuerdo.search")

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while a long operation runs."""

K = TypeVar("K", bound="IndexKeeper")


class Shared:
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


_SHARED: weakref.WeakKeyDictionary[object, Shared] = weakref.WeakKeyDictionary()


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


class IndexKeeper:
    """Index upkeep over ``memory``'s database.

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
        self._shared = Shared(settings or SearchSettings(), embedder)
        self.fulltext = search_ops.fulltext_for(memory.store.capabilities)

    @classmethod
    def of(cls: type[K], memory: Memory) -> K:
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
        texts = [embedding_text_of(r, names.get(int(r["client_id"]))) for r in rows]
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
