"""Reading a BuilderBot bot's history: its JSON database file, its PostgreSQL tables and its
MongoDB ``history`` collection exported by ``mongoexport``.

Every BuilderBot database adapter stores the same entry, one per message, in order::

    {"ref": "ans_…", "keyword": "key_…", "answer": "¡Hola!", "refSerialize": "…",
     "from": "573001234567", "options": {"media": null, "buttons": [], "capture": false, …}}

Bot answers come from the flows (``ref`` ``ans_…``, or a bare id with the answer options when
sent by ``flowDynamic``); a user's message is saved with a bare id, its previous answer as
``keyword`` and empty options. Flow markers (``__call_action__``, ``__goto_flow__``,
``__capture_only_intended__``) are not messages and are skipped. Users' media arrive as event
names (``_event_media__…``) and become placeholders with their content type.

MongoDB adds ``date``; the JSON file keeps no time at all, so its messages get estimated times
one millisecond apart, ending at the file's last change, marked ``at_estimated`` in their
metadata. The PostgreSQL tables are read by :mod:`recuerdo.importers.builderbot_postgres`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from recuerdo.errors import ImportFormatError, InvalidIdentifier
from recuerdo.identity import parse_who
from recuerdo.importers.recording import Sourced
from recuerdo.importers.report import ImportReport, ParseProblem
from recuerdo.model import ContentType, NewMessage, Role

FLOW_MARKERS = frozenset({"__call_action__", "__goto_flow__", "__capture_only_intended__"})
_ANSWER_OPTIONS = ("media", "buttons", "capture", "delay")
_EVENT = re.compile(r"_event_(?P<kind>[a-z_]+?)__")
_EVENTS: dict[str, tuple[ContentType, str]] = {
    "media": (ContentType.OTHER, "<media received>"),
    "document": (ContentType.DOCUMENT, "<document received>"),
    "voice_note": (ContentType.AUDIO, "<voice note received>"),
    "location": (ContentType.LOCATION, "<location received>"),
    "contacts": (ContentType.CONTACT, "<contact received>"),
    "order": (ContentType.OTHER, "<order received>"),
    "template": (ContentType.OTHER, "<template received>"),
    "call": (ContentType.OTHER, "<call received>"),
}
_MEDIA_TYPES: dict[str, ContentType] = {
    **dict.fromkeys(["jpg", "jpeg", "png", "webp", "gif", "heic"], ContentType.IMAGE),
    **dict.fromkeys(["mp4", "3gp", "mov", "avi", "mkv"], ContentType.VIDEO),
    **dict.fromkeys(["mp3", "ogg", "opus", "m4a", "aac", "wav", "amr"], ContentType.AUDIO),
}


def entry_role(entry: Mapping[str, Any]) -> Role | None:
    """``assistant`` for a bot answer, ``user`` for the client's message, ``None`` for a flow
    marker that was never a message.

    >>> entry_role({"ref": "ans_1", "answer": "Hola"})
    <Role.ASSISTANT: 'assistant'>
    >>> entry_role({"ref": "9b1f", "keyword": "5d41", "answer": "quiero pizza", "options": {}})
    <Role.USER: 'user'>
    >>> entry_role({"ref": "ans_2", "answer": "__call_action__"}) is None
    True
    """
    answer = entry.get("answer")
    if isinstance(answer, str) and answer in FLOW_MARKERS:
        return None
    ref = str(entry.get("ref") or "")
    if ref.startswith("key_"):
        return None  # a flow's trigger definition, never sent to anyone
    if ref.startswith("ans_"):
        return Role.ASSISTANT
    options = entry.get("options")
    if isinstance(options, Mapping) and any(k in options for k in _ANSWER_OPTIONS):
        return Role.ASSISTANT  # flowDynamic / endFlow messages carry the answer options
    return Role.USER


def entry_to_message(
    entry: Mapping[str, Any],
    *,
    who: str,
    at: datetime,
    external_id: str,
    source: str,
    extra: Mapping[str, Any] | None = None,
) -> NewMessage | None:
    """The :class:`NewMessage` for one history entry, or ``None`` when it is no message (a
    flow marker, or an empty answer).

    >>> from datetime import UTC, datetime
    >>> entry = {"ref": "ans_1", "answer": "Mira el menú", "options": {"media": "https://x.co/m.jpg"}}
    >>> m = entry_to_message(entry, who="573001234567", at=datetime(2024, 1, 1, tzinfo=UTC),
    ...                      external_id="bb:1", source="builderbot-json")
    >>> m.role, m.content, m.content_type, m.metadata["media"]
    (<Role.ASSISTANT: 'assistant'>, 'Mira el menú', 'image', 'https://x.co/m.jpg')
    """
    role = entry_role(entry)
    if role is None:
        return None
    answer = entry.get("answer")
    text = " ".join(answer) if isinstance(answer, list) else str(answer or "")
    text = text.strip()
    content_type = ContentType.TEXT
    metadata: dict[str, Any] = {"source": source}
    for key in ("ref", "keyword"):
        if isinstance(entry.get(key), str):
            metadata[key] = entry[key]
    options = entry.get("options")
    media = options.get("media") if isinstance(options, Mapping) else None
    if isinstance(media, str) and media:
        content_type = _media_type(media)
        metadata["media"] = media
        text = text or f"<{content_type.value} sent: {media}>"
    buttons = options.get("buttons") if isinstance(options, Mapping) else None
    if isinstance(buttons, list) and buttons:
        metadata["buttons"] = [b.get("body") if isinstance(b, Mapping) else b for b in buttons]
    event = _EVENT.match(text)
    if event is not None:
        content_type, text = _EVENTS.get(event["kind"], (ContentType.OTHER, "<event received>"))
    if not text:
        return None
    metadata.update(extra or {})
    return NewMessage(
        who=who,
        role=role,
        content=text,
        at=at,
        external_id=external_id,
        content_type=content_type.value,
        metadata=metadata,
    )


def _media_type(url: str) -> ContentType:
    extension = url.split("?", 1)[0].rsplit(".", 1)[-1].lower()
    return _MEDIA_TYPES.get(extension, ContentType.DOCUMENT)


def hash_id(prefix: str, *parts: object) -> str:
    """A deterministic external id from the parts that identify an entry.

    >>> hash_id("builderbot-json:", "573001234567", "ans_1", 0)[:24]
    'builderbot-json:c7a69a25'
    """
    material = "\x1f".join(str(p) for p in parts)
    return prefix + hashlib.sha256(material.encode()).hexdigest()[:32]


def client_who(raw: object) -> str:
    """The client reference of an entry, checked; :class:`InvalidIdentifier` if unusable.

    >>> client_who(573001234567)
    '573001234567'
    """
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise InvalidIdentifier(f"no client number (got {raw!r})")
    who = str(raw)
    parse_who(who)
    return who


# -- the JSON database file (@builderbot/database-json) ----------------------------------------


def read_builderbot_json(
    path: str | os.PathLike[str],
    *,
    last_at: datetime | None = None,
    report: ImportReport | None = None,
) -> Iterator[Sourced | ParseProblem]:
    """Messages of a BuilderBot ``db.json`` in order, as ``(NewMessage, entry_number)`` pairs.

    The file keeps no times: the last entry gets ``last_at`` (default: the file's modification
    time) and each earlier one a millisecond less, so order survives. Ids come from the client,
    the entry and how many identical entries came before, so re-importing a grown file adds
    only the new entries.

    >>> import json, tempfile
    >>> entries = [{"ref": "ans_1", "keyword": "key_1", "answer": "Hola", "from": "573001234567",
    ...             "options": {"capture": True}}]
    >>> path = Path(tempfile.mkdtemp()) / "db.json"
    >>> _ = path.write_text(json.dumps(entries))
    >>> [(m.role, m.content) for m, _ in read_builderbot_json(path)]
    [(<Role.ASSISTANT: 'assistant'>, 'Hola')]
    """
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFormatError(
            f"{file}: not a BuilderBot JSON database ({exc})", received=str(file)
        ) from None
    if not isinstance(data, list):
        raise ImportFormatError(
            f"{file}: a BuilderBot JSON database is a list of history entries, "
            f"found {type(data).__name__}",
            received=str(file),
        )
    end = last_at or datetime.fromtimestamp(file.stat().st_mtime, UTC)
    seen: Counter[tuple[str, str, str]] = Counter()
    for number, entry in enumerate(data, start=1):
        if not isinstance(entry, Mapping):
            yield ParseProblem(str(file), number, repr(entry)[:200], "entry is not an object")
            continue
        try:
            who = client_who(entry.get("from"))
        except InvalidIdentifier as exc:
            yield ParseProblem(str(file), number, repr(entry)[:200], exc.message)
            continue
        key = (who, str(entry.get("ref")), json.dumps(entry.get("answer"), ensure_ascii=False))
        occurrence = seen[key]
        seen[key] += 1
        message = entry_to_message(
            entry,
            who=who,
            at=end - timedelta(milliseconds=len(data) - number),
            external_id=hash_id("builderbot-json:", *key, occurrence),
            source="builderbot-json",
            extra={"at_estimated": True},
        )
        if message is None:
            if report is not None:
                report.skipped += 1
            continue
        yield message, number


# -- MongoDB `history` collection, exported with mongoexport -----------------------------------


def _extended_json(obj: dict[str, Any]) -> Any:
    """Decode MongoDB extended JSON (canonical and relaxed) as ``json.loads`` builds objects."""
    if len(obj) == 1:
        (key, value), *_ = obj.items()
        if key == "$oid":
            return str(value)
        if key == "$date":
            return _mongo_date(value)
        if key in ("$numberInt", "$numberLong"):
            return int(value)
        if key == "$numberDouble":
            return float(value)
        if key == "$numberDecimal":
            return str(value)
    return obj


def _mongo_date(value: Any) -> datetime:
    if isinstance(value, Mapping):
        value = int(value["$numberLong"])
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_builderbot_mongo_export(
    path: str | os.PathLike[str], *, report: ImportReport | None = None
) -> Iterator[Sourced | ParseProblem]:
    """Messages of ``mongoexport --collection=history`` JSON lines, as ``(NewMessage, line_no)``.

    The time is the document's ``date`` (else its ObjectId's creation second); the id is
    ``builderbot-mongo:<ObjectId>``. A line that is not a history document is reported with its
    line number and the rest is read.

    Example (after ``mongoexport --db=bot --collection=history --out=history.json``)::

        report = ImportReport()
        await record_in_batches(
            memory, read_builderbot_mongo_export("history.json", report=report), report,
            file="history.json",
        )
    """
    file = Path(path)
    with file.open("rb") as fp:
        for line_no, raw in enumerate(fp, start=1):
            text = raw.decode("utf-8", "replace").strip()
            if not text:
                continue
            try:
                doc = json.loads(text, object_hook=_extended_json)
            except (json.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
                yield ParseProblem(str(file), line_no, text[:200], f"not a JSON document ({exc})")
                continue
            if not isinstance(doc, Mapping):
                yield ParseProblem(str(file), line_no, text[:200], "not a JSON object")
                continue
            try:
                who = client_who(doc.get("from"))
            except InvalidIdentifier as exc:
                yield ParseProblem(str(file), line_no, text[:200], exc.message)
                continue
            oid = doc.get("_id")
            at = doc.get("date")
            if not isinstance(at, datetime) and isinstance(oid, str) and len(oid) == 24:
                at = datetime.fromtimestamp(int(oid[:8], 16), UTC)
            if not isinstance(at, datetime):
                yield ParseProblem(str(file), line_no, text[:200], "no date and no ObjectId")
                continue
            external_id = (
                f"builderbot-mongo:{oid}"
                if isinstance(oid, str)
                else hash_id("builderbot-mongo:", who, at.isoformat(), doc.get("answer"))
            )
            message = entry_to_message(
                doc, who=who, at=at, external_id=external_id, source="builderbot-mongo"
            )
            if message is None:
                if report is not None:
                    report.skipped += 1
                continue
            yield message, line_no
