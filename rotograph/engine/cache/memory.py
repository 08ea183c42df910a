"""In-memory LRU tier, bounded in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class MemoryCache:
    """LRU map from key to decoded value, holding at most ``max_bytes`` (approximate) — more
    only while pinned values (:meth:`pin`) need it: those are never evicted."""

    def __init__(self, max_bytes: int = 1 << 30):
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._pinned: dict[str, int] = {}  # key → pin count
        self._lock = threading.Lock()

    def get(self, key: str):
        """The value under ``key`` (marked most recently used), or ``None``."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def put(self, key: str, value, nbytes: int) -> None:
        """Store ``value`` of about ``nbytes`` bytes under ``key``, evicting least recently used
        unpinned values until the tier fits ``max_bytes``. A value larger than the whole bound
        is not kept (unless its key is pinned)."""
        if nbytes > self.max_bytes and key not in self._pinned:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, nbytes)
            self._bytes += nbytes
            while self._bytes > self.max_bytes:  # evict the least recently used unpinned value
                victim = next((k for k in self._items if k not in self._pinned), None)
                if victim is None:
                    break
                self._bytes -= self._items.pop(victim)[1]

    def pin(self, keys) -> None:
        """Never evict ``keys`` (present or still to come) until :meth:`unpin`."""
        with self._lock:
            for k in keys:
                self._pinned[k] = self._pinned.get(k, 0) + 1

    def unpin(self, keys) -> None:
        """Undo one :meth:`pin` of each of ``keys`` (pins are counted)."""
        with self._lock:
            for k in keys:
                n = self._pinned.get(k, 0) - 1
                if n > 0:
                    self._pinned[k] = n
                else:
                    self._pinned.pop(k, None)

    def discard(self, key: str) -> None:
        """Drop ``key`` if present."""
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]

    def clear(self) -> None:
        """Drop every value (pins stay)."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        """Bytes held now (the sum of the ``nbytes`` given to :meth:`put`)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
