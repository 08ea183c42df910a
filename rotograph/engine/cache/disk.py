"""Disk tier: one zarr v3 group per key, zstd-compressed with checksums, LRU-bounded in bytes.

Layout under the root (a local directory or any fsspec URL)::

    <root>/entries/<key[:2]>/<key>/zarr.json        group: attrs = manifest
    <root>/entries/<key[:2]>/<key>/<array>/...      one array per named part of the value
    <root>/tmp/                                     entries being written
    <root>/pins/<token>.json                        keys a running render needs kept

Writes go to ``tmp/`` and are published with one rename, so a reader never sees a half-written
entry and two renders writing the same key at once both succeed (the values are identical; the
second rename loses and its copy is dropped). Every chunk is written, all-zero ones included
(``write_empty_chunks``): an empty matte is a value like any other.

An entry is bound to its key and covers the whole value: the manifest records the key, the
value's type and attributes (object tables, ids, units…), each array's shape, dtype and
xxHash3-128 digest of its bytes, and one digest of all of that (the manifest's canonical JSON).
A read checks every part (and zstd's content checksum), so a torn entry, a corrupt chunk, a
valid chunk copied from another entry or an edited attribute is detected, removed with a
warning and reported as a miss — recomputed, never returned.

Pins (:meth:`DiskCache.pin`) keep the entries a render still needs — a range node's segment —
out of LRU eviction until the render ends, whatever ``max_bytes`` says; they are files under
``pins/`` so that every process and host sharing the cache honours them. A pin whose process is
gone (same host) or that is older than a week is stale and ignored.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import time
import uuid
from dataclasses import dataclass

import fsspec
import numpy as np
import xxhash
import zarr
from fsspec.registry import known_implementations
from zarr.codecs import ZstdCodec

from ...errors import CacheError, output_error
from ...core.types import PortType

log = logging.getLogger("rotograph.cache")
MANIFEST = "rotograph"
FORMAT = 3  # 2: key and array digests in the manifest; 3: + a digest of the whole manifest
PIN_STALE_SECONDS = 7 * 24 * 3600
HOST = socket.gethostname()


def array_digest(a: np.ndarray) -> str:
    """xxHash3-128 of an array's bytes (C order): what binds a cache entry to its content."""
    return xxhash.xxh3_128_hexdigest(np.ascontiguousarray(a).data)


def manifest_digest(manifest: dict) -> str:
    """xxHash3-128 of a manifest's canonical JSON (its ``digest`` and ``created`` fields left
    out): key, type, attributes and every array's shape, dtype and digest."""
    body = {k: v for k, v in manifest.items() if k not in ("digest", "created")}
    return xxhash.xxh3_128_hexdigest(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())


def _filesystem(url: str):
    """``fsspec`` filesystem and path of ``url``; a missing filesystem package or an unknown
    protocol is a :class:`CacheError` saying what to install."""
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError:
        protocol = url.split("://", 1)[0]
        module = known_implementations.get(protocol, {}).get("class", protocol).split(".")[0]
        raise CacheError(f"cache {url}: the {protocol}:// filesystem needs the {module} package: "
                         f"pip install {module}") from None
    except ValueError as e:
        raise CacheError(f"cache {url}: {e}") from None


@dataclass
class DiskStats:
    """What :meth:`DiskCache.stats` reports: the cache URL, its entry count, the bytes they hold and the bound."""
    root: str
    entries: int
    bytes: int
    max_bytes: int


class DiskCache:
    """Zarr v3 cache at ``root`` (path or fsspec URL) bounded to ``max_bytes``."""

    def __init__(self, root: str, max_bytes: int = 50 << 30, level: int = 1):
        """Open (creating it when needed) the cache at ``root``; raises :class:`CacheError`
        when ``root`` is a file or its URL's filesystem package is not installed."""
        self.url = str(root)
        self.fs, self.root = _filesystem(self.url)
        self.local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))
        self.max_bytes = int(max_bytes)
        self.codec = ZstdCodec(level=level, checksum=True)
        self._approx_bytes: int | None = None
        self._prune_at = self.max_bytes  # prune when the approximate size passes this
        self._pins: dict[str, set[str]] = {}  # this process's pins: token → keys
        if self.fs.isfile(self.root):
            raise CacheError(f"cache {self.url}: is a file, not a folder (give --cache a folder or a URL)")
        try:
            for sub in ("entries", "tmp", "pins"):
                self.fs.makedirs(self._join(sub), exist_ok=True)
        except OSError as e:
            raise CacheError(f"cache {self.url}: cannot create it ({e.strerror or e})") from None

    @staticmethod
    def exists(root: str) -> bool:
        """Whether a cache was ever created at ``root`` (without creating one)."""
        fs, path = _filesystem(str(root))
        return fs.isdir(path.rstrip("/") + "/entries")

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
        """Whether an entry for ``key`` is published (a presence check: its content is verified when read)."""
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
            if manifest.get("format") != FORMAT:
                log.info("cache entry %s was written by another rotograph (format %s): recomputing",
                         key[:16], manifest.get("format"))
                self.remove(key)
                return None
            if manifest.get("key") != key:
                return self._corrupt(key, f"it holds the entry of key {str(manifest.get('key'))[:16]}")
            if manifest.get("digest") != manifest_digest(manifest):
                return self._corrupt(key, "its attributes or array list do not match the entry's digest")
            if manifest["type"] != ptype.name:
                return self._corrupt(key, f"holds a {manifest['type']}, expected {ptype.name}")
            arrays = {}
            for name, (shape, dtype, digest) in manifest["arrays"].items():
                arr = group[name]
                if list(arr.shape) != list(shape) or arr.dtype != np.dtype(dtype):
                    return self._corrupt(key, f"array '{name}' has shape {arr.shape} {arr.dtype}")
                data = arr[...]
                if array_digest(data) != digest:
                    return self._corrupt(key, f"array '{name}' does not match its digest")
                arrays[name] = data
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
        """Store ``value`` (of port type ``ptype``) under ``key``: written to ``tmp/`` then
        published by one rename (a key already there is kept); prunes when over the bound.
        Raises ``OSError`` when the disk refuses the write."""
        if self.contains(key):
            return
        arrays, attrs = ptype.encode(value)
        arrays = {n: np.ascontiguousarray(a) for n, a in arrays.items()}
        manifest = {"format": FORMAT, "key": key, "type": ptype.name, "attrs": attrs,
                    "arrays": {n: [list(a.shape), a.dtype.str, array_digest(a)] for n, a in arrays.items()},
                    "created": time.time()}
        manifest["digest"] = manifest_digest(manifest)
        tmp = self._join("tmp", f"{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            self._write(tmp, key, manifest, arrays)
        finally:
            try:
                if self.fs.exists(tmp):
                    self.fs.rm(tmp, recursive=True)
            except OSError:
                pass
        if self._approx_bytes is not None:
            self._approx_bytes += self._size(self._entry(key))
        if self._approx_bytes is None or self._approx_bytes > self._prune_at:
            self._approx_bytes = self.prune(self.max_bytes)

    def _write(self, tmp: str, key: str, manifest: dict, arrays: dict) -> None:
        """Write an entry to ``tmp``, then publish it under ``key``; a failed write (disk full,
        read-only cache) raises :class:`OutputError` naming the cache."""
        try:
            group = zarr.create_group(store=self._store(tmp, False), attributes={MANIFEST: manifest},
                                      zarr_format=3, overwrite=True)
            for name, a in arrays.items():
                z = group.create_array(name, shape=a.shape, dtype=a.dtype, chunks=tuple(max(1, n) for n in a.shape),
                                       compressors=[self.codec], fill_value=0, config={"write_empty_chunks": True})
                z[...] = a
            self._publish(tmp, self._entry(key))
        except OSError as e:
            raise self._write_error(e) from None

    def _write_error(self, error: OSError):
        return output_error(f"cache {self.url}", error, "outputs already written are kept; give --cache a writable "
                                                         "folder with free space (or lower --cache-size), then run "
                                                         "again to resume")

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
        """Unpublish and delete the entry of ``key`` (no error when absent)."""
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
        """Bytes an entry takes: on a local disk what its files and folders really occupy
        (allocated blocks, ``st_blocks`` × 512 — a 1 kB chunk takes a 4 kB block, as ``du``
        counts), elsewhere the files' sizes. Stats, pruning and the bound all use it."""
        if self.local:
            total = 0
            for dirpath, _, files in os.walk(path):
                for f in (".", *files):  # the folders' own blocks too, as du counts them
                    try:
                        total += disk_bytes(os.stat(os.path.join(dirpath, f)))
                    except FileNotFoundError:
                        pass
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
        """Entries and bytes held now (walks the cache)."""
        entries = self._entries()
        return DiskStats(self.url, len(entries), sum(e[1] for e in entries), self.max_bytes)

    def prune(self, max_bytes: int | None = None) -> int:
        """Evict least recently used entries until the cache holds ≤ 90% of ``max_bytes``
        (when over it), never a pinned one; clear stale temporaries and pins. Returns the bytes
        left (more than ``max_bytes`` while pins hold more than that)."""
        limit = self.max_bytes if max_bytes is None else int(max_bytes)
        entries = sorted(self._entries())
        total = sum(e[1] for e in entries)
        if total > limit:
            pinned = self.pinned()
            target = int(limit * 0.9)
            for _, size, key in entries:
                if total <= target:
                    break
                if key not in pinned:
                    self.remove(key)
                    total -= size
        self._clean_tmp(older_than=3600)
        # over the bound only because of pins: prune again after another tenth of the bound
        self._prune_at = max(self.max_bytes, total + self.max_bytes // 10)
        return total

    # -- pins -----------------------------------------------------------------------------
    def pin(self, keys) -> str:
        """Keep ``keys`` out of eviction (by every process sharing the cache) until
        :meth:`unpin`; returns the pin's token."""
        token = f"{HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        keys = set(keys)
        doc = {"host": HOST, "pid": os.getpid(), "created": time.time(), "keys": sorted(keys)}
        try:
            with self.fs.open(self._join("pins", token + ".json"), "w") as f:
                json.dump(doc, f)
        except OSError as e:
            raise self._write_error(e) from None
        self._pins[token] = keys
        return token

    def unpin(self, token: str) -> None:
        """Release the pin ``token`` returned by :meth:`pin`."""
        self._pins.pop(token, None)
        try:
            self.fs.rm(self._join("pins", token + ".json"))
        except (FileNotFoundError, OSError):
            pass

    def pinned(self) -> set[str]:
        """Every key pinned by a live pin of any process (stale pin files are removed)."""
        keys = set().union(*self._pins.values())
        now = time.time()
        for path in self.fs.ls(self._join("pins"), detail=False):
            token = path.rstrip("/").rsplit("/", 1)[-1][:-len(".json")]
            if token in self._pins:
                continue
            try:
                with self.fs.open(path, "r") as f:
                    doc = json.load(f)
                stale = now - float(doc["created"]) > PIN_STALE_SECONDS or (
                    doc["host"] == HOST and not _alive(int(doc["pid"])))
            except (OSError, ValueError, KeyError, TypeError):
                stale = True
            if stale:
                try:
                    self.fs.rm(path)
                except (FileNotFoundError, OSError):
                    pass
            else:
                keys.update(doc["keys"])
        return keys

    def _clean_tmp(self, older_than: float) -> None:
        now = time.time()
        for path in self.fs.ls(self._join("tmp"), detail=False):
            try:
                if now - self.fs.modified(path).timestamp() > older_than:
                    self.fs.rm(path, recursive=True)
            except (FileNotFoundError, OSError):
                pass

    def clear(self) -> None:
        """Remove every entry (pins and temporaries stay)."""
        for path in self.fs.ls(self._join("entries"), detail=False):
            self.fs.rm(path, recursive=True)
        self._approx_bytes = 0



def disk_bytes(st: os.stat_result) -> int:
    """What a file occupies on disk: its allocated blocks (``st_blocks`` counts 512-byte
    units), or its size where the filesystem does not say."""
    blocks = getattr(st, "st_blocks", None)
    return blocks * 512 if blocks is not None else st.st_size


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
