"""Exact frame rates and SMPTE timecode: parsing, drop-frame counting, and the rate and
timecode of real files reaching the writers' headers (read back with OpenImageIO)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import rotograph
from rotograph.io.media import probe
from rotograph.io.timing import Timing, exact_rate, frames_to_timecode, timecode_bcd, timecode_to_frames

from conftest import footage


@pytest.mark.parametrize("value, rate", [
    (23.976, Fraction(24000, 1001)), ("23.98", Fraction(24000, 1001)), ("24000/1001", Fraction(24000, 1001)),
    (29.97, Fraction(30000, 1001)), (59.94, Fraction(60000, 1001)), (47.952, Fraction(48000, 1001)),
    (24, Fraction(24)), (25.0, Fraction(25)), ("30", Fraction(30)), (12.5, Fraction(25, 2)),
    (Fraction(30000, 1001), Fraction(30000, 1001)), (float(Fraction(24000, 1001)), Fraction(24000, 1001)),
])
def test_rates_are_exact(value, rate):
    assert exact_rate(value) == rate


@pytest.mark.parametrize("bad", [0, -24, "fast", float("nan"), float("inf"), True, None, "1/0"])
def test_bad_rates_are_refused(bad):
    with pytest.raises(ValueError, match="frame rate"):
        exact_rate(bad)


def test_frame_rate_params_are_canonical(registry):
    w = registry.get("rotograph.WriteVideo")("w")
    for given, canonical in [(23.976, "24000/1001"), ("29.97", "30000/1001"), (25, "25"), ("auto", "auto")]:
        w.set("fps", given)
        assert w.fps == canonical
    with pytest.raises(rotograph.ParamError, match="node 'w'.*param 'fps'.*not a frame rate"):
        w.set("fps", "fast")


def test_timecode_counts_frames_and_drops_frame_labels():
    ntsc, film = Fraction(30000, 1001), Fraction(24000, 1001)
    assert frames_to_timecode(86400, film) == "01:00:00:00"  # 23.976 counts at 24
    assert timecode_to_frames("01:00:00:00", film) == 86400
    # drop-frame: labels 00 and 01 are skipped at each minute but every tenth
    assert frames_to_timecode(1799, ntsc, drop=True) == "00:00:59;29"
    assert frames_to_timecode(1800, ntsc, drop=True) == "00:01:00;02"
    assert frames_to_timecode(17982, ntsc, drop=True) == "00:10:00;00"
    assert frames_to_timecode(107892, ntsc, drop=True) == "01:00:00;00"  # an hour of 29.97 is 107,892 frames
    assert frames_to_timecode(215784, Fraction(60000, 1001), drop=True) == "01:00:00;00"
    for n in (0, 1, 2, 1799, 1800, 1801, 17981, 17982, 17983, 123456):
        assert timecode_to_frames(frames_to_timecode(n, ntsc, True), ntsc) == n
    with pytest.raises(ValueError, match="drop-frame"):
        frames_to_timecode(10, Fraction(25), drop=True)
    assert Timing(ntsc, "00:00:59;29", 1001).timecode_at(1002) == "00:01:00;02"
    assert Timing(Fraction(25), None, 1001).timecode_at(1002) is None
    assert timecode_bcd("01:02:03:04") == 0x01020304 and timecode_bcd("00:01:00;02") == 0x00010042


def test_movie_rate_and_timecode_from_the_file():
    info = probe(str(footage("01_dog.mp4")))
    assert info.fps == Fraction(30000, 1001) and isinstance(info.fps, Fraction)
    assert info.timecode == "00:00:00:00"


def test_exr_headers_carry_the_plates_rate_and_timecode(registry, tmp_path):
    """dog (29.97) → EXR with framesPerSecond and per-frame timeCode → read as a sequence: the
    same timing comes back, and on to a DPX."""
    import OpenImageIO as oiio

    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(footage("01_dog.mp4")), first_frame=86401)
    g.add("rotograph.WriteEXR", "exr", file=str(tmp_path / "dog.####.exr"))
    g.connect("read.image", "exr.image")
    assert rotograph.render(g, "86401-86402", cache=rotograph.Cache()).ok
    spec = oiio.ImageInput.open(str(tmp_path / "dog.86402.exr")).spec()
    assert spec.get_string_attribute("smpte:TimeCode") == "00:00:00:01"
    assert Fraction(*spec.getattribute("FramesPerSecond")) == Fraction(30000, 1001)
    info = probe(str(tmp_path / "dog.####.exr"))
    assert info.fps == Fraction(30000, 1001) and info.timecode == "00:00:00:00" and info.first == 86401
    g2 = rotograph.Graph(registry)
    g2.add("rotograph.Read", "read", file=str(tmp_path / "dog.####.exr"))
    g2.add("rotograph.WriteDPX", "dpx", file=str(tmp_path / "dog.####.dpx"), colorspace="linear")
    g2.connect("read.image", "dpx.image")
    assert rotograph.render(g2, "86402", cache=rotograph.Cache()).ok
    inp = oiio.ImageInput.open(str(tmp_path / "dog.86402.dpx"))
    dpx = inp.spec()
    inp.close()
    assert dpx.get_string_attribute("dpx:TimeCode") == "00:00:00:01" and dpx.get_int_attribute("dpx:FramePosition") == 86402
    assert exact_rate(dpx.get_float_attribute("dpx:FrameRate")) == Fraction(30000, 1001)
    assert probe(str(tmp_path / "dog.####.dpx")).fps == Fraction(30000, 1001)


def test_timing_passes_through_nodes_and_is_none_without_a_source(registry, tmp_path):
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(footage("01_dog.mp4")))
    g.add("rotograph.Keyer", "key")
    g.add("rotograph.Grow", "grow", size=1)
    g.connect("read.image", "key.image")
    g.connect("key.matte", "grow.matte")
    ev = rotograph.Evaluator(g, rotograph.Cache())
    assert ev.timing("grow") == Timing(Fraction(30000, 1001), "00:00:00:00", 1001)
    import cv2

    cv2.imwrite(str(tmp_path / "p.1001.png"), np.zeros((4, 4, 3), np.uint8))
    g.set("read.file", str(tmp_path / "p.####.png"))
    assert rotograph.Evaluator(g, rotograph.Cache()).timing("grow") is None  # PNG sequences have no rate
