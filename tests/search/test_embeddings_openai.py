"""The OpenAI-compatible embedder against a real HTTP server on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from recuerdo.errors import ConfigurationError, LLMError
from recuerdo.search.embeddings import Embedder, OpenAIEmbedder


@dataclass
class FakeEmbeddingsServer:
    """A tiny OpenAI-compatible ``/v1/embeddings`` endpoint that records what it receives."""

    mode: str = "ok"  # ok | error | slow | short | nan
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        texts = body["input"]
        if self.mode == "error":
            return 500, {"error": {"message": "boom", "type": "server_error"}}
        if self.mode == "slow":
            time.sleep(1.0)
        vectors = [[float(len(t)), float(i), 1.0] for i, t in enumerate(texts)]
        if self.mode == "short":
            vectors = vectors[:-1]
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        data.reverse()  # servers may answer out of order; the index says where each belongs
        usage = {"prompt_tokens": 3, "total_tokens": 3}
        return 200, {"object": "list", "data": data, "model": body["model"], "usage": usage}


@pytest.fixture
def server() -> Iterator[FakeEmbeddingsServer]:
    state = FakeEmbeddingsServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append({"path": self.path, **body})
            state.headers.append({k.lower(): v for k, v in self.headers.items()})
            status, answer = state.answer(body)
            payload = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on purpose (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


async def test_sends_the_exact_request_and_orders_the_answer(server: FakeEmbeddingsServer) -> None:
    embedder = OpenAIEmbedder("my-embedder", base_url=server.url, api_key="sk-local")
    try:
        vectors = await embedder.embed(["hola", "", "¿dónde está mi pedido?"])
    finally:
        await embedder.aclose()
    assert isinstance(embedder, Embedder)
    assert vectors == [[4.0, 0.0, 1.0], [1.0, 1.0, 1.0], [22.0, 2.0, 1.0]]
    assert embedder.dimensions == 3
    assert embedder.name == "openai:my-embedder"
    (request,) = server.requests
    assert request == {
        "path": "/v1/embeddings",
        "model": "my-embedder",
        "input": ["hola", " ", "¿dónde está mi pedido?"],
        "encoding_format": "float",
    }
    assert server.headers[0]["authorization"] == "Bearer sk-local"


async def test_batches_and_requested_dimensions(server: FakeEmbeddingsServer) -> None:
    embedder = OpenAIEmbedder("m", base_url=server.url, batch_size=2, dimensions=3)
    try:
        vectors = await embedder.embed(["a", "bb", "ccc"])
    finally:
        await embedder.aclose()
    assert [v[0] for v in vectors] == [1.0, 2.0, 3.0]
    assert [r["input"] for r in server.requests] == [["a", "bb"], ["ccc"]]
    assert all(r["dimensions"] == 3 for r in server.requests)


async def test_unknown_dimensions_until_first_answer() -> None:
    embedder = OpenAIEmbedder("some-local-model", base_url="http://127.0.0.1:9/v1")
    try:
        with pytest.raises(ConfigurationError, match="dimensions"):
            _ = embedder.dimensions
        assert await embedder.embed([]) == []
    finally:
        await embedder.aclose()


@pytest.mark.parametrize(
    ("mode", "message"),
    [("error", "failed"), ("slow", "timed out"), ("short", "2 vectors for 3 texts")],
)
async def test_failures_become_llm_errors(
    server: FakeEmbeddingsServer, mode: str, message: str
) -> None:
    server.mode = mode
    embedder = OpenAIEmbedder("m", base_url=server.url, timeout=0.3, max_retries=0)
    try:
        with pytest.raises(LLMError, match=message):
            await embedder.embed(["a", "b", "c"])
    finally:
        await embedder.aclose()


async def test_vectors_of_the_wrong_size_are_refused(server: FakeEmbeddingsServer) -> None:
    embedder = OpenAIEmbedder("m", base_url=server.url, dimensions=1536)
    try:
        with pytest.raises(LLMError, match="expected 1536"):
            await embedder.embed(["a"])
    finally:
        await embedder.aclose()
