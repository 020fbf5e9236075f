"""ASGI middleware: a body size limit, and an access log that never shows a phone number."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recuerdo.i18n import t
from recuerdo.identity import mask

access_log = logging.getLogger("recuerdo.access")
_DIGITS = re.compile(r"\d{6,}")
_ENCODED_PLUS = re.compile(r"%2B", re.IGNORECASE)


def masked_path(path: str) -> str:
    """``/v1/clients/573003913251/thread`` → ``/v1/clients/573*****251/thread``."""
    return _DIGITS.sub(lambda m: mask(m.group(0)), _ENCODED_PLUS.sub("+", path))


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Answer 413 problem+json for bodies over ``max_bytes`` (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int, lang: str = "es") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.lang = lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps(
            {
                "type": "https://recuerdo.dev/problems/payload-too-large",
                "title": t("payload-too-large", self.lang),
                "status": 413,
                "detail": f"the request body is over {self.max_bytes} bytes",
                "code": "payload-too-large",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class AccessLog:
    """One log line per request: method, masked path, status, milliseconds. No bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            access_log.info(
                "%s %s %s %.1fms",
                scope["method"],
                masked_path(scope.get("raw_path", b"").decode("latin-1") or scope["path"]),
                status["code"],
                (time.perf_counter() - start) * 1000,
            )
