"""WhatsApp export import benchmark: throughput and memory.

Generates a synthetic 1:1 Android export (a shop and a client; some multi-line messages, media
placeholders, repeated texts) in a temporary folder, then measures:

1. throughput: ``import_whatsapp`` as a user runs it (a survey pass, then parsing, role
   mapping, ids and checks — in two worker processes for a file this big, each reading every
   other span of it — while this process stores into a fresh SQLite database) in messages/s,
   as a ratio to raw ``sqlite3`` ``executemany`` of the same rows (who, role, content, time,
   external id, content type, metadata; a UNIQUE external id, as the store keeps) in one
   transaction, with the same journal mode and synchronous setting, in the same run. Target:
   at least 0.3x.
2. memory: peak resident memory of a fresh process (plus its workers') importing an export of
   a tenth of the messages and one of all of them, 10x bigger (target: at most 1.2x), with
   workers and in one process, and of parsing alone at the full size and 10x it.

Run: ``python bench/import_bench.py`` (1,000,000 messages, three throughput rounds whose median
ratio is reported; ``--messages``, ``--rounds``, ``--memory-base`` and ``--skip-parse-memory``
make it shorter). Prints one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BUSINESS = "Tienda Sol"
CLIENT = "Ana Pérez"
PHONE = "+57 300 123 4567"
START = datetime(2019, 1, 1, 8, 0)
TEXTS = [
    "Hola, ¿tienen domicilio a Chapinero?",
    "¡Hola! Sí, entregamos en toda Bogotá en menos de 2 horas.",
    "ok",
    "¿Cuánto cuesta la pizza grande de pepperoni con borde de queso?",
    "La grande cuesta $42.000 y el borde de queso $6.000 adicionales.",
    "imagen omitida",
    "Perfecto, la quiero para las 7 p. m.\nDirección: Calle 63 # 9-15, apto 502",
    "Listo, tu pedido quedó registrado. Número de orden 48213.",
    "gracias 🙏",
    "Ubicación: https://maps.google.com/?q=4.6486,-74.0628",
]


def message_rows(count: int) -> Iterator[tuple[datetime, str, str]]:
    """(local time, author, text) of the synthetic chat, deterministic."""
    for n in range(count):
        at = START + timedelta(seconds=37 * n)
        author = CLIENT if n % 2 == 0 else BUSINESS
        yield at, author, TEXTS[(n * 7 + n // 3) % len(TEXTS)]


def write_export(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fp:
        for at, author, text in message_rows(count):
            fp.write(f"{at:%d/%m/%y, %H:%M} - {author}: {text}\n")


def raw_rows(count: int) -> Iterator[tuple[str, str, str, str, str, str, str]]:
    """The rows the import stores, built without the importer (for the raw baseline)."""
    for n, (at, author, text) in enumerate(message_rows(count)):
        role = "user" if author == CLIENT else "assistant"
        stamp = at.replace(second=0, tzinfo=UTC).isoformat()
        meta = '{"source": "whatsapp-export", "author": "' + author + '"}'
        yield "573001234567", role, text, stamp, f"wa-export:{n:032x}", "text", meta


def raw_executemany(db: Path, count: int, synchronous: str) -> float:
    """Seconds to insert ``count`` rows with one executemany in one transaction."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, who TEXT, role TEXT, content TEXT, "
        "at TEXT, external_id TEXT UNIQUE, content_type TEXT, metadata TEXT)"
    )
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO messages (who, role, content, at, external_id, content_type, metadata) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        raw_rows(count),
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


async def run_import(export: Path, db: Path, worker: bool | None) -> dict[str, object]:
    from recuerdo import Memory
    from recuerdo.importers import import_whatsapp

    memory = await Memory.open(f"sqlite:///{db}")
    try:
        started = time.perf_counter()
        report = await import_whatsapp(
            memory, [export], business=BUSINESS, phone=PHONE, worker=worker
        )
        elapsed = time.perf_counter() - started
    finally:
        await memory.close()
    return {
        "seconds": elapsed,
        "imported": report.imported,
        "duplicates": report.duplicates,
        "problems": report.problem_count,
    }


def run_parse(export: Path) -> dict[str, object]:
    from recuerdo.importers import ParseProblem, parse_export, plan_roles, survey_export
    from recuerdo.importers.whatsapp_roles import to_new_messages

    started = time.perf_counter()
    survey = survey_export(export)
    plan = plan_roles(survey, business=BUSINESS, phone=PHONE)
    messages = problems = 0
    for item in to_new_messages(parse_export(export, survey=survey), plan):
        if isinstance(item, ParseProblem):
            problems += 1
        else:
            messages += 1
    return {"seconds": time.perf_counter() - started, "messages": messages, "problems": problems}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class ChildPeaks(threading.Thread):
    """Peak resident memory of each child process (the import workers), read from
    ``/proc/PID/status`` (VmHWM) every 0.05 s while they run (new children are looked for every
    0.5 s). ``getrusage`` tells only the largest child's, and counts in it the parent's memory
    at the fork."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peaks: dict[int, float] = {}
        self._done = threading.Event()

    def run(self) -> None:
        tick = 0
        while not self._done.wait(0.05):
            if tick % 10 == 0:
                for pid in self._children():
                    self.peaks.setdefault(pid, 0.0)
            tick += 1
            for pid in list(self.peaks):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peaks[pid] = max(self.peaks[pid], int(line.split()[1]) / 1024)

    @staticmethod
    def _children() -> list[int]:
        me, found = str(os.getpid()), []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if stat.rsplit(")", 1)[1].split()[1] == me:
                    found.append(int(entry))
        return found

    def stop(self) -> float:
        """The sum of the children's peaks, in MB."""
        self._done.set()
        self.join()
        return sum(self.peaks.values())


def child(mode: str, count: int, folder: Path) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter, so its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--messages", str(count), "--dir", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def child_main(mode: str, count: int, folder: Path) -> None:
    export = folder / f"export-{count}.txt"
    if not export.exists():
        write_export(export, count)
    before = peak_rss_mb()
    children = ChildPeaks()
    children.start()
    if mode.startswith("import"):
        db = folder / f"import-{count}-{os.getpid()}.db"
        worker = {"import": None, "import-worker": True, "import-inprocess": False}[mode]
        result = asyncio.run(run_import(export, db, worker))
    else:
        result = run_parse(export)
    workers_peak = children.stop()
    main_peak = peak_rss_mb()
    result.update(
        {
            "mode": mode,
            "messages_in_file": count,
            "rss_before_mb": before,
            "peak_mb": main_peak,
            "workers_peak_mb": workers_peak,
            "total_peak_mb": main_peak + workers_peak,
        }
    )
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument(
        "--memory-base",
        type=int,
        default=0,
        help="messages of the smaller export in the import memory check (default: a tenth)",
    )
    parser.add_argument("--skip-parse-memory", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds (median kept)")
    parser.add_argument(
        "--child",
        choices=["import", "import-worker", "import-inprocess", "parse"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.messages, args.dir)
        return

    from recuerdo.settings import Settings

    synchronous = Settings().sqlite_synchronous
    with tempfile.TemporaryDirectory(prefix="recuerdo-import-bench-") as tmp:
        folder = Path(tmp)
        count = args.messages
        # Rounds of (import, raw baseline) back to back; the ratio reported is the median
        # round's: a slow spell of a shared machine hits one round, not all.
        rounds = []
        for r in range(args.rounds):
            imported = child("import", count, folder)
            raw_seconds = raw_executemany(folder / f"raw-{r}.db", count, synchronous)
            rounds.append((count / float(imported["seconds"]), count / raw_seconds, imported))
        rounds.sort(key=lambda r: r[0] / r[1])
        import_rate, raw_rate, imported = rounds[len(rounds) // 2]
        base = args.memory_base or count // 10
        memory: dict[str, object] = {"base_messages": base, "target_ratio": 1.2}
        # Each way of importing at both sizes: peak of this process plus its workers'.
        for mode in ("import-worker", "import-inprocess"):
            small = child(mode, base, folder)
            large = child(mode, base * 10, folder)
            memory[mode.removeprefix("import-")] = {
                "base_peak_mb": round(float(small["total_peak_mb"]), 1),
                "ten_x_peak_mb": round(float(large["total_peak_mb"]), 1),
                "ratio": round(float(large["total_peak_mb"]) / float(small["total_peak_mb"]), 3),
            }
        results: dict[str, object] = {
            "messages": count,
            "sqlite_synchronous": synchronous,
            "import": imported,
            "import_messages_per_s": round(import_rate),
            "raw_executemany_messages_per_s": round(raw_rate),
            "ratio_to_raw": round(import_rate / raw_rate, 3),
            "rounds": [
                {"import_per_s": round(i), "raw_per_s": round(r), "ratio": round(i / r, 3)}
                for i, r, _ in rounds
            ],
            "target_ratio": 0.3,
            "import_memory": memory,
        }
        if not args.skip_parse_memory:
            base = child("parse", count, folder)
            ten = child("parse", count * 10, folder)
            results["parse_memory"] = {
                "messages": count,
                "base_peak_mb": base["peak_mb"],
                "ten_x_peak_mb": ten["peak_mb"],
                "ratio": round(float(ten["peak_mb"]) / float(base["peak_mb"]), 3),
                "parse_messages_per_s": round(count / float(base["seconds"])),
            }
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
