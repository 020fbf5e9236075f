"""Read latency on a large database: get_thread_id, history(limit=20) and context_for.

Builds (once, cached in --workdir) a SQLite database of --messages messages over --clients
clients (ten-message conversations of realistic customer-service text) plus one client with
5,000 past messages, then measures p50/p99 of:

- ``get_thread_id`` for random clients;
- ``history(limit=20)`` for random clients;
- ``context_for`` (returning-customer note, with relevant-message search) for the big client.

    python bench/read_bench.py [--messages 1000000] [--clients 100000] [--workdir /tmp/rb]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from recuerdo import Memory, NewMessage, Settings
from recuerdo.search.service import SearchService

USER = [
    "Hola, ¿tienen envíos a {city}?",
    "Quiero saber el estado de mi pedido {order}",
    "¿Cuánto cuesta la {item} en talla {size}?",
    "Necesito cambiar la dirección de entrega a {city}",
    "Gracias, quedo atento",
    "Hi, do you ship to {city}?",
    "Me llegó la {item} con un defecto, ¿cómo hago la devolución?",
]
BOT = [
    "Claro, enviamos a {city} en 2 a 3 días hábiles.",
    "Su pedido {order} está en camino; la guía es {guide}.",
    "La {item} en talla {size} cuesta ${price}.",
    "Listo, actualizamos la dirección de entrega.",
    "Con gusto, ¿le ayudo con algo más?",
]
CITIES = ["Bogotá", "Medellín", "Cali", "Barranquilla", "Bucaramanga", "Pereira"]
ITEMS = ["chaqueta", "camisa", "zapatilla", "mochila", "gorra"]
BIG = "573009999999"


def fill(template: str, rnd: random.Random) -> str:
    return template.format(
        city=rnd.choice(CITIES),
        order=f"PED-{rnd.randrange(10000, 99999)}",
        item=rnd.choice(ITEMS),
        size=rnd.choice("SML"),
        guide=rnd.randrange(10**9, 10**10),
        price=rnd.randrange(50, 400) * 1000,
    )


def conversation(phone: str, start: datetime, n: int, rnd: random.Random) -> list[NewMessage]:
    out = []
    for i in range(n):
        role = "user" if i % 2 == 0 else "assistant"
        text = fill(rnd.choice(USER if role == "user" else BOT), rnd)
        out.append(NewMessage(phone, role, text, at=start + timedelta(seconds=40 * i)))
    return out


async def build(url: str, messages: int, clients: int) -> None:
    rnd = random.Random(7)
    settings = Settings(sqlite_synchronous="OFF")  # building only: durability is not measured
    async with await Memory.open(url, settings=settings) as memory:
        base = datetime(2025, 1, 1, tzinfo=UTC)
        per_client = max(1, (messages - 5000) // clients)
        batch: list[NewMessage] = []
        started = time.perf_counter()
        for c in range(clients):
            phone = f"57300{c:07d}"
            batch += conversation(phone, base + timedelta(minutes=c), per_client, rnd)
            if len(batch) >= 2000:
                await memory.record_many(batch)
                batch = []
            if c % 10000 == 0 and c:
                rate = c * per_client / (time.perf_counter() - started)
                print(f"  {c} clients, {rate:.0f} messages/s", flush=True)
        for k in range(500):  # 500 past conversations of 10 messages for the big client
            batch += conversation(BIG, base + timedelta(days=k // 2, hours=12 * (k % 2)), 10, rnd)
            if len(batch) >= 2000:
                await memory.record_many(batch)
                batch = []
        if batch:
            await memory.record_many(batch)
        for c in range(0, clients, 1):
            if c % 3 == 0:
                await memory.save_thread_id(f"57300{c:07d}", f"thread_{c}")
        await memory.close_idle_conversations(datetime.now(UTC))
        # The search index is kept by the background indexer; bring it up to date here so that
        # the measured calls do not pay for indexing a million messages.
        keeper = SearchService.of(memory)
        while await keeper.index_pending(50_000):
            pass


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
        "n": len(ordered),
    }


async def measure(url: str, clients: int, rounds: int) -> dict[str, Any]:
    rnd = random.Random(11)
    results: dict[str, Any] = {}
    async with await Memory.open(url) as memory:
        phones = [f"57300{rnd.randrange(clients):07d}" for _ in range(rounds)]
        for name, call in (
            ("get_thread_id", lambda p: memory.get_thread_id(p)),
            ("history_limit_20", lambda p: memory.history(p, limit=20)),
        ):
            samples = []
            for phone in phones:
                t = time.perf_counter()
                await call(phone)
                samples.append(time.perf_counter() - t)
            results[name] = percentiles(samples)
        questions = [
            "¿qué pasó con mi pedido?",
            "cambiar dirección de entrega a Cali",
            "devolución de la chaqueta con defecto",
            "Hola",
        ]
        samples = []
        for i in range(max(20, rounds // 20)):
            t = time.perf_counter()
            await memory.context_for(BIG, questions[i % len(questions)])
            samples.append(time.perf_counter() - t)
        results["context_for_5000_messages"] = percentiles(samples)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/recuerdo-read-bench"))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.workdir / f"read-{args.messages}-{args.clients}.db"
    url = f"sqlite:///{db}"
    if not db.exists():
        print(f"building {db} …", flush=True)
        t = time.perf_counter()
        asyncio.run(build(url, args.messages, args.clients))
        print(f"built in {time.perf_counter() - t:.0f}s", flush=True)
    results = {
        "engine": "sqlite",
        "messages": args.messages,
        "clients": args.clients,
        "db_bytes": db.stat().st_size,
        **asyncio.run(measure(url, args.clients, args.rounds)),
    }
    print(json.dumps(results, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "read.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
