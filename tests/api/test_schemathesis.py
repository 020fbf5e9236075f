"""Schemathesis against the service's own OpenAPI document, on a real `recuerdo serve`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.pg_server import free_port


def test_generated_requests_get_no_5xx_and_schema_conforming_answers(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "RECUERDO_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "recuerdo", "serve", "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        key = None
        deadline = time.monotonic() + 60
        while key is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            found = re.search(r"Admin API key: (\S+)", line)
            key = found.group(1) if found else None
        assert key, "recuerdo serve printed no admin key"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
        result = subprocess.run(
            [
                st,
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "-H",
                f"Authorization: Bearer {key}",
                "-c",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
                "-n",
                "15",
                "--seed",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[:6000] + result.stderr[-2000:]
        assert "passed" in result.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout:
            server.stdout.close()
