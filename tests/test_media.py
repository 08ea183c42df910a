"""Reading media: frame-accurate movies, sequences in every format, colourspaces, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

import rotograph
from rotograph.interop.cli import main
from rotograph.io.colour import from_linear, to_linear
from rotograph.io.media import MovieSource, frame_pattern, probe, sequence_frames

from conftest import GRAPHS, footage


def _read(registry, file, frame, **params):
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(file), **params)
    return g.evaluate("read", frame)


def test_movie_random_access_matches_sequential_decode():
    import av

    path = str(footage("bedroom.mp4"))
    with av.open(path) as c:
        sequential = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(sequential) == 200
    src = MovieSource(path)
    for i in (150, 3, 199, 0, 57, 58, 59, 120):
        assert np.array_equal(src.read(i), sequential[i]), i


def test_read_movie_numbers_frames_from_first_frame(registry):
    path = footage("bedroom.mp4")
    img = _read(registry, path, 1001)
    assert img.shape == (540, 960, 3) and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() <= 1.0
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(path), first_frame=1)
    assert rotograph.Evaluator(g, rotograph.Cache()).frame_range("read") == (1, 200)
    with pytest.raises(rotograph.EvaluationError, match=r"frame 201 is outside the movie's frames 1-200"):
        g.evaluate("read", 201)


def test_srgb_8bit_is_decoded_to_linear(registry, tmp_path):
    codes = np.arange(256, dtype=np.uint8)
    img = np.dstack([np.tile(codes, (4, 1))] * 3)
    cv2.imwrite(str(tmp_path / "ramp.1001.png"), img)
    lin = _read(registry, tmp_path / "ramp.####.png", 1001, colorspace="sRGB")
    expected = to_linear(codes / 255.0, "sRGB")
    assert np.allclose(lin[0, :, 0], expected, atol=1e-6)
    back = np.round(from_linear(lin, "sRGB") * 255).astype(np.uint8)
    assert np.array_equal(back, img)  # an 8-bit sRGB plate round-trips exactly


@pytest.mark.parametrize("ext,dtype", [("png", np.uint8), ("png", np.uint16), ("tif", np.uint16), ("tif", np.uint8)])
def test_integer_sequences(registry, tmp_path, ext, dtype):
    top = np.iinfo(dtype).max
    rgb = np.zeros((8, 10, 3), dtype)
    rgb[..., 0] = top  # pure red in RGB order
    rgb[2, 3] = [top // 2, 0, top]
    for f in (1001, 1002):
        cv2.imwrite(str(tmp_path / f"p.{f:04d}.{ext}"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    img = _read(registry, tmp_path / f"p.%04d.{ext}", 1002, colorspace="linear")
    assert np.allclose(img, rgb / top, atol=1e-6)


def test_jpeg_and_dpx(registry, tmp_path, capsys):
    import OpenImageIO as oiio

    rgb = np.full((16, 16, 3), 128, np.uint8)
    cv2.imwrite(str(tmp_path / "j.1001.jpg"), rgb)
    assert abs(_read(registry, tmp_path / "j.@@@@.jpg", 1001, colorspace="linear").mean() - 128 / 255) < 0.01
    ramp = np.linspace(0, 1, 16 * 16 * 3, dtype=np.float32).reshape(16, 16, 3)
    out = oiio.ImageOutput.create(str(tmp_path / "d.1001.dpx"))
    spec = oiio.ImageSpec(16, 16, 3, oiio.UINT16)
    spec.attribute("oiio:BitsPerSample", 10)
    assert out.open(str(tmp_path / "d.1001.dpx"), spec)
    out.write_image(ramp)
    out.close()
    img = _read(registry, tmp_path / "d.####.dpx", 1001, colorspace="linear")
    assert np.allclose(img, ramp, atol=1 / 1023 + 1e-6)
    # rotograph info says what the file holds: 10 bits per sample (OpenImageIO's oiio:BitsPerSample), not 16
    assert probe(str(tmp_path / "d.####.dpx")).bit_depth == 10
    assert main(["info", str(tmp_path / "d.1001.dpx"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bit depth"] == "10"


def test_exr_sequence_is_linear_float(registry, tmp_path):
    import OpenEXR

    rgba = np.random.default_rng(3).random((6, 7, 4)).astype(np.float32) * 4  # HDR values survive
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"RGBA": rgba}) as f:
        f.write(str(tmp_path / "e.1001.exr"))
    img = _read(registry, tmp_path / "e.####.exr", 1001)
    assert img.shape == (6, 7, 4) and np.array_equal(img, rgba)


def test_missing_frame_names_file_and_frame(registry, tmp_path):
    for f in (1001, 1003):
        cv2.imwrite(str(tmp_path / f"s.{f}.png"), np.zeros((4, 4, 3), np.uint8))
    info = probe(str(tmp_path / "s.####.png"))
    assert (info.first, info.last, info.missing) == (1001, 1003, [1002])
    with pytest.raises(rotograph.EvaluationError) as e:
        _read(registry, tmp_path / "s.####.png", 1002)
    assert "s.1002.png" in str(e.value) and "frame 1002" in str(e.value) and "node 'read'" in str(e.value)
    (tmp_path / "s.1003.png").write_bytes(b"not a png at all")
    with pytest.raises(rotograph.EvaluationError, match=r"s\.1003\.png.*frame 1003"):
        _read(registry, tmp_path / "s.####.png", 1003)


def test_patterns(tmp_path):
    assert frame_pattern("a/shot.####.exr")[0].format(1001) == "a/shot.1001.exr"
    assert frame_pattern("a/shot.%06d.exr")[0].format(7) == "a/shot.000007.exr"
    assert frame_pattern("a/shot.@@@.png")[0].format(7) == "a/shot.007.png"
    assert frame_pattern("a/sh{x}.####.png")[0].format(7) == "a/sh{x}.0007.png"
    assert frame_pattern("a/shot.mov") is None
    for f in (998, 999, 1000, 1001):
        (tmp_path / f"x.{f:04d}.png").write_bytes(b"")
    (tmp_path / "x.abcd.png").write_bytes(b"")
    assert list(sequence_frames(str(tmp_path / "x.####.png"))) == [998, 999, 1000, 1001]


def test_info_cli(tmp_path):
    r = subprocess.run([sys.executable, "-m", "rotograph.cli", "info", str(footage("01_dog.mp4")), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["resolution"] == "1280x720" and info["frames"] == "1001-1289 (289 frames)"
    assert info["codec"] == "h264" and info["fps"] == "29.970 (30000/1001)" and info["timecode"] == "00:00:00:00"
    bad = subprocess.run([sys.executable, "-m", "rotograph.cli", "info", str(tmp_path / "nope.mov")],
                         capture_output=True, text=True)
    assert bad.returncode == 4 and "nope.mov" in bad.stderr and "not found" in bad.stderr


@pytest.mark.parametrize("ext,codec", [("mov", "mpeg4"), ("avi", "mjpeg"), ("webm", "libvpx-vp9"), ("mkv", "ffv1")])
def test_movie_containers_are_frame_accurate(registry, tmp_path, ext, codec):
    import av

    path = str(tmp_path / f"count.{ext}")
    levels = [20 + 20 * i for i in range(10)]  # frame i is flat grey at level i
    with av.open(path, "w") as out:
        s = out.add_stream(codec, rate=24)
        s.width, s.height = 64, 48
        s.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        for level in levels:
            for p in s.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), level, np.uint8), format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=path, colorspace="linear")
    assert rotograph.Evaluator(g, rotograph.Cache()).frame_range("read") == (1001, 1010)
    for f in (1007, 1002, 1010, 1001, 1005):
        assert abs(float(g.evaluate("read", f).mean()) * 255 - levels[f - 1001]) < 4, (ext, f)


def test_exr_layers_and_multipart(registry, tmp_path):
    import OpenEXR

    rng = np.random.default_rng(5)
    rgb, matte, n = rng.random((6, 7, 3), dtype=np.float32), rng.random((6, 7), dtype=np.float32), \
        rng.random((6, 7, 3), dtype=np.float32)
    c = lambda a, i: np.ascontiguousarray(a[..., i])  # noqa: E731  (OpenEXR wants contiguous planes)
    chans = {"R": c(rgb, 0), "G": c(rgb, 1), "B": c(rgb, 2), "matte.A": matte, "N.X": c(n, 0), "N.Y": c(n, 1),
             "N.Z": c(n, 2)}
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, chans) as f:
        f.write(str(tmp_path / "l.1001.exr"))
    parts = [OpenEXR.Part({"compression": OpenEXR.ZIP_COMPRESSION}, {"R": c(rgb, 0), "G": c(rgb, 1), "B": c(rgb, 2)},
                          "rgba"), OpenEXR.Part({"compression": OpenEXR.ZIP_COMPRESSION}, {"matte.A": matte}, "matte")]
    with OpenEXR.File(parts) as f:
        f.write(str(tmp_path / "m.1001.exr"))
    for pattern in ("l.####.exr", "m.####.exr"):
        assert np.array_equal(_read(registry, tmp_path / pattern, 1001), rgb)
        assert np.array_equal(_read(registry, tmp_path / pattern, 1001, layer="matte"), np.dstack([matte] * 3))
    assert np.array_equal(_read(registry, tmp_path / "l.####.exr", 1001, layer="N"), n)
    with pytest.raises(rotograph.EvaluationError, match=r"no layer 'depth' \(layers: '', 'N', 'matte'\)"):
        _read(registry, tmp_path / "l.####.exr", 1001, layer="depth")


def test_tiff_32bit_float_and_dpx_log(registry, tmp_path):
    import OpenImageIO as oiio

    from rotograph.io.colour import convert

    hdr = np.random.default_rng(2).random((5, 6, 3)).astype(np.float32) * 8
    cv2.imwrite(str(tmp_path / "f.1001.tif"), cv2.cvtColor(hdr, cv2.COLOR_RGB2BGR))
    assert np.array_equal(_read(registry, tmp_path / "f.####.tif", 1001), hdr)  # float: linear, values > 1 kept
    codes = np.linspace(0.1, 0.9, 5 * 6 * 3, dtype=np.float32).reshape(5, 6, 3)
    out = oiio.ImageOutput.create(str(tmp_path / "log.1001.dpx"))
    spec = oiio.ImageSpec(6, 5, 3, oiio.UINT16)
    spec.attribute("oiio:BitsPerSample", 10)
    out.open(str(tmp_path / "log.1001.dpx"), spec)
    out.write_image(codes)
    out.close()
    lin = _read(registry, tmp_path / "log.####.dpx", 1001, colorspace="ADX10", working_space="ACEScg")
    q = np.round(codes * 1023) / 1023  # what 10 bits hold
    assert np.allclose(lin, convert(q, "ADX10", "ACEScg"), rtol=1.5e-2, atol=1e-4)  # ±1 code of 10 bits
    assert lin.max() > 1.0  # log film scans hold highlights above 1


def test_sequence_gaps_hold_black_and_report(registry, tmp_path):
    for f, level in ((1001, 50), (1002, 100), (1005, 200)):
        cv2.imwrite(str(tmp_path / f"g.{f}.png"), np.full((4, 4, 3), level, np.uint8))
    pattern = tmp_path / "g.####.png"
    held = _read(registry, pattern, 1004, missing_frames="hold", colorspace="linear")
    assert np.allclose(held, 100 / 255)  # 1002, the nearest earlier frame
    assert np.array_equal(_read(registry, pattern, 1003, missing_frames="black"), np.zeros((4, 4, 3), np.float32))
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(pattern))
    g.add("rotograph.WritePNG", "w", file=str(tmp_path / "o.####.png"))
    g.connect("read.image", "w.image")
    path = tmp_path / "g.json"
    rotograph.save(g, path)
    out = subprocess.run([sys.executable, "-m", "rotograph.cli", "validate", str(path)], capture_output=True, text=True)
    assert out.returncode == 0 and "2 missing frames in 1001-1005: 1003,1004" in out.stdout


def _packets_by_frame(path) -> list:
    """(pts, byte offset, size) of every video packet of ``path``, in presentation order."""
    import av

    with av.open(str(path)) as c:
        return sorted((p.pts, p.pos, p.size) for p in c.demux(video=0) if p.size)


def test_damaged_h264_packet_fails_only_its_frame(registry, tmp_path, capsys):
    """bedroom.mp4 is one GOP of 200 frames: with one packet's data destroyed, FFmpeg's
    error-tolerant decode still gives the other 199; so must Read, naming the frame it cannot."""
    damaged = tmp_path / "damaged.mp4"
    data = bytearray(footage("bedroom.mp4").read_bytes())
    _, pos, size = _packets_by_frame(footage("bedroom.mp4"))[100]
    data[pos:pos + 64] = b"\xff" * 64  # its NAL unit lengths and headers: the decoder refuses it
    damaged.write_bytes(bytes(data))
    src = MovieSource(str(damaged))
    failed = []
    for i in range(len(src)):
        try:
            assert src.read(i).shape == (540, 960, 3)
        except rotograph.MediaError as e:
            failed.append((i, str(e)))
    assert [i for i, _ in failed] == [100]
    assert failed[0][1].startswith(f"{damaged}: frame index 100 is damaged: the decoder could not decode it")
    src.read(150)  # random access past the damage seeks and decodes through it too
    with pytest.raises(rotograph.MediaError, match="frame index 100 is damaged"):
        src.read(100)
    # a render skips exactly that frame, named with its file and frame number, and goes on
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(damaged))
    report = rotograph.render(g, "1096-1108", targets=["read"], on_error="skip", cache=rotograph.Cache())
    assert list(report.failed) == [1101] and report.done == [f for f in range(1096, 1109) if f != 1101]
    assert f"node 'read', frame 1101: {damaged}: frame 1101 is damaged" in report.failed[1101]


def test_info_on_a_truncated_movie_says_what_is_decodable(registry, tmp_path, capsys):
    import av

    whole, cut = tmp_path / "faststart.mp4", tmp_path / "cut.mp4"
    with av.open(str(footage("bedroom.mp4"))) as src, \
            av.open(str(whole), "w", options={"movflags": "faststart"}) as dst:
        out = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(video=0):
            if packet.dts is not None:
                packet.stream = out
                dst.mux(packet)
    data = whole.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # the index first: it lists all 200 frames
    cut.write_bytes(data[:int(len(data) * 0.6)])  # an interrupted copy
    assert main(["info", str(cut)]) == 0
    out = capsys.readouterr().out
    assert "frames: 1001-1120 (120 frames)" in out
    assert "truncated: the file ends early: its index lists 200 frames, only the first 120 can be decoded" in out
    src = MovieSource(str(cut))
    assert len(src) == 120 and src.truncated == 200
    for i in range(120):  # every frame it claims decodes, and is the frame of that number
        assert src.read(i).shape == (540, 960, 3)
    assert np.array_equal(src.read(119), MovieSource(str(whole)).read(119))
    assert MovieSource(str(whole)).truncated == 0


def test_frames_past_the_plate_are_refused_before_rendering(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["render", str(GRAPHS / "quickstart.json"), "--set", f"read.file={footage('bedroom.mp4')}",
            "--set", f"write_exr.file={out}/b.####.exr", "--set", f"write_png.file={out}/b.####.png",
            "--cache", str(tmp_path / "cache"), "-q"]
    assert main([*argv, "--frames", "1195-1205"]) == 3
    err = capsys.readouterr().err
    assert err.strip() == (f"error: frames 1201-1205 are outside the frame range 1001-1200 of node 'read' "
                           f"({footage('bedroom.mp4')})")
    assert not out.exists()  # nothing rendered
    assert main([*argv, "--frames", "990,1001-1003"]) == 3
    assert "frame 990 is outside the frame range 1001-1200 of node 'read'" in capsys.readouterr().err
