"""Write throughput of ``Memory.record_message`` against the raw driver, in one run.

Baselines, same engine and durability: sqlite3 (WAL) / asyncpg doing one INSERT + commit per
message, one at a time. recuerdo does more per message (client, conversation, counters), one
caller at a time and from 64 concurrent callers. LangChain's SQLChatMessageHistory adds the same
messages one at a time, when langchain-community is installed.

    python bench/store_write_bench.py [--messages 4000] [--pg postgresql://…] [--out bench/results]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recuerdo import Memory, Settings

PHONES = [f"5730010{i:05d}" for i in range(200)]


def raw_sqlite(path: Path, n: int, synchronous: str) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, phone TEXT, at TEXT, role TEXT, "
        "content TEXT, external_id TEXT UNIQUE)"
    )
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO messages (phone, at, role, content, external_id) VALUES (?,?,?,?,?)",
            (PHONES[i % len(PHONES)], datetime.now(UTC).isoformat(), "user", f"hola {i}", f"w{i}"),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


async def raw_postgres(dsn: str, n: int) -> float:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    await conn.execute(
        "DROP TABLE IF EXISTS raw_messages; CREATE TABLE raw_messages (id bigserial PRIMARY KEY, "
        "phone text, at timestamptz, role text, content text, external_id text UNIQUE)"
    )
    start = time.perf_counter()
    for i in range(n):
        await conn.execute(
            "INSERT INTO raw_messages (phone, at, role, content, external_id) "
            "VALUES ($1,$2,$3,$4,$5)",
            PHONES[i % len(PHONES)],
            datetime.now(UTC),
            "user",
            f"hola {i}",
            f"w{i}",
        )
    elapsed = time.perf_counter() - start
    await conn.close()
    return n / elapsed


async def recuerdo_rate(url: str, n: int, concurrency: int, settings: Settings) -> float:
    memory = await Memory.open(url, settings=settings)
    await memory.tenant_id()
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await memory.record_message(
                PHONES[i % len(PHONES)], "user", f"hola {i}", external_id=f"w{i}"
            )

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    await memory.close()
    return n / elapsed


def langchain_rate(path: Path, n: int) -> float | None:
    try:
        from langchain_community.chat_message_histories import SQLChatMessageHistory
        from langchain_core.messages import HumanMessage
    except ImportError:
        return None
    histories = {
        p: SQLChatMessageHistory(session_id=p, connection=f"sqlite:///{path}") for p in PHONES
    }
    start = time.perf_counter()
    for i in range(n):
        histories[PHONES[i % len(PHONES)]].add_message(HumanMessage(content=f"hola {i}"))
    return n / (time.perf_counter() - start)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--pg", help="PostgreSQL server URL (a fresh database is created)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    n = args.messages
    results: dict[str, Any] = {"messages": n, "python": sys.version.split()[0], "runs": {}}
    tmp = Path(tempfile.mkdtemp(prefix="recuerdo-bench-"))
    for sync in ("NORMAL", "FULL"):
        raw = raw_sqlite(tmp / f"raw-{sync}.db", n, sync)
        settings = Settings(sqlite_synchronous=sync)  # type: ignore[arg-type]
        one = await recuerdo_rate(f"sqlite:///{tmp}/one-{sync}.db", n, 1, settings)
        many = await recuerdo_rate(f"sqlite:///{tmp}/many-{sync}.db", n, 64, settings)
        results["runs"][f"sqlite_{sync.lower()}"] = {
            "raw_per_s": round(raw),
            "recuerdo_1_caller_per_s": round(one),
            "recuerdo_64_callers_per_s": round(many),
            "ratio_1_caller": round(one / raw, 2),
            "ratio_64_callers": round(many / raw, 2),
        }
    lc = langchain_rate(tmp / "langchain.db", min(n, 2000))
    if lc is not None:
        normal = results["runs"]["sqlite_normal"]
        results["runs"]["langchain_sqlite_normal"] = {
            "langchain_per_s": round(lc),
            "recuerdo_1_caller_vs_langchain": round(normal["recuerdo_1_caller_per_s"] / lc, 1),
        }
    if args.pg:
        import asyncpg

        admin = await asyncpg.connect(args.pg)
        for name in ("bench_raw", "bench_one", "bench_many"):
            await admin.execute(f"DROP DATABASE IF EXISTS {name}")
            await admin.execute(f"CREATE DATABASE {name}")
        await admin.close()
        base = args.pg.rsplit("/", 1)[0]
        raw = await raw_postgres(f"{base}/bench_raw", n)
        one = await recuerdo_rate(f"{base}/bench_one", n, 1, Settings())
        many = await recuerdo_rate(f"{base}/bench_many", n, 64, Settings())
        results["runs"]["postgres"] = {
            "raw_per_s": round(raw),
            "recuerdo_1_caller_per_s": round(one),
            "recuerdo_64_callers_per_s": round(many),
            "ratio_1_caller": round(one / raw, 2),
            "ratio_64_callers": round(many / raw, 2),
        }
    print(json.dumps(results, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "store_write.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
