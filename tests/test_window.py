"""Windowed inputs: a node reads an input over frames [f − k, f + k] clamped to its frame range,
and the keys of the whole window enter its key."""

from __future__ import annotations

import os

import numpy as np
import pytest

import rotograph
from rotograph import Evaluator, Input, Matte, Node, Output, Param

from conftest import build_track_graph, read_exr
from moving_disc import moving_disc, write_rgba_sequence


class WindowMean(Node):
    """Test node: the mean of the matte over its window, and the window's frames as written."""

    type_id = "test.WindowMean"
    matte = Input(Matte, window="k")
    k = Param(int, 1, range=(0, 10))
    out = Output(Matte)

    def compute(self, ctx, matte):
        assert list(matte) == sorted(matte) and ctx.frame in matte
        return np.mean(list(matte.values()), axis=0).astype(np.float32)


@pytest.fixture(scope="module")
def disc_shot(tmp_path_factory):
    disc = moving_disc(n=8)
    return write_rgba_sequence(tmp_path_factory.mktemp("disc"), disc), disc


def _graph(pattern: str, out=None, registry=None) -> rotograph.Graph:
    """Read (matte in alpha) → ShuffleMatte → TemporalSmooth (radius 2, motion from the plate)
    [→ WriteEXR]."""
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=pattern, colorspace="sRGB")
    g.add("rotograph.ShuffleMatte", "alpha")
    g.add("rotograph.TemporalSmooth", "smooth", radius=2)
    g.connect("read.image", "alpha.image")
    g.connect("alpha.matte", "smooth.matte")
    g.connect("read.image", "smooth.image")
    if out is not None:
        g.add("rotograph.WriteEXR", "write", file=str(out / "s.####.exr"), matte_type="float")
        g.connect("smooth.out", "write.matte")
    return g


def _touch(path: str, frame: int) -> None:
    """Rewrite one frame of the sequence with different pixels (its file identity changes)."""
    import cv2

    file = path.replace("####", f"{frame:04d}")
    img = cv2.imread(file, cv2.IMREAD_UNCHANGED)
    img[0, 0, 3] ^= 1
    cv2.imwrite(file, img)
    st = os.stat(file)
    os.utime(file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_window_is_clamped_to_the_frame_range(disc_shot):
    pattern, _ = disc_shot
    ev = Evaluator(_graph(pattern), rotograph.Cache())
    assert ev.window("smooth", "matte", 1004) == (1002, 1003, 1004, 1005, 1006)
    assert ev.window("smooth", "image", 1001) == (1001, 1002, 1003)
    assert ev.window("smooth", "matte", 1008) == (1006, 1007, 1008)
    assert ev.window("alpha", "image", 1004) is None  # a plain input


def test_compute_gets_the_window_as_a_dict(registry, tmp_path):
    import cv2

    level = {f: (f - 1000) * 25 for f in range(1001, 1006)}  # frame f: alpha (f − 1000)·25 / 255
    for f, v in level.items():
        cv2.imwrite(str(tmp_path / f"m.{f}.png"), np.full((4, 6, 4), v, np.uint8))
    registry.add(WindowMean)
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(tmp_path / "m.####.png"))
    g.add("rotograph.ShuffleMatte", "alpha")
    g.add("test.WindowMean", "mean", k=2)
    g.connect("read.image", "alpha.image")
    g.connect("alpha.matte", "mean.matte")
    ev = Evaluator(g, rotograph.Cache())
    for f, window in {1001: (1001, 1002, 1003), 1003: (1001, 1002, 1003, 1004, 1005), 1005: (1003, 1004, 1005)}.items():
        expected = np.mean([np.float32(level[w] / 255) for w in window])
        assert np.allclose(ev.get("mean", None, f), expected, atol=1e-6), f


def test_key_follows_the_frames_inside_the_window_only(disc_shot, tmp_path):
    import shutil

    src, _ = disc_shot
    folder = tmp_path / "copy"
    shutil.copytree(os.path.dirname(src), folder)
    pattern = str(folder / os.path.basename(src))
    g = _graph(pattern)
    key = lambda: Evaluator(g, rotograph.Cache()).key("smooth", None, 1004)  # a fresh evaluator stats the files again
    before = key()
    _touch(pattern, 1007)  # outside [1002, 1006]
    assert key() == before
    _touch(pattern, 1001)
    assert key() == before
    _touch(pattern, 1006)  # inside
    changed = key()
    assert changed != before
    _touch(pattern, 1002)  # the other end of the window
    assert key() != changed


def test_one_frame_range_reads_a_one_frame_window(disc_shot, tmp_path):
    import shutil

    src, disc = disc_shot
    shutil.copy(src.replace("####", "1003"), tmp_path / "one.1003.png")
    g = _graph(str(tmp_path / "one.####.png"))
    ev = Evaluator(g, rotograph.Cache())
    assert ev.frame_range("smooth") == (1003, 1003)
    assert ev.window("smooth", "matte", 1003) == (1003,)
    out = ev.get("smooth", None, 1003)
    assert np.array_equal(out, ev.get("alpha", "matte", 1003))  # nothing to smooth with


def test_chunked_render_across_workers_matches_serial(disc_shot, tmp_path):
    pattern, _ = disc_shot
    serial = rotograph.render(_graph(pattern, tmp_path / "serial"), cache=rotograph.Cache())
    assert serial.ok, serial.error
    # chunks of 3 frames: every chunk's window reaches into its neighbours' frames
    report = rotograph.render(_graph(pattern, tmp_path / "pool"), workers=2, chunk=3,
                              cache=rotograph.open_cache(str(tmp_path / "cache")))
    assert report.ok, report.error
    for f in range(1001, 1009):
        a = read_exr(tmp_path / "serial" / f"s.{f}.exr")["matte.A"]
        b = read_exr(tmp_path / "pool" / f"s.{f}.exr")["matte.A"]
        assert np.array_equal(a, b), f


def test_a_range_node_runs_on_to_the_frames_a_window_reads(registry, square_shot, tmp_path, cache):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    g.add("rotograph.TemporalSmooth", "smooth", radius=2)
    g.connect("track_matte.matte", "smooth.matte")
    g.connect("smooth.out", "grow.matte")
    report = rotograph.render(g, "1001-1004", cache=cache)
    assert report.ok, report.error
    assert report.stats.range_runs["track"] == 1  # its segment task ran to 1006; no second run
    assert report.stats.computes["track"] == 6
