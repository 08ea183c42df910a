"""The two-tier result cache: an LRU memory tier over a zarr v3 disk tier.

``open_cache(url)`` gives the cache a render uses: ``url`` is a directory or an fsspec URL
(default: ``$ROTOGRAPH_CACHE`` or the user cache dir); ``url=None`` with ``disk=False`` keeps
results in memory only.
"""

from __future__ import annotations

import os

import numpy as np
import platformdirs

from ...core.node import CachePolicy
from ...core.types import PortType
from .disk import DiskCache, DiskStats
from .memory import MemoryCache

__all__ = ["Cache", "DiskCache", "Pin", "DiskStats", "MemoryCache", "default_cache_url", "open_cache", "parse_size"]


def default_cache_url() -> str:
    """The cache a render uses when none is given: ``$ROTOGRAPH_CACHE``, else ``cache`` in the
    user cache folder (``~/.cache/rotograph/cache`` on Linux)."""
    return os.environ.get("ROTOGRAPH_CACHE") or os.path.join(platformdirs.user_cache_dir("rotograph"), "cache")


def parse_size(text: str | int) -> int:
    """``"20G"``, ``"512M"``, ``"1.5T"`` or a number of bytes → bytes."""
    if isinstance(text, int):
        return text
    t = text.strip().upper().rstrip("B")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    try:
        if t and t[-1] in mult:
            return int(float(t[:-1]) * mult[t[-1]])
        return int(t)
    except ValueError:
        raise ValueError(f"cannot read a size from {text!r} (use e.g. 512M, 20G)") from None


def _freeze(ptype: PortType, value) -> int:
    """Make a value's arrays read-only (so that no node changes a shared value in place) and
    return its size in bytes for the memory tier's bound."""
    arrays, _ = ptype.encode(value)
    for a in arrays.values():
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    return sum(a.nbytes for a in arrays.values()) + 256


class Cache:
    """Memory tier in front of an optional disk tier; honours each node's :class:`CachePolicy`."""

    def __init__(self, disk: DiskCache | None = None, memory_bytes: int = 512 << 20):
        self.memory = MemoryCache(memory_bytes)
        self.disk = disk

    def get(self, key: str, ptype: PortType, policy: CachePolicy = CachePolicy.ALWAYS):
        """The value cached under ``key`` (decoded as ``ptype``), or ``None`` when absent or when
        ``policy`` is ``NEVER``. The memory tier first; a disk hit (``ALWAYS`` only) is promoted to
        memory, its arrays made read-only. A corrupt disk entry reads as absent."""
        if policy is CachePolicy.NEVER:
            return None
        value = self.memory.get(key)
        if value is not None or self.disk is None or policy is not CachePolicy.ALWAYS:
            return value
        value = self.disk.get(key, ptype)
        if value is not None:
            self.memory.put(key, value, _freeze(ptype, value))
        return value

    def contains(self, key: str, policy: CachePolicy = CachePolicy.ALWAYS) -> bool:
        """Whether ``key`` is cached (memory, or disk for ``ALWAYS``), without decoding it."""
        if key in self.memory:
            return True
        return policy is CachePolicy.ALWAYS and self.disk is not None and self.disk.contains(key)

    def put(self, key: str, ptype: PortType, value, policy: CachePolicy = CachePolicy.ALWAYS) -> None:
        """Cache ``value`` (of port type ``ptype``) under ``key``: in memory unless ``policy`` is
        ``NEVER``, on disk too when it is ``ALWAYS`` and there is a disk tier. The value's arrays
        become read-only (nodes must not change a shared value in place)."""
        if policy is CachePolicy.NEVER:
            return
        self.memory.put(key, value, _freeze(ptype, value))
        if policy is CachePolicy.ALWAYS and self.disk is not None:
            self.disk.put(key, ptype, value)

    def pin(self, items) -> "Pin":
        """Keep the entries ``items`` — ``(key, policy)`` pairs — from eviction until the
        returned :class:`Pin` is released: on disk (seen by every process sharing the cache)
        for ``ALWAYS`` entries when there is a disk tier, else in memory. A render pins the
        frames of its range nodes' segments so that each segment is computed once whatever
        the cache size."""
        disk_keys = [k for k, p in items if p is CachePolicy.ALWAYS and self.disk is not None]
        memory_keys = [k for k, p in items if p is not CachePolicy.NEVER and not (p is CachePolicy.ALWAYS
                                                                                  and self.disk is not None)]
        self.memory.pin(memory_keys)
        token = self.disk.pin(disk_keys) if disk_keys else None
        return Pin(self, memory_keys, token)

    def forget(self, key: str) -> None:
        """Drop a key from both tiers (a writer's output file went away)."""
        self.memory.discard(key)
        if self.disk is not None:
            self.disk.remove(key)


class Pin:
    """A held :meth:`Cache.pin`; ``release()`` (or leaving a ``with`` block) lets the entries go."""

    def __init__(self, cache: Cache, memory_keys: list[str], token: str | None):
        self.cache, self.memory_keys, self.token = cache, memory_keys, token

    def release(self) -> None:
        """Let the pinned entries be evicted again (idempotent)."""
        if self.memory_keys:
            self.cache.memory.unpin(self.memory_keys)
            self.memory_keys = []
        if self.token is not None:
            self.cache.disk.unpin(self.token)
            self.token = None

    def __enter__(self) -> "Pin":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def open_cache(url: str | None = None, *, disk: bool = True, max_bytes: int | str = "50G",
               memory_bytes: int | str = "512M") -> Cache:
    """Open the cache at ``url`` (default :func:`default_cache_url`)."""
    d = DiskCache(url or default_cache_url(), parse_size(max_bytes)) if disk else None
    return Cache(d, parse_size(memory_bytes))
