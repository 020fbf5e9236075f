"""``recuerdo serve``: the API and the background worker on one event loop, shut down
gracefully (pending writes finish, the worker ends its round, then the database closes)."""

from __future__ import annotations

import asyncio
import gc
import logging

import uvicorn

from recuerdo import keys
from recuerdo.api.app import create_app
from recuerdo.i18n import t
from recuerdo.jobs.worker import run_worker
from recuerdo.memory import Memory
from recuerdo.search.indexer import run_indexer
from recuerdo.search.settings import SearchSettings
from recuerdo.settings import Settings

log = logging.getLogger("recuerdo")


async def serve(*, host: str, port: int, db: str | None, log_level: str = "info") -> None:
    settings = Settings()
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    memory = await Memory.open(db, settings=settings)
    lang = settings.language
    if not await keys.list_keys(memory):
        created = await keys.create(memory, name="admin", scope="admin")
        print(f"{t('admin-key-created', lang)}:", flush=True)
        print(f"Admin API key: {created.key}", flush=True)
        print(t("how-bot-key", lang), flush=True)
    stop = asyncio.Event()
    background: list[asyncio.Task[None]] = []
    if settings.run_worker_in_serve:
        background.append(
            asyncio.create_task(
                run_worker(memory, stop, interval=settings.worker_interval_s),
                name="recuerdo-worker",
            )
        )
        background.append(
            asyncio.create_task(
                run_indexer(memory, stop, SearchSettings().indexer_interval_s),
                name="recuerdo-search-indexer",
            )
        )

    async def shutdown() -> None:
        stop.set()
        for task in background:
            await task
        await memory.close()

    app = create_app(memory, on_shutdown=shutdown)
    # A request allocates many short-lived objects; with CPython's default thresholds the
    # collector runs every few requests and scans everything loaded at start-up (measured:
    # 15-25% of a busy server's time). Freeze the start-up objects and collect less often.
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    config = uvicorn.Config(
        app, host=host, port=port, access_log=False, log_level=log_level, lifespan="on"
    )
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"{t('serving', lang)} http://{shown}:{port}  ({t('console-at', lang)} /docs)", flush=True
    )
    try:
        await server.serve()
    finally:
        if not stop.is_set():  # the server never started (port taken): stop the rest here
            await shutdown()
