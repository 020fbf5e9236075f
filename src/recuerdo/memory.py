"""``Memory``: the facade every edge calls (HTTP API, CLI, jobs, importers, your bot).

>>> async with await Memory.open("sqlite:///data/recuerdo.db") as memory:   # doctest: +SKIP
...     await memory.save_thread_id("573003913251@s.whatsapp.net", "thread_abc")
...     await memory.record_message("573003913251", "user", "Hola, ¿tienen envíos?")
...     page = await memory.history("573003913251", limit=20)

Validation and rules that need no database live here; storage rules live in ``store/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from recuerdo.context import ContextNote
from recuerdo.errors import ClientNotFound, InvalidContent, InvalidInput
from recuerdo.identity import Who
from recuerdo.model import (
    Client,
    Conversation,
    Handoff,
    Message,
    NewMessage,
    Page,
    Recorded,
    Role,
    ThreadInfo,
    require_aware,
)
from recuerdo.search.service import SearchHit, SearchService
from recuerdo.settings import Settings
from recuerdo.store import Store, client_ops, open_store, ops, resolve_url
from recuerdo.store.ops import PreparedMessage
from recuerdo.store.query import Op, Row
from recuerdo.store.record_batch import RecordCall, RecordCalls
from recuerdo.store.rows import (
    as_dt,
    as_opt_dt,
    to_client,
    to_conversation,
    to_handoff,
    to_message,
)
from recuerdo.validation import (
    Preparer,
    decode_cursor,
    encode_cursor,
    json_object,
    page_limit,
    required_text,
    short_text,
    tag_text,
)

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class _Tenants:
    """Tenant slugs' database ids, shared by the views of one database. A lookup in flight is
    shared too: concurrent first calls wait for the same one and go on in the order they were
    made (each lookup of its own could finish in any order on PostgreSQL's pool, and the calls
    would then reach the writer out of order)."""

    __slots__ = ("ids", "pending")

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.pending: dict[str, asyncio.Future[int]] = {}


class Memory:
    """Long-term memory of every client of one tenant. Open with :meth:`open`."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        tenant: str | None = None,
        clock: Clock | None = None,
        _tenants: _Tenants | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.tenant = tenant or settings.tenant
        self.clock: Clock = clock or SystemClock()
        self._tenants = _tenants if _tenants is not None else _Tenants()
        self._tenant_ids = self._tenants.ids  # read on every call: one attribute, not two
        self._idle: tuple[float, timedelta] = (-1.0, timedelta(0))
        self._owner = _tenants is None
        self.preparer = Preparer(
            settings.default_region, settings.allow_groups, settings.max_content_bytes
        )
        """The checks a message passes before it is stored (picklable, for import workers)."""

    @classmethod
    async def open(
        cls,
        url: str | None = None,
        *,
        settings: Settings | None = None,
        tenant: str | None = None,
        clock: Clock | None = None,
        migrate: bool | None = None,
    ) -> Memory:
        """Open the database at ``url`` (default: a SQLite file under ``data_dir``)."""
        settings = settings or Settings()
        resolved = resolve_url(url, settings)
        run_migrations = settings.migrate_on_open if migrate is None else migrate
        store = await open_store(resolved, settings, migrate=run_migrations)
        return cls(store, settings, tenant=tenant, clock=clock)

    def for_tenant(self, tenant: str) -> Memory:
        """A view of the same database scoped to another tenant."""
        return Memory(
            self.store, self.settings, tenant=tenant, clock=self.clock, _tenants=self._tenants
        )

    async def close(self) -> None:
        """Finish pending writes and close the database (only the view that opened it does)."""
        if self._owner:
            await self.store.close()

    async def __aenter__(self) -> Memory:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- threads (the seed's saveThreadId / getThreadId) ---------------------------------------

    async def save_thread_id(self, who: str, thread_id: str, provider: str | None = None) -> Client:
        """Set the client's current LLM thread; a different thread starts a new conversation.

        >>> client = await memory.save_thread_id("573003913251", "thread_abc")  # doctest: +SKIP
        """
        parsed = self._who(who)
        thread = required_text(thread_id, "thread_id")
        provider = short_text(provider, "provider")
        tenant, now = await self.tenant_id(), self.clock.now()
        return await self._write_client(
            lambda: client_ops.save_thread(tenant, parsed.lookup_keys, thread, provider, now)
        )

    async def get_thread_id(self, who: str) -> str | None:
        """The client's current thread id, or ``None`` for a client never seen."""
        found = await self._find_row(self._who(who))
        return None if found is None else found["thread_id"]

    async def thread_info(self, who: str) -> ThreadInfo | None:
        """Thread id and provider of the client (one indexed lookup); ``None`` if never seen."""
        found = await self._find_row(self._who(who))
        if found is None:
            return None
        return ThreadInfo(int(found["id"]), found["thread_id"], found["thread_provider"])

    # -- messages ------------------------------------------------------------------------------

    async def record_message(
        self,
        who: str,
        role: Role | str,
        content: str,
        *,
        at: datetime | None = None,
        thread_id: str | None = None,
        external_id: str | None = None,
        content_type: str = "text",
        metadata: dict[str, Any] | None = None,
        profile_name: str | None = None,
    ) -> Recorded:
        """Store one message (the seed's ``saveMessageToHistory``). A repeated ``external_id``
        stores nothing and answers the stored message with ``created=False``."""
        item = NewMessage(
            who, role, content, at, thread_id, external_id, content_type, metadata, profile_name
        )
        now = self.clock.now()  # one instant for the message's default time and the write
        prepared = self.preparer.prepare(item, now)
        # Straight to the store, and the tenant id from the cache (no list, no coroutine
        # between: this is the hot path); tenant_id() only when it is not cached yet.
        tenant = self._tenant_ids.get(self.tenant)
        if tenant is None:
            tenant = await self.tenant_id()
        row, created = await self.store.write(self._record_call(tenant, prepared, now))
        return Recorded(to_message(row), created)

    async def record_many(self, items: Sequence[NewMessage]) -> list[Recorded]:
        """Record several messages (validated all first: one bad item stores none of them)."""
        results = await self._record(self._prepare_all(items))
        return [Recorded(to_message(row), created) for row, created in results]

    async def store_many(self, items: Sequence[NewMessage]) -> list[bool]:
        """:meth:`record_many` answering only whether each message was new (``False``: its
        ``external_id`` was stored already) — what an import needs, at less cost per item."""
        return [created for _, created in await self._record(self._prepare_all(items))]

    async def store_prepared(self, items: Sequence[PreparedMessage]) -> list[bool]:
        """:meth:`store_many` for messages already checked by :attr:`preparer` (an import
        worker process prepares them while this process stores the previous batch)."""
        return [created for _, created in await self._record(items)]

    def _prepare_all(self, items: Sequence[NewMessage]) -> list[PreparedMessage]:
        prepared = []
        for index, item in enumerate(items):
            try:
                prepared.append(self._prepare(item))
            except InvalidInput as exc:
                raise type(exc)(
                    f"item {index}: {exc.message}", index=index, **exc.details
                ) from None
        return prepared

    async def _record(self, prepared: Sequence[PreparedMessage]) -> list[tuple[Row, bool]]:
        tenant, now = await self.tenant_id(), self.clock.now()
        if len(prepared) == 1:
            return [await self.store.write(self._record_call(tenant, prepared[0], now))]
        # A list is one write: one batch, one transaction, no task per message.
        idle, lock = self._idle_timeout(), self.store.needs_row_locks
        return await self.store.write(RecordCalls(tenant, tuple(prepared), idle, now, lock))

    def _record_call(self, tenant: int, message: PreparedMessage, now: datetime) -> RecordCall:
        return RecordCall(tenant, message, self._idle_timeout(), now, self.store.needs_row_locks)

    def _idle_timeout(self) -> timedelta:
        """The idle timeout as a timedelta, built again only when the setting changes."""
        hours = self.settings.idle_timeout_hours
        if self._idle[0] != hours:
            self._idle = (hours, timedelta(hours=hours))
        return self._idle[1]

    def _prepare(self, item: NewMessage) -> PreparedMessage:
        return self.preparer.prepare(item, self.clock.now())

    async def history(
        self,
        who: str,
        *,
        limit: int = 50,
        before: str | None = None,
        conversation_id: int | None = None,
        roles: Sequence[Role | str] | None = None,
    ) -> Page[Message]:
        """A client's messages, newest first; pass ``next_cursor`` as ``before`` for older ones."""
        limit = page_limit(limit)
        role_names = [Role.parse(r).value for r in roles] if roles else None
        position = decode_cursor(before) if before else None
        row = await self._require_row(who)
        rows = await self.store.read(
            lambda: client_ops.history(
                row["id"],
                limit=limit + 1,
                before=(as_dt(position[0]), int(position[1])) if position else None,
                conversation_id=conversation_id,
                roles=role_names,
            )
        )
        items = [to_message(r) for r in rows[:limit]]
        cursor = None
        if len(rows) > limit:
            last = items[-1]
            cursor = encode_cursor(last.at.isoformat(), last.id)
        return Page(tuple(items), cursor)

    # -- clients -------------------------------------------------------------------------------

    async def client(self, who: str) -> Client:
        """The client's record; :class:`ClientNotFound` if nobody is known as ``who``."""
        row = await self._require_row(who)
        return await self._to_client(row)

    async def find_client(self, who: str) -> Client | None:
        """Like :meth:`client`, but ``None`` for an unknown client."""
        row = await self._find_row(self._who(who))
        return None if row is None else await self._to_client(row)

    async def update_client(
        self,
        who: str,
        *,
        customer_name: str | None = None,
        clear_customer_name: bool = False,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        attributes: dict[str, Any] | None = None,
        name_source: str = "operator",
    ) -> Client:
        """Change name, tags (add/remove) and attributes (merged; ``None`` removes a key).

        A name with ``name_source="conversation"`` never overwrites one an operator set.
        """
        parsed = self._who(who)
        changes = client_ops.ClientChanges(
            customer_name=short_text(customer_name, "customer_name"),
            clear_customer_name=clear_customer_name,
            name_source=name_source,
            add_tags=tuple(tag_text(t) for t in add_tags),
            remove_tags=tuple(tag_text(t) for t in remove_tags),
            attributes=json_object(attributes, "attributes"),
        )
        tenant, now = await self.tenant_id(), self.clock.now()
        return await self._write_client(
            lambda: client_ops.update_client(tenant, parsed.lookup_keys, who, changes, now)
        )

    async def link_identifier(self, who: str, identifier: str) -> Client:
        """Make ``identifier`` (another phone, a lid, a BSUID) find the client ``who`` names."""
        parsed, new = self._who(who), self._who(identifier)
        tenant, now = await self.tenant_id(), self.clock.now()

        def op() -> Op[Row]:
            row: Row | None = None
            for key in new.lookup_keys:
                row = yield from client_ops.link_identifier(
                    tenant, parsed.lookup_keys, who, key, now
                )
            assert row is not None
            return row

        return await self._write_client(op)

    async def clients(
        self,
        *,
        tag: str | None = None,
        name: str | None = None,
        active_since: datetime | None = None,
        paused: bool | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Client]:
        """Clients of this tenant, most recently active first, with paging."""
        limit = page_limit(limit)
        since = require_aware(active_since, "active_since") if active_since else None
        after = None
        if cursor:
            at_text, cid = decode_cursor(cursor)
            after = (as_opt_dt(at_text or None), int(cid))
        tenant = await self.tenant_id()
        rows = await self.store.read(
            lambda: client_ops.list_clients(
                tenant,
                tag=tag,
                name=name,
                active_since=since,
                paused=paused,
                limit=limit + 1,
                after=after,
            )
        )
        items = [await self._to_client(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            stamp = last.last_interaction_at.isoformat() if last.last_interaction_at else ""
            next_cursor = encode_cursor(stamp, last.id)
        return Page(tuple(items), next_cursor)

    async def conversations(
        self, who: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Conversation]:
        """The client's conversations, newest first."""
        limit = page_limit(limit)
        before = int(decode_cursor(cursor)[1]) if cursor else None
        row = await self._require_row(who)
        rows = await self.store.read(
            lambda: client_ops.list_conversations(row["id"], limit=limit + 1, before_id=before)
        )
        items = tuple(to_conversation(r) for r in rows[:limit])
        next_cursor = encode_cursor("", items[-1].id) if len(rows) > limit else None
        return Page(items, next_cursor)

    async def close_conversation(
        self, who: str, conversation_id: int | None = None, *, reason: str = "closed"
    ) -> int | None:
        """Close the given (default: the open) conversation; answer its id, or ``None``."""
        parsed = self._who(who)
        tenant, now = await self.tenant_id(), self.clock.now()
        return await self.store.write(
            lambda: client_ops.close_conversation(
                tenant, parsed.lookup_keys, who, conversation_id, reason, now
            )
        )

    async def close_idle_conversations(self, now: datetime | None = None) -> int:
        """Close every conversation idle for longer than the idle timeout; answer how many."""
        moment = require_aware(now, "now") if now else self.clock.now()
        cutoff = moment - self._idle_timeout()
        closed = 0
        while True:
            pairs = await self.store.read(lambda: client_ops.idle_conversations(cutoff, 500))
            if not pairs:
                return closed
            closed += await self.store.write(partial(client_ops.close_idle, pairs, cutoff))
            if len(pairs) < 500:
                return closed

    # -- returning-customer context (the seed's enrichContextWithHistory) ------------------------

    async def context_for(
        self,
        who: str,
        incoming_text: str | None = None,
        *,
        language: str | None = None,
        token_budget: int | None = None,
    ) -> ContextNote:
        """Whether the client is returning, and a ready note for the LLM, within a token budget.

        >>> note = await memory.context_for("573003913251", "¿Ya salió?")  # doctest: +SKIP
        >>> note.is_returning, note.note                                  # doctest: +SKIP
        """
        from recuerdo.returning import context_for

        if language is not None and language not in ("es", "en"):
            raise InvalidInput(f"language must be 'es' or 'en', got {language!r}")
        if incoming_text is not None and len(incoming_text) > self.settings.max_content_bytes:
            raise InvalidContent("incoming_text is over the content size limit")
        return await context_for(
            self, who, incoming_text, language=language, token_budget=token_budget
        )

    # -- handoff (BuilderBot's blacklist, persistent) ------------------------------------------

    async def pause_bot(self, who: str, *, by: str, reason: str | None = None) -> Handoff:
        """Mark that a human has taken over: the bot must not answer this client."""
        parsed = self._who(who)
        operator = required_text(by, "by")
        reason = short_text(reason, "reason", limit=1000)
        return await self._handoff(parsed, paused=True, by=operator, reason=reason)

    async def resume_bot(self, who: str) -> Handoff:
        """Hand the client back to the bot."""
        return await self._handoff(self._who(who), paused=False, by=None, reason=None)

    async def bot_paused(self, who: str) -> bool:
        """What the bot checks before answering."""
        return (await self.handoff(who)).paused

    async def handoff(self, who: str) -> Handoff:
        row = await self._find_row(self._who(who))
        return Handoff(paused=False) if row is None else to_handoff(row)

    async def _handoff(
        self, parsed: Who, *, paused: bool, by: str | None, reason: str | None
    ) -> Handoff:
        tenant, now = await self.tenant_id(), self.clock.now()
        row = await self.store.write(
            lambda: client_ops.set_handoff(
                tenant, parsed.lookup_keys, paused=paused, by=by, reason=reason, now=now
            )
        )
        return Handoff(paused=False) if row is None else to_handoff(row)

    # -- helpers -------------------------------------------------------------------------------

    def _who(self, who: str) -> Who:
        return self.preparer.who(who)

    async def tenant_id(self) -> int:
        """The database id of this view's tenant (created on first use)."""
        cached = self._tenant_ids.get(self.tenant)
        if cached is not None:
            return cached
        pending = self._tenants.pending.get(self.tenant)
        if pending is None:
            pending = asyncio.ensure_future(self._load_tenant_id())
            self._tenants.pending[self.tenant] = pending
            tenant, waiting = self.tenant, self._tenants.pending
            pending.add_done_callback(lambda _: waiting.pop(tenant, None))
        # Shielded: one caller cancelled must not cancel the lookup the others wait for.
        return await asyncio.shield(pending)

    async def _load_tenant_id(self) -> int:
        now = self.clock.now()
        tenant_id = await self.store.write(lambda: ops.tenant_id(self.tenant, now))
        self._tenant_ids[self.tenant] = tenant_id
        return tenant_id

    async def _find_row(self, parsed: Who) -> Row | None:
        tenant = await self.tenant_id()
        return await self.store.find_client(tenant, parsed.lookup_keys)

    async def _require_row(self, who: str) -> Row:
        row = await self._find_row(self._who(who))
        if row is None:
            raise ClientNotFound(f"no client is known as {who!r}", who=who)
        return row

    async def _to_client(self, row: Row) -> Client:
        identifiers = await self.store.read(lambda: client_ops.identifiers_of(row["id"]))
        return to_client(row, self.tenant, identifiers)

    async def _write_client(self, factory: Callable[[], Op[Row]]) -> Client:
        return await self._to_client(await self.store.write(factory))

    # -- search (recuerdo.search.service) ------------------------------------------------------

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
        """Search one client's history (``who``) or the whole tenant; best hits first, each with
        its message (or conversation summary), conversation, score and « »-marked snippet.

        >>> hits = await memory.search("pedido de marzo", who="573003913251")  # doctest: +SKIP
        """
        return await SearchService.of(self).search(
            text, who=who, limit=limit, since=since, until=until, roles=roles
        )
