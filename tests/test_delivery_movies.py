"""Movie deliveries read back with PyAV: exact frame rates taken from the plate (29.97 is
30000/1001), 23.976 as 24000/1001, the source's timecode, and mattes as grey or as alpha."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np

import rotograph
from rotograph.io.colour import convert

from conftest import footage


def _decode(path, fmt):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        info = {"codec": s.codec_context.name, "r_frame_rate": s.base_rate, "average_rate": s.average_rate,
                "timecode": s.metadata.get("timecode"), "pix_fmt": s.codec_context.pix_fmt}
        frames = [f.to_ndarray(format=fmt) for f in c.decode(video=0)]
    return info, frames


def test_movie_rate_and_timecode_come_from_the_plate(plugin_registry, tmp_path):
    g = rotograph.Graph(plugin_registry)
    g.add("rotograph.Read", "read", file=str(footage("01_dog.mp4")))  # 29.97 fps, timecode 00:00:00:00
    g.add("rotograph.WriteVideo", "movie", file=str(tmp_path / "dog.mp4"))  # fps: auto
    g.connect("read.image", "movie.image")
    report = rotograph.render(g, "1003-1006", cache=rotograph.Cache())
    assert report.ok, report.error
    info, frames = _decode(tmp_path / "dog.mp4", "rgb24")
    assert info["r_frame_rate"] == Fraction(30000, 1001) and info["average_rate"] == Fraction(30000, 1001)
    assert info["timecode"] == "00:00:00:02" and len(frames) == 4  # the first frame written is the plate's third


def test_23976_is_24000_over_1001(plugin_registry, tmp_path):
    g = rotograph.Graph(plugin_registry)
    g.add("test.Squares", "scene")
    g.add("rotograph.WriteProRes", "movie", file=str(tmp_path / "sq.mov"), fps=23.976, profile="422HQ")
    g.connect("scene.image", "movie.image")
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    info, frames = _decode(tmp_path / "sq.mov", "rgb48le")
    assert info["r_frame_rate"] == Fraction(24000, 1001) and info["average_rate"] == Fraction(24000, 1001)
    assert info["timecode"] is None and len(frames) == 6  # the double has no timecode to pass on
    assert g.nodes["movie"].fps == "24000/1001"


def test_matte_movies_grey_and_as_alpha(plugin_registry, tmp_path):
    g = rotograph.Graph(plugin_registry)
    g.add("test.Squares", "scene")
    g.add("rotograph.WriteVideo", "alpha_mp4", file=str(tmp_path / "alpha.mp4"), fps=25, burn_in=False, crf=0)
    g.add("rotograph.WriteProRes", "comp", file=str(tmp_path / "comp.mov"), fps=25)
    g.add("rotograph.WriteVideo", "fg", file=str(tmp_path / "foreground.mp4"), fps=25, burn_in=False, crf=0)
    for a, b in [("scene.matte", "alpha_mp4.matte"), ("scene.image", "comp.image"), ("scene.matte", "comp.matte"),
                 ("scene.image", "fg.image"), ("scene.matte", "fg.matte")]:
        g.connect(a, b)
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    _, grey = _decode(tmp_path / "alpha.mp4", "rgb24")
    _, rgba = _decode(tmp_path / "comp.mov", "rgba64le")
    _, fg = _decode(tmp_path / "foreground.mp4", "rgb24")
    for i, f in enumerate(range(1001, 1007)):
        matte, image = g.evaluate("scene", f, "matte"), g.evaluate("scene", f, "image")
        assert np.abs(grey[i][..., 1] / 255 - matte).mean() < 0.01  # lossless x264, 4:2:0 edges
        assert np.abs(rgba[i][..., 3] / 65535 - matte).max() < 2e-3  # ProRes 4444 alpha plane
        want = np.clip(convert(image * matte[..., None], "linear", "Rec.709"), 0, 1)
        assert np.abs(fg[i] / 255 - want).mean() < 0.01 and fg[i][matte == 0].mean() < 1  # black outside


def test_version_1_movie_graphs_keep_their_rate(plugin_registry):
    doc = {"format": "rotograph.graph", "schema_version": 1, "nodes": {
        "a": {"type": "rotograph.WriteVideo", "version": 1, "params": {"fps": 23.976, "file": "a.mp4"}},
        "b": {"type": "rotograph.WriteProRes", "version": 1, "params": {"fps": 24.0, "file": "b.mov"}}}}
    g = rotograph.loads(json.dumps(doc), plugin_registry)
    assert g.nodes["a"].fps == "24000/1001" and g.nodes["b"].fps == "24"


def test_matte_video_is_the_rendered_matte_on_every_frame(plugin_registry, tmp_path):
    """``alpha.mp4`` as a user makes it (WriteVideo's defaults but lossless crf=0; burn_in left
    on the matte too): decoded with PyAV, every frame is the rendered matte within one code value
    — no frame number burnt in, nothing else drawn."""
    g = rotograph.Graph(plugin_registry)
    g.add("test.Squares", "scene")
    g.add("rotograph.WriteVideo", "plain", file=str(tmp_path / "alpha.mp4"), crf=0)
    g.add("rotograph.WriteVideo", "asked", file=str(tmp_path / "alpha_burn.mp4"), crf=0, burn_in=True)
    g.connect("scene.matte", "plain.matte")
    g.connect("scene.matte", "asked.matte")
    assert g.nodes["plain"].burn_in is False  # burn-ins are off by default
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    for name in ("alpha.mp4", "alpha_burn.mp4"):
        _, grey = _decode(tmp_path / name, "rgb24")
        assert len(grey) == 6
        for i, f in enumerate(range(1001, 1007)):
            want = np.round(np.clip(g.evaluate("scene", f, "matte"), 0, 1) * 255)
            diff = np.abs(grey[i].astype(int) - want[..., None])
            assert diff.max() <= 1, (name, f, diff.max())
