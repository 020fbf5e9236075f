"""A real HTTP server on loopback (uvicorn, in the test's event loop) over each engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from recuerdo import Memory, keys
from recuerdo.api.app import create_app
from tests.pg_server import free_port


@dataclass
class Api:
    base_url: str
    admin: str
    bot: str
    operator: str
    memory: Memory

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=10)


@pytest.fixture
async def api(memory: Memory) -> AsyncIterator[Api]:
    admin = await keys.create(memory, name="admin", scope="admin")
    bot = await keys.create(memory, name="bot", scope="bot")
    operator = await keys.create(memory, name="ana", scope="operator")
    port = free_port()
    config = uvicorn.Config(
        create_app(memory, max_body_bytes=256 * 1024),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield Api(f"http://127.0.0.1:{port}", admin.key, bot.key, operator.key, memory)
    finally:
        server.should_exit = True
        await task
