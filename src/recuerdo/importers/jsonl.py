"""recuerdo's own interchange format: JSON Lines, one message per line, with the fields of
``record_message`` (documented in ``docs/jsonl-format.md``).

    {"who": "573001234567", "role": "user", "content": "hola", "at": "2024-05-01T14:03:00+00:00"}

Reading streams the file and reports every malformed line with its file and line number; the
other lines are still read. Writing is the inverse, so export → import reproduces the messages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from recuerdo.errors import InvalidIdentifier, InvalidRole
from recuerdo.identity import parse_who
from recuerdo.importers.recording import Sourced
from recuerdo.importers.report import ParseProblem
from recuerdo.model import ContentType, NewMessage, Role

FIELDS = (
    "who",
    "role",
    "content",
    "at",
    "thread_id",
    "external_id",
    "content_type",
    "metadata",
    "profile_name",
)
"""Every field of a line, in the order :func:`write_jsonl` writes them."""
MAX_LINE_BYTES = 1024 * 1024
_OPTIONAL_TEXT = ("thread_id", "external_id", "profile_name")
_CONTENT_TYPES = frozenset(c.value for c in ContentType)
_LINE_BREAKS = {ord(c): f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"}


class _Malformed(ValueError):
    pass


def parse_line(data: Mapping[str, Any]) -> NewMessage:
    """The message of one decoded JSONL object; raise ``ValueError`` saying what is wrong.

    >>> parse_line({"who": "573001234567", "role": "user", "content": "hola",
    ...             "at": "2024-05-01T09:03:00-05:00"}).at.isoformat()
    '2024-05-01T14:03:00+00:00'
    """
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise _Malformed(f"unknown field(s) {', '.join(unknown)}; fields are {', '.join(FIELDS)}")
    who = data.get("who")
    if not isinstance(who, str):
        raise _Malformed("'who' is required and must be a string")
    try:
        parse_who(who)
        role = Role.parse(data.get("role", ""))
    except (InvalidIdentifier, InvalidRole) as exc:
        raise _Malformed(exc.message) from None
    content = data.get("content")
    if not isinstance(content, str) or not content.strip():
        raise _Malformed("'content' is required and must be a non-empty string")
    content_type = data.get("content_type", ContentType.TEXT.value)
    if content_type not in _CONTENT_TYPES:
        raise _Malformed(
            f"unknown content_type {content_type!r}; accepted: {', '.join(sorted(_CONTENT_TYPES))}"
        )
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise _Malformed("'metadata' must be an object")
    for name in _OPTIONAL_TEXT:
        if data.get(name) is not None and not isinstance(data[name], str):
            raise _Malformed(f"{name!r} must be a string")
    return NewMessage(
        who=who,
        role=role,
        content=content,
        at=_parse_at(data.get("at")),
        thread_id=data.get("thread_id"),
        external_id=data.get("external_id"),
        content_type=content_type,
        metadata=metadata,
        profile_name=data.get("profile_name"),
    )


def _parse_at(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Malformed("'at' must be an ISO 8601 string with a UTC offset")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise _Malformed(f"'at' is not an ISO 8601 date-time: {value!r}") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise _Malformed(f"'at' has no UTC offset: {value!r} (write e.g. '{value}+00:00')")
    return at.astimezone(UTC)


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[Sourced | ParseProblem]:
    """Stream ``(NewMessage, line_no)`` pairs from a JSONL file; malformed lines come out as
    :class:`ParseProblem` with their line number, and reading goes on. Blank lines are skipped.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "m.jsonl"
    >>> _ = path.write_text('{"who": "573001234567", "role": "user", "content": "hola"}\\n'
    ...                     'not json\\n')
    >>> [type(item).__name__ for item in read_jsonl(path)]
    ['tuple', 'ParseProblem']
    """
    name = str(path)
    with Path(path).open("rb") as fp:
        for line_no, raw in enumerate(fp, start=1):
            if len(raw) > MAX_LINE_BYTES:
                shown = raw[:200].decode("utf-8", "replace")
                yield ParseProblem(name, line_no, shown, f"line over {MAX_LINE_BYTES} bytes")
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                shown = raw[:200].decode("utf-8", "replace")
                yield ParseProblem(name, line_no, shown, "not UTF-8")
                continue
            text = text.strip().lstrip("\ufeff")
            if not text:
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield ParseProblem(name, line_no, text[:200], f"not JSON ({exc.msg})")
                continue
            if not isinstance(data, dict):
                yield ParseProblem(name, line_no, text[:200], "not a JSON object")
                continue
            try:
                message = parse_line(data)
            except _Malformed as exc:
                yield ParseProblem(name, line_no, text[:200], str(exc))
                continue
            yield message, line_no


def to_line(message: NewMessage) -> str:
    """One message as a JSONL line (without the newline); ``None`` fields are left out.

    >>> to_line(NewMessage("573001234567", Role.USER, "hola"))
    '{"who": "573001234567", "role": "user", "content": "hola", "content_type": "text"}'
    """
    data: dict[str, Any] = {
        "who": message.who,
        "role": Role.parse(message.role).value,
        "content": message.content,
    }
    if message.at is not None:
        data["at"] = message.at.astimezone(UTC).isoformat()
    for name in ("thread_id", "external_id"):
        value = getattr(message, name)
        if value is not None:
            data[name] = value
    data["content_type"] = message.content_type
    if message.metadata:
        data["metadata"] = message.metadata
    if message.profile_name is not None:
        data["profile_name"] = message.profile_name
    line = json.dumps(data, ensure_ascii=False, separators=(", ", ": "))
    if not line.isascii():
        # Characters that some line readers (Python's splitlines, editors) take as line breaks
        # are escaped, so every consumer sees one message per line.
        line = line.translate(_LINE_BREAKS)
    return line


def write_jsonl(records: Iterable[NewMessage], fp: IO[str]) -> int:
    """Write ``records`` to the text stream ``fp``, one line each; answer how many.

    >>> import io
    >>> out = io.StringIO()
    >>> write_jsonl([NewMessage("573001234567", "assistant", "¡hola!")], out)
    1
    >>> out.getvalue()
    '{"who": "573001234567", "role": "assistant", "content": "¡hola!", "content_type": "text"}\\n'
    """
    count = 0
    for message in records:
        fp.write(to_line(message))
        fp.write("\n")
        count += 1
    return count
