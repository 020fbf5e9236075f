"""A throwaway PostgreSQL 15 server for the tests: initdb in a temp folder, loopback port.

``initdb`` refuses to run as root, so as root the programs run as the ``postgres`` user.
Set RECUERDO_TEST_PG_URL to use a server of your own instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("RECUERDO_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """``durable=False`` (the tests): fsync, synchronous commit and full-page writes off, for
    speed. ``durable=True`` (benchmarks): PostgreSQL's own durable defaults."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(
                f"PostgreSQL 15 is not installed ({PG_BIN}/initdb missing): run scripts/test.sh, "
                "which installs Debian's postgresql-15, or set RECUERDO_TEST_PG_URL"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="recuerdo-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.log = self.dir / "server.log"
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        if self._as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
