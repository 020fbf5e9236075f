"""A real HTTP server on 127.0.0.1 that speaks OpenAI's chat completions protocol.

Tests script its answers one by one (JSON, raw text, an HTTP error, a stall longer than the
client's timeout) and read back the exact requests the official ``openai`` SDK sent over HTTP.

Example::

    with FakeOpenAIServer() as server:
        server.answer_json({"ok": True})
        llm = LLMClient(LLMSettings(base_url=server.url, api_key="test"))
        ...
        assert server.requests[0].json["model"] == "gpt-4o-mini"
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass(frozen=True)
class ScriptedReply:
    """What the server answers to one request."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def completion_body(
    content: str,
    *,
    model: str = "gpt-4o-mini",
    prompt_tokens: int = 100,
    completion_tokens: int = 20,
    finish_reason: str = "stop",
) -> bytes:
    """A chat.completion object whose only choice says ``content``."""
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    ).encode()


class FakeOpenAIServer:
    """Scriptable OpenAI-compatible server in a background thread."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: deque[ScriptedReply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL to give the SDK, ending in ``/v1``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- scripting ----------------------------------------------------------------------------

    def answer_json(self, value: Any, **usage: int) -> None:
        """Next request gets a completion whose content is ``json.dumps(value)``."""
        self.answer_content(json.dumps(value, ensure_ascii=False), **usage)

    def answer_content(self, content: str, **usage: Any) -> None:
        """Next request gets a completion whose content is ``content`` as is."""
        self._push(ScriptedReply(body=completion_body(content, **usage)))

    def fail(self, status: int, *, headers: dict[str, str] | None = None) -> None:
        """Next request gets an OpenAI-style error with HTTP ``status``."""
        body = json.dumps(
            {"error": {"message": f"scripted {status}", "type": "test", "code": None}}
        ).encode()
        self._push(ScriptedReply(status=status, body=body, headers=headers or {}))

    def stall(self, seconds: float, content: str = "{}") -> None:
        """Next request is answered only after ``seconds`` (beyond the client's timeout)."""
        self._push(ScriptedReply(body=completion_body(content), delay_s=seconds))

    def raw(self, body: bytes, *, status: int = 200) -> None:
        """Next request gets ``body`` verbatim as application/json (e.g. a broken envelope)."""
        self._push(ScriptedReply(status=status, body=body))

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        with self._lock:
            return len(self._script)

    def _push(self, reply: ScriptedReply) -> None:
        with self._lock:
            self._script.append(reply)

    def _next(self, request: RecordedRequest) -> ScriptedReply:
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.popleft()
        body = json.dumps({"error": {"message": "unscripted request", "type": "test"}})
        return ScriptedReply(status=500, body=body.encode())

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            try:
                payload: Any = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                payload = raw.decode(errors="replace")
            request = RecordedRequest(
                method="POST",
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                json=payload,
            )
            reply = server._next(request)
            if reply.delay_s:
                server._wait(reply.delay_s)
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout fired): exactly what a stall tests.
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
