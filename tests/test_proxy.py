"""``rotograph render --proxy 0.5``: the graph runs at half size with its pixel params scaled,
writes into proxy folders, and its output equals the full render downscaled (within the
resampling error)."""

from __future__ import annotations

import os

import cv2
import numpy as np
import OpenEXR
import pytest

import rotograph
from rotograph.interop.cli import main
from rotograph.errors import GraphError
from rotograph.engine.proxy import apply_proxy, proxy_folder

from conftest import read_exr
from greenscreen_plate import make_plate


def build(tmp_path) -> str:
    comp, _, _, screen = make_plate()
    os.makedirs(tmp_path / "plates")
    for f in (1001, 1002):
        with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"RGB": comp}) as exr:
            exr.write(str(tmp_path / "plates" / f"gs.{f}.exr"))
    g = rotograph.Graph(rotograph.Registry.builtin())
    g.add("rotograph.Read", "read", file=str(tmp_path / "plates" / "gs.####.exr"))
    g.add("rotograph.Keyer", "keyer", screen_color=[float(c) for c in screen], adaptive_size=20.0, prefilter=1.0)
    g.add("rotograph.FillHoles", "fill", max_area=40.0, edge=2)
    g.add("rotograph.Grow", "grow", size=-2.0)
    g.add("rotograph.Feather", "feather", size=4.0)
    g.add("rotograph.Despill", "despill", mode="average")
    g.add("rotograph.Premult", "premult")
    g.add("rotograph.WriteEXR", "write", file=str(tmp_path / "render" / "gs.####.exr"), pixel_type="float",
          matte_type="float")
    for a, b in [("read.image", "keyer.image"), ("keyer.matte", "fill.matte"), ("fill.out", "grow.matte"),
                 ("grow.out", "feather.matte"), ("read.image", "despill.image"), ("despill.out", "premult.image"),
                 ("feather.out", "premult.matte"), ("premult.out", "write.image"), ("feather.out", "write.matte")]:
        g.connect(a, b)
    path = str(tmp_path / "gs.json")
    rotograph.save(g, path)
    return path


def layers(path) -> dict[str, np.ndarray]:
    ch = read_exr(path)
    return {"rgba": np.dstack([ch[c] for c in "RGBA"]), "matte": ch["matte.A"]}


def test_proxy_half_render_equals_the_full_render_downscaled(tmp_path, capsys):
    graph = build(tmp_path)
    cache = str(tmp_path / "cache")
    assert main(["render", graph, "--frames", "1001", "--cache", cache, "-q"]) == 0
    full_path = tmp_path / "render" / "gs.1001.exr"
    stamp = os.stat(full_path).st_mtime_ns
    assert main(["render", graph, "--frames", "1001", "--cache", cache, "-q", "--proxy", "0.5"]) == 0
    assert "proxy0.5" in capsys.readouterr().out  # the delivery printed is the proxy path
    assert os.stat(full_path).st_mtime_ns == stamp  # the full render is left alone
    full, proxy = layers(full_path), layers(tmp_path / "render" / "proxy0.5" / "gs.1001.exr")
    for layer in ("rgba", "matte"):
        f, p = full[layer], proxy[layer]
        assert p.shape[:2] == (220, 340) and f.shape[:2] == (440, 680)
        down = cv2.resize(f, (340, 220), interpolation=cv2.INTER_AREA).reshape(p.shape)
        err = np.abs(p - down)
        print(layer, float(err.mean()), float(np.percentile(err, 99)))
        assert err.mean() < 0.005 and np.percentile(err, 99) < 0.08, layer  # measured 0.0011-0.0017, 0.023-0.037
    # a second proxy render is all cache hits: the proxy has keys of its own, kept apart
    capsys.readouterr()
    assert main(["render", graph, "--frames", "1001", "--cache", cache, "-q", "--proxy", "0.5"]) == 0
    assert "0 node computes, 1 cache hits" in capsys.readouterr().err


def test_proxy_scales_pixel_params_and_leaves_the_rest(tmp_path):
    g = rotograph.load(build(tmp_path))
    g.add("rotograph.Reformat", "ref", format="HD_1080")
    g.add("rotograph.Crop", "crop", x=10, y=20, right=1001, top=501)
    apply_proxy(g, 0.5)
    n = g.nodes
    assert (n["keyer"].adaptive_size, n["keyer"].prefilter, n["keyer"].clip_white) == (10.0, 0.5, 1.0)
    assert (n["fill"].max_area, n["fill"].edge, n["fill"].threshold) == (10.0, 1, 0.5)  # px² by 0.25
    assert (n["grow"].size, n["feather"].size) == (-1.0, 2.0)
    assert (n["ref"].format, n["ref"].width, n["ref"].height) == ("custom", 960, 540)
    assert (n["crop"].x, n["crop"].y, n["crop"].right, n["crop"].top) == (5, 10, 500, 250)
    # paths stay relative to the graph file: the proxy folder sits beside the full-size render
    assert n["write"].file == proxy_folder("render/gs.####.exr", 0.5)
    assert n["write"].resolve(n["write"].file) == proxy_folder(str(tmp_path / "render" / "gs.####.exr"), 0.5)
    proxy, port = g.inputs_of("keyer")["image"]
    assert port == "out" and n[proxy].type_id == "rotograph.Reformat" and n[proxy].scale == 0.5
    assert g.inputs_of("despill")["image"] == (proxy, "out") and g.inputs_of(proxy)["image"] == ("read", "image")
    with pytest.raises(GraphError, match="--proxy"):
        apply_proxy(g, 1.5)
