"""Formats on the wire: a file's size and pixel aspect from its header alone (no decode), carried
through Reformat/Crop/Transform/Merge and proxy renders into the written EXR header, the cache
key and the Nuke script."""

from __future__ import annotations

import os

import cv2
import numpy as np
import OpenEXR
import pytest

import rotograph
from rotograph import Context, Format
from rotograph.io.headers import image_header
from rotograph.io.media import probe, read_image
from rotograph.nodes.spatial.transform import Transform
from rotograph.interop.nuke import export_nuke
from rotograph.engine.proxy import apply_proxy


def plate(h=54, w=96) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.dstack([xx / w, yy / h, ((xx // 8 + yy // 8) % 2) * 0.5]).astype(np.float32)


def write_exr(path, rgb, aspect=1.0, channels=None):
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, "pixelAspectRatio": aspect}
    with OpenEXR.File(header, channels or {"RGB": rgb}) as f:
        f.write(str(path))


def header_aspect(path) -> float:
    with OpenEXR.File(str(path), header_only=True) as f:
        return float(f.header()["pixelAspectRatio"])


def test_probe_reads_headers_only_and_agrees_with_a_decode(tmp_path, monkeypatch):
    rgb = plate()
    write_exr(tmp_path / "ana.1001.exr", rgb, 2.0, {"R": rgb[..., 0].astype(np.float16), "G": rgb[..., 1],
                                                     "B": rgb[..., 2], "matte.A": rgb[..., 0]})
    cv2.imwrite(str(tmp_path / "p.1001.png"), (rgb[..., ::-1] * 65535).astype(np.uint16))
    cv2.imwrite(str(tmp_path / "g.1001.png"), (rgb[..., 0] * 255).astype(np.uint8))
    import OpenImageIO as oiio

    spec = oiio.ImageSpec(96, 54, 3, oiio.UINT16)
    spec.attribute("oiio:BitsPerSample", 10)
    spec.attribute("PixelAspectRatio", 1.5)
    out = oiio.ImageOutput.create(str(tmp_path / "d.1001.dpx"))
    out.open(str(tmp_path / "d.1001.dpx"), spec)
    out.write_image(rgb)
    out.close()
    cases = [("ana.####.exr", None, 2.0), ("ana.####.exr", "matte", 2.0), ("p.####.png", None, 1.0),
             ("g.####.png", None, 1.0), ("d.####.dpx", None, 1.5)]
    decoded = {}
    for pattern, layer, _ in cases:
        img, bits, names = read_image(str(tmp_path / pattern.replace("####", "1001")), layer if layer else None)
        decoded[pattern, layer] = (img.shape[1], img.shape[0], bits, names)

    def no_decode(*a, **k):
        raise AssertionError("probe decoded pixels")

    monkeypatch.setattr("rotograph.io.media.read_image", no_decode)
    monkeypatch.setattr("rotograph.io.media.exr_channels", no_decode)
    for pattern, layer, aspect in cases:
        info = probe(str(tmp_path / pattern), layer=layer)
        assert (info.width, info.height, info.bit_depth, info.channels) == decoded[pattern, layer], pattern
        assert info.pixel_aspect == pytest.approx(aspect), pattern
    with pytest.raises(rotograph.MediaError, match="no layer 'depth'"):
        probe(str(tmp_path / "ana.####.exr"), layer="depth")
    (tmp_path / "bad.1001.exr").write_bytes(b"not an exr at all")
    with pytest.raises(rotograph.MediaError, match="bad.1001.exr: not a readable EXR"):
        image_header(str(tmp_path / "bad.1001.exr"))


def anamorphic_graph(tmp_path, reformat: dict, aspect=2.0):
    os.makedirs(tmp_path / "plates", exist_ok=True)
    for f in (1001, 1002):
        write_exr(tmp_path / "plates" / f"ana.{f}.exr", plate(), aspect)
    g = rotograph.Graph(rotograph.Registry.builtin())
    g.add("rotograph.Read", "read", file=str(tmp_path / "plates" / "ana.####.exr"))
    g.add("rotograph.Reformat", "reformat", **reformat)
    g.add("rotograph.WriteEXR", "write", file=str(tmp_path / "render" / "out.####.exr"), pixel_type="float")
    g.connect("read.image", "reformat.image")
    g.connect("reformat.out", "write.image")
    return g


def test_anamorphic_exr_through_reformat_keeps_its_pixel_aspect_in_the_written_header(tmp_path):
    g = anamorphic_graph(tmp_path, {"format": "scale", "scale": 0.5})
    report = rotograph.render(g, "1001-1002", cache=rotograph.Cache())
    assert report.ok, report.error
    out = tmp_path / "render" / "out.1001.exr"
    assert header_aspect(out) == 2.0
    rgb = read_image(str(out))[0]
    np.testing.assert_allclose(rgb, cv2.resize(plate(), (48, 27), interpolation=cv2.INTER_AREA), atol=1e-6)
    ev = rotograph.Evaluator(g, rotograph.Cache())
    assert ev.format("read") == Format(96, 54, 2.0) and ev.format("write") == Format(48, 27, 2.0)
    # Nuke reads the written plates in an anamorphic format
    text = export_nuke(g, str(tmp_path / "comp.nk"), [1001, 1002])
    assert "format \"48 27 0 0 48 27 2 rotograph\"" in text and "format \"48 27 0 0 48 27 2 \"" in text


def test_reformat_to_square_pixels_unsqueezes_by_the_header_aspect(tmp_path):
    g = anamorphic_graph(tmp_path, {"format": "custom", "width": 192, "height": 54, "pixel_aspect": 1.0,
                                    "filter": "linear"})
    assert rotograph.render(g, "1001", cache=rotograph.Cache()).ok
    out = tmp_path / "render" / "out.1001.exr"
    assert header_aspect(out) == 1.0
    # the 96×54 plate of 2:1 pixels is 192×54 square pixels: stretched ×2 in x, not fitted into 96 px
    ref = cv2.resize(plate(), (192, 54), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(read_image(str(out))[0], ref, atol=1e-6)
    # the same graph on square-pixel plates fits 96×54 → 96×54 in the middle (bars at the sides)
    square = anamorphic_graph(tmp_path / "sq", {"format": "custom", "width": 192, "height": 54, "filter": "linear"},
                              aspect=1.0)
    assert rotograph.render(square, "1001", cache=rotograph.Cache()).ok
    img = read_image(str(tmp_path / "sq" / "render" / "out.1001.exr"))[0]
    np.testing.assert_allclose(img[:, 48:144], plate(), atol=1e-6)
    assert not img[:, :48].any()
    # an explicit input aspect still overrides the header (version-1 graphs keep theirs)
    g.set("reformat.input_pixel_aspect", 1.0)
    assert rotograph.Evaluator(g, rotograph.Cache()).get("reformat", None, 1001)[:, :48].max() == 0


def test_pixel_aspect_enters_the_cache_keys(tmp_path):
    ana = anamorphic_graph(tmp_path / "a", {"format": "scale", "scale": 0.5})
    sq = anamorphic_graph(tmp_path / "a", {"format": "scale", "scale": 0.5}, aspect=1.0)  # same files rewritten
    os.utime(tmp_path / "a" / "plates" / "ana.1001.exr", ns=(10**18, 10**18))
    ev_sq = rotograph.Evaluator(sq, rotograph.Cache())
    key_sq = ev_sq.key("reformat", None, 1001)
    write_exr(tmp_path / "a" / "plates" / "ana.1001.exr", plate(), 2.0)
    os.utime(tmp_path / "a" / "plates" / "ana.1001.exr", ns=(10**18, 10**18))  # same size, same mtime
    ev_ana = rotograph.Evaluator(ana, rotograph.Cache())
    assert ev_ana.format("reformat").pixel_aspect == 2.0
    assert ev_ana.key("reformat", None, 1001) != key_sq


def test_proxy_render_keeps_the_pixel_aspect(tmp_path):
    g = anamorphic_graph(tmp_path, {"format": "scale", "scale": 1.0})
    apply_proxy(g, 0.5)
    assert rotograph.render(g, "1001", cache=rotograph.Cache()).ok
    out = tmp_path / "render" / "proxy0.5" / "out.1001.exr"
    assert header_aspect(out) == 2.0 and read_image(str(out))[0].shape == (27, 48, 3)


def test_merge_takes_b_format_and_crop_reformat_the_box():
    g = rotograph.Graph(rotograph.Registry.builtin())
    for name in ("a", "b", "merge", "crop"):
        g.add({"a": "rotograph.Reformat", "b": "rotograph.Reformat", "merge": "rotograph.Merge",
               "crop": "rotograph.Crop"}[name], name)
    g.set("a.format", "HD_1080")
    g.set("b.format", "2K_Cinemascope")
    g.connect("a.out", "merge.a")
    g.connect("b.out", "merge.b")
    g.connect("merge.out", "crop.image")
    for k, v in {"x": 10, "y": 20, "right": 410, "top": 320, "reformat": True}.items():
        g.set(f"crop.{k}", v)
    ev = rotograph.Evaluator(g, rotograph.Cache())
    assert ev.format("merge") == Format(1828, 1556, 2.0)
    assert ev.format("crop") == Format(400, 300, 2.0)


def test_transform_rotates_the_displayed_picture_of_anamorphic_pixels():
    img = np.zeros((64, 32, 3), np.float32)
    img[24:40, 12:20] = 1.0  # 8×16 pixels of 2:1 aspect: a 16×16 square on screen, centred
    img[24:40, 12:14] = 0.5  # its left edge, to see where it turns
    ctx = Context(1001, "t", input_formats={"image": Format(32, 64, 2.0)})
    out = Transform(rotate=90.0, filter="nearest").compute(ctx, img)
    rows, cols = np.nonzero(out.max(axis=2))
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (24, 39, 12, 19)  # still the same square
    assert (out[36:40, 12:20] == 0.5).all()  # the left edge turned to the bottom (counter-clockwise)
    square = Transform(rotate=90.0, filter="nearest").compute(Context(1001, "t"), img)
    rows, cols = np.nonzero(square.max(axis=2))
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (8, 16)  # square pixels: it turns over


def test_a_movies_sample_aspect_ratio_is_its_pixel_aspect(tmp_path):
    from fractions import Fraction

    import av

    path = str(tmp_path / "sar.mp4")
    with av.open(path, "w") as c:
        s = c.add_stream("mpeg4", rate=24)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.codec_context.sample_aspect_ratio = Fraction(2, 1)  # 2:1 anamorphic
        for i in range(3):
            for p in s.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 * i, np.uint8), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    info = probe(path)
    assert (info.width, info.height, info.pixel_aspect, info.frames) == (64, 48, 2.0, 3)
    g = rotograph.Graph(rotograph.Registry.builtin())
    g.add("rotograph.Read", "read", file=path)
    assert rotograph.Evaluator(g, rotograph.Cache()).format("read") == Format(64, 48, 2.0)
