"""Pixel nodes against known answers; writers checked by OpenImageIO as an independent reader."""

from __future__ import annotations

import os

import numpy as np
import pytest

import rotograph
from rotograph import Context, ParamError

from conftest import read_exr

CTX = Context(frame=1001, node="test")


def node(registry, type_id, **params):
    return registry.get(type_id)("n", **params)


def square(h=41, w=41, side=11):
    m = np.zeros((h, w), np.float32)
    c = h // 2
    m[c - side // 2:c + side // 2 + 1, c - side // 2:c + side // 2 + 1] = 1
    return m


def test_grow_dilates_and_erodes_by_pixels(registry):
    m = square()
    assert node(registry, "rotograph.Grow", size=3).compute(CTX, m).sum() > m.sum()
    grown = node(registry, "rotograph.Grow", size=3).compute(CTX, m)
    row = grown[20]
    assert row.sum() == 11 + 2 * 3  # 3 px each side along the axis
    eroded = node(registry, "rotograph.Grow", size=-2).compute(CTX, m)
    assert eroded[20].sum() == 11 - 2 * 2
    half = node(registry, "rotograph.Grow", size=2.5).compute(CTX, m)
    assert half[20].sum() == pytest.approx(11 + 2 * 2.5)
    with pytest.raises(ParamError, match="node 'n'.*param 'size'.*outside the range"):
        node(registry, "rotograph.Grow", size=1000)


def test_feather_preserves_mass_and_softens(registry):
    m = square()
    f = node(registry, "rotograph.Feather", size=4).compute(CTX, m)
    assert f.sum() == pytest.approx(m.sum(), rel=1e-3)
    assert 0 < f[20, 20 - 6] < 1 and f.max() <= 1 and f.min() >= 0


def test_premult_unpremult_round_trip(registry):
    rng = np.random.default_rng(0)
    rgb = rng.random((5, 6, 3), dtype=np.float32)
    a = rng.uniform(0.1, 1, (5, 6)).astype(np.float32)
    pm = node(registry, "rotograph.Premult").compute(CTX, rgb, a)
    assert np.allclose(pm[..., :3], rgb * a[..., None]) and np.array_equal(pm[..., 3], a)
    back = node(registry, "rotograph.Unpremult").compute(CTX, pm)
    assert np.allclose(back[..., :3], rgb, atol=1e-6)
    with pytest.raises(rotograph.RotographError, match="needs an image with alpha or a connected matte"):
        node(registry, "rotograph.Premult").compute(CTX, rgb, None)


def test_merge_over_is_porter_duff(registry):
    A = np.zeros((2, 2, 4), np.float32)
    A[0, 0] = [0.5, 0, 0, 0.5]  # half-covered red, premultiplied
    B = np.full((2, 2, 3), 0.2, np.float32)
    out = node(registry, "rotograph.Merge").compute(CTX, A, B, None)
    assert np.allclose(out[0, 0], [0.5 + 0.2 * 0.5, 0.1, 0.1, 0.5 + 0.5])
    assert np.allclose(out[1, 1], [0.2, 0.2, 0.2, 1.0])
    rgb = np.ones((2, 2, 3), np.float32)
    matte = np.array([[1, 0], [0, 0.5]], np.float32)
    out = node(registry, "rotograph.Merge").compute(CTX, rgb, B, matte)
    assert np.allclose(out[1, 1, :3], 0.5 + 0.2 * 0.5)


def test_shuffle_matte_both_ways(registry):
    rgb = np.full((3, 3, 3), 0.3, np.float32)
    m = np.eye(3, dtype=np.float32)
    out = node(registry, "rotograph.ShuffleMatte").compute(CTX, rgb, m)
    assert np.array_equal(out["image"][..., 3], m)
    out2 = node(registry, "rotograph.ShuffleMatte").compute(CTX, out["image"], None)
    assert np.array_equal(out2["matte"], m)


def test_despill_modes(registry):
    rgb = np.array([[[0.4, 0.8, 0.2]]], np.float32)  # green spill
    avg = node(registry, "rotograph.Despill", mode="average", restore_luminance=0).compute(CTX, rgb)
    lim = node(registry, "rotograph.Despill", mode="limit", restore_luminance=0).compute(CTX, rgb)
    assert np.allclose(avg[0, 0], [0.4, 0.3, 0.2]) and np.allclose(lim[0, 0], [0.4, 0.4, 0.2])
    lum = node(registry, "rotograph.Despill", mode="average", restore_luminance=1).compute(CTX, rgb)
    y = lambda c: 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]  # noqa: E731
    assert y(lum[0, 0]) == pytest.approx(y(rgb[0, 0]), abs=1e-6)
    neutral = np.array([[[0.5, 0.4, 0.45]]], np.float32)  # no spill: untouched
    assert np.array_equal(node(registry, "rotograph.Despill").compute(CTX, neutral), neutral)


def _graph_with_writer(registry, tmp_path, **params):
    g = rotograph.Graph(registry)
    import cv2

    rgb = (np.random.default_rng(1).random((20, 30, 3)) * 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "p.1001.png"), rgb)
    g.add("rotograph.Read", "read", file=str(tmp_path / "p.####.png"))
    g.add("rotograph.FlowTrack", "track", prompts=[{"frame": 1001, "box": [5, 5, 20, 15]}])
    g.add("rotograph.MasksToMatte", "track_matte")
    g.add("rotograph.Premult", "premult")
    g.connect("track.masks", "track_matte.masks")
    g.connect("read.image", "premult.image")
    g.connect("track_matte.matte", "premult.matte")
    g.connect("read.image", "track.image")
    return g


@pytest.mark.parametrize("pixel_type,compression", [("half", "zip"), ("float", "piz"), ("half", "dwaa"),
                                                     ("float", "none")])
def test_write_exr_layers_read_by_openimageio(registry, tmp_path, pixel_type, compression):
    import OpenImageIO as oiio

    g = _graph_with_writer(registry, tmp_path)
    g.add("rotograph.WriteEXR", "write", file=str(tmp_path / "out" / "o.####.exr"), pixel_type=pixel_type,
          compression=compression)
    g.connect("premult.out", "write.image")
    g.connect("track_matte.matte", "write.matte")
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    path = str(tmp_path / "out" / "o.1001.exr")
    inp = oiio.ImageInput.open(path)
    spec = inp.spec()
    pixels = inp.read_image(oiio.FLOAT)
    inp.close()
    assert list(spec.channelnames) == ["R", "G", "B", "A", "matte.A"]
    assert spec.getattribute("compression") == compression
    assert spec.getattribute("rotograph/frame") == 1001
    assert str(spec.getattribute("rotograph/software")).startswith("rotograph")
    want = g.evaluate("premult", 1001)
    tol = 2e-3 if pixel_type == "half" else 0
    if compression == "dwaa":
        tol = 0.02  # lossy
    assert np.allclose(pixels[..., :4], want, atol=tol)
    assert np.allclose(pixels[..., 4], g.evaluate("track_matte", 1001), atol=tol)
    assert [f for f in os.listdir(tmp_path / "out") if "tmp" in f] == []


def test_write_png_16bit_and_errors(registry, tmp_path):
    import cv2

    g = _graph_with_writer(registry, tmp_path)
    g.add("rotograph.WritePNG", "png", file=str(tmp_path / "png" / "o.####.png"), bit_depth=16)
    g.connect("premult.out", "png.image")
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    img = cv2.imread(str(tmp_path / "png" / "o.1001.png"), cv2.IMREAD_UNCHANGED)
    assert img.dtype == np.uint16 and img.shape == (20, 30, 4)
    with pytest.raises(rotograph.ParamError, match="node 'png'.*param 'file'.*no frame pattern"):
        g.set("png.file", str(tmp_path / "png" / "no_pattern.png"))
    (tmp_path / "a_file").write_text("")
    g.set("png.file", str(tmp_path / "a_file" / "sub" / "o.####.png"))
    with pytest.raises(rotograph.GraphError, match="cannot write to .*a_file/sub"):
        rotograph.render(g, cache=rotograph.Cache())
    with pytest.raises(rotograph.ParamError, match="bit_depth.*not one of 8, 16"):
        g.set("png.bit_depth", 12)


def test_rerender_skips_written_files_and_rewrites_deleted_ones(registry, tmp_path):
    g = _graph_with_writer(registry, tmp_path)
    g.add("rotograph.WriteEXR", "write", file=str(tmp_path / "out" / "o.####.exr"))
    g.connect("premult.out", "write.image")
    cache = rotograph.open_cache(str(tmp_path / "c"))
    assert rotograph.render(g, cache=cache).stats.computes["write"] == 1
    assert sum(rotograph.render(g, cache=cache).stats.computes.values()) == 0
    os.remove(tmp_path / "out" / "o.1001.exr")
    r = rotograph.render(g, cache=cache)
    assert r.stats.computes["write"] == 1 and (tmp_path / "out" / "o.1001.exr").exists()
    assert set(read_exr(tmp_path / "out" / "o.1001.exr")) == {"R", "G", "B", "A"}


def test_matte_refine_knn_and_trimap(registry):
    rng = np.random.default_rng(0)
    h, w = 40, 50
    img = np.zeros((h, w, 3), np.float32)
    img[..., 1] = 0.4  # green background
    truth = np.zeros((h, w), np.float32)
    truth[10:30, 15:35] = 1
    img[truth > 0] = [0.5, 0.2, 0.1]
    img += rng.normal(0, 0.005, img.shape).astype(np.float32)
    rough = node(registry, "rotograph.Grow", size=2).compute(CTX, truth)  # too big by 2 px
    out = node(registry, "rotograph.MatteRefine", method="knn", band=4).compute(CTX, img, rough)
    assert set(np.unique(out["trimap"])) == {0.0, 0.5, 1.0}
    assert np.abs(out["matte"] - truth).sum() < 0.25 * np.abs(rough - truth).sum()


class _Geometry(rotograph.Node):
    """Test double: a known depth ramp and normals."""

    type_id = "test.Geometry"
    frame_dependent = True
    depth = rotograph.Output(rotograph.Depth)
    normals = rotograph.Output(rotograph.Normals)

    def compute(self, ctx):
        z = np.tile(np.linspace(1, 5000, 16, dtype=np.float32), (8, 1))
        n = np.zeros((8, 16, 3), np.float32)
        n[..., 2] = -1
        return {"depth": rotograph.DepthMap(z, True, "m"), "normals": n}

    def frame_range(self, input_ranges):
        return (1001, 1001)


def test_write_exr_depth_and_normals_layers(registry, tmp_path):
    import OpenImageIO as oiio

    registry.add(_Geometry)
    g = rotograph.Graph(registry)
    g.add("test.Geometry", "geo")
    g.add("rotograph.WriteEXR", "write", file=str(tmp_path / "g.####.exr"))
    g.connect("geo.depth", "write.depth")
    g.connect("geo.normals", "write.normals")
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    inp = oiio.ImageInput.open(str(tmp_path / "g.1001.exr"))
    spec, px = inp.spec(), inp.read_image(oiio.FLOAT)
    inp.close()
    names = list(spec.channelnames)
    assert sorted(names) == ["N.X", "N.Y", "N.Z", "depth.Z"]
    assert spec.channelformat(names.index("depth.Z")) == oiio.FLOAT  # Z stays 32-bit even for half
    assert np.array_equal(px[..., names.index("depth.Z")], np.tile(np.linspace(1, 5000, 16, dtype=np.float32), (8, 1)))
    assert np.all(px[..., names.index("N.Z")] == -1)


def test_masks_to_matte_picks_objects_by_id_or_name(registry):
    labels = np.zeros((6, 8), np.uint16)
    labels[1:3, 1:3] = 1
    labels[4:6, 5:8] = 3
    ms = rotograph.MaskSet(labels, [rotograph.MaskObject(1, "person 1", 0.9), rotograph.MaskObject(3, "dog", 0.8)])
    all_ = node(registry, "rotograph.MasksToMatte").compute(CTX, ms)
    assert all_.dtype == np.float32 and all_.sum() == 4 + 6
    assert node(registry, "rotograph.MasksToMatte", objects="3").compute(CTX, ms).sum() == 6
    assert node(registry, "rotograph.MasksToMatte", objects="person 1, 3").compute(CTX, ms).sum() == 10
    # an object absent from this frame selects nothing: an all-zero matte, not an error
    gone = node(registry, "rotograph.MasksToMatte", objects="7").compute(CTX, ms)
    assert gone.shape == (6, 8) and not gone.any()
    empty = rotograph.MaskSet(np.zeros((6, 8), np.uint16), [])
    assert not node(registry, "rotograph.MasksToMatte").compute(CTX, empty).any()
    with pytest.raises(ParamError, match="param 'objects'.*outside 1..65535"):
        node(registry, "rotograph.MasksToMatte", objects="0")
