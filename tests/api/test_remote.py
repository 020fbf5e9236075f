"""RemoteMemory answers like Memory, errors included, over a real loopback server."""

from __future__ import annotations

import pytest

from recuerdo import (
    ClientNotFound,
    InvalidContent,
    InvalidIdentifier,
    InvalidRole,
    NewMessage,
    PermissionDenied,
    RemoteMemory,
    Role,
)
from tests.api.conftest import Api

PHONE = "573003913251"


async def test_remote_and_local_memory_agree(api: Api) -> None:
    async with RemoteMemory(api.base_url, api.admin) as remote:
        assert await remote.get_thread_id(PHONE) is None
        client = await remote.save_thread_id(f"{PHONE}@s.whatsapp.net", "thread_1", "openai")
        assert client.thread_id == "thread_1"
        first = await remote.record_message(PHONE, Role.USER, "Hola", external_id="w1")
        again = await remote.record_message(PHONE, "user", "Hola", external_id="w1")
        assert first.created and not again.created and again.message == first.message
        batch = await remote.record_many(
            [NewMessage(PHONE, "assistant", "¡Hola!"), NewMessage("573001112233", "user", "x")]
        )
        assert [r.created for r in batch] == [True, True]
        page = await remote.history(PHONE, limit=1)
        older = await remote.history(PHONE, limit=5, before=page.next_cursor)
        assert [m.content for m in page.items + older.items] == ["¡Hola!", "Hola"]
        assert (await remote.history(PHONE, roles=[Role.USER])).items[0].content == "Hola"
        local = await api.memory.client(PHONE)
        remote_client = await remote.client(PHONE)
        assert remote_client.total_messages == local.total_messages == 2
        assert remote_client.identifiers == local.identifiers
        updated = await remote.update_client(PHONE, customer_name="Ana", add_tags=["vip"])
        assert updated.name == "Ana" and updated.tags == ("vip",)
        assert [c.phone for c in (await remote.clients(tag="vip")).items] == [PHONE]
        assert (await remote.conversations(PHONE)).items[0].thread_id == "thread_1"
        assert (await remote.pause_bot(PHONE, by="ana")).paused
        assert await remote.bot_paused(PHONE)
        assert not (await remote.resume_bot(PHONE)).paused
        assert await remote.find_client("573009999999") is None


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda r: r.record_message("hola", "user", "x"), InvalidIdentifier),
        (lambda r: r.record_message(PHONE, "user", "  "), InvalidContent),
        (lambda r: r.client("573009999999"), ClientNotFound),
    ],
)
async def test_remote_raises_the_same_errors(api: Api, call, error) -> None:  # type: ignore[no-untyped-def]
    async with RemoteMemory(
        api.base_url, api.bot if error is not ClientNotFound else api.operator
    ) as remote:
        with pytest.raises(error):
            await call(remote)


async def test_remote_role_and_scope_errors(api: Api) -> None:
    async with RemoteMemory(api.base_url, api.bot) as remote:
        with pytest.raises(PermissionDenied):
            await remote.history(PHONE)
        with pytest.raises(InvalidRole):
            await remote.record_message(PHONE, "robot", "x")
        with pytest.raises(InvalidIdentifier) as info:
            await remote.get_thread_id("x@g.us")
        assert info.value.details["status"] == 422
