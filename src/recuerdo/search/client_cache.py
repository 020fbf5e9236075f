"""Per-client ranking indexes kept between searches (building one is most of a client search).

>>> cache = ClientIndexCache(max_docs=100)
>>> cache.put(7, ("fingerprint",), ClientIndex([]))
>>> cache.get(7, ("fingerprint",)) is not None
True
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from recuerdo.search.ranking import ClientIndex


class ClientIndexCache:
    """Recently built per-client ranking indexes, least recently used dropped first, holding at
    most ``max_docs`` messages in all (about 1 KB each). An entry is used only while its key
    (the client's index fingerprint, summaries, name and language) is unchanged.

    >>> cache = ClientIndexCache(max_docs=100)
    >>> cache.put(7, ("v1",), ClientIndex([]))
    >>> cache.get(7, ("v1",)) is not None, cache.get(7, ("v2",))
    (True, None)
    """

    def __init__(self, max_docs: int) -> None:
        self.max_docs = max_docs
        self._entries: OrderedDict[int, tuple[Hashable, ClientIndex]] = OrderedDict()
        self._docs = 0

    def get(self, client_id: int, key: Hashable) -> ClientIndex | None:
        entry = self._entries.get(client_id)
        if entry is None or entry[0] != key:
            return None
        self._entries.move_to_end(client_id)
        return entry[1]

    def put(self, client_id: int, key: Hashable, index: ClientIndex) -> None:
        self.discard(client_id)
        size = len(index.docs)
        if size > self.max_docs:
            return
        self._entries[client_id] = (key, index)
        self._docs += size
        while self._docs > self.max_docs:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._docs -= len(dropped.docs)

    def discard(self, client_id: int | None = None) -> None:
        """Forget one client's entry, or every entry."""
        if client_id is None:
            self._entries.clear()
            self._docs = 0
        elif (entry := self._entries.pop(client_id, None)) is not None:
            self._docs -= len(entry[1].docs)
