"""Per-object deliveries: box tables (CSV, JSON) and per-object crops, checked against the
known boxes of the test double and read back with csv, json and OpenImageIO."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

import rotograph
from rotograph.io.colour import from_linear

from test_delivery_images import read_oiio


@pytest.fixture
def scene(plugin_registry):
    import object_doubles

    g = rotograph.Graph(plugin_registry)
    g.add("test.Squares", "scene")
    return g, object_doubles


def _expected(doubles, frames):
    names = {1: ("cat", 0.9), 2: ("dog", 0.75)}
    return [(f, oid, *names[oid], *box) for f in frames for oid, box in sorted(doubles.boxes(f).items())]


def test_boxes_as_csv_and_json(scene, tmp_path):
    g, doubles = scene
    for ext in ("csv", "json"):
        g.add("rotograph.MasksToBoxes", ext, file=str(tmp_path / f"boxes.{ext}"))
        g.connect("scene.masks", f"{ext}.masks")
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    want = _expected(doubles, range(1001, 1007))
    assert len(want) == 11  # the dog is absent on 1004: no row
    with open(tmp_path / "boxes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["frame", "object_id", "name", "score", "x", "y", "width", "height"]
    got = [(int(r["frame"]), int(r["object_id"]), r["name"], float(r["score"]), *(int(r[k]) for k in "x y width height".split()))
           for r in rows]
    assert got == want
    records = json.loads((tmp_path / "boxes.json").read_text())
    assert [tuple(r.values()) for r in records] == want


def test_crops_match_the_masks_boxes(scene, tmp_path):
    g, doubles = scene
    g.add("rotograph.WriteCrops", "crops", file=str(tmp_path / "crops" / "c.####.png"), padding=0.0, size=0,
          background="plate", alpha=True)
    g.add("rotograph.WriteCrops", "ml", file=str(tmp_path / "ml" / "c.####.png"), padding=0.25, size=32, alpha=True)
    for n in ("crops", "ml"):
        g.connect("scene.image", f"{n}.image")
        g.connect("scene.masks", f"{n}.masks")
    assert rotograph.render(g, "1003-1005", cache=rotograph.Cache()).ok
    with open(tmp_path / "crops" / "boxes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(int(r["frame"]), int(r["object_id"])) for r in rows] == [(1003, 1), (1003, 2), (1004, 1), (1005, 1), (1005, 2)]
    for r in rows:
        frame, oid = int(r["frame"]), int(r["object_id"])
        x, y, w, h = doubles.boxes(frame)[oid]
        assert (int(r["x"]), int(r["y"]), int(r["width"]), int(r["height"])) == (x, y, w, h)
        side, x0, y0 = int(r["crop_size"]), int(r["crop_x"]), int(r["crop_y"])
        assert side == max(w, h) and x0 <= x and y0 <= y and x + w <= x0 + side and y + h <= y0 + side
        assert r["file"] == f"{r['name']}/c.{frame}.png"
        crop, _ = read_oiio(tmp_path / "crops" / r["file"])
        assert crop.shape == (side, side, 4)
        alpha = crop[..., 3] > 0  # the object's mask, where it lies in the crop
        ys, xs = np.nonzero(alpha)
        assert (xs.min() + x0, ys.min() + y0, np.ptp(xs) + 1, np.ptp(ys) + 1) == (x, y, w, h)
        plate = g.evaluate("scene", frame, "image")
        inside = np.zeros(plate.shape[:2], bool)
        inside[max(y0, 0):y0 + side, max(x0, 0):x0 + side] = True
        codes = np.floor(np.clip(from_linear(plate, "sRGB"), 0, 1) * 255 + 0.5).astype(np.uint8)
        region = crop[max(0, -y0):, max(0, -x0):][:inside.sum(0).max(), :inside.sum(1).max(), :3]
        assert np.array_equal(region, codes[inside].reshape(region.shape))  # plate pixels, background "plate"
        if x0 + side > plate.shape[1]:  # the dog's crop runs off the plate: black there
            assert (crop[:, plate.shape[1] - x0:, :3] == 0).all()
    # resized, padded, black background
    with open(tmp_path / "ml" / "boxes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        crop, _ = read_oiio(tmp_path / "ml" / r["file"])
        side = int(r["crop_size"])
        assert crop.shape == (32, 32, 4) and side == math.ceil(max(int(r["width"]), int(r["height"])) * 1.5)
        assert float(r["scale"]) == pytest.approx(32 / side, abs=1e-6)
        ys, xs = np.nonzero(crop[..., 3] >= 128)  # the object's mask, resized
        extent = (np.ptp(xs) + 1, np.ptp(ys) + 1)
        assert extent == pytest.approx((int(r["width"]) * 32 / side, int(r["height"]) * 32 / side), abs=1.0)
        assert (crop[..., :3][crop[..., 3] == 0] == 0).all()  # black outside the object


def test_crops_of_empty_masks_write_only_the_table(tmp_path, registry):
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(tmp_path / "p.####.png"))
    import cv2

    green = np.zeros((8, 8, 3), np.uint8)
    green[..., 1] = 255
    cv2.imwrite(str(tmp_path / "p.1001.png"), green)
    g.add("rotograph.Keyer", "key", screen="green", adaptive=False)
    g.add("rotograph.MasksFromMattes", "objects", names="thing")
    g.add("rotograph.WriteCrops", "crops", file=str(tmp_path / "crops" / "c.####.png"))
    for a, b in [("read.image", "key.image"), ("key.matte", "objects.matte_1"), ("read.image", "crops.image"),
                 ("objects.masks", "crops.masks")]:
        g.connect(a, b)
    assert rotograph.render(g, cache=rotograph.Cache()).ok  # all green screen: nothing keyed
    assert (tmp_path / "crops" / "boxes.csv").read_text().splitlines() == [
        "frame,object_id,name,score,x,y,width,height,crop_x,crop_y,crop_size,scale,file"]
