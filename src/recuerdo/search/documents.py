"""Stored messages as search sees them: who spoke, the ranking's document, the embedded text.

>>> speaker_of(1, None, "Ana")
'Ana'
"""

from __future__ import annotations

import json
from typing import Any

from recuerdo.search.ranking import SearchDoc
from recuerdo.store.query import Row
from recuerdo.store.rows import as_dt
from recuerdo.store.schema import ROLE_CODES, ROLE_NAMES


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


def embedding_text_of(row: Row, client_name: str | None) -> str:
    """The text embedded for a stored message (row with role, content, metadata)."""
    from recuerdo.search.embeddings import embedding_text

    return embedding_text(
        row["content"], speaker_of(int(row["role"]), row["metadata"], client_name)
    )


def search_doc(
    row: Row, client_name: str | None, *, key: str = "id", terms: list[str] | None = None
) -> SearchDoc:
    """The ranking's document for a message row (id under ``key``; its stored ``terms`` unless
    given)."""
    role = int(row["role"])
    return SearchDoc(
        int(row[key]),
        int(row["conversation_id"]),
        as_dt(row["at"]),
        ROLE_NAMES[role],
        speaker_of(role, row["metadata"], client_name),
        terms if terms is not None else str(row["terms"]).split(),
    )
