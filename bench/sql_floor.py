"""How much of ``record_message``'s time on SQLite is SQL: the statements recuerdo ran, replayed.

Records 5,000 messages as ``store_write_bench.py`` does (one caller, or 64 concurrent callers),
once as it runs and once logging every statement, parameter list and commit of the SQLite
writer; then replays that log with ``sqlite3`` alone on a copy of the database as it was before
the run, in the same durability mode. The replay's rate is what recuerdo would reach with no
Python of its own — the floor its schema and indexes set — and is reported, like the bench, as
a ratio to the raw driver's one-insert-per-commit rate measured in the same run.

    python bench/sql_floor.py [--messages 5000] [--rounds 3] [--out bench/results]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from recuerdo import Memory, Settings

sys.path.insert(0, str(Path(__file__).parent))
from store_write_bench import raw_sqlite, timed_recording

Entry = tuple[str, str, Any]


class LoggingConnection:
    """Passes every call to the writer's connection, logging statements and commits."""

    def __init__(self, conn: sqlite3.Connection, log: list[Entry]) -> None:
        self._conn = conn
        self._log = log

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        self._log.append(("one", sql, list(params)))
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        listed = [list(r) for r in rows]
        self._log.append(("many", sql, listed))
        return self._conn.executemany(sql, listed)

    def commit(self) -> None:
        self._log.append(("commit", "", None))
        self._conn.commit()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def record(
    path: Path, n: int, callers: int, synchronous: str, log: list[Entry] | None
) -> float:
    """recuerdo's rate; with ``log``, the writer's statements are logged (and a copy of the
    database as it was before is kept beside it, ``.start``)."""
    settings = Settings(sqlite_synchronous=synchronous)
    async with await Memory.open(f"sqlite:///{path}", settings=settings) as memory:
        await memory.tenant_id()
    shutil.copy(path, path.with_suffix(".start"))
    memory = await Memory.open(f"sqlite:///{path}", settings=settings)
    await memory.tenant_id()
    if log is not None:
        store: Any = memory.store
        # The replay runs with the writer's checkpoint size too (it differs from SQLite's).
        pages = store._writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        log.append(("one", f"PRAGMA wal_autocheckpoint = {pages}", []))
        store._writer = LoggingConnection(store._writer, log)
    rate = await timed_recording(memory, n, callers)
    await memory.close()
    return rate


def replay(start: Path, path: Path, synchronous: str, log: list[Entry], n: int) -> float:
    shutil.copy(start, path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    began = time.perf_counter()
    for kind, sql, params in log:
        if kind == "one":
            conn.execute(sql, params).fetchall()
        elif kind == "many":
            conn.executemany(sql, params)
        else:
            conn.commit()
    elapsed = time.perf_counter() - began
    conn.close()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    n = args.messages
    results: dict[str, Any] = {"messages": n, "rounds": args.rounds}
    for synchronous in ("NORMAL", "FULL"):
        for callers in (1, 64):
            rows = []
            for _ in range(args.rounds):
                folder = Path(tempfile.mkdtemp(prefix="recuerdo-floor-"))
                rate = asyncio.run(record(folder / "plain.db", n, callers, synchronous, None))
                log: list[Entry] = []
                asyncio.run(record(folder / "a.db", n, callers, synchronous, log))
                raw = raw_sqlite(folder / "raw.db", n, synchronous)
                floor = replay(folder / "a.start", folder / "b.db", synchronous, log, n)
                rows.append((rate / raw, floor / raw))
                shutil.rmtree(folder)
            results[f"{synchronous.lower()}_{callers}_caller{'s' if callers > 1 else ''}"] = {
                "recuerdo_ratio": round(statistics.median(r for r, _ in rows), 2),
                "sql_floor_ratio": round(statistics.median(f for _, f in rows), 2),
                "rounds": [[round(r, 3), round(f, 3)] for r, f in rows],
            }
    print(json.dumps(results, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sql_floor.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
