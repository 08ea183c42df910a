"""WriteEXR for pipelines: Cryptomatte decoded by the spec, metadata, multi-part, layer types."""

from __future__ import annotations

import json

import cv2
import mmh3
import numpy as np
import OpenImageIO as oiio

import rotograph

from conftest import footage


def _rgba_sequence(folder, name, alpha):
    rgb = np.full(alpha.shape + (3,), 128, np.uint8)
    bgra = np.dstack([rgb, (alpha * 255).round().astype(np.uint8)])
    cv2.imwrite(str(folder / f"{name}.1001.png"), bgra)
    return str(folder / f"{name}.####.png")


def _objects_graph(tmp_path, registry, **write_params):
    alpha = cv2.imread(str(footage("lemur/lemur_alpha.png")), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    h, w = alpha.shape
    yy, xx = np.mgrid[0:h, 0:w]
    ball = (((xx - 560) ** 2 + (yy - 330) ** 2) < 90 ** 2).astype(np.float32)
    g = rotograph.Graph(registry)
    for name, a in (("lemur", alpha), ("ball", ball)):
        g.add("rotograph.Read", f"read_{name}", file=_rgba_sequence(tmp_path, name, a), colorspace="linear")
        g.add("rotograph.ShuffleMatte", f"alpha_{name}")
        g.connect(f"read_{name}.image", f"alpha_{name}.image")
    g.add("rotograph.MasksFromMattes", "objects", names="lemur, beach ball")
    g.connect("alpha_lemur.matte", "objects.matte_1")
    g.connect("alpha_ball.matte", "objects.matte_2")
    g.add("rotograph.WriteEXR", "write", file=str(tmp_path / "out" / "o.####.exr"), **write_params)
    g.connect("objects.masks", "write.masks")
    g.connect("read_lemur.image", "write.image")
    g.connect("alpha_lemur.matte", "write.matte")
    labels = np.where(np.maximum(alpha, ball) > 0.5, np.where(ball > alpha, 2, 1), 0)  # ties: first slot
    return g, labels


def _read_all(path):
    inp = oiio.ImageInput.open(str(path))
    spec = inp.spec()
    pixels = inp.read_image(oiio.FLOAT)
    attrs = {a.name: a.value for a in spec.extra_attribs}
    names = list(spec.channelnames)
    formats = [spec.channelformat(i) for i in range(len(names))]
    inp.close()
    return names, pixels, attrs, formats


def test_cryptomatte_decodes_by_the_spec(tmp_path, registry):
    g, labels = _objects_graph(tmp_path, registry)
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    names, px, attrs, formats = _read_all(tmp_path / "out" / "o.1001.exr")
    # header: cryptomatte/<first 7 hex digits of the layer name's MurmurHash3_32>/...
    key = f"{mmh3.hash('CryptoObject', 0, signed=False):08x}"[:7]
    assert attrs[f"cryptomatte/{key}/name"] == "CryptoObject"
    assert attrs[f"cryptomatte/{key}/hash"] == "MurmurHash3_32"
    assert attrs[f"cryptomatte/{key}/conversion"] == "uint32_to_float32"
    manifest = json.loads(attrs[f"cryptomatte/{key}/manifest"])
    assert set(manifest) == {"lemur", "beach ball"}
    crypto = sorted(n for n in names if n.startswith("CryptoObject"))
    assert crypto == [f"CryptoObject{i:02d}.{c}" for i in range(3) for c in "ABGR"]
    assert all(formats[names.index(n)] == oiio.FLOAT for n in crypto)  # IDs need full float
    for obj_id, name in ((1, "lemur"), (2, "beach ball")):
        h = int(manifest[name], 16)
        assert h == _spec_hash(name)
        fid = np.array([h], np.uint32).view(np.float32)[0]
        matte = np.zeros(labels.shape, np.float32)
        for level in range(3):
            ch = lambda c: px[..., names.index(f"CryptoObject{level:02d}.{c}")]  # noqa: E731
            matte += np.where(ch("R") == fid, ch("G"), 0) + np.where(ch("B") == fid, ch("A"), 0)
        truth = labels == obj_id
        iou = ((matte > 0.5) & truth).sum() / ((matte > 0.5) | truth).sum()
        assert iou >= 0.99, (name, iou)


def _spec_hash(name: str) -> int:
    """MurmurHash3_32 with the spec's exponent rule (no 0 or 255 exponents)."""
    h = mmh3.hash(name.encode(), 0, signed=False)
    e = (h >> 23) & 255
    return h ^ (1 << 23) if e in (0, 255) else h


def test_metadata_layer_types_and_dwab(tmp_path, registry):
    g, _ = _objects_graph(tmp_path, registry, pixel_type="half", matte_type="float", compression="dwab")
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    names, px, attrs, formats = _read_all(tmp_path / "out" / "o.1001.exr")
    assert attrs["compression"] == "dwab"
    assert attrs["rotograph/frame"] == 1001 and str(attrs["rotograph/software"]).startswith("rotograph ")
    ev = rotograph.Evaluator(g, rotograph.Cache())
    assert attrs["rotograph/key"] == ev.key("write", None, 1001)  # the graph's hash for this frame
    assert formats[names.index("R")] == oiio.HALF and formats[names.index("matte.A")] == oiio.FLOAT
    g.set("write.crypto_levels", 4)
    g.set("write.pixel_type", "float")
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    names, _, attrs2, formats = _read_all(tmp_path / "out" / "o.1001.exr")
    assert formats[names.index("R")] == oiio.FLOAT and "CryptoObject02.R" not in names
    assert attrs2["rotograph/key"] != attrs["rotograph/key"]


def test_multipart(tmp_path, registry):
    g, _ = _objects_graph(tmp_path, registry, multipart=True)
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    inp = oiio.ImageInput.open(str(tmp_path / "out" / "o.1001.exr"))
    parts = {}
    i = 0
    while inp.seek_subimage(i, 0):
        parts[inp.spec().getattribute("name")] = list(inp.spec().channelnames)
        i += 1
    inp.close()
    assert parts["rgba"] == ["R", "G", "B", "A"] and parts["matte"] == ["matte.A"]
    assert parts["CryptoObject"][0].startswith("CryptoObject00")
