"""ProRes and H.264 writers, checked by decoding with PyAV."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

import rotograph
from rotograph.io.colour import convert

from conftest import footage


def _graph(registry, tmp_path, writer, **params):
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(footage("bedroom.mp4")))
    g.add("rotograph.Keyer", "keyer", screen="blue", adaptive=False)  # any soft matte will do
    g.add("rotograph.ShuffleMatte", "shuffle")
    g.connect("read.image", "keyer.image")
    g.connect("read.image", "shuffle.image")
    g.connect("keyer.matte", "shuffle.matte")
    g.add(writer, "movie", **params)
    g.connect("shuffle.image", "movie.image")
    return g


def probe_stream(path) -> dict:
    """What ``ffprobe -count_frames -show_streams`` reports of the video stream, under its
    field names, read with PyAV (libavformat/libavcodec, as ffprobe does; no ffmpeg install)."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        ctx = stream.codec_context
        return {"codec_name": ctx.name, "profile": ctx.profile, "pix_fmt": ctx.pix_fmt,
                "nb_read_frames": sum(1 for _ in c.decode(stream)), "r_frame_rate": stream.base_rate}


def test_prores_4444_with_alpha(registry, tmp_path):
    path = tmp_path / "shot.mov"
    g = _graph(registry, tmp_path, "rotograph.WriteProRes", file=str(path), fps=30.0)
    report = rotograph.render(g, "1001-1012", cache=rotograph.Cache())
    assert report.ok, report.error
    info = probe_stream(path)
    assert info["codec_name"] == "prores" and info["profile"] == "4444"
    assert info["pix_fmt"].startswith("yuva444p1") and info["nb_read_frames"] == 12
    assert info["r_frame_rate"] == Fraction(30, 1)
    with av.open(str(path)) as c:
        decoded = [f.to_ndarray(format="rgba64le").astype(np.float32) / 65535 for f in c.decode(video=0)]
    for i in (0, 5, 11):
        want = g.evaluate("shuffle", 1001 + i, "image")
        rgb = convert(want[..., :3], "linear", "Rec.709")
        assert np.abs(decoded[i][..., 3] - want[..., 3]).mean() < 2e-3  # alpha
        assert np.abs(decoded[i][..., :3] - np.clip(rgb, 0, 1)).mean() < 5e-3  # 10-bit 4:4:4


def test_prores_422hq_and_partial_range(registry, tmp_path):
    path = tmp_path / "hq.mov"
    g = _graph(registry, tmp_path, "rotograph.WriteProRes", file=str(path), profile="422HQ")
    assert rotograph.render(g, "1003-1006", cache=rotograph.Cache()).ok
    info = probe_stream(path)
    assert info["profile"] == "HQ" and info["pix_fmt"] == "yuv422p10le" and info["nb_read_frames"] == 4


def test_h264_preview_with_burnt_in_frame_numbers(registry, tmp_path):
    cache = rotograph.open_cache(str(tmp_path / "cache"))
    burnt, clean = tmp_path / "burnt.mp4", tmp_path / "clean.mp4"
    g = _graph(registry, tmp_path, "rotograph.WriteVideo", file=str(burnt), burn_in=True)
    report = rotograph.render(g, "1001-1010", cache=cache, workers=2)  # the movie is one segment task
    assert report.ok, report.error
    assert report.stats.range_runs["movie"] == 1
    g.set("movie.file", str(clean))
    g.set("movie.burn_in", False)
    assert rotograph.render(g, "1001-1010", cache=cache).ok
    info = probe_stream(burnt)
    assert info["codec_name"] == "h264" and info["pix_fmt"] == "yuv420p" and info["nb_read_frames"] == 10
    with av.open(str(burnt)) as a, av.open(str(clean)) as b:
        fa = [f.to_ndarray(format="rgb24").astype(int) for f in a.decode(video=0)]
        fb = [f.to_ndarray(format="rgb24").astype(int) for f in b.decode(video=0)]
    corner = np.abs(fa[3][-40:, :120] - fb[3][-40:, :120]).mean()
    rest = np.abs(fa[3][:300] - fb[3][:300]).mean()
    assert corner > 5 and rest < 2, (corner, rest)
    # a second render finds the movie unchanged and computes nothing
    again = rotograph.render(g, "1001-1010", cache=cache)
    assert sum(again.stats.computes.values()) == 0


def test_movie_file_names_are_checked(registry):
    with pytest.raises(rotograph.ParamError, match="not a movie file name"):
        registry.get("rotograph.WriteProRes")("w", file="out/shot.####.exr")
