"""The cache: exact round trips, bounds, corruption, concurrency, fsspec URLs, the CLI."""

from __future__ import annotations

import glob
import logging
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest

import rotograph
from rotograph.cache import DiskCache, MemoryCache
from rotograph.types import CameraData, DepthMap, MaskObject, MaskSet

from conftest import build_track_graph

rng = np.random.default_rng(0)
VALUES = {
    "Image": rng.random((17, 23, 4), dtype=np.float32),
    "Matte": rng.random((17, 23), dtype=np.float32),
    "Masks": MaskSet(rng.integers(0, 3, (17, 23)).astype(np.uint16), [MaskObject(1, "dog", 0.9), MaskObject(2, "cat", 0.5, 0.25)]),
    "Depth": DepthMap(rng.random((17, 23), dtype=np.float32) * 10, True, "m"),
    "Normals": rng.random((17, 23, 3), dtype=np.float32) * 2 - 1,
    "Camera": CameraData(np.eye(3) * 500, np.eye(4), (23, 17)),
}


@pytest.mark.parametrize("tname", sorted(VALUES))
def test_disk_round_trip_is_bit_exact(tmp_path, tname):
    ptype = rotograph.Registry().port_types[tname]
    disk = DiskCache(str(tmp_path))
    disk.put("ab" * 32, ptype, VALUES[tname])
    back = disk.get("ab" * 32, ptype)
    a, _ = ptype.encode(VALUES[tname])
    b, attrs = ptype.encode(back)
    assert all(np.array_equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)
    assert attrs == ptype.encode(VALUES[tname])[1]


@pytest.mark.parametrize("tname", ["Matte", "Masks"])
def test_all_zero_values_are_cached_on_disk(tmp_path, tname):
    """An empty matte or label map (a hidden object) is written whole, not read back as corrupt."""
    ptype = rotograph.Registry().port_types[tname]
    zero = np.zeros((17, 23), np.float32) if tname == "Matte" else MaskSet(np.zeros((17, 23), np.uint16),
                                                                            [MaskObject(1, "dog", 0.0, 1.0)])
    disk = DiskCache(str(tmp_path))
    disk.put("cd" * 32, ptype, zero)
    back = disk.get("cd" * 32, ptype)
    assert back is not None and disk.contains("cd" * 32)
    assert ptype.encode(back)[1] == ptype.encode(zero)[1]


def test_masks_cached_before_the_occluded_field_still_decode(tmp_path):
    masks = rotograph.Registry().port_types["Masks"]
    arrays, _ = masks.encode(VALUES["Masks"])
    old = masks.decode(arrays, {"objects": [[1, "dog", 0.9], [2, "cat", 0.5]]})  # 3-field entries
    assert old.objects == [MaskObject(1, "dog", 0.9, 0.0), MaskObject(2, "cat", 0.5, 0.0)]
    assert masks.decode(*masks.encode(VALUES["Masks"])).objects[1].occluded == 0.25


def test_memory_tier_is_bounded_lru():
    m = MemoryCache(max_bytes=3000)
    for i in range(5):
        m.put(str(i), i, 1000)
    assert len(m) == 3 and m.nbytes <= 3000 and m.get("0") is None
    m.get("2")  # touch: 3 is now the oldest
    m.put("5", 5, 1000)
    assert m.get("2") == 2 and m.get("3") is None


def test_disk_tier_evicts_least_recently_used(tmp_path):
    ptype = rotograph.Matte
    noise = np.random.default_rng(1).random((64, 64), dtype=np.float32)  # incompressible ~16 KB
    disk = DiskCache(str(tmp_path), max_bytes=100_000)
    keys = [f"{i:02d}" * 32 for i in range(10)]
    for i, k in enumerate(keys):
        disk.put(k, ptype, noise + i)
        os.utime(disk._entry(k) + "/zarr.json", (1000 + i, 1000 + i))
    stats = disk.stats()
    assert stats.bytes <= 100_000 and 0 < stats.entries < 10
    assert disk.get(keys[-1], ptype) is not None and disk.get(keys[0], ptype) is None


def _corrupt_chunk(disk, key, how):
    chunk = glob.glob(disk._entry(key) + "/*/c/**/*", recursive=True)  # any array of the entry
    chunk = [c for c in chunk if os.path.isfile(c)][0]
    if how == "truncate":
        with open(chunk, "r+b") as f:
            f.truncate(os.path.getsize(chunk) // 2)
    elif how == "flip":
        data = bytearray(open(chunk, "rb").read())
        data[len(data) // 2] ^= 0xFF
        open(chunk, "wb").write(bytes(data))
    elif how == "delete":
        os.remove(chunk)
    elif how == "metadata":
        open(disk._entry(key) + "/zarr.json", "w").write("{not json")


@pytest.mark.parametrize("how", ["truncate", "flip", "delete", "metadata"])
def test_corrupt_entries_are_detected_and_recomputed(registry, square_shot, tmp_path, how, caplog):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    url = str(tmp_path / "cache")
    good = g.evaluate("track", 1005, cache=rotograph.open_cache(url)).labels.copy()
    ev = rotograph.Evaluator(g, rotograph.open_cache(url))
    key = ev.key("track", None, 1005)
    _corrupt_chunk(ev.cache.disk, key, how)
    with caplog.at_level(logging.WARNING, logger="rotograph.cache"):
        again = ev.get("track", None, 1005)
    assert np.array_equal(again.labels, good)
    assert ev.stats.computes["track"] >= 1
    assert any("corrupt" in r.message for r in caplog.records)
    assert ev.cache.disk.get(key, rotograph.Masks) is not None  # rewritten whole


def _writer(args):
    url, seed = args
    disk = DiskCache(url)
    value = np.full((256, 256), 0.5, np.float32)
    for i in range(40):
        disk.put(f"{i % 8:02d}" * 32, rotograph.Matte, value + (i % 8))
        got = disk.get(f"{(i * 3) % 8:02d}" * 32, rotograph.Matte)
        if got is not None and not np.array_equal(got, value + (i * 3) % 8):
            return False
    return True


def test_concurrent_writers_corrupt_nothing(tmp_path):
    url = str(tmp_path / "shared")
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        assert all(pool.map(_writer, [(url, 0), (url, 1), (url, 2), (url, 3)]))
    disk = DiskCache(url)
    for i in range(8):
        assert np.array_equal(disk.get(f"{i:02d}" * 32, rotograph.Matte), np.full((256, 256), 0.5 + i, np.float32))
    assert os.listdir(os.path.join(url, "tmp")) == []


def test_fsspec_url(registry, square_shot, tmp_path):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    url = "memory://rotograph-test-cache"
    first = g.evaluate("track", 1003, cache=rotograph.open_cache(url)).labels.copy()
    ev = rotograph.Evaluator(g, rotograph.open_cache(url))
    assert np.array_equal(ev.get("track", None, 1003).labels, first)
    assert ev.stats.hits["track"] == 1 and ev.stats.computes["track"] == 0


def test_cache_cli(registry, square_shot, tmp_path):
    pattern, _ = square_shot
    url = str(tmp_path / "cache")
    g = build_track_graph(registry, pattern, tmp_path / "out")
    assert rotograph.render(g, cache=rotograph.open_cache(url)).ok

    def cli(*args):
        r = subprocess.run([sys.executable, "-m", "rotograph.cli", "cache", *args, "--cache", url],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout

    out = cli("stats")
    entries = int(out.split("entries:")[1].split()[0])
    assert entries >= 24  # 12 track frames + 12 writer receipts
    cli("prune", "--max-size", "20K")
    assert DiskCache(url).stats().bytes <= 20 * 1024
    cli("clear")
    assert DiskCache(url).stats().entries == 0
