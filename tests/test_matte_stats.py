"""MatteStats: known answers per frame, and the CSV/JSON sidecar written by a render."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import rotograph
from rotograph.nodes.writers.matte_stats import matte_stats

from moving_disc import moving_disc, write_rgba_sequence


def ramp_disc(shape, cx, cy, radius, width):
    """A disc whose edge falls linearly from 1 to 0 over ``width`` px around ``radius``."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    r = np.hypot(xx - cx, yy - cy)
    return np.clip((radius + width / 2 - r) / width, 0, 1).astype(np.float32)


def test_stats_of_a_soft_disc():
    m = ramp_disc((120, 160), 70.0, 55.0, 30.0, 8.0)
    s = matte_stats(m)
    assert s["area"] == pytest.approx(np.pi * 30 ** 2 + np.pi * 8 ** 2 / 12, rel=2e-3)  # ∫ 2πr·α(r) dr
    assert s["centroid"] == pytest.approx([70.0, 55.0], abs=1e-3)
    assert s["bbox"] == [37, 22, 103, 88]  # α > 0.01 up to 33.92 px from the centre
    assert s["edge_width"] == pytest.approx(0.9 * 8.0, rel=0.03)  # 5 %–95 % of a linear 8 px ramp
    assert s["flicker"] is None
    hard = matte_stats((m > 0.5).astype(np.float32))
    assert hard["edge_width"] == 0.0 and hard["area"] == pytest.approx(np.pi * 30 ** 2, rel=0.01)


def test_flicker_is_the_mean_absolute_change():
    rng = np.random.default_rng(0)
    a, b = (np.float32(0.5) + rng.normal(0, 0.05, (200, 200)).astype(np.float32) for _ in range(2))
    assert matte_stats(b, a)["flicker"] == pytest.approx(2 * 0.05 / np.sqrt(np.pi), rel=0.02)  # E|Δ|, Δ ~ N(0, 2σ²)
    assert matte_stats(a, a)["flicker"] == 0.0
    half = np.zeros((10, 10), np.float32)
    half[:, :5] = 0.6
    assert matte_stats(half, half * 0.5)["flicker"] == pytest.approx(0.3)  # only where either has α > 0


def test_empty_matte():
    s = matte_stats(np.zeros((4, 5), np.float32), np.zeros((4, 5), np.float32))
    assert s == {"area": 0.0, "bbox": None, "centroid": None, "flicker": 0.0, "edge_width": 0.0}


@pytest.fixture(scope="module")
def disc_graph(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stats")
    pattern = write_rgba_sequence(folder / "plate", moving_disc(n=8))

    def build(out):
        g = rotograph.Graph()
        g.add("rotograph.Read", "read", file=pattern, colorspace="sRGB")
        g.add("rotograph.ShuffleMatte", "alpha")
        g.add("rotograph.TemporalSmooth", "smooth", radius=2)
        g.add("rotograph.MatteStats", "raw_stats", file=str(out / "raw.csv"))
        g.add("rotograph.MatteStats", "smooth_stats", file=str(out / "smooth.json"))
        g.connect("read.image", "alpha.image")
        g.connect("alpha.matte", "smooth.matte")
        g.connect("read.image", "smooth.image")
        g.connect("alpha.matte", "raw_stats.matte")
        g.connect("smooth.out", "smooth_stats.matte")
        return g

    return build


def test_render_writes_the_sidecars(disc_graph, tmp_path):
    g = disc_graph(tmp_path)
    cache = rotograph.Cache()
    report = rotograph.render(g, "1003-1006", cache=cache)
    assert report.ok, report.error
    with open(tmp_path / "raw.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["frame"]) for r in rows] == [1003, 1004, 1005, 1006]
    ev = rotograph.Evaluator(g, rotograph.Cache())
    for r in rows:
        f = int(r["frame"])
        expected = matte_stats(ev.get("alpha", "matte", f), ev.get("alpha", "matte", f - 1))
        assert float(r["area"]) == pytest.approx(expected["area"])
        assert [int(r[k]) for k in ("bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1")] == expected["bbox"]
        assert float(r["flicker"]) == pytest.approx(expected["flicker"])  # frame 1003 against 1002: read too
    smooth = json.loads((tmp_path / "smooth.json").read_text())["frames"]
    assert [s["frame"] for s in smooth] == [1003, 1004, 1005, 1006]
    raw_flicker = np.mean([float(r["flicker"]) for r in rows])
    smooth_flicker = np.mean([s["flicker"] for s in smooth])
    print(f"mean flicker of the disc's matte: {raw_flicker:.4f} raw, {smooth_flicker:.4f} after TemporalSmooth")
    assert smooth_flicker < 0.7 * raw_flicker
    # a second render writes nothing; a deleted sidecar is written again
    again = rotograph.render(g, "1003-1006", cache=cache)
    assert again.ok and sum(again.stats.computes.values()) == 0
    (tmp_path / "raw.csv").unlink()
    third = rotograph.render(g, "1003-1006", cache=cache)
    assert third.ok and third.stats.computes["raw_stats"] == 4 and (tmp_path / "raw.csv").exists()


def test_sidecar_must_be_csv_or_json():
    with pytest.raises(rotograph.ParamError, match=r"QC sidecars end in \.csv, \.json"):
        rotograph.Graph().add("rotograph.MatteStats", "stats", file="qc/stats.txt")
