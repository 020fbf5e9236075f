"""Embedding vectors stored compactly (float16 bytes) and searched exactly, per client.

Debian's PostgreSQL 15 carries no pgvector, and a client's history is small, so vectors live in
an ordinary bytes column (half the size of float32, ample precision for cosine ranking) and a
search compares the query with every vector of the client. The codec is pure Python (``struct``'s
IEEE half precision); :class:`VectorIndex` uses numpy when it is installed (the ``embeddings``
extra) and plain Python otherwise.

Example::

    >>> data = encode_vector([0.6, 0.8])
    >>> len(data), decode_vector(data)
    (4, [0.60009765625, 0.7998046875])
    >>> VectorIndex([(1, encode_vector([1, 0])), (2, data)]).search([0.0, 1.0], limit=1)
    [(2, 0.799883)]
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from typing import Any

FLOAT16_MAX = 65504.0


def encode_vector(vector: Sequence[float]) -> bytes:
    """A vector as little-endian IEEE float16 bytes (2 bytes per dimension).

    Values beyond float16's range (±65504) raise ``ValueError``; embeddings are normalised, so
    that means the input was not an embedding.

    >>> encode_vector([1.0, -2.0]).hex()
    '003c00c0'
    """
    try:
        return struct.pack(f"<{len(vector)}e", *vector)
    except (OverflowError, struct.error) as exc:
        raise ValueError(f"cannot store this vector as float16: {exc}") from None


def decode_vector(data: bytes) -> list[float]:
    """The vector stored by :func:`encode_vector`.

    >>> decode_vector(bytes.fromhex("003c00c0"))
    [1.0, -2.0]
    """
    if len(data) % 2:
        raise ValueError(f"float16 vector bytes must come in pairs; got {len(data)} bytes")
    return list(struct.unpack(f"<{len(data) // 2}e", data))


class VectorIndex:
    """Exact cosine search over one client's vectors.

    >>> index = VectorIndex([(7, encode_vector([0.0, 2.0]))])
    >>> index.search([0.0, 1.0])
    [(7, 1.0)]
    """

    def __init__(self, items: Iterable[tuple[int, bytes]]) -> None:
        pairs = list(items)
        self.ids = [item_id for item_id, _ in pairs]
        self._numpy = _numpy()
        if self._numpy is not None:
            np = self._numpy
            if pairs:
                matrix = np.frombuffer(b"".join(d for _, d in pairs), dtype="<f2")
                matrix = matrix.reshape(len(pairs), -1).astype(np.float32)
            else:
                matrix = np.zeros((0, 0), dtype=np.float32)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            self._matrix: Any = matrix / np.where(norms == 0, 1, norms)
        else:
            self._matrix = [_unit(decode_vector(d)) for _, d in pairs]

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query: Sequence[float]) -> dict[int, float]:
        """Cosine similarity of ``query`` with every vector, by id."""
        if not self.ids:
            return {}
        if self._numpy is not None:
            np = self._numpy
            q = np.asarray(query, dtype=np.float32)
            if q.shape[0] != self._matrix.shape[1]:
                raise ValueError(
                    f"query has {q.shape[0]} dimensions; stored vectors have "
                    f"{self._matrix.shape[1]}"
                )
            norm = float(np.linalg.norm(q)) or 1.0
            values = (self._matrix @ (q / norm)).tolist()
        else:
            unit = _unit(list(query))
            if self._matrix and len(unit) != len(self._matrix[0]):
                raise ValueError(
                    f"query has {len(unit)} dimensions; stored vectors have {len(self._matrix[0])}"
                )
            values = [sum(a * b for a, b in zip(row, unit, strict=True)) for row in self._matrix]
        return {item_id: round(float(v), 6) for item_id, v in zip(self.ids, values, strict=True)}

    def search(self, query: Sequence[float], limit: int = 10) -> list[tuple[int, float]]:
        """The ``limit`` nearest ids by cosine similarity, best first."""
        scores = self.scores(query)
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        return None
    return numpy
