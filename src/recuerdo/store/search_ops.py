"""Search storage: the indexer, per-client loads, tenant-wide candidates, statistics, vectors.

The index is kept by a durable queue: a new message is stored with ``indexed = false`` and its
client marked (``clients.unindexed_from``, written only when the mark does not cover it yet),
and :func:`index_pending` takes a batch of unindexed messages of marked clients, computes
their terms in Python (:func:`recuerdo.search.text.index_terms`), writes them to
``message_terms_plain``, the engine's full-text index and the tenant statistics, and sets the
flag and moves the marks past them, all in one transaction. A crash loses nothing: what was not
committed is still unindexed and marked.

Only the full-text index differs by engine (see migration ``0003_search``); :class:`FullText`
holds its statements, chosen by the store's capabilities (``fts5`` or ``tsvector``).

Example (run by an engine)::

    fulltext = fulltext_for(store.capabilities)
    indexed = await store.write(lambda: index_pending(fulltext, 256, default="es"))
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import TextClause, column, select, table

from recuerdo.errors import ConfigurationError
from recuerdo.search.text import Language, checked_term, index_terms
from recuerdo.store.query import Op, Query, Row, sql
from recuerdo.store.schema import ROLE_CODES

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, tzinfo=UTC)
ALL_ROLES = sum(1 << code for code in ROLE_CODES.values())
"""Role filters travel as a bit mask (bit ``code`` set for each role wanted), so that one
statement serves any set of roles."""

# The queue: clients marked with the lowest id that may wait (clients.unindexed_from, under a
# partial index of the marked ones), and from there their messages by primary key.
_PENDING_COLUMNS = (
    "SELECT m.client_id, m.id, m.at, m.role, m.content, m.metadata, c.tenant_id "
    "FROM clients c {hint}JOIN messages m ON m.client_id = c.id AND m.id >= c.unindexed_from "
    "WHERE c.unindexed_from IS NOT NULL AND NOT m.indexed"
)
# SQLite's planner would scan every message in key order (for the ORDER BY) and look each
# client up in the queue's index; the marked clients must come first, then their messages from
# the mark on: the index is named and CROSS JOIN keeps that order.
_SQLITE_QUEUE = "INDEXED BY ix_clients_search_queue CROSS "
_CANDIDATE_COLUMNS = (
    "SELECT p.client_id, p.message_id, p.terms, m.conversation_id, m.at, m.role, m.metadata, "
    "c.customer_name, c.profile_name"
)
_CANDIDATE_FILTERS = "AND m.at >= :since AND m.at < :until AND ((:roles >> m.role) & 1) = 1"


@dataclass(frozen=True, slots=True)
class FullText:
    """The statements of one engine's full-text index."""

    name: str
    pending: TextClause
    pending_of_client: TextClause
    has_pending: TextClause
    has_pending_of_client: TextClause
    lock_queue: TextClause | None
    insert: TextClause
    delete_client: TextClause
    candidates: TextClause

    def document(self, tenant_id: int, terms: str) -> str:
        """What the index stores for a message (SQLite: the tenant is a term of its own)."""
        return f"__t{tenant_id} {terms}" if self.name == "fts5" else terms

    def match(self, tenant_id: int, terms: Sequence[str]) -> str:
        """A query finding messages of ``tenant_id`` holding every one of ``terms``: an FTS5
        ``MATCH`` expression, or a ``tsquery`` text (for ``::tsquery``, not ``to_tsquery``).
        Each term is quoted after :func:`checked_term` (safe by construction).

        >>> FTS5.match(7, ["ped", "llego"])
        '"__t7" AND "ped" AND "llego"'
        >>> TSVECTOR.match(7, ["ped", "llego"])
        "'ped' & 'llego'"
        """
        if self.name == "fts5":
            quoted = [f'"{checked_term(t)}"' for t in terms]
            return " AND ".join([f'"__t{tenant_id}"', *quoted])
        return " & ".join(f"'{checked_term(t)}'" for t in terms)


FTS5 = FullText(
    name="fts5",
    pending=sql(_PENDING_COLUMNS.format(hint=_SQLITE_QUEUE) + " ORDER BY c.id, m.id LIMIT :limit"),
    pending_of_client=sql(
        _PENDING_COLUMNS.format(hint=_SQLITE_QUEUE)
        + " AND c.id = :client_id ORDER BY c.id, m.id LIMIT :limit"
    ),
    has_pending=sql(_PENDING_COLUMNS.format(hint=_SQLITE_QUEUE) + " LIMIT 1"),
    has_pending_of_client=sql(
        _PENDING_COLUMNS.format(hint=_SQLITE_QUEUE) + " AND c.id = :client_id LIMIT 1"
    ),
    lock_queue=None,  # one writer at a time: nothing to wait for
    insert=sql("INSERT INTO message_terms (rowid, terms) VALUES (:message_id, :document)"),
    # SQLite 3.40 cannot DELETE from a contentless FTS5 table: its 'delete' command takes the
    # values that were indexed, which message_terms_plain still holds.
    delete_client=sql(
        "INSERT INTO message_terms (message_terms, rowid, terms) "
        "SELECT 'delete', message_id, '__t' || tenant_id || ' ' || terms "
        "FROM message_terms_plain WHERE client_id = :client_id AND terms <> ''"
    ),
    candidates=sql(
        f"{_CANDIDATE_COLUMNS} FROM message_terms f "
        "CROSS JOIN message_terms_plain p ON p.message_id = f.rowid "
        "JOIN messages m ON m.client_id = p.client_id AND m.id = p.message_id "
        "JOIN clients c ON c.id = p.client_id "
        f"WHERE message_terms MATCH :match {_CANDIDATE_FILTERS} "
        "ORDER BY f.rowid DESC LIMIT :limit"
    ),
)

TSVECTOR = FullText(
    name="tsvector",
    # Several workers may index at once: each takes rows the others have not locked.
    pending=sql(
        _PENDING_COLUMNS.format(hint="")
        + " ORDER BY c.id, m.id LIMIT :limit FOR UPDATE OF m SKIP LOCKED"
    ),
    pending_of_client=sql(
        _PENDING_COLUMNS.format(hint="") + " AND c.id = :client_id ORDER BY c.id, m.id "
        "LIMIT :limit FOR UPDATE OF m SKIP LOCKED"
    ),
    has_pending=sql(_PENDING_COLUMNS.format(hint="") + " LIMIT 1"),
    has_pending_of_client=sql(_PENDING_COLUMNS.format(hint="") + " AND c.id = :client_id LIMIT 1"),
    # Before a mark moves, the client rows, so that every message a writer has committed for
    # them is seen by the next statement; a client a writer holds now is left marked (its
    # writer's message keeps it so anyway) rather than waited for.
    lock_queue=sql(
        "SELECT id FROM clients WHERE id = ANY(CAST(:ids AS BIGINT[])) ORDER BY id "
        "FOR UPDATE SKIP LOCKED"
    ),
    insert=sql(
        "INSERT INTO message_terms (client_id, message_id, tenant_id, at, role, lexemes) VALUES "
        "(:client_id, :message_id, :tenant_id, :at, :role, "
        "array_to_tsvector(string_to_array(:document, ' ')))"
    ),
    delete_client=sql("DELETE FROM message_terms WHERE client_id = :client_id"),
    # The newest matches first, from the index table alone (time and role are kept there), then
    # their details: the planner can then walk (tenant_id, message_id) backwards for a common
    # term and use the GIN index for a rare one.
    candidates=sql(
        f"{_CANDIDATE_COLUMNS} FROM (SELECT client_id, message_id FROM message_terms "
        "WHERE tenant_id = :tenant_id AND lexemes @@ CAST(:match AS tsquery) "
        "AND at >= :since AND at < :until AND ((CAST(:roles AS INTEGER) >> role) & 1) = 1 "
        "ORDER BY message_id DESC LIMIT :limit) f "
        "JOIN message_terms_plain p ON p.client_id = f.client_id AND p.message_id = f.message_id "
        "JOIN messages m ON m.client_id = f.client_id AND m.id = f.message_id "
        "JOIN clients c ON c.id = f.client_id "
        "ORDER BY f.message_id DESC"
    ),
)


def fulltext_for(capabilities: Iterable[str]) -> FullText:
    """The full-text statements for a store with these capabilities.

    >>> fulltext_for({"fts5", "group_commit"}).name
    'fts5'
    """
    available = set(capabilities)
    if "fts5" in available:
        return FTS5
    if "tsvector" in available:
        return TSVECTOR
    raise ConfigurationError("this database offers no full-text index (fts5 or tsvector)")


S_INSERT_PLAIN = sql(
    "INSERT INTO message_terms_plain (client_id, message_id, tenant_id, terms) "
    "VALUES (:client_id, :message_id, :tenant_id, :terms)"
)
S_MARK_INDEXED = sql(
    "UPDATE messages SET indexed = true WHERE client_id = :client_id AND id = :message_id"
)
S_ADD_STATS = sql(
    "INSERT INTO search_stats (tenant_id, doc_count, term_count) "
    "VALUES (:tenant_id, :docs, :terms) ON CONFLICT (tenant_id) DO UPDATE "
    "SET doc_count = search_stats.doc_count + excluded.doc_count, "
    "term_count = search_stats.term_count + excluded.term_count"
)
S_ADD_TERM_STATS = sql(
    "INSERT INTO search_term_stats (tenant_id, term, doc_count) VALUES (:tenant_id, :term, :docs) "
    "ON CONFLICT (tenant_id, term) DO UPDATE "
    "SET doc_count = search_term_stats.doc_count + excluded.doc_count"
)
S_SUBTRACT_STATS = sql(
    "UPDATE search_stats SET doc_count = doc_count - :docs, term_count = term_count - :terms "
    "WHERE tenant_id = :tenant_id"
)
S_SUBTRACT_TERM_STATS = sql(
    "UPDATE search_term_stats SET doc_count = doc_count - :docs "
    "WHERE tenant_id = :tenant_id AND term = :term"
)
S_DROP_TERM_STATS = sql(
    "DELETE FROM search_term_stats WHERE tenant_id = :tenant_id AND term = :term AND doc_count <= 0"
)
S_PLAIN_OF_CLIENT = sql(
    "SELECT message_id, tenant_id, terms FROM message_terms_plain WHERE client_id = :client_id"
)
S_DELETE_PLAIN = sql("DELETE FROM message_terms_plain WHERE client_id = :client_id")
S_DELETE_VECTORS = sql("DELETE FROM message_vectors WHERE client_id = :client_id")
S_UNMARK_CLIENT = sql(
    "UPDATE messages SET indexed = false WHERE client_id = :client_id AND indexed"
)
S_REQUEUE_CLIENT = sql(
    "UPDATE clients SET unindexed_from = (SELECT min(m.id) FROM messages m "
    "WHERE m.client_id = clients.id) WHERE id = :client_id"
)
# A mark moves to the first message still waiting at or after it, or is cleared.
S_ADVANCE_QUEUE = sql(
    "UPDATE clients SET unindexed_from = (SELECT min(m.id) FROM messages m "
    "WHERE m.client_id = clients.id AND m.id >= clients.unindexed_from AND NOT m.indexed) "
    "WHERE id = :client_id AND unindexed_from IS NOT NULL"
)
S_NEXT_CLIENT = sql("SELECT min(id) AS id FROM clients WHERE id > :after")
S_NEXT_INDEXED_CLIENT = sql(
    "SELECT min(client_id) AS id FROM message_terms_plain WHERE client_id > :after"
)
S_COUNT_MESSAGES = sql("SELECT count(*) AS n FROM messages")
S_STATS = sql("SELECT doc_count, term_count FROM search_stats WHERE tenant_id = :tenant_id")
S_CLIENT_DOCS = sql(
    "SELECT m.id, m.conversation_id, m.at, m.role, m.metadata, p.terms FROM messages m "
    "JOIN message_terms_plain p ON p.client_id = m.client_id AND p.message_id = m.id "
    "WHERE m.client_id = :client_id"
)
S_CLIENT_FINGERPRINT = sql(
    "SELECT count(*) AS n, max(message_id) AS last, sum(length(terms)) AS size "
    "FROM message_terms_plain WHERE client_id = :client_id"
)
S_CLIENT_SUMMARIES = sql(
    "SELECT id, started_at, last_message_at, summary FROM conversations "
    "WHERE client_id = :client_id AND summary IS NOT NULL AND summary <> ''"
)
_NEIGHBOUR = (
    "SELECT m.id, m.conversation_id, m.at, m.role, m.metadata, m.content, p.terms "
    "FROM messages m LEFT JOIN message_terms_plain p "
    "ON p.client_id = m.client_id AND p.message_id = m.id "
    "WHERE m.client_id = :client_id AND m.conversation_id = :conversation_id AND {side} "
    "ORDER BY m.at {order}, m.id {order} LIMIT :limit"
)
S_BEFORE = sql(_NEIGHBOUR.format(side="(m.at < :at OR (m.at = :at AND m.id < :id))", order="DESC"))
S_AFTER = sql(_NEIGHBOUR.format(side="(m.at > :at OR (m.at = :at AND m.id > :id))", order="ASC"))
S_CLIENT_VECTORS = sql(
    "SELECT message_id, vector FROM message_vectors WHERE client_id = :client_id AND model = :model"
)
S_VECTOR_IDS = sql(
    "SELECT message_id FROM message_vectors WHERE client_id = :client_id AND model = :model"
)
S_UPSERT_VECTOR = sql(
    "INSERT INTO message_vectors (client_id, model, message_id, vector) "
    "VALUES (:client_id, :model, :message_id, :vector) "
    "ON CONFLICT (client_id, model, message_id) DO UPDATE SET vector = excluded.vector"
)
S_MESSAGES_OF_CLIENT = sql(
    "SELECT id, role, content, metadata FROM messages WHERE client_id = :client_id ORDER BY id"
)

S_MESSAGE = sql("SELECT * FROM messages WHERE client_id = :client_id AND id = :id")
S_CONVERSATION = sql("SELECT * FROM conversations WHERE client_id = :client_id AND id = :id")
S_CLIENT_NAME = sql("SELECT customer_name, profile_name FROM clients WHERE id = :id")

_term_stats = table("search_term_stats", column("tenant_id"), column("term"), column("doc_count"))


# -- the indexer ---------------------------------------------------------------------------------


def has_pending(fulltext: FullText, client_id: int | None = None) -> Op[bool]:
    """Whether any message (of ``client_id``, if given) waits to be indexed."""
    if client_id is None:
        row = yield Query(fulltext.has_pending, {}, "one")
    else:
        row = yield Query(fulltext.has_pending_of_client, {"client_id": client_id}, "one")
    return row is not None


def index_pending(
    fulltext: FullText, limit: int, *, client_id: int | None = None, default: Language = "es"
) -> Op[list[Row]]:
    """Index up to ``limit`` unindexed messages (of one client, if given) and mark them indexed.

    Answers the rows indexed (``client_id, id, role, content, metadata, tenant_id``), so that
    the caller can embed them after the commit.
    """
    if client_id is None:
        rows = yield Query(fulltext.pending, {"limit": limit}, "all")
    else:
        rows = yield Query(
            fulltext.pending_of_client, {"client_id": client_id, "limit": limit}, "all"
        )
    if not rows:
        return []
    plain: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    stats: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    term_stats: dict[int, Counter[str]] = defaultdict(Counter)
    for row in rows:
        terms = index_terms(row["content"], default=default)
        tenant = int(row["tenant_id"])
        text = " ".join(terms)
        keys = {"client_id": row["client_id"], "message_id": row["id"], "tenant_id": tenant}
        plain.append({**keys, "terms": text})
        if terms:
            document = fulltext.document(tenant, text)
            docs.append({**keys, "document": document, "at": row["at"], "role": row["role"]})
        stats[tenant][0] += 1
        stats[tenant][1] += len(terms)
        term_stats[tenant].update(set(terms))
    yield Query(S_INSERT_PLAIN, plain, "many")
    if docs:  # FTS5 flushes pending terms when another statement opens: insert them together
        yield Query(fulltext.insert, docs, "many")
    yield from _add_stats(stats, term_stats, sign=1)
    marks = [{"client_id": p["client_id"], "message_id": p["message_id"]} for p in plain]
    yield Query(S_MARK_INDEXED, marks, "many")
    yield from _advance_queue(fulltext, sorted({int(p["client_id"]) for p in plain}))
    return list(rows)


def _advance_queue(fulltext: FullText, client_ids: list[int]) -> Op[None]:
    """Move the queue marks of the clients just indexed past what was indexed."""
    if fulltext.lock_queue is not None:
        locked = yield Query(fulltext.lock_queue, {"ids": client_ids}, "all")
        client_ids = [int(r["id"]) for r in locked]
    if client_ids:
        yield Query(S_ADVANCE_QUEUE, [{"client_id": i} for i in client_ids], "many")


def _add_stats(
    stats: dict[int, list[int]], term_stats: dict[int, Counter[str]], *, sign: int
) -> Op[None]:
    for tenant, (docs, terms) in sorted(stats.items()):
        if sign > 0:
            yield Query(S_ADD_STATS, {"tenant_id": tenant, "docs": docs, "terms": terms})
        else:
            yield Query(S_SUBTRACT_STATS, {"tenant_id": tenant, "docs": docs, "terms": terms})
    # Terms in one order everywhere, so that concurrent indexers (PostgreSQL) wait, never deadlock.
    for tenant, counts in sorted(term_stats.items()):
        params = [{"tenant_id": tenant, "term": t, "docs": n} for t, n in sorted(counts.items())]
        if not params:
            continue
        if sign > 0:
            yield Query(S_ADD_TERM_STATS, params, "many")
        else:
            yield Query(S_SUBTRACT_TERM_STATS, params, "many")
            drops = [{"tenant_id": p["tenant_id"], "term": p["term"]} for p in params]
            yield Query(S_DROP_TERM_STATS, drops, "many")


def delete_client_terms(fulltext: FullText, client_id: int, *, vectors: bool = True) -> Op[int]:
    """Remove a client's terms, full-text entries, vectors (unless ``vectors=False``) and their
    share of the statistics (for erasure, before or after the client's rows are deleted).
    Answers how many messages were in the index."""
    rows = yield Query(S_PLAIN_OF_CLIENT, {"client_id": client_id}, "all")
    stats: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    term_stats: dict[int, Counter[str]] = defaultdict(Counter)
    for row in rows:
        terms = row["terms"].split()
        tenant = int(row["tenant_id"])
        stats[tenant][0] += 1
        stats[tenant][1] += len(terms)
        term_stats[tenant].update(set(terms))
    yield Query(fulltext.delete_client, {"client_id": client_id})
    yield Query(S_DELETE_PLAIN, {"client_id": client_id})
    if vectors:
        yield Query(S_DELETE_VECTORS, {"client_id": client_id})
    yield from _add_stats(stats, term_stats, sign=-1)
    return len(rows)


def reset_clients(fulltext: FullText, after: int, max_clients: int) -> Op[tuple[int | None, int]]:
    """For a rebuild: the next ``max_clients`` clients after id ``after`` (clients that exist,
    and clients that only the index still knows) lose their index entries and go back in the
    queue. Answers the last client id reset (``None`` when there are no more) and how many
    messages were put back in the queue."""
    last: int | None = None
    queued = 0
    for _ in range(max_clients):
        found = yield Query(S_NEXT_CLIENT, {"after": after}, "one")
        indexed = yield Query(S_NEXT_INDEXED_CLIENT, {"after": after}, "one")
        ids = [int(r["id"]) for r in (found, indexed) if r is not None and r["id"] is not None]
        if not ids:
            break
        after = last = min(ids)
        # Unmark first: on PostgreSQL this waits for an indexer that holds the rows, so that its
        # terms are committed, and then deleted below, before the client is indexed again.
        queued += yield Query(S_UNMARK_CLIENT, {"client_id": last})
        yield Query(S_REQUEUE_CLIENT, {"client_id": last})
        yield from delete_client_terms(fulltext, last, vectors=False)
    return last, queued


def count_messages() -> Op[int]:
    row = yield Query(S_COUNT_MESSAGES, {}, "one")
    return int(row["n"]) if row is not None else 0


# -- reads for ranking ---------------------------------------------------------------------------


def client_state(client_id: int) -> Op[tuple[tuple[int, int, int], list[Row]]]:
    """What a client's ranking index is built from, cheaply: ``(messages indexed, highest
    message id, total length of their terms)`` and the conversation summaries."""
    row = yield Query(S_CLIENT_FINGERPRINT, {"client_id": client_id}, "one")
    summaries = yield Query(S_CLIENT_SUMMARIES, {"client_id": client_id}, "all")
    fingerprint = (int(row["n"] or 0), int(row["last"] or 0), int(row["size"] or 0))
    return fingerprint, list(summaries)


def client_docs(client_id: int) -> Op[list[Row]]:
    """A client's indexed messages (without content), with their terms."""
    docs = yield Query(S_CLIENT_DOCS, {"client_id": client_id}, "all")
    return list(docs)


def collection_stats(tenant_id: int, terms: Sequence[str]) -> Op[tuple[int, int, dict[str, int]]]:
    """``(messages indexed, their total terms, {term: messages holding it})`` for a tenant."""
    row = yield Query(S_STATS, {"tenant_id": tenant_id}, "one")
    if row is None or not terms:
        return (int(row["doc_count"]), int(row["term_count"]), {}) if row else (0, 0, {})
    t = _term_stats.c
    stmt = select(t.term, t.doc_count).where(t.tenant_id == tenant_id, t.term.in_(list(terms)))
    found = yield Query(stmt, {}, "all")
    return (
        int(row["doc_count"]),
        int(row["term_count"]),
        {r["term"]: int(r["doc_count"]) for r in found},
    )


def candidates(
    fulltext: FullText,
    tenant_id: int,
    terms: Sequence[str],
    *,
    budget: int,
    since: datetime,
    until: datetime,
    roles: int,
) -> Op[list[Row]]:
    """Up to ``budget`` messages of the tenant holding query terms, for rescoring in Python.

    ``terms`` come rarest first. First the messages holding every term (newest first, up to
    half the budget), then, term by term, the newest messages holding it: a rare term's
    messages are all found, and a common term cannot crowd them out.
    """
    found: dict[int, Row] = {}
    groups: list[list[str]] = [[t] for t in terms]
    if len(terms) > 1:
        groups.insert(0, list(terms))
    for group in groups:
        room = budget - len(found) if len(group) == 1 else budget // 2
        if room <= 0:
            break
        params = {
            "match": fulltext.match(tenant_id, group),
            "tenant_id": tenant_id,
            "since": since,
            "until": until,
            "roles": roles,
            "limit": room + len(found),
        }
        rows = yield Query(fulltext.candidates, params, "all")
        for row in rows:
            if len(found) >= budget:
                break
            found.setdefault(int(row["message_id"]), row)
    return list(found.values())


def neighbours(targets: Sequence[Row], distance: int) -> Op[list[Row]]:
    """The ``distance`` messages before and after each target in its conversation (rows with
    ``client_id``), with their terms (``None`` when not indexed yet)."""
    out: list[Row] = []
    for target in targets:
        params = {
            "client_id": target["client_id"],
            "conversation_id": target["conversation_id"],
            "at": target["at"],
            "id": target["message_id"],
            "limit": distance,
        }
        for stmt in (S_BEFORE, S_AFTER):
            rows = yield Query(stmt, params, "all")
            out.extend({**dict(r), "client_id": target["client_id"]} for r in rows)
    return out


def messages_by_key(keys: Sequence[tuple[int, int]]) -> Op[list[Row]]:
    """Messages by ``(client_id, id)`` (a page of hits: one primary-key lookup each)."""
    return (yield from _by_key(S_MESSAGE, keys))


def conversations_by_key(keys: Sequence[tuple[int, int]]) -> Op[list[Row]]:
    """Conversations by ``(client_id, id)``."""
    return (yield from _by_key(S_CONVERSATION, keys))


def _by_key(stmt: TextClause, keys: Sequence[tuple[int, int]]) -> Op[list[Row]]:
    # Lookups one by one with a statement compiled once: SQLite scans the whole table for
    # (client_id, id) IN (VALUES …), and compiling an IN list per call costs more than the reads.
    found: list[Row] = []
    for client_id, item in dict.fromkeys(keys):
        row = yield Query(stmt, {"client_id": client_id, "id": item}, "one")
        if row is not None:
            found.append(row)
    return found


def client_names(client_ids: Sequence[int]) -> Op[dict[int, str | None]]:
    """The best name of each client (confirmed name, else WhatsApp profile name)."""
    names: dict[int, str | None] = {}
    for client_id in dict.fromkeys(client_ids):
        row = yield Query(S_CLIENT_NAME, {"id": client_id}, "one")
        if row is not None:
            names[client_id] = row["customer_name"] or row["profile_name"]
    return names


# -- vectors -------------------------------------------------------------------------------------


def client_vectors(client_id: int, model: str) -> Op[list[Row]]:
    rows = yield Query(S_CLIENT_VECTORS, {"client_id": client_id, "model": model}, "all")
    return list(rows)


def vector_ids(client_id: int, model: str) -> Op[list[int]]:
    rows = yield Query(S_VECTOR_IDS, {"client_id": client_id, "model": model}, "all")
    return [int(r["message_id"]) for r in rows]


def store_vectors(client_id: int, model: str, vectors: Sequence[tuple[int, bytes]]) -> Op[int]:
    """Store (or replace) a client's vectors of ``model``."""
    params = [
        {"client_id": client_id, "model": model, "message_id": mid, "vector": data}
        for mid, data in vectors
    ]
    if params:
        yield Query(S_UPSERT_VECTOR, params, "many")
    return len(params)


def client_messages(client_id: int) -> Op[list[Row]]:
    """Every message of a client (id, role, content, metadata), oldest id first."""
    rows = yield Query(S_MESSAGES_OF_CLIENT, {"client_id": client_id}, "all")
    return list(rows)


def next_client(after: int) -> Op[int | None]:
    row = yield Query(S_NEXT_CLIENT, {"after": after}, "one")
    return None if row is None or row["id"] is None else int(row["id"])
