"""MatAnyoneRefine through the real MatAnyone 2 network and inference core (random-initialised,
no weights) on a few small frames of real footage."""

from __future__ import annotations

import os

import numpy as np
import pytest

import rotograph
from rotograph.interop.models import MANAGER

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
    g.add("rotograph.MatAnyoneRefine", "mat", weights="random", device="cpu", work_size=192, warmup=2,
          reanchor_iou=0.99, dilate=2)
    g.connect("read.image", "rough.image")
    g.connect("read.image", "mat.image")
    g.connect("rough.matte", "mat.matte")
    ev = rotograph.Evaluator(g, rotograph.Cache())
    ev.wanted = {"mat": {1001, 1002, 1003}}
    alpha = ev.get("mat", "matte", 1003)
    fg = ev.get("mat", "foreground", 1002)
    assert alpha.shape == (540, 960) and alpha.dtype == np.float32 and 0 <= alpha.min() and alpha.max() <= 1
    assert fg.shape == (540, 960, 4) and np.array_equal(fg[..., :3], g.evaluate("read", 1002))
    assert ev.stats.range_runs["mat"] == 1 and ev.stats.computes["mat"] == 3
    assert [k for k in MANAGER.loaded() if k[0] == "matanyone2"] == [("matanyone2", "random", "cpu")]  # (model, identity, device)


def test_first_frame_needs_a_mask(registry):
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(footage("bedroom.mp4")))
    g.add("rotograph.MatAnyoneRefine", "mat", weights="random", device="cpu", work_size=192)
    g.connect("read.image", "mat.image")
    with pytest.raises(rotograph.EvaluationError, match="the first frame needs a mask"):
        g.evaluate("mat", 1001)


def test_weights_in_the_published_layout_load_from_the_hf_cache_and_a_local_path(registry, tmp_path, monkeypatch):
    """A random-initialised MatAnyone 2 saved by its own ``save_pretrained`` (config.json +
    model.safetensors, the layout of PeiqingYang/MatAnyone2) in a Hugging Face cache, and as the
    GitHub release's ``matanyone2.pth`` state dict: loaded offline from the HF id, the folder and
    the .pth, the node's alpha equals the in-memory model's."""
    import torch

    from hf_cache import REVISION, hf_snapshot
    from rotograph.interop.models import SPECS, resolve_weights
    from rotograph.nodes.ai.matanyone import build_matanyone

    torch.manual_seed(0)
    net = build_matanyone(resolve_weights(SPECS["matanyone2"], "random"), "cpu")
    net.save_pretrained(tmp_path / "saved")
    torch.save(net.state_dict(), tmp_path / "matanyone2.pth")
    snapshot = hf_snapshot(tmp_path / "hf", "PeiqingYang/MatAnyone2",
                           {n: tmp_path / "saved" / n for n in ("config.json", "model.safetensors")})
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("ROTOGRAPH_MATANYONE_WEIGHTS", raising=False)
    MANAGER.clear()
    MANAGER.get("matanyone2", resolve_weights(SPECS["matanyone2"], "random"), "cpu", lambda w, d: net)
    from conftest import moving_square, write_png_sequence

    frames, _ = moving_square(2)
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "plate", frames), colorspace="sRGB")
    g.add("rotograph.Keyer", "rough", screen="blue", adaptive=False, clip_black=0.3)
    g.add("rotograph.MatAnyoneRefine", "mat", weights="random", device="cpu", work_size=128, warmup=0)
    g.connect("read.image", "rough.image")
    g.connect("read.image", "mat.image")
    g.connect("rough.matte", "mat.matte")

    def alpha():
        return g.evaluate("mat", 1001, "matte")  # the first frame runs every part of the network

    want = alpha()
    g.set("mat.weights", str(snapshot))  # a folder: the same loading as the HF id's snapshot
    assert g.nodes["mat"].key_material(1001)["weights"].startswith("folder:")
    for weights, identity in (("", f"hf:{REVISION}"), (str(tmp_path / "matanyone2.pth"), "file:")):
        g.set("mat.weights", weights)
        assert g.nodes["mat"].key_material(1001)["weights"].startswith(identity)
        assert np.array_equal(alpha(), want), weights
    MANAGER.clear()


def test_sam3_matte_graph_end_to_end(registry, tmp_path, monkeypatch):
    """graphs/sam3_matte.json with the sam3 double (held to the recorded API) and a
    random-initialised MatAnyone 2."""
    from rotograph.nodes.ai import _sam3_models as sam3_models

    import sam3_double
    from conftest import GRAPHS, read_exr, write_png_sequence
    from test_sam3 import squares

    bpe = tmp_path / "bpe.txt.gz"
    bpe.write_bytes(b"")
    sam3_double.install(monkeypatch, str(bpe))
    monkeypatch.setattr(sam3_models, "choose_device", lambda preferred="auto": "cuda")
    MANAGER.clear()
    frames, _ = squares(6)
    g = rotograph.load(GRAPHS / "sam3_matte.json", registry)
    g.set("read.file", write_png_sequence(tmp_path / "plate", frames))
    g.set("track.text", "square")
    g.set("track.weights", "random")
    g.set("track_matte.objects", "1")
    g.set("matanyone.weights", "random")
    g.set("matanyone.device", "cpu")
    g.set("matanyone.work_size", 160)
    g.set("matanyone.warmup", 1)
    g.set("write.file", str(tmp_path / "out" / "m.####.exr"))
    report = rotograph.render(g, "1001-1004", cache=rotograph.Cache())
    assert report.ok, report.error
    assert report.stats.range_runs["track"] == 1 and report.stats.range_runs["matanyone"] == 1
    layers = read_exr(tmp_path / "out" / "m.1004.exr")
    assert set(layers) == {"R", "G", "B", "A", "matte.A"}
    MANAGER.clear()
