"""MatAnyoneRefine through the real MatAnyone 2 network and inference core (random-initialised,
no weights) on a few small frames of real footage."""

from __future__ import annotations

import os

import numpy as np
import pytest

import rotograph
from rotograph.models import MANAGER

from conftest import footage

try:
    import matanyone2  # noqa: F401
    import torch  # noqa: F401
except ImportError as e:  # `make test` installs them and sets ROTOGRAPH_REQUIRE_AI: never skip there
    if os.environ.get("ROTOGRAPH_REQUIRE_AI"):
        raise
    pytest.skip(f"the MatAnyone 2 code path needs torch and matanyone2-runtime ({e})", allow_module_level=True)


def test_matanyone_refine_runs_the_real_model(registry):
    MANAGER.clear()
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(footage("bedroom.mp4")))
    g.add("rotograph.Keyer", "rough", screen="blue", adaptive=False, clip_black=0.3)  # any rough matte
    g.add("rotograph.MatAnyoneRefine", "mat", weights="random", device="cpu", max_size=192, warmup=2,
          reanchor_iou=0.99, dilate=2)
    g.connect("read.image", "rough.image")
    g.connect("read.image", "mat.image")
    g.connect("rough.matte", "mat.matte")
    ev = rotograph.Evaluator(g, rotograph.Cache())
    ev.wanted = {"mat": {1001, 1002, 1003}}
    alpha = ev.get("mat", "refined", 1003)
    fg = ev.get("mat", "foreground", 1002)
    assert alpha.shape == (540, 960) and alpha.dtype == np.float32 and 0 <= alpha.min() and alpha.max() <= 1
    assert fg.shape == (540, 960, 4) and np.array_equal(fg[..., :3], g.evaluate("read", 1002))
    assert ev.stats.range_runs["mat"] == 1 and ev.stats.computes["mat"] == 3
    assert [k for k in MANAGER.loaded() if k[0] == "matanyone2"] == [("matanyone2", "random", "cpu")]


def test_first_frame_needs_a_mask(registry):
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(footage("bedroom.mp4")))
    g.add("rotograph.MatAnyoneRefine", "mat", weights="random", device="cpu", max_size=192)
    g.connect("read.image", "mat.image")
    with pytest.raises(rotograph.EvaluationError, match="the first frame needs a mask"):
        g.evaluate("mat", 1001)


def test_sam3_matte_graph_end_to_end(registry, tmp_path, monkeypatch):
    """graphs/sam3_matte.json with the SAM3 predictor double and a random-initialised MatAnyone 2."""
    from rotograph.nodes import sam3 as sam3_nodes

    from conftest import GRAPHS, read_exr, write_png_sequence
    from sam3_double import FakeSam3VideoPredictor
    from test_sam3 import two_squares

    fake = FakeSam3VideoPredictor()
    monkeypatch.setattr(sam3_nodes, "build_video_predictor", lambda weights, device: fake)
    MANAGER.clear()
    frames, _ = two_squares(6)
    g = rotograph.load(GRAPHS / "sam3_matte.json", registry)
    g.set("read.file", write_png_sequence(tmp_path / "plate", frames))
    g.set("track.text", "square")
    g.set("matanyone.weights", "random")
    g.set("matanyone.device", "cpu")
    g.set("matanyone.max_size", 160)
    g.set("matanyone.warmup", 1)
    g.set("write.file", str(tmp_path / "out" / "m.####.exr"))
    report = rotograph.render(g, "1001-1004", cache=rotograph.Cache())
    assert report.ok, report.error
    assert report.stats.range_runs["track"] == 1 and report.stats.range_runs["matanyone"] == 1
    layers = read_exr(tmp_path / "out" / "m.1004.exr")
    assert set(layers) == {"R", "G", "B", "A", "matte.A"}
    MANAGER.clear()
