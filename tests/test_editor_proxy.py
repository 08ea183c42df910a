"""The editor's proxy toggle (Ctrl+P, View ▸ Proxy): the viewer evaluates the graph at proxy 0.5
through the render's own rewrite, under its own cache keys, and reports full-resolution sizes
(prompts stay in plate pixels); the model's graph is never changed."""

from __future__ import annotations

import time

import cv2
import numpy as np
import OpenEXR
import pytest

import rotograph
from rotograph.editor.model import EditorModel
from rotograph.editor.proxy_view import ProxyView
from rotograph.editor.worker import EvalWorker

from editor_session import Session, click_node, missing_tools
from greenscreen_plate import make_plate


def keyer_graph(tmp_path):
    comp, _, _, screen = make_plate()
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"RGB": comp}) as exr:
        exr.write(str(tmp_path / "gs.1001.exr"))
    g = rotograph.Graph(rotograph.Registry.builtin())
    g.add("rotograph.Read", "read", file=str(tmp_path / "gs.####.exr"))
    g.add("rotograph.Keyer", "keyer", screen_color=[float(c) for c in screen], adaptive_size=20.0)
    g.connect("read.image", "keyer.image")
    return g, comp


def test_proxy_toggle_views_at_half_size_with_its_own_keys(tmp_path):
    g, comp = keyer_graph(tmp_path)
    model = EditorModel(graph=g)
    before = rotograph.dumps(model.graph)
    view = ProxyView(model)
    assert view.graph_text() == before and view.factor == 1.0
    assert view.toggle() and view.label() == "proxy 0.5"
    text = view.graph_text()
    assert rotograph.dumps(model.graph) == before  # the saved graph never changes
    full_ev = rotograph.Evaluator(model.graph, rotograph.Cache())
    proxy_ev = rotograph.Evaluator(rotograph.loads(text), rotograph.Cache())
    assert proxy_ev.key("keyer", None, 1001) != full_ev.key("keyer", None, 1001)
    h, w = comp.shape[:2]
    worker = EvalWorker(model.registry)
    try:
        worker.request(text, "keyer", None, 1001, frames=(1001,), downscale=2, proxy=view.factor)
        deadline = time.monotonic() + 60
        res = None
        while res is None and time.monotonic() < deadline:
            time.sleep(0.05)
            res = worker.result()
        assert res is not None and res.error is None, res and res.error
        assert res.value.shape == (round(h / 2), round(w / 2))
        assert res.size == (w, h)  # the viewer's image keeps plate pixels: prompts land where clicked
        assert res.rgba.shape[:2] == res.value.shape  # drawn at half size: the proxy is that already
        full = full_ev.get("keyer", None, 1001)
        half = np.asarray(res.value)
        ref = cv2.resize(full, (half.shape[1], half.shape[0]), interpolation=cv2.INTER_AREA)
        assert np.abs(half - ref).mean() < 0.02  # the same matte, within resampling error
    finally:
        worker.close()
    assert not view.toggle() and view.graph_text() == before


@pytest.mark.skipif(bool(missing_tools()), reason="needs xvfb, xdotool and imagemagick")
def test_ctrl_p_in_the_window_views_at_proxy_and_back(tmp_path):
    g, comp = keyer_graph(tmp_path)
    path = tmp_path / "k.json"
    rotograph.save(g, str(path))
    h, w = comp.shape[:2]
    with Session(tmp_path / "s", path, size=(1280, 800)) as s:
        click_node(s, "keyer")
        full = s.wait(lambda p: p["viewer"]["shown"] == ["keyer", 1001, None] and not p["viewer"]["waiting"],
                      "the keyer's matte")["viewer"]
        s.key("ctrl+p")
        p = s.wait(lambda p: p["viewer"]["proxy"] == 0.5 and not p["viewer"]["waiting"]
                   and p["viewer"]["texture"] != full["texture"], "the proxy view")
        assert p["status"] == "viewer: proxy 0.5" and p["viewer"]["image"] == [w, h]  # plate pixels kept
        assert p["viewer"]["texture"][0] < full["texture"][0]  # drawn from half as many pixels
        assert not p["dirty"]  # the graph is not edited
        s.key("ctrl+p")
        back = s.wait(lambda p: p["viewer"]["proxy"] == 1.0 and not p["viewer"]["waiting"]
                      and p["viewer"]["texture"] == full["texture"], "full resolution again")
        assert back["status"] == "viewer: full resolution"
