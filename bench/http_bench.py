"""HTTP throughput of `recuerdo serve`, measured with wrk from a separate process on loopback.

For each engine: requests/s and p50/p99 latency of record-message (POST, a new message each time)
and get-thread (GET), each as a ratio to a trivial route of the same server (/healthz) measured
in the same run, before and after the others (the faster of the two) — the framework's ceiling
on this machine. Three rounds by default; the ratios reported are the medians of the rounds'.

    python bench/http_bench.py [--seconds 10] [--connections 32] [--rounds 3] [--pg postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

import httpx

LUA_RECORD = """
counter = 0
prefix = "{prefix}"
request = function()
  counter = counter + 1
  local phone = string.format("5730010%05d", counter % 500)
  local body = string.format('{{"role":"user","content":"hola, pedido %d","external_id":"%s-%d"}}',
    counter, prefix, counter)
  return wrk.format("POST", "/v1/clients/" .. phone .. "/messages",
    {{["Authorization"] = "Bearer {key}", ["Content-Type"] = "application/json"}}, body)
end
"""
LUA_THREAD = """
counter = 0
request = function()
  counter = counter + 1
  local phone = string.format("5730010%05d", counter % 500)
  return wrk.format("GET", "/v1/clients/" .. phone .. "/thread",
    {{["Authorization"] = "Bearer {key}"}})
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wrk(url: str, seconds: int, connections: int, script: Path | None) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        assert m, out
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return round(float(m.group(1)) * scale, 2)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": round(rps),
        "p50_ms": pct("50"),
        "p99_ms": pct("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def run_engine(
    db: str, seconds: int, connections: int, workdir: Path, rounds: int
) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "RECUERDO_DATA_DIR": str(workdir), "RECUERDO_RUN_WORKER_IN_SERVE": "0"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "recuerdo",
            "serve",
            "--port",
            str(port),
            "--db",
            db,
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        admin = None
        while admin is None:
            line = server.stdout.readline()
            if not line:
                raise RuntimeError("recuerdo serve exited")
            found = re.search(r"Admin API key: (\S+)", line)
            admin = found.group(1) if found else None
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {admin}"}
        created = httpx.post(
            base + "/v1/keys", json={"name": "bench", "scope": "bot"}, headers=headers
        )
        bot = created.json()["key"]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {bot}"}) as http:
            for i in range(500):
                http.put(f"/v1/clients/5730010{i:05d}/thread", json={"thread_id": f"thread_{i}"})
        record_lua = workdir / "record.lua"
        record_lua.write_text(LUA_RECORD.format(prefix=secrets.token_hex(4), key=bot))
        thread_lua = workdir / "thread.lua"
        thread_lua.write_text(LUA_THREAD.format(key=bot))
        # Each round measures the trivial route before and after the others and takes the
        # faster as that round's ceiling (a slow spell during one /healthz run must not flatter
        # the ratios); the reported ratio is the median of the rounds' ratios.
        runs = []
        for _ in range(rounds):
            before = wrk(base + "/healthz", seconds, connections, None)
            record = wrk(base, seconds, connections, record_lua)
            thread = wrk(base, seconds, connections, thread_lua)
            after = wrk(base + "/healthz", seconds, connections, None)
            trivial = max(before, after, key=lambda r: float(r["rps"]))
            runs.append(
                {
                    "trivial_healthz": trivial,
                    "trivial_healthz_rps_before_after": [before["rps"], after["rps"]],
                    "record_message": record,
                    "get_thread": thread,
                    "record_vs_trivial": round(record["rps"] / trivial["rps"], 2),
                    "get_thread_vs_trivial": round(thread["rps"] / trivial["rps"], 2),
                }
            )
        middle = sorted(runs, key=lambda r: float(r["record_vs_trivial"]))[len(runs) // 2]
        return {
            **middle,
            "record_vs_trivial": median(r["record_vs_trivial"] for r in runs),
            "get_thread_vs_trivial": median(r["get_thread_vs_trivial"] for r in runs),
            "record_vs_trivial_rounds": [r["record_vs_trivial"] for r in runs],
            "get_thread_vs_trivial_rounds": [r["get_thread_vs_trivial"] for r in runs],
            "rounds": runs,
        }
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", help="PostgreSQL server URL; a database 'bench_http' is created")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    results: dict[str, Any] = {
        "seconds": args.seconds,
        "connections": args.connections,
        "rounds": args.rounds,
    }
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run_engine(
            f"sqlite:///{tmp}/bench.db", args.seconds, args.connections, Path(tmp), args.rounds
        )
        if args.pg:
            import asyncio

            import asyncpg

            async def fresh() -> None:
                conn = await asyncpg.connect(args.pg)
                await conn.execute("DROP DATABASE IF EXISTS bench_http")
                await conn.execute("CREATE DATABASE bench_http")
                await conn.close()

            asyncio.run(fresh())
            url = args.pg.rsplit("/", 1)[0] + "/bench_http"
            results["postgres"] = run_engine(
                url, args.seconds, args.connections, Path(tmp), args.rounds
            )
    print(json.dumps(results, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "http.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
