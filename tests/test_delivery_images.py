"""PNG, TIFF and DPX deliveries, each file read back with OpenImageIO: depth and normals as
PNG, 10-bit log and 16-bit linear DPX, 8/16/32-bit TIFF, and one sequence per object."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rotograph
from rotograph.io.colour import convert, from_linear
from rotograph.core.types import DepthMap


def read_oiio(path, fmt="native"):
    """(pixels H×W×C as stored — alpha not premultiplied on read —, spec)."""
    import OpenImageIO as oiio

    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    inp = oiio.ImageInput.open(str(path), config)
    assert inp is not None, oiio.geterror()
    spec = inp.spec()
    pixels = inp.read_image(spec.format if fmt == "native" else fmt)
    inp.close()
    return np.asarray(pixels).reshape(spec.height, spec.width, spec.nchannels), spec


def _render(g, frames):
    report = rotograph.render(g, frames, cache=rotograph.Cache())
    assert report.ok, report.error or report.failed
    return report


def _wall(plugin_registry, writer, **params):
    g = rotograph.Graph(plugin_registry)
    g.add("test.WallScene", "scene")
    g.add(writer, "out", **params)
    return g


def test_depth_png_16bit_states_near_and_far(plugin_registry, tmp_path):
    g = _wall(plugin_registry, "rotograph.WritePNG", file=str(tmp_path / "z.####.png"), bit_depth=16)
    g.connect("scene.depth", "out.depth")
    _render(g, "1003")
    pixels, spec = read_oiio(tmp_path / "z.1003.png")
    z = g.evaluate("scene", 1003, "depth").z
    side = json.loads((tmp_path / "z.1003.json").read_text())
    near, far = side["near"], side["far"]
    assert pixels.dtype == np.uint16 and pixels.shape == (48, 64, 1)
    assert near == pytest.approx(z.min()) and far == pytest.approx(z.max()) and side["units"] == "m"
    assert float(spec.get_string_attribute("rotograph:near")) == pytest.approx(near)  # PNG text chunk
    assert float(spec.get_string_attribute("rotograph:far")) == pytest.approx(far)
    assert pixels.min() == 1 and pixels.max() == 65535  # 0 is kept for "no depth"
    decoded = near + (far - near) * (pixels[..., 0].astype(np.float64) - 1) / 65534
    assert np.abs(decoded - z).max() <= (far - near) / 65534
    assert b"sRGB" not in (tmp_path / "z.1003.png").read_bytes()[:200]  # data, not colour
    # a fixed range, and pixels without depth
    writer = g.nodes["out"]
    writer.set("depth_near", 4.0)
    writer.set("depth_far", 6.0)
    holey = z.copy()
    holey[:4] = np.nan
    holey[4:8] = -1
    writer.compute(rotograph.Context(frame=1009, node="out"), image=None, matte=None, masks=None,
                   depth=DepthMap(holey, True, "m"), normals=None)
    pixels, _ = read_oiio(tmp_path / "z.1009.png")
    assert (pixels[:8] == 0).all() and (pixels[8:] > 0).all()
    inside = (z[8:] >= 4) & (z[8:] <= 6)
    want = np.floor((z[8:] - 4) / 2 * 65534 + 0.5) + 1
    assert np.array_equal(pixels[8:, :, 0][inside], want[inside].astype(np.uint16))


def test_normals_png_8_and_16bit(plugin_registry, tmp_path):
    for bits in (8, 16):
        g = _wall(plugin_registry, "rotograph.WritePNG", file=str(tmp_path / f"n{bits}.####.png"), bit_depth=bits)
        g.add("rotograph.DepthToNormals", "normals")
        g.connect("scene.depth", "normals.depth")
        g.connect("scene.camera", "normals.camera")
        g.connect("normals.normals", "out.normals")
        _render(g, "1002")
        pixels, _ = read_oiio(tmp_path / f"n{bits}.1002.png")
        top = 2 ** bits - 1
        n = g.evaluate("normals", 1002)
        assert pixels.shape == (48, 64, 3) and pixels.dtype == (np.uint8 if bits == 8 else np.uint16)
        assert np.abs(pixels / top * 2 - 1 - n).max() <= 1.0 / top + 1e-6


def test_dpx_10bit_log_and_16bit_linear(plugin_registry, tmp_path):
    g = rotograph.Graph(plugin_registry)
    g.add("test.Squares", "scene")
    g.add("rotograph.WriteDPX", "log", file=str(tmp_path / "log.####.dpx"))  # ADX10 by default
    g.add("rotograph.WriteDPX", "lin", file=str(tmp_path / "lin.####.dpx"), colorspace="linear", bit_depth=16)
    g.connect("scene.image", "log.image")
    g.connect("scene.image", "lin.image")
    _render(g, "1002")
    image = g.evaluate("scene", 1002, "image")
    pixels, spec = read_oiio(tmp_path / "log.1002.dpx")
    assert spec.get_int_attribute("oiio:BitsPerSample") == 10 and spec.get_string_attribute("dpx:Transfer") == "Printing density"
    assert spec.get_int_attribute("dpx:FramePosition") == 1002
    codes = np.floor(pixels.astype(np.float64) * 1023 / 65535 + 0.5)
    want = np.floor(np.clip(convert(image, "linear", "ADX10"), 0, 1) * 1023 + 0.5)
    assert np.array_equal(codes, want)
    pixels, spec = read_oiio(tmp_path / "lin.1002.dpx")
    assert spec.get_int_attribute("oiio:BitsPerSample") == 16 and spec.get_string_attribute("dpx:Transfer") == "Linear"
    assert np.array_equal(pixels, np.floor(np.clip(image, 0, 1) * 65535 + 0.5).astype(np.uint16))
    # our own Read decodes the log DPX back to linear: the 10-bit codes through ADX10's inverse
    back = rotograph.Graph(plugin_registry)
    back.add("rotograph.Read", "read", file=str(tmp_path / "log.####.dpx"), colorspace="ADX10")
    assert np.allclose(back.evaluate("read", 1002), convert((want / 1023).astype(np.float32), "ADX10", "linear"),
                       rtol=1e-3, atol=2e-4)  # ±1 code of 10 bits would be ~1.5 %


@pytest.mark.parametrize("bits", [8, 16, 32])
def test_tiff_8_16_and_32bit_float(plugin_registry, tmp_path, bits):
    g = rotograph.Graph(plugin_registry)
    g.add("test.Squares", "scene")
    space = "linear" if bits == 32 else "sRGB"
    g.add("rotograph.WriteTIFF", "tif", file=str(tmp_path / "t.####.tif"), bit_depth=bits, colorspace=space)
    g.connect("scene.image", "tif.image")
    g.connect("scene.matte", "tif.matte")  # becomes alpha
    _render(g, "1001")
    pixels, spec = read_oiio(tmp_path / "t.1001.tif")
    image, matte = g.evaluate("scene", 1001, "image"), g.evaluate("scene", 1001, "matte")
    assert spec.nchannels == 4 and spec.format.size() * 8 == bits
    if bits == 32:
        assert pixels.dtype == np.float32 and np.array_equal(pixels[..., :3], image) and np.array_equal(pixels[..., 3], matte)
    else:
        top = 2 ** bits - 1
        want = np.floor(np.clip(from_linear(image, "sRGB"), 0, 1) * top + 0.5)
        assert np.array_equal(pixels[..., :3], want) and np.array_equal(pixels[..., 3], matte * top)


def test_every_object_to_its_own_sequence(plugin_registry, tmp_path):
    import object_doubles

    g = rotograph.Graph(plugin_registry)
    g.add("test.Squares", "scene")
    g.add("rotograph.WritePNG", "objects", file=str(tmp_path / "mattes" / "m.####.png"))
    g.connect("scene.masks", "objects.masks")
    _render(g, "1003-1004")
    assert sorted(p.name for p in (tmp_path / "mattes").iterdir()) == ["cat", "dog"]
    for frame in (1003, 1004):
        for oid, name in ((1, "cat"), (2, "dog")):
            pixels, spec = read_oiio(tmp_path / "mattes" / name / f"m.{frame}.png")
            want = np.zeros((96, 128), np.uint8)
            if oid in object_doubles.boxes(frame):
                x, y, w, h = object_doubles.boxes(frame)[oid]
                want[y:y + h, x:x + w] = 255
            assert pixels.shape == (96, 128, 1) and np.array_equal(pixels[..., 0], want), (frame, name)  # absent: black


def test_one_input_kind_per_file(plugin_registry, tmp_path):
    g = _wall(plugin_registry, "rotograph.WritePNG", file=str(tmp_path / "x.####.png"))
    g.connect("scene.image", "out.image")
    g.connect("scene.depth", "out.depth")
    report = rotograph.render(g, "1001", cache=rotograph.Cache())
    assert "connect one of image (with an optional matte as alpha), matte, depth, normals or masks; " \
           "connected: depth, image" in report.error
