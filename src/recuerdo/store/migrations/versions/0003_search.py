"""Search index: per-client terms, the engine's full-text index, collection statistics, vectors.

Revision ID: 0003
Revises: 0002

Shared by both engines (every per-client key starts with ``client_id``):

- ``message_terms_plain``: each indexed message's terms as text (``search.text.index_terms``,
  space separated, in order), what per-client ranking scores in Python;
- ``search_stats`` / ``search_term_stats``: per tenant, how many messages are indexed, their
  total number of terms, and in how many messages each term occurs (tenant-wide BM25);
- ``message_vectors``: optional embeddings, float16 bytes, per client and model.

The full-text index ``message_terms`` differs by engine:

- SQLite: a contentless FTS5 table, rowid = message id (message ids are unique in the database),
  ``detail=none`` (only "which messages hold this term" is asked of it) and the ``ascii``
  tokenizer with ``_`` as a token character, which splits on the spaces between terms only and
  keeps emoji. The tenant is a term of its own (``__t<id>``, a form ``index_terms`` never
  produces). SQLite 3.40 cannot ``DELETE`` from a contentless table (3.43 can), so rows are
  removed with FTS5's ``'delete'`` command, fed from ``message_terms_plain``; an index on
  ``message_terms_plain(message_id)`` maps FTS5 rowids back to clients.
- PostgreSQL: a table with a ``tsvector`` (``array_to_tsvector`` of the same terms) under a GIN
  index, and a b-tree on (tenant, message id) for "newest matches first" plans; the message's
  time and role are copied there so that filters apply before the candidates are cut.

The ``messages.indexed`` flag and its partial index (the indexer's queue) are in ``schema.py``,
created by 0001.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_SQLITE = [
    "CREATE TABLE message_terms_plain (client_id INTEGER NOT NULL, message_id INTEGER NOT NULL, "
    "tenant_id INTEGER NOT NULL, terms TEXT NOT NULL, PRIMARY KEY (client_id, message_id)) "
    "WITHOUT ROWID",
    "CREATE INDEX ix_message_terms_plain_message ON message_terms_plain (message_id)",
    "CREATE VIRTUAL TABLE message_terms USING fts5(terms, content='', columnsize=0, "
    "detail=none, tokenize=\"ascii tokenchars '_'\")",
    "CREATE TABLE search_stats (tenant_id INTEGER PRIMARY KEY, doc_count INTEGER NOT NULL, "
    "term_count INTEGER NOT NULL)",
    "CREATE TABLE search_term_stats (tenant_id INTEGER NOT NULL, term TEXT NOT NULL, "
    "doc_count INTEGER NOT NULL, PRIMARY KEY (tenant_id, term)) WITHOUT ROWID",
    "CREATE TABLE message_vectors (client_id INTEGER NOT NULL, model TEXT NOT NULL, "
    "message_id INTEGER NOT NULL, vector BLOB NOT NULL, "
    "PRIMARY KEY (client_id, model, message_id)) WITHOUT ROWID",
]

_POSTGRES = [
    "CREATE TABLE message_terms_plain (client_id BIGINT NOT NULL, message_id BIGINT NOT NULL, "
    "tenant_id BIGINT NOT NULL, terms TEXT NOT NULL, PRIMARY KEY (client_id, message_id))",
    "CREATE TABLE message_terms (client_id BIGINT NOT NULL, message_id BIGINT NOT NULL, "
    "tenant_id BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL, role SMALLINT NOT NULL, "
    "lexemes TSVECTOR NOT NULL, PRIMARY KEY (client_id, message_id))",
    "CREATE INDEX ix_message_terms_lexemes ON message_terms USING GIN (lexemes)",
    "CREATE INDEX ix_message_terms_tenant ON message_terms (tenant_id, message_id)",
    "CREATE TABLE search_stats (tenant_id BIGINT PRIMARY KEY, doc_count BIGINT NOT NULL, "
    "term_count BIGINT NOT NULL)",
    "CREATE TABLE search_term_stats (tenant_id BIGINT NOT NULL, term TEXT NOT NULL, "
    "doc_count BIGINT NOT NULL, PRIMARY KEY (tenant_id, term))",
    "CREATE TABLE message_vectors (client_id BIGINT NOT NULL, model TEXT NOT NULL, "
    "message_id BIGINT NOT NULL, vector BYTEA NOT NULL, "
    "PRIMARY KEY (client_id, model, message_id))",
]

_TABLES = (
    "message_vectors",
    "search_term_stats",
    "search_stats",
    "message_terms",
    "message_terms_plain",
)


def upgrade() -> None:
    statements = _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRES
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    for table in _TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute("UPDATE messages SET indexed = false")
