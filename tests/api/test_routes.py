"""Every route of the HTTP API, its errors included, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from tests.api.conftest import Api

PHONE = "573003913251"
JID = f"{PHONE}@s.whatsapp.net"
PROBLEM = "application/problem+json"


def path(who: str) -> str:
    return f"/v1/clients/{quote(who, safe='')}"


async def test_health_and_docs(api: Api) -> None:
    async with api.client() as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/readyz")).json() == {"status": "ready"}
        spec = (await http.get("/openapi.json")).json()
        assert "/v1/clients/{who}/messages" in spec["paths"]
        assert (await http.get("/docs")).status_code == 200


async def test_thread_set_and_get(api: Api) -> None:
    async with api.client(api.bot) as http:
        unknown = await http.get(path(JID) + "/thread")
        assert unknown.json() == {"client_id": None, "thread_id": None, "provider": None}
        saved = await http.put(
            path(JID) + "/thread", json={"thread_id": "thread_1", "provider": "openai"}
        )
        assert saved.status_code == 200
        assert saved.json()["thread_id"] == "thread_1"
        got = await http.get(path("+57 300 391 3251") + "/thread")
        assert got.json()["thread_id"] == "thread_1"
        assert got.json()["provider"] == "openai"


async def test_record_is_201_then_200_for_the_same_provider_id(api: Api) -> None:
    async with api.client(api.bot) as http:
        body = {"role": "user", "content": "Hola", "external_id": "wamid.1"}
        first = await http.post(path(JID) + "/messages", json=body)
        assert first.status_code == 201
        again = await http.post(path(JID) + "/messages", json={**body, "content": "otra"})
        assert again.status_code == 200
        assert again.json() == first.json()
        keyed = await http.post(
            path(JID) + "/messages",
            json={"role": "assistant", "content": "¡Hola!"},
            headers={"Idempotency-Key": "retry-123"},
        )
        repeat = await http.post(
            path(JID) + "/messages",
            json={"role": "assistant", "content": "¡Hola!"},
            headers={"Idempotency-Key": "retry-123"},
        )
        assert (keyed.status_code, repeat.status_code) == (201, 200)
        assert keyed.json()["external_id"] == "retry-123"
    assert (await api.memory.client(PHONE)).total_messages == 2


async def test_batch(api: Api) -> None:
    async with api.client(api.bot) as http:
        messages = [
            {"who": PHONE, "role": "user", "content": "uno", "external_id": "b1"},
            {"who": "573001112233", "role": "user", "content": "dos", "external_id": "b2"},
            {"who": PHONE, "role": "user", "content": "uno", "external_id": "b1"},
        ]
        answer = await http.post("/v1/messages/batch", json={"messages": messages})
        assert answer.status_code == 200
        created = [r["created"] for r in answer.json()["results"]]
        assert sorted(created) == [False, True, True]
        bad = await http.post(
            "/v1/messages/batch",
            json={
                "messages": [
                    {"who": PHONE, "role": "user", "content": "x"},
                    {"who": "nope", "role": "user", "content": "y"},
                ]
            },
        )
        assert bad.status_code == 422
        assert bad.json()["code"] == "invalid-identifier"
        assert "item 1" in bad.json()["detail"]
    assert (await api.memory.client(PHONE)).total_messages == 1


async def test_history_client_conversations_and_patch(api: Api) -> None:
    async with api.client(api.bot) as http:
        for i in range(5):
            await http.post(path(PHONE) + "/messages", json={"role": "user", "content": f"m{i}"})
    async with api.client(api.operator) as http:
        page = await http.get(path(PHONE) + "/messages", params={"limit": 3})
        assert [m["content"] for m in page.json()["items"]] == ["m4", "m3", "m2"]
        older = await http.get(
            path(PHONE) + "/messages", params={"limit": 3, "before": page.json()["next_cursor"]}
        )
        assert [m["content"] for m in older.json()["items"]] == ["m1", "m0"]
        assert older.json()["next_cursor"] is None
        client = (await http.get(path(PHONE))).json()
        assert client["total_messages"] == 5 and client["phone"] == PHONE
        patched = await http.patch(
            path(PHONE),
            json={"customer_name": "María", "add_tags": ["vip"], "attributes": {"ciudad": "Cali"}},
        )
        assert patched.json()["name"] == "María" and patched.json()["tags"] == ["vip"]
        listed = await http.get("/v1/clients", params={"tag": "vip"})
        assert [c["phone"] for c in listed.json()["items"]] == [PHONE]
        conversations = await http.get(path(PHONE) + "/conversations")
        assert conversations.json()["items"][0]["counts"]["user"] == 5
        missing = await http.get(path("573009999999"))
        assert missing.status_code == 404
        assert missing.json()["code"] == "client-not-found"
        assert missing.headers["content-type"] == PROBLEM


async def test_handoff(api: Api) -> None:
    async with api.client(api.bot) as http:
        assert (await http.get(path(PHONE) + "/handoff")).json()["paused"] is False
        paused = await http.post(path(PHONE) + "/handoff", json={"by": "ana", "reason": "reclamo"})
        assert paused.json()["paused"] is True and paused.json()["by"] == "ana"
        assert (await http.get(path(JID) + "/handoff")).json()["paused"] is True
        assert (await http.delete(path(PHONE) + "/handoff")).json()["paused"] is False
    async with api.client(api.operator) as http:
        assert (await http.post(path(PHONE) + "/handoff", json={"by": "ana"})).status_code == 200


async def test_keys_create_list_revoke(api: Api) -> None:
    async with api.client(api.admin) as http:
        created = await http.post("/v1/keys", json={"name": "bot 2", "scope": "bot"})
        assert created.status_code == 201
        key = created.json()["key"]
        listed = (await http.get("/v1/keys")).json()["items"]
        assert "key" not in listed[0]
        assert any(k["name"] == "bot 2" for k in listed)
        async with api.client(key) as bot:
            assert (await bot.get(path(PHONE) + "/thread")).status_code == 200
        from recuerdo import keys

        keys._cache.clear()
        assert (await http.delete(f"/v1/keys/{created.json()['id']}")).status_code == 204
        assert (await http.delete(f"/v1/keys/{created.json()['id']}")).status_code == 404
        async with api.client(key) as bot:
            revoked = await bot.get(path(PHONE) + "/thread")
            assert revoked.status_code == 401


@pytest.mark.parametrize(
    ("key_name", "method", "url", "status", "code"),
    [
        (None, "GET", "/v1/clients/573003913251/thread", 401, "unauthorized"),
        ("wrong", "GET", "/v1/clients/573003913251/thread", 401, "unauthorized"),
        ("bot", "GET", "/v1/clients/573003913251/messages", 403, "forbidden"),
        ("bot", "GET", "/v1/keys", 403, "forbidden"),
        ("operator", "POST", "/v1/keys", 403, "forbidden"),
        ("operator", "GET", "/v1/clients/573003913251/messages?before=zzz", 422, "invalid-cursor"),
    ],
)
async def test_auth_and_scope_errors(
    api: Api, key_name: str | None, method: str, url: str, status: int, code: str
) -> None:
    key = (
        {"wrong": "rcd_nope", None: None}[key_name]
        if key_name in ("wrong", None)
        else getattr(api, key_name or "bot")
    )
    await api.memory.record_message(PHONE, "user", "hola")
    async with api.client(key) as http:
        answer = await http.request(method, url, json={"name": "x", "scope": "bot"})
    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["code"] == code
    assert problem["type"].endswith(code)
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    ("who", "body", "raw", "status", "code"),
    [
        ("hola", {"role": "user", "content": "x"}, None, 422, "invalid-identifier"),
        ("573003913251@g.us", {"role": "user", "content": "x"}, None, 422, "invalid-identifier"),
        (PHONE, {"role": "robot", "content": "x"}, None, 422, "invalid-role"),
        (PHONE, {"role": "user", "content": ""}, None, 422, "invalid-content"),
        (
            PHONE,
            {"role": "user", "content": "x", "at": "2026-01-01T10:00:00"},
            None,
            422,
            "naive-datetime",
        ),
        (PHONE, {"role": "user", "content": "x", "extra": 1}, None, 422, "validation-error"),
        (PHONE, None, b'{"role": "user", "content": ', 400, "invalid-json"),
        (
            PHONE,
            None,
            b'{"role": "user", "content": "' + b"x" * 300_000 + b'"}',
            413,
            "payload-too-large",
        ),
        (PHONE, {"role": "user", "content": "x" * 70_001}, None, 422, "validation-error"),
        (PHONE, {"role": "user", "content": "é" * 40_000}, None, 422, "invalid-content"),
    ],
)
async def test_bad_messages_are_clear_problems_and_store_nothing(
    api: Api, who: str, body: dict[str, object] | None, raw: bytes | None, status: int, code: str
) -> None:
    async with api.client(api.bot) as http:
        kwargs = (
            {"json": body}
            if body is not None
            else {"content": raw, "headers": {"content-type": "application/json"}}
        )
        answer = await http.post(path(who) + "/messages", **kwargs)  # type: ignore[arg-type]
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["code"] == code
    assert answer.json()["detail"]
    assert (await api.memory.clients()).items == ()


async def test_access_log_masks_phones_and_never_shows_content(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="recuerdo")
    async with api.client(api.bot) as http:
        await http.post(
            path(JID) + "/messages", json={"role": "user", "content": "mi cédula 1234567"}
        )
        await http.get(path("+57 300 391 3251") + "/thread")
    text = caplog.text
    assert "573*****251" in text
    assert PHONE not in text and "300 391" not in text and "3003913251" not in text
    assert "cédula" not in text and "1234567" not in text
