"""``RemoteMemory``: the same methods and errors as ``Memory``, over the HTTP API.

A Python bot switches between in-process and remote memory by configuration:

>>> memory = RemoteMemory("http://127.0.0.1:8080", api_key="rcd_…")   # doctest: +SKIP
>>> await memory.record_message("573003913251", "user", "Hola")         # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from recuerdo.errors import ALL_ERRORS, RecuerdoError, StorageError
from recuerdo.model import (
    Client,
    Conversation,
    HandledBy,
    Handoff,
    Identifier,
    IdentifierKind,
    Message,
    NewMessage,
    Page,
    Recorded,
    Role,
    require_aware,
)

_BY_CODE: dict[str, type[RecuerdoError]] = {cls.code: cls for cls in ALL_ERRORS}


class RemoteMemory:
    """A client of ``recuerdo serve``. Writes carry idempotency keys, so retries are safe."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
            transport=transport or httpx.AsyncHTTPTransport(retries=retries),
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> RemoteMemory:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def save_thread_id(self, who: str, thread_id: str, provider: str | None = None) -> Client:
        await self._call(
            "PUT", _path(who, "/thread"), json={"thread_id": thread_id, "provider": provider}
        )
        return await self.client(who)

    async def get_thread_id(self, who: str) -> str | None:
        answer = await self._call("GET", _path(who, "/thread"))
        return answer["thread_id"]  # type: ignore[no-any-return]

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
        body = _message_body(
            NewMessage(
                who, role, content, at, thread_id, external_id, content_type, metadata, profile_name
            )
        )
        body["external_id"] = body["external_id"] or f"rm-{uuid.uuid4()}"
        response = await self._request("POST", _path(who, "/messages"), json=body)
        return Recorded(_message(response.json()), response.status_code == 201)

    async def record_many(self, items: Sequence[NewMessage]) -> list[Recorded]:
        bodies = []
        for item in items:
            body = {"who": item.who, **_message_body(item)}
            body["external_id"] = body["external_id"] or f"rm-{uuid.uuid4()}"
            bodies.append(body)
        answer = await self._call("POST", "/v1/messages/batch", json={"messages": bodies})
        return [Recorded(_message(r["message"]), r["created"]) for r in answer["results"]]

    async def store_many(self, items: Sequence[NewMessage]) -> list[bool]:
        return [recorded.created for recorded in await self.record_many(items)]

    async def history(
        self,
        who: str,
        *,
        limit: int = 50,
        before: str | None = None,
        conversation_id: int | None = None,
        roles: Sequence[Role | str] | None = None,
    ) -> Page[Message]:
        params: dict[str, Any] = {"limit": limit}
        if before:
            params["before"] = before
        if conversation_id is not None:
            params["conversation_id"] = conversation_id
        if roles:
            params["role"] = [Role(r).value if isinstance(r, Role) else r for r in roles]
        answer = await self._call("GET", _path(who, "/messages"), params=params)
        return Page(tuple(_message(m) for m in answer["items"]), answer["next_cursor"])

    async def client(self, who: str) -> Client:
        return _client(await self._call("GET", _path(who)))

    async def find_client(self, who: str) -> Client | None:
        try:
            return await self.client(who)
        except RecuerdoError as exc:
            if exc.code == "client-not-found":
                return None
            raise

    async def update_client(
        self,
        who: str,
        *,
        customer_name: str | None = None,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        attributes: dict[str, Any] | None = None,
    ) -> Client:
        body = {
            "customer_name": customer_name,
            "add_tags": list(add_tags),
            "remove_tags": list(remove_tags),
            "attributes": attributes,
        }
        return _client(await self._call("PATCH", _path(who), json=body))

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
        params: dict[str, Any] = {"limit": limit}
        for key, value in (("tag", tag), ("name", name), ("cursor", cursor)):
            if value:
                params[key] = value
        if active_since is not None:
            params["active_since"] = require_aware(active_since, "active_since").isoformat()
        if paused is not None:
            params["paused"] = str(paused).lower()
        answer = await self._call("GET", "/v1/clients", params=params)
        return Page(tuple(_client(c) for c in answer["items"]), answer["next_cursor"])

    async def conversations(
        self, who: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Conversation]:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        answer = await self._call("GET", _path(who, "/conversations"), params=params)
        return Page(tuple(_conversation(c) for c in answer["items"]), answer["next_cursor"])

    async def pause_bot(self, who: str, *, by: str, reason: str | None = None) -> Handoff:
        return _handoff(
            await self._call("POST", _path(who, "/handoff"), json={"by": by, "reason": reason})
        )

    async def resume_bot(self, who: str) -> Handoff:
        return _handoff(await self._call("DELETE", _path(who, "/handoff")))

    async def handoff(self, who: str) -> Handoff:
        return _handoff(await self._call("GET", _path(who, "/handoff")))

    async def bot_paused(self, who: str) -> bool:
        return (await self.handoff(who)).paused

    async def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        return (await self._request(method, url, **kwargs)).json()

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise StorageError(f"{method} {url}: recuerdo is unreachable ({exc})") from exc
        if response.status_code >= 400:
            raise _error(method, url, response)
        return response


def _path(who: str, tail: str = "") -> str:
    return f"/v1/clients/{quote(who, safe='')}{tail}"


def _message_body(item: NewMessage) -> dict[str, Any]:
    return {
        "role": Role.parse(item.role).value,  # the same InvalidRole as Memory, before sending
        "content": item.content,
        "at": require_aware(item.at, "at").isoformat() if item.at else None,
        "thread_id": item.thread_id,
        "external_id": item.external_id,
        "content_type": item.content_type,
        "metadata": item.metadata,
        "profile_name": item.profile_name,
    }


def _error(method: str, url: str, response: httpx.Response) -> RecuerdoError:
    try:
        problem = response.json()
        code, detail = str(problem.get("code", "")), str(problem.get("detail", ""))
    except ValueError:
        code, detail = "", response.text[:200]
    cls = _BY_CODE.get(code, RecuerdoError)
    error = cls(detail or f"{method} {url} answered {response.status_code}")
    error.details.update(status=response.status_code, code=code)
    return error


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _message(data: dict[str, Any]) -> Message:
    return Message(
        id=data["id"],
        client_id=data["client_id"],
        conversation_id=data["conversation_id"],
        thread_id=data["thread_id"],
        at=datetime.fromisoformat(data["at"]),
        role=Role(data["role"]),
        content=data["content"],
        content_type=data["content_type"],
        external_id=data["external_id"],
        metadata=data["metadata"],
    )


def _handoff(data: dict[str, Any]) -> Handoff:
    return Handoff(
        paused=data["paused"], by=data["by"], reason=data["reason"], since=_dt(data["since"])
    )


def _client(data: dict[str, Any]) -> Client:
    identifiers = []
    for text in data["identifiers"]:
        kind, _, value = text.partition(":")
        identifiers.append(Identifier(IdentifierKind(kind), value))
    created = _dt(data["created_at"])
    assert created is not None
    return Client(
        id=data["id"],
        tenant=data["tenant"],
        phone=data["phone"],
        identifiers=tuple(identifiers),
        profile_name=data["profile_name"],
        customer_name=data["customer_name"],
        customer_name_source=None,
        thread_id=data["thread_id"],
        thread_provider=data["thread_provider"],
        created_at=created,
        last_interaction_at=_dt(data["last_interaction_at"]),
        total_conversations=data["total_conversations"],
        total_messages=data["total_messages"],
        tags=tuple(data["tags"]),
        attributes=data["attributes"],
        profile_summary=data["profile_summary"],
        handoff=_handoff(data["handoff"]),
    )


def _conversation(data: dict[str, Any]) -> Conversation:
    started, last = _dt(data["started_at"]), _dt(data["last_message_at"])
    assert started is not None and last is not None
    return Conversation(
        id=data["id"],
        client_id=data["client_id"],
        thread_id=data["thread_id"],
        started_at=started,
        last_message_at=last,
        ended_at=_dt(data["ended_at"]),
        end_reason=data["end_reason"],
        counts=data["counts"],
        handled_by=HandledBy(data["handled_by"]),
        summary=data["summary"],
        summary_status=data["summary_status"],
        outcome=data["outcome"],
        topics=tuple(data["topics"]),
    )
