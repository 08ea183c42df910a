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
from rotograph.engine.cache import DiskCache, MemoryCache
from rotograph.core.types import CameraData, DepthMap, MaskObject, MaskSet

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


# -- every value round-trips exactly, across processes, edge cases included ------------------

def _value(tname: str, h: int, w: int, fill: str, seed: int = 0):
    """A value of port type ``tname``: ``fill`` is zero, one or random (NaN-free)."""
    r = np.random.default_rng(seed)

    def arr(*shape, lo=0.0, hi=1.0):
        if fill == "zero":
            return np.zeros(shape, np.float32)
        if fill == "one":
            return np.ones(shape, np.float32)
        return r.uniform(lo, hi, shape).astype(np.float32)

    if tname == "Image":
        return arr(h, w, 4 if seed % 2 else 3)
    if tname == "Matte":
        return arr(h, w)
    if tname == "Masks":
        if fill == "zero":  # nothing found: the empty MaskSet
            return MaskSet(np.zeros((h, w), np.uint16), [])
        labels = np.ones((h, w), np.uint16) if fill == "one" else r.integers(0, 4, (h, w)).astype(np.uint16)
        return MaskSet(labels, [MaskObject(i, f"obj {i}", float(r.random())) for i in range(1, 4)])
    if tname == "Depth":
        return DepthMap(arr(h, w, hi=100.0), bool(seed % 2), "m" if seed % 2 else "relative")
    if tname == "Normals":
        return arr(h, w, 3, lo=-1.0, hi=1.0)
    if tname == "Camera":
        k = np.zeros((3, 3)) if fill == "zero" else r.random((3, 3)) * 1000
        return CameraData(k, np.eye(4) if fill == "one" else r.random((4, 4)), (w, h))
    if tname == "File":
        return rotograph.Written(f"/renders/shot.{h:04d}.exr", h * w, 1_700_000_000_000_000_000 + seed)
    raise AssertionError(tname)


def _encoded(ptype, value):
    arrays, attrs = ptype.encode(value)
    return {k: (a.dtype.str, a.shape, a.tobytes()) for k, a in arrays.items()}, attrs


TYPES = ("Image", "Matte", "Masks", "Depth", "Normals", "Camera", "File")
EDGE_CASES = [(t, h, w, fill) for t in TYPES for (h, w) in ((1, 1), (17, 23), (1080, 1920))
              for fill in ("zero", "one", "random")] + [
    ("Matte", 2160, 3840, "zero"), ("Matte", 2160, 3840, "random"), ("Masks", 2160, 3840, "zero"),
    ("Image", 2160, 3840, "one"), ("Image", 1, 4096, "random"), ("Matte", 4096, 1, "zero")]

READ_BACK = """
import json, sys
import rotograph
from rotograph.engine.cache import DiskCache
from rotograph.engine.cache.disk import array_digest
disk = DiskCache(sys.argv[1])
types = rotograph.Registry().port_types
out = {}
for key, tname in json.loads(sys.argv[2]).items():
    value = disk.get(key, types[tname])
    if value is None:
        out[key] = None
        continue
    arrays, attrs = types[tname].encode(value)
    out[key] = [{k: [a.dtype.str, list(a.shape), array_digest(a)] for k, a in arrays.items()}, attrs]
print(json.dumps(out))
"""


def test_every_value_round_trips_exactly_in_a_new_process(tmp_path):
    """Disk put here → get in a fresh process → equal, for every port type: all-zero (an empty
    matte, nothing found), all-one, random, 1×1, 1080p, 4K, one-pixel-wide strips."""
    from rotograph.engine.cache.disk import array_digest

    types = rotograph.Registry().port_types
    disk = DiskCache(str(tmp_path / "cache"))
    expected, names = {}, {}
    for i, (tname, h, w, fill) in enumerate(EDGE_CASES):
        key = f"{i:064x}"
        value = _value(tname, h, w, fill, seed=i)
        disk.put(key, types[tname], value)
        arrays, attrs = types[tname].encode(value)
        expected[key] = [{k: [a.dtype.str, list(a.shape), array_digest(a)] for k, a in arrays.items()}, attrs]
        names[key] = tname
    import json

    r = subprocess.run([sys.executable, "-c", READ_BACK, str(tmp_path / "cache"), json.dumps(names)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    missing = [EDGE_CASES[int(k, 16)] for k, v in got.items() if v is None]
    assert not missing, f"not read back: {missing}"
    assert got == json.loads(json.dumps(expected))
    assert "corrupt" not in r.stderr


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tname=st.sampled_from(TYPES), h=st.integers(1, 40), w=st.integers(1, 40),
       fill=st.sampled_from(("zero", "one", "random")), seed=st.integers(0, 1000))
def test_disk_put_get_is_identity(tmp_path_factory, tname, h, w, fill, seed):
    ptype = rotograph.Registry().port_types[tname]
    disk = DiskCache(str(tmp_path_factory.mktemp("c")))
    value = _value(tname, h, w, fill, seed)
    disk.put("cd" * 32, ptype, value)
    back = disk.get("cd" * 32, ptype)
    assert back is not None and _encoded(ptype, back) == _encoded(ptype, value)


@pytest.mark.parametrize("what", ["chunk", "entry"])
def test_an_entry_is_bound_to_its_key(tmp_path, what, caplog):
    """A valid chunk (or a whole valid entry) copied from frame 1071's entry into frame 1070's
    is detected: the entry is removed and reported as a miss, never returned as frame 1070."""
    import shutil

    disk = DiskCache(str(tmp_path))
    k1070, k1071 = "70" * 32, "71" * 32
    disk.put(k1070, rotograph.Matte, _value("Matte", 32, 32, "random", seed=1070))
    disk.put(k1071, rotograph.Matte, _value("Matte", 32, 32, "random", seed=1071))
    if what == "chunk":
        src = [c for c in glob.glob(disk._entry(k1071) + "/data/c/**/*", recursive=True) if os.path.isfile(c)][0]
        shutil.copyfile(src, disk._entry(k1070) + src[len(disk._entry(k1071)):])
    else:
        shutil.rmtree(disk._entry(k1070))
        shutil.copytree(disk._entry(k1071), disk._entry(k1070))
    with caplog.at_level(logging.WARNING, logger="rotograph.cache"):
        assert disk.get(k1070, rotograph.Matte) is None
    assert any("corrupt" in r.message for r in caplog.records)
    assert not disk.contains(k1070) and disk.get(k1071, rotograph.Matte) is not None


def test_all_zero_values_are_cached_not_recomputed(registry, tmp_path, caplog):
    """An empty matte is a value: read back from disk as a hit, with no corruption warning."""
    g = rotograph.Graph(registry)
    black = np.zeros((24, 32, 3), np.uint8)
    from conftest import write_png_sequence

    pattern = write_png_sequence(tmp_path / "plate", {1001 + i: black for i in range(3)})
    g.add("rotograph.Read", "read", file=pattern, colorspace="sRGB")
    g.add("rotograph.Keyer", "key")
    g.connect("read.image", "key.image")
    g.nodes["key"].cache_policy = rotograph.CachePolicy.ALWAYS  # through the disk tier
    url = str(tmp_path / "cache")
    first = g.evaluate("key", 1002, cache=rotograph.open_cache(url))
    ev = rotograph.Evaluator(g, rotograph.open_cache(url))
    with caplog.at_level(logging.WARNING, logger="rotograph.cache"):
        again = ev.get("key", None, 1002)
    assert np.array_equal(again, first) and ev.stats.hits["key"] == 1 and ev.stats.computes["key"] == 0
    assert not [r for r in caplog.records if "corrupt" in r.message]


def test_pins_survive_pruning_in_every_process_until_released(tmp_path):
    noise = np.random.default_rng(2).random((64, 64), dtype=np.float32)  # ~16 KB each
    url = str(tmp_path / "cache")
    a, b = DiskCache(url, max_bytes=50_000), DiskCache(url, max_bytes=50_000)
    keys = [f"{i:02d}" * 32 for i in range(8)]
    pin = a.pin(keys[:5])
    for k in keys:
        b.put(k, rotograph.Matte, noise)  # another process fills the cache past its bound
    assert all(b.contains(k) for k in keys[:5]), "pinned entries were evicted"
    a.unpin(pin)
    b.prune()
    assert b.stats().bytes <= 50_000
    # a pin left by a process that died (kill -9) is stale and ignored
    import json
    import socket
    import time

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with open(os.path.join(url, "pins", "dead.json"), "w") as f:
        json.dump({"host": socket.gethostname(), "pid": int(dead.stdout), "created": time.time(), "keys": keys}, f)
    assert b.pinned() == set() and not os.path.exists(os.path.join(url, "pins", "dead.json"))
