"""Disk tier: one zarr v3 group per key, zstd-compressed with checksums, LRU-bounded in bytes.

Layout under the root (a local directory or any fsspec URL)::

    <root>/entries/<key[:2]>/<key>/zarr.json        group: attrs = manifest
    <root>/entries/<key[:2]>/<key>/<array>/...      one array per named part of the value
    <root>/tmp/                                     entries being written

Writes go to ``tmp/`` and are published with one rename, so a reader never sees a half-written
entry and two renders writing the same key at once both succeed (the values are identical; the
second rename loses and its copy is dropped). Reads check the manifest (type, array names,
shapes, dtypes) and zstd's content checksum; an entry that fails is removed with a warning and
reported as a miss, so it is recomputed, never returned.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass

import fsspec
import numpy as np
import zarr
from zarr.codecs import ZstdCodec

from ..types import PortType

log = logging.getLogger("rotograph.cache")
MANIFEST = "rotograph"
FORMAT = 1


@dataclass
class DiskStats:
    root: str
    entries: int
    bytes: int
    max_bytes: int


class DiskCache:
    """Zarr v3 cache at ``root`` (path or fsspec URL) bounded to ``max_bytes``."""

    def __init__(self, root: str, max_bytes: int = 50 << 30, level: int = 1):
        self.url = str(root)
        self.fs, self.root = fsspec.core.url_to_fs(self.url)
        self.local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))
        self.max_bytes = int(max_bytes)
        self.codec = ZstdCodec(level=level, checksum=True)
        self._approx_bytes: int | None = None
        self.fs.makedirs(self._join("entries"), exist_ok=True)
        self.fs.makedirs(self._join("tmp"), exist_ok=True)

    # -- paths ----------------------------------------------------------------------------
    def _join(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    def _entry(self, key: str) -> str:
        return self._join("entries", key[:2], key)

    def _store(self, path: str, read_only: bool):
        if self.local:
            return zarr.storage.LocalStore(path, read_only=read_only)
        return zarr.storage.FsspecStore.from_url(self.fs.unstrip_protocol(path), read_only=read_only)

    # -- API ------------------------------------------------------------------------------
    def contains(self, key: str) -> bool:
        return self.fs.exists(self._entry(key) + "/zarr.json")

    def get(self, key: str, ptype: PortType):
        """Decoded value, or ``None`` on a miss or a corrupt entry (which is removed)."""
        path = self._entry(key)
        if self.local and not os.path.exists(path + "/zarr.json"):
            return None
        try:
            group = zarr.open_group(store=self._store(path, True), mode="r")
        except FileNotFoundError:
            return None
        except Exception as e:  # unreadable metadata: corrupt
            return self._corrupt(key, f"unreadable metadata ({e})")
        try:
            manifest = group.attrs[MANIFEST]
            if manifest["type"] != ptype.name:
                return self._corrupt(key, f"holds a {manifest['type']}, expected {ptype.name}")
            arrays = {}
            for name, (shape, dtype) in manifest["arrays"].items():
                arr = group[name]
                if list(arr.shape) != list(shape) or arr.dtype != np.dtype(dtype):
                    return self._corrupt(key, f"array '{name}' has shape {arr.shape} {arr.dtype}")
                if arr.size and arr.nchunks_initialized != arr.nchunks:
                    return self._corrupt(key, f"array '{name}' is missing chunks")
                arrays[name] = arr[...]
            value = ptype.decode(arrays, manifest["attrs"])
        except Exception as e:
            return self._corrupt(key, f"{type(e).__name__}: {e}")
        if self.local:
            try:
                os.utime(path + "/zarr.json")  # LRU: most recently used
            except OSError:
                pass
        return value

    def put(self, key: str, ptype: PortType, value) -> None:
        if self.contains(key):
            return
        arrays, attrs = ptype.encode(value)
        manifest = {"format": FORMAT, "type": ptype.name, "attrs": attrs,
                    "arrays": {n: [list(a.shape), a.dtype.str] for n, a in arrays.items()},
                    "created": time.time()}
        tmp = self._join("tmp", f"{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            group = zarr.create_group(store=self._store(tmp, False), attributes={MANIFEST: manifest},
                                      zarr_format=3, overwrite=True)
            for name, a in arrays.items():
                a = np.ascontiguousarray(a)
                z = group.create_array(name, shape=a.shape, dtype=a.dtype, chunks=a.shape or None,
                                       compressors=[self.codec], fill_value=0,
                                       config={"write_empty_chunks": True})  # an all-zero matte is a value too
                z[...] = a
            self._publish(tmp, self._entry(key))
        finally:
            if self.fs.exists(tmp):
                self.fs.rm(tmp, recursive=True)
        if self._approx_bytes is not None:
            self._approx_bytes += self._size(self._entry(key))
        if self._approx_bytes is None or self._approx_bytes > self.max_bytes:
            self._approx_bytes = self.prune(self.max_bytes)

    def _publish(self, tmp: str, final: str) -> None:
        self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
        if self.local:
            try:
                os.rename(tmp, final)
            except OSError:  # another render published the same key first
                pass
        elif not self.fs.exists(final + "/zarr.json"):
            self.fs.mv(tmp, final, recursive=True)

    def _corrupt(self, key: str, why: str):
        log.warning("cache entry %s is corrupt (%s): removed, recomputing", key[:16], why)
        self.remove(key)
        return None

    def remove(self, key: str) -> None:
        path = self._entry(key)
        if self.local:
            trash = self._join("tmp", f"del-{key}-{uuid.uuid4().hex[:8]}")
            try:
                os.rename(path, trash)  # atomic unpublish, then delete at leisure
            except OSError:
                return
            shutil.rmtree(trash, ignore_errors=True)
        else:
            try:
                self.fs.rm(path, recursive=True)
            except FileNotFoundError:
                pass

    # -- management -----------------------------------------------------------------------
    def _size(self, path: str) -> int:
        if self.local:
            total = 0
            for dirpath, _, files in os.walk(path):
                total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
            return total
        return sum(self.fs.du(path, total=False).values())

    def _entries(self) -> list[tuple[float, int, str]]:
        """(last use, bytes, key) for every entry."""
        out = []
        base = self._join("entries")
        for prefix in self.fs.ls(base, detail=False):
            for path in self.fs.ls(prefix, detail=False):
                key = path.rstrip("/").rsplit("/", 1)[-1]
                try:
                    mtime = self.fs.modified(path + "/zarr.json").timestamp()
                except (FileNotFoundError, OSError):
                    mtime = 0.0
                out.append((mtime, self._size(path), key))
        return out

    def stats(self) -> DiskStats:
        entries = self._entries()
        return DiskStats(self.url, len(entries), sum(e[1] for e in entries), self.max_bytes)

    def prune(self, max_bytes: int | None = None) -> int:
        """Evict least recently used entries until the cache holds ≤ 90% of ``max_bytes``
        (when over it); clear stale temporaries. Returns the bytes left."""
        limit = self.max_bytes if max_bytes is None else int(max_bytes)
        entries = sorted(self._entries())
        total = sum(e[1] for e in entries)
        if total > limit:
            target = int(limit * 0.9)
            for _, size, key in entries:
                if total <= target:
                    break
                self.remove(key)
                total -= size
        self._clean_tmp(older_than=3600)
        return total

    def _clean_tmp(self, older_than: float) -> None:
        now = time.time()
        for path in self.fs.ls(self._join("tmp"), detail=False):
            try:
                if now - self.fs.modified(path).timestamp() > older_than:
                    self.fs.rm(path, recursive=True)
            except (FileNotFoundError, OSError):
                pass

    def clear(self) -> None:
        for path in self.fs.ls(self._join("entries"), detail=False):
            self.fs.rm(path, recursive=True)
        self._approx_bytes = 0
