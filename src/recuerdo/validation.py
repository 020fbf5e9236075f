"""Input checks shared by every entry point: each answers bad input with a specific
:class:`~recuerdo.errors.InvalidInput` that says what was received and what is accepted."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from recuerdo.errors import InvalidContent, InvalidCursor, InvalidInput
from recuerdo.identity import Who, parse_who
from recuerdo.model import ContentType, NewMessage, Role, require_aware
from recuerdo.store.ops import PreparedMessage
from recuerdo.store.rows import EncodedJson, as_dt
from recuerdo.store.schema import ROLE_CODES

MAX_ID = 255
MAX_METADATA = 16 * 1024


def content_text(content: object, content_type: str, max_bytes: int) -> str:
    """Message text, checked: not empty for text, no NUL, at most ``max_bytes`` UTF-8 bytes.

    >>> content_text("  ", "image", 100)
    '<image>'
    """
    if not isinstance(content, str):
        raise InvalidContent(f"content must be text, got {type(content).__name__}")
    if "\x00" in content:
        raise InvalidContent("content contains a NUL character (\\x00), which cannot be stored")
    if not content.strip():
        if content_type == ContentType.TEXT.value:
            raise InvalidContent("content is empty; a text message needs some text")
        content = f"<{content_type}>"
    # A UTF-8 character takes at most 4 bytes: most texts need no encoding to be measured.
    size = len(content) * 4
    if size > max_bytes and (size := len(content.encode("utf-8"))) > max_bytes:
        raise InvalidContent(
            f"content is {size} bytes; the limit is {max_bytes} bytes "
            "(setting RECUERDO_MAX_CONTENT_BYTES)",
            size=size,
            limit=max_bytes,
        )
    return content


def short_text(
    value: object, name: str, *, required: bool = False, limit: int = MAX_ID
) -> str | None:
    """A short identifier-like text (ids, names), stripped; empty means ``None``.

    >>> short_text("  ", "provider") is None
    True
    """
    if value is None:
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text, got {type(value).__name__}")
    value = value.strip()
    if not value:
        if required:
            raise InvalidInput(f"{name} is empty")
        return None
    if len(value) > limit or "\x00" in value:
        raise InvalidInput(f"{name} must be at most {limit} characters without NUL")
    return value


def required_text(value: object, name: str, limit: int = MAX_ID) -> str:
    """Like :func:`short_text`, but ``None`` or empty is an error.

    >>> required_text(" conv_1 ", "thread_id")
    'conv_1'
    """
    text = short_text(value, name, required=True, limit=limit)
    assert text is not None  # required=True raises instead of answering None
    return text


def tag_text(value: object) -> str:
    """A tag: 1 to 64 characters."""
    return required_text(value, "tag", limit=64)


def json_object(value: object, name: str = "metadata") -> dict[str, Any] | None:
    """A JSON-serialisable object of at most 16 KiB (metadata, attributes)."""
    encoded = encoded_object(value, name)
    return None if encoded is None else encoded.source


def encoded_object(value: object, name: str = "metadata") -> EncodedJson | None:
    """Like :func:`json_object`, answering the object with its JSON text (encoded once, here).

    >>> encoded_object({"source": "web"})
    '{"source":"web"}'
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} must be a JSON object, got {type(value).__name__}")
    try:
        encoded = EncodedJson(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} is not JSON-serialisable: {exc}") from None
    too_big = len(encoded) * 4 > MAX_METADATA and len(encoded.encode("utf-8")) > MAX_METADATA
    if too_big or "\\u0000" in encoded:
        raise InvalidInput(f"{name} must be at most {MAX_METADATA} bytes of JSON without NUL")
    return encoded


_CONTENT_TYPES = frozenset(c.value for c in ContentType)
# A role (its name, or the member: a StrEnum member hashes and compares as its name) to what a
# prepared message holds: the name and its stored code.
_ROLES: dict[str, tuple[str, int]] = {r.value: (r.value, ROLE_CODES[r.value]) for r in Role}


@dataclass(frozen=True, slots=True)
class Preparer:
    """Checks a :class:`NewMessage` and turns it into what the store records.

    Holds only the settings it needs, so an import worker process can validate with the same
    rules as the :class:`~recuerdo.Memory` it feeds (``memory.preparer``).
    """

    default_region: str = "CO"
    allow_groups: bool = False
    max_content_bytes: int = 64 * 1024

    def who(self, who: str) -> Who:
        return parse_who(who, default_region=self.default_region, allow_groups=self.allow_groups)

    def prepare(
        self, item: NewMessage, now: datetime, *, metadata: EncodedJson | None = None
    ) -> PreparedMessage:
        """The checked message; ``now`` is its time when it has none. Bad input raises the
        specific :class:`~recuerdo.errors.InvalidInput`. ``metadata``: ``item.metadata``
        already checked and encoded (an importer reuses one per author)."""
        parsed = self.who(item.who)
        role = _ROLES.get(item.role) if isinstance(item.role, str) else None
        if role is None:
            role = _ROLES[Role.parse(item.role).value]  # the named error for anything else
        content_type = item.content_type or ContentType.TEXT.value
        if content_type not in _CONTENT_TYPES:
            accepted = ", ".join(sorted(_CONTENT_TYPES))
            raise InvalidInput(f"unknown content_type {content_type!r}; accepted: {accepted}")
        # Positional, in the fields' order (keyword arguments cost twice as much to build).
        return PreparedMessage(
            parsed.lookup_keys,
            role[0],
            role[1],
            content_text(item.content, content_type, self.max_content_bytes),
            content_type,
            require_aware(item.at, "at") if item.at is not None else now,
            short_text(item.thread_id, "thread_id"),
            short_text(item.external_id, "external_id"),
            metadata if metadata is not None else encoded_object(item.metadata),
            short_text(item.profile_name, "profile_name"),
        )


def page_limit(limit: int) -> int:
    """A page size from 1 to 1000.

    >>> page_limit(20)
    20
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
        raise InvalidInput(f"limit must be an integer from 1 to 1000, got {limit!r}")
    return limit


def encode_cursor(stamp: str, ident: int) -> str:
    """An opaque paging cursor for a position (time stamp, id).

    >>> decode_cursor(encode_cursor("", 7))
    ('', '7')
    """
    raw = f"v1|{stamp}|{ident}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The position in a cursor from :func:`encode_cursor`; anything else is InvalidCursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, stamp, ident = base64.urlsafe_b64decode(padded).decode().split("|")
        if version != "v1" or not ident.isdigit():
            raise ValueError(cursor)
        if stamp:
            as_dt(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(
            f"invalid cursor {cursor[:40]!r}: pass back the next_cursor recuerdo gave you"
        ) from None
    return stamp, ident
