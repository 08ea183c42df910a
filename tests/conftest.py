"""Shared fixtures: real footage from ../shared/footage, small generated sequences, caches."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

import rotograph

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = Path(os.environ.get("ROTOGRAPH_FOOTAGE", ROOT.parent / "shared" / "footage"))
GRAPHS = ROOT / "graphs"


def footage(name: str) -> Path:
    path = FOOTAGE / name
    if not path.exists():
        pytest.fail(f"test footage {path} is missing (see ../shared/footage/README.md)")
    return path


@pytest.fixture
def registry():
    return rotograph.Registry.builtin()


@pytest.fixture
def cache(tmp_path):
    return rotograph.open_cache(str(tmp_path / "cache"), max_bytes="2G", memory_bytes="256M")


def write_png_sequence(folder: Path, frames: dict[int, np.ndarray], name="plate") -> str:
    """Write uint8 RGB frames as ``name.####.png``; returns the pattern."""
    folder.mkdir(parents=True, exist_ok=True)
    for f, rgb in frames.items():
        cv2.imwrite(str(folder / f"{name}.{f:04d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return str(folder / f"{name}.####.png")


def moving_square(n=12, size=(96, 128), first=1001, side=30, step=3):
    """A textured light square moving right over a darker textured background, with its truth."""
    rng = np.random.default_rng(7)
    h, w = size
    bg = (rng.integers(20, 70, (h, w, 3))).astype(np.uint8)
    frames, truth = {}, {}
    for i in range(n):
        img = bg.copy()
        x0, y0 = 10 + i * step, 30
        patch = rng.integers(180, 250, (side, side, 3)).astype(np.uint8)
        patch[..., 2] //= 2
        img[y0:y0 + side, x0:x0 + side] = patch
        m = np.zeros((h, w), np.float32)
        m[y0:y0 + side, x0:x0 + side] = 1
        frames[first + i], truth[first + i] = img, m
    return frames, truth


@pytest.fixture
def square_shot(tmp_path):
    frames, truth = moving_square()
    pattern = write_png_sequence(tmp_path / "plate", frames)
    return pattern, truth


def build_track_graph(registry, pattern: str, out_dir: Path, box=(8, 28, 42, 62), keyframe=1001):
    """Read → FlowTrack → MasksToMatte → Grow → Feather → Premult → WriteEXR, on a small sequence."""
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=pattern, colorspace="sRGB")
    g.add("rotograph.FlowTrack", "track", prompts=[{"frame": keyframe, "box": list(box)}], work_size=128,
          band=4.0)
    g.add("rotograph.MasksToMatte", "track_matte")
    g.add("rotograph.Grow", "grow", size=1.0)
    g.add("rotograph.Feather", "feather", size=2.0)
    g.add("rotograph.Premult", "premult")
    g.add("rotograph.WriteEXR", "write", file=str(out_dir / "out.####.exr"))
    g.connect("read.image", "track.image")
    g.connect("track.masks", "track_matte.masks")
    g.connect("track_matte.matte", "grow.matte")
    g.connect("grow.out", "feather.matte")
    g.connect("read.image", "premult.image")
    g.connect("feather.out", "premult.matte")
    g.connect("premult.out", "write.image")
    g.connect("feather.out", "write.matte")
    return g


@pytest.fixture
def quickstart(tmp_path):
    """A copy of graphs/quickstart.json in ``tmp_path``/graphs (the editor saves over the file it
    opened; it renders to ``tmp_path``/render, as the shipped one does beside graphs/)."""
    path = tmp_path / "graphs" / "quickstart.json"
    path.parent.mkdir(exist_ok=True)
    shutil.copy(GRAPHS / "quickstart.json", path)
    return path


CHILD_BOX = [300, 0, 520, 400]  # the girl on the bed at frame 1001 of bedroom.mp4
PLUGINS = Path(__file__).resolve().parent / "plugins"


def bedroom_graph(out: Path, registry=None, fail: dict | None = None) -> "rotograph.Graph":
    """graphs/quickstart.json on bedroom.mp4 (a box on the girl), writing under ``out``; with
    ``fail``, a test.FailAt node (tests/plugins) sits between Feather and Premult."""
    g = rotograph.load(GRAPHS / "quickstart.json", registry)
    g.set("read.file", str(footage("bedroom.mp4")))
    g.set("track.prompts", [{"frame": 1001, "box": CHILD_BOX}])
    g.set("track.work_size", 192)
    g.set("write_exr.file", str(out / "exr" / "b.####.exr"))
    g.set("write_png.file", str(out / "png" / "b.####.png"))
    if fail is not None:
        g.add("test.FailAt", "fail", **fail)
        g.connect("feather.out", "fail.matte")
        g.connect("fail.out", "premult.matte")
        g.connect("fail.out", "write_exr.matte")
    return g


def same_outputs(a: Path, b: Path, frames) -> None:
    for f in frames:
        x, y = read_exr(a / "exr" / f"b.{f}.exr"), read_exr(b / "exr" / f"b.{f}.exr")
        assert x.keys() == y.keys() and all(np.array_equal(x[c], y[c]) for c in x), f
        assert (a / "png" / f"b.{f}.png").read_bytes() == (b / "png" / f"b.{f}.png").read_bytes(), f


def read_exr(path) -> dict[str, np.ndarray]:
    import OpenEXR

    with OpenEXR.File(str(path), separate_channels=True) as f:
        return {k: v.pixels.copy() for k, v in f.channels().items()}


@pytest.fixture
def plugin_registry(monkeypatch):
    """The default registry with the test doubles of tests/plugins loaded (as a plugin folder),
    and that folder importable for the doubles' known answers (``import scene_doubles``)."""
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(PLUGINS))
    monkeypatch.syspath_prepend(str(PLUGINS))
    return rotograph.Registry.default()
