"""From a parsed WhatsApp chat to messages recuerdo can record: who the client is, who speaks
for the business, and an external id that makes a re-import store nothing twice.

An export names people, not numbers. The caller says which author names are the business
(its bot → ``assistant``) and which are its human agents (→ ``manual_operator``); the one other
author is the client. The client's number comes from the author when the export shows a
number, else from ``phone``.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from recuerdo.errors import InvalidIdentifier, InvalidInput
from recuerdo.identity import parse_who
from recuerdo.importers.report import ParseProblem
from recuerdo.importers.whatsapp import ExportSurvey, ParsedMessage
from recuerdo.model import NewMessage, Role

ID_PREFIX = "wa-export:"
SOURCE = "whatsapp-export"
_PHONE_LIKE = re.compile(r"\+?[\d\s\-().\u00a0\u202f]{7,24}")
# Occurrence counters are kept for this many recent timestamps: enough for exports whose lines
# are slightly out of order, while memory stays flat.
RECENT_TIMESTAMPS = 64


def normalise_name(name: str) -> str:
    """How author names are compared: case, spacing and the "~ " of non-contacts ignored.

    >>> normalise_name("  ~ Tienda   ANA ")
    'tienda ana'
    """
    name = name.strip()
    if name.startswith("~"):
        name = name[1:]
    return " ".join(name.split()).casefold()


@dataclass(frozen=True, slots=True)
class RolePlan:
    """How one export's authors map to roles, and under which client it is filed."""

    who: str
    chat_key: str
    client_author: str | None
    assistants: frozenset[str]
    operators: frozenset[str]
    group: bool

    def role_of(self, author: str | None) -> Role:
        if author is None:
            return Role.SYSTEM
        key = normalise_name(author)
        if key in self.assistants:
            return Role.ASSISTANT
        if key in self.operators:
            return Role.MANUAL_OPERATOR
        return Role.USER


def _authors_text(authors: Counter[str]) -> str:
    if not authors:
        return "no author at all (only system lines)"
    return ", ".join(f"{name!r} ({count})" for name, count in authors.most_common())


def plan_roles(
    survey: ExportSurvey,
    *,
    business: str | Sequence[str],
    operators: Sequence[str] = (),
    phone: str | None = None,
    allow_groups: bool = False,
) -> RolePlan:
    """Decide the roles of an export's authors, or refuse with a clear :class:`InvalidInput`:
    no business name among the authors (the authors found are listed), several clients (a
    group chat) without ``allow_groups``, or a client known only by name without ``phone``.

    A group chat, when allowed, is filed under ``phone`` as one client; each message keeps its
    author's name in its metadata.

    >>> from recuerdo.importers import ExportSource, survey_export
    >>> text = "1/2/24, 10:00 - Ana: hola\\n1/2/24, 10:01 - Tienda: ¡hola!\\n"
    >>> survey = survey_export(ExportSource.from_bytes("c.txt", text.encode()))
    >>> plan = plan_roles(survey, business="Tienda", phone="+57 300 123 4567")
    >>> plan.client_author, plan.role_of("Tienda"), plan.role_of("Ana")
    ('Ana', <Role.ASSISTANT: 'assistant'>, <Role.USER: 'user'>)
    """
    names = [business] if isinstance(business, str) else list(business)
    assistants = frozenset(normalise_name(n) for n in names if n.strip())
    operator_keys = frozenset(normalise_name(n) for n in operators if n.strip())
    if not assistants and not operator_keys:
        raise InvalidInput("name at least one business author (business=...)", received="")
    ours = assistants | operator_keys
    authors = survey.authors
    if not any(normalise_name(a) in ours for a in authors):
        raise InvalidInput(
            f"{survey.name}: none of the business names {sorted(names) + sorted(operators)} "
            f"writes in this chat; the authors are {_authors_text(authors)}",
            received=", ".join(names),
        )
    clients = [a for a in authors if normalise_name(a) not in ours]
    group = len(clients) > 1 or survey.group_notices > 0
    if group and not allow_groups:
        raise InvalidInput(
            f"{survey.name}: this looks like a group chat ({len(clients)} people besides the "
            f"business, {survey.group_notices} group notices); the authors are "
            f"{_authors_text(authors)}. Name the business's people with business=/operators=, "
            "or pass allow_groups=True (with phone=) to file the whole chat under one client",
            received=survey.name,
        )
    client = clients[0] if len(clients) == 1 else None
    who = _client_who(survey, client, phone, group)
    return RolePlan(
        who=who,
        chat_key=parse_who(who, allow_groups=allow_groups).primary.value,
        client_author=client,
        assistants=assistants,
        operators=operator_keys - assistants,
        group=group,
    )


def _client_who(survey: ExportSurvey, client: str | None, phone: str | None, group: bool) -> str:
    if phone is not None:
        try:
            parse_who(phone, allow_groups=group)
        except InvalidIdentifier as exc:
            raise InvalidInput(f"phone={phone!r}: {exc.message}", received=phone) from None
        return phone
    if client is not None and not group and _PHONE_LIKE.fullmatch(client):
        try:
            parse_who(client)
        except InvalidIdentifier:
            pass
        else:
            return client
    shown = f"the client {client!r}" if client else "the client"
    raise InvalidInput(
        f"{survey.name}: {shown} appears by name only; give the client's number with phone=",
        received=client or "",
    )


class ExternalIds:
    """Deterministic external ids: the same message gets the same id in every import.

    The id hashes the chat, the time, the author, the text, and how many identical
    (time, author, text) messages came before it in the file — never the line number, so an
    overlapping export that starts later gives its messages the same ids. The id starts with
    the message's UTC time (``wa-export:20240101000000-…``): ids of a chat then grow with time,
    so the store's unique index on them takes each batch at its end instead of at random pages
    (a hash alone made a large import write a page of that index per message).

    >>> from datetime import UTC, datetime
    >>> ids = ExternalIds("573001234567")
    >>> at = datetime(2024, 1, 1, tzinfo=UTC)
    >>> first, second = ids.next(at, "Ana", "ok"), ids.next(at, "Ana", "ok")
    >>> first != second and first.startswith("wa-export:")
    True
    >>> ExternalIds("573001234567").next(at, "Ana", "ok") == first
    True
    """

    __slots__ = ("_at", "_chat", "_counts", "_prefix", "_seen", "_stamp")

    def __init__(self, chat_key: str) -> None:
        self._chat = chat_key
        self._seen: OrderedDict[datetime, dict[tuple[str, str], int]] = OrderedDict()
        self._at: datetime | None = None
        self._counts: dict[tuple[str, str], int] = {}
        self._prefix = ""
        self._stamp = ID_PREFIX

    def next(self, at: datetime, author: str | None, text: str) -> str:
        if at != self._at:
            counts = self._seen.get(at)
            if counts is None:
                counts = self._seen[at] = {}
                if len(self._seen) > RECENT_TIMESTAMPS:
                    self._seen.popitem(last=False)
            self._at, self._counts = at, counts
            iso = at.isoformat()
            self._prefix = f"{self._chat}\x1f{iso}\x1f"
            if at.utcoffset():
                iso = at.astimezone(UTC).isoformat()
            # YYYYMMDDhhmmss of the UTC time, sliced from the ISO text (strftime costs 3x more)
            stamp = iso[0:4] + iso[5:7] + iso[8:10] + iso[11:13] + iso[14:16] + iso[17:19]
            self._stamp = f"{ID_PREFIX}{stamp}-"
        key = (author or "", text)
        occurrence = self._counts.get(key, 0)
        self._counts[key] = occurrence + 1
        material = f"{self._prefix}{key[0]}\x1f{text}\x1f{occurrence}"
        # 96 bits of SHA-256 after the second it was sent: collisions are out of reach.
        return self._stamp + hashlib.sha256(material.encode()).hexdigest()[:24]


def to_new_messages(
    items: Iterable[ParsedMessage | ParseProblem],
    plan: RolePlan,
    *,
    keep_system: bool = True,
) -> Iterator[tuple[NewMessage, int] | ParseProblem]:
    """Turn parsed items into ``(NewMessage, line_no)`` pairs; problems pass through.

    System lines become ``system`` messages, or are left out with ``keep_system=False`` (their
    ids are still counted, so keeping them later adds exactly the missing ones).

    >>> from recuerdo.importers import ExportSource, parse_export, survey_export
    >>> text = "1/2/24, 10:00 - Ana: hola\\n1/2/24, 10:01 - Tienda: ¡hola!\\n"
    >>> survey = survey_export(ExportSource.from_bytes("c.txt", text.encode()))
    >>> plan = plan_roles(survey, business="Tienda", phone="+57 300 123 4567")
    >>> [(m.role.value, m.content, line) for m, line in
    ...  to_new_messages(parse_export(survey.source, survey=survey), plan)]
    [('user', 'hola', 1), ('assistant', '¡hola!', 2)]
    """
    ids = ExternalIds(plan.chat_key)
    profile = plan.client_author if plan.who != plan.client_author else None
    roles: dict[str | None, Role] = {}
    for item in items:
        if isinstance(item, ParseProblem):
            yield item
            continue
        author = item.author
        external_id = ids.next(item.at, author, item.source_text or item.content)
        if author is None and not keep_system:
            continue
        role = roles.get(author)
        if role is None:
            role = roles[author] = plan.role_of(author)
        metadata: dict[str, object] = {"source": SOURCE, "author": author}
        if item.edited:
            metadata["edited"] = True
        yield (
            NewMessage(
                who=plan.who,
                role=role,
                content=item.content,
                at=item.at,
                external_id=external_id,
                content_type=item.content_type,
                metadata=metadata,
                profile_name=profile if role is Role.USER and not plan.group else None,
            ),
            item.line_no,
        )
