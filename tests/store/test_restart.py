"""A process killed with SIGKILL loses nothing whose call had returned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from recuerdo import Memory

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from recuerdo import Memory

    async def main(url):
        memory = await Memory.open(url)
        async def client(n):
            phone = f"57300100{n:04d}"
            await memory.save_thread_id(phone, f"thread_{n}")
            print(f"thread {phone} thread_{n}", flush=True)
            i = 0
            while True:
                await memory.record_message(phone, "user", f"m{i}", external_id=f"{n}-{i}")
                print(f"ack {phone} {n}-{i}", flush=True)
                i += 1
        await asyncio.gather(*(client(n) for n in range(8)))

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_sigkill_keeps_every_acknowledged_write(db_url: str, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.Popen(
        [sys.executable, str(script), db_url], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    acked: dict[str, set[str]] = {}
    threads: dict[str, str] = {}
    for line in proc.stdout:
        kind, phone, value = line.split()
        if kind == "thread":
            threads[phone] = value
        else:
            acked.setdefault(phone, set()).add(value)
        if sum(len(v) for v in acked.values()) >= 400:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for line in proc.stdout:  # acks printed before the kill landed
        kind, phone, value = line.split()
        if kind == "ack":
            acked.setdefault(phone, set()).add(value)
    proc.stdout.close()

    async with await Memory.open(db_url) as memory:
        assert len(threads) == 8
        for phone, thread in threads.items():
            assert await memory.get_thread_id(phone) == thread
            client = await memory.client(phone)
            stored = (await memory.history(phone, limit=1000)).items
            assert acked.get(phone, set()) <= {m.external_id for m in stored}
            assert client.total_messages == len(stored)
            assert client.total_conversations == 1
            assert len({m.external_id for m in stored}) == len(stored)
        # The database keeps working after the crash.
        again = await memory.record_message("573001000000", "user", "after the crash")
        assert again.created
