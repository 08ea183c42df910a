"""The three examples of docs/writing-nodes.md are real plugins: each is loaded the way a
studio loads it (a $ROTOGRAPH_PLUGIN_PATH folder), registered, rendered on a small sequence
and checked against answers computed here from the same mattes."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

import rotograph

from conftest import moving_square, write_png_sequence

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
FRAMES = range(1001, 1009)


@pytest.fixture
def studio(tmp_path, monkeypatch):
    """The registry with docs/examples as a plugin folder, and a graph Read → Keyer on a
    moving square (its matte: the light square, soft at the keyer's clip points)."""
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(folder))
    registry = rotograph.Registry.default()
    frames, _ = moving_square(n=len(FRAMES), size=(48, 64), side=12, step=2)
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "plate", frames), colorspace="sRGB")
    g.add("rotograph.Keyer", "key", screen="blue")
    g.connect("read.image", "key.image")
    return registry, g


def test_examples_register_from_a_plugin_folder(studio):
    registry, _ = studio
    for type_id in ("studio.MatteContrast", "studio.MatteTrail", "studio.WriteCoverageText",
                    "studio.WriteCoverageTable"):
        assert "plugin file" in registry.source_of(type_id)


def test_pixel_node(studio):
    _, g = studio
    g.add("studio.MatteContrast", "contrast", contrast=3.0, pivot=0.4)
    g.connect("key.matte", "contrast.matte")
    for f in (1001, 1005):
        matte = g.evaluate("key", f)
        assert 0 < float(matte.mean()) < 1
        np.testing.assert_allclose(g.evaluate("contrast", f), np.clip((matte - 0.4) * 3 + 0.4, 0, 1), atol=1e-6)
    g.set("contrast.contrast", 1.0)  # a pass-through: the input's value itself
    assert g.evaluate("contrast", 1003) is g.evaluate("key", 1003)


def _trail(mattes, decay, restarts=()):
    out, trail = {}, None
    for f in sorted(mattes):
        trail = mattes[f] if trail is None or f in restarts else np.maximum(mattes[f], decay * trail)
        out[f] = trail
    return out


def test_range_node(studio, tmp_path):
    _, g = studio
    g.add("studio.MatteTrail", "trail", decay=0.5)
    g.connect("key.matte", "trail.matte")
    mattes = {f: g.evaluate("key", f) for f in FRAMES}
    want = _trail(mattes, 0.5)
    cache = rotograph.open_cache(str(tmp_path / "cache"))
    ev = rotograph.Evaluator(g, cache)
    for f in FRAMES:
        np.testing.assert_allclose(ev.get("trail", "out", f), want[f], atol=1e-6)
    # asked frame by frame, each run resumes after the last cached frame: every frame computed once
    assert ev.stats.computes["trail"] == len(FRAMES)
    # a restart at 1005 changes frames from 1005 only: the frames before keep their cache keys
    before = {f: ev.key("trail", "out", f) for f in FRAMES}
    g.set("trail.restarts", [{"frame": 1005}])
    ev = rotograph.Evaluator(g, cache)
    after = {f: ev.key("trail", "out", f) for f in FRAMES}
    assert [f for f in FRAMES if after[f] != before[f]] == list(range(1005, 1009))
    want = _trail(mattes, 0.5, restarts={1005})
    for f in FRAMES:
        np.testing.assert_allclose(ev.get("trail", "out", f), want[f], atol=1e-6)
    with pytest.raises(rotograph.ParamError, match="restarts"):
        g.set("trail.restarts", [{"frame": 1005, "box": [0, 0, 1, 1]}])


def test_writers(studio, tmp_path):
    _, g = studio
    g.add("studio.WriteCoverageText", "text", file=str(tmp_path / "out" / "coverage.####.txt"))
    g.add("studio.WriteCoverageTable", "table", file=str(tmp_path / "out" / "coverage.csv"))
    g.connect("key.matte", "text.matte")
    g.connect("key.matte", "table.matte")
    report = rotograph.render(g, "1002-1006", cache=rotograph.Cache())
    assert report.ok, report.error
    assert report.stats.computes["key"] == 5  # each rendered frame keyed once for both writers
    coverage = {f: float(np.mean(g.evaluate("key", f))) for f in range(1002, 1007)}
    for f, c in coverage.items():
        frame, value = (tmp_path / "out" / f"coverage.{f}.txt").read_text().split()
        assert int(frame) == f and float(value) == pytest.approx(c, abs=1e-6)
    assert not (tmp_path / "out" / "coverage.1001.txt").exists()
    with open(tmp_path / "out" / "coverage.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["frame", "coverage"]
    assert [(int(a), pytest.approx(float(b), abs=1e-6)) for a, b in rows[1:]] == list(coverage.items())
    with pytest.raises(rotograph.ParamError, match="CSV tables end in .csv"):
        g.set("table.file", str(tmp_path / "coverage.txt"))
