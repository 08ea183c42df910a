"""DA3Depth through the real ``depth_anything_3`` network code, random-initialised (no weights)
on small frames of real footage: shapes, dtypes, camera conventions, windows, the graph."""

from __future__ import annotations

import os

import numpy as np
import pytest

import rotograph
from rotograph.interop.models import MANAGER

from conftest import footage

try:
    import depth_anything_3  # noqa: F401
    import torch  # noqa: F401
except ImportError as e:  # `make test` installs them and sets ROTOGRAPH_REQUIRE_AI: never skip there
    if os.environ.get("ROTOGRAPH_REQUIRE_AI"):
        raise
    pytest.skip(f"the Depth Anything 3 code path needs torch and depth-anything-3 ({e})", allow_module_level=True)


def _graph(registry, **params):
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(footage("bedroom.mp4")))
    g.add("rotograph.DA3Depth", "da3", model="da3-small", weights="random", device="cpu", work_size=98, **params)
    g.connect("read.image", "da3.image")
    return g


def test_per_frame_depth_confidence_camera(registry):
    g = _graph(registry)
    depth = g.evaluate("da3", 1001, "depth")
    conf = g.evaluate("da3", 1001, "confidence")
    cam = g.evaluate("da3", 1001, "camera")
    assert depth.z.shape == (540, 960) and depth.z.dtype == np.float32 and not depth.metric
    assert np.isfinite(depth.z).all()
    assert conf.shape == (540, 960) and conf.dtype == np.float32 and 0 <= conf.min() and conf.max() < 1
    assert cam.size == (960, 540) and np.shape(cam.intrinsics) == (3, 3) and np.shape(cam.extrinsics) == (4, 4)
    assert np.allclose(np.asarray(cam.extrinsics)[3], [0, 0, 0, 1])  # a rigid world-to-camera transform
    assert np.asarray(cam.intrinsics)[2, 2] == pytest.approx(1)
    ev = rotograph.Evaluator(g, rotograph.Cache())
    assert ev.segment_of("da3", 1005).frames == (1005,)  # window 1: one frame per segment


def test_window_runs_frames_together_and_loads_once(registry):
    MANAGER.clear()
    g = _graph(registry, window=4)
    ev = rotograph.Evaluator(g, rotograph.Cache())
    ev.wanted = {"da3": set(range(1001, 1009))}
    for f in range(1001, 1009):
        ev.get("da3", "depth", f)
    assert ev.stats.range_runs["da3"] == 2 and ev.stats.computes["da3"] == 8  # two windows of 4
    assert len([k for k in MANAGER.loaded() if k[0] == "da3:da3-small"]) == 1  # one model for the process
    assert ev.segment_of("da3", 1006).frames == (1005, 1006, 1007, 1008)


def test_depth_layers_graph(registry, tmp_path):
    g = _graph(registry)
    g.add("rotograph.DepthToNormals", "normals")
    g.add("rotograph.DepthLayers", "layers")
    g.add("rotograph.WriteEXR", "out", file=str(tmp_path / "d.####.exr"))
    for a, b in [("da3.depth", "normals.depth"), ("da3.camera", "normals.camera"), ("da3.depth", "layers.depth"),
                 ("da3.depth", "out.depth"), ("normals.normals", "out.normals"), ("layers.foreground", "out.matte")]:
        g.connect(a, b)
    assert rotograph.render(g, "1001-1002", cache=rotograph.Cache()).ok
    from conftest import read_exr

    layers = read_exr(tmp_path / "d.1002.exr")
    assert {"depth.Z", "N.X", "N.Y", "N.Z", "matte.A"} <= set(layers)
    n = np.dstack([layers["N.X"], layers["N.Y"], layers["N.Z"]]).astype(np.float32)
    assert np.isfinite(n).all() and np.linalg.norm(n, axis=-1).max() <= 1.01  # random weights: no geometry to check
    assert np.allclose(layers["depth.Z"], g.evaluate("da3", 1002, "depth").z)


def test_weights_in_the_published_layout_load_from_the_hf_cache_and_a_local_path(registry, tmp_path, monkeypatch):
    """A random-initialised DA3-small saved as depth-anything/DA3-SMALL publishes it
    (model.safetensors, keys under ``model.`` as the package's DepthAnything3 wrapper names them,
    and config.json) in a Hugging Face cache: loaded offline from its HF id, from the file and from
    the folder, the node's depth equals the in-memory model's."""
    import json

    from safetensors.torch import save_file

    from hf_cache import REVISION, hf_snapshot
    from rotograph.interop.models import SPECS, resolve_weights
    from rotograph.nodes.ai.da3 import build_da3

    torch.manual_seed(0)
    net = build_da3("da3-small", resolve_weights(SPECS["da3"], "random"), "cpu")
    state = {"model." + k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps({"model_name": "da3-small"}))
    snapshot = hf_snapshot(tmp_path / "hf", "depth-anything/DA3-SMALL",
                           {"model.safetensors": tmp_path / "model.safetensors", "config.json": tmp_path / "config.json"})
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("ROTOGRAPH_DA3_WEIGHTS", raising=False)
    MANAGER.clear()
    MANAGER.get("da3:da3-small", resolve_weights(SPECS["da3"], "random"), "cpu", lambda w, d: net)  # the in-memory model
    g = _graph(registry)
    want = g.evaluate("da3", 1001, "depth").z
    for weights, identity in (("", f"hf:{REVISION}"), (str(tmp_path / "model.safetensors"), "file:"),
                              (str(snapshot), "folder:")):
        g.set("da3.weights", weights)
        assert g.nodes["da3"].key_material(1001)["weights"].startswith(identity)
        assert np.array_equal(g.evaluate("da3", 1001, "depth").z, want), weights
    assert len([k for k in MANAGER.loaded() if k[0] == "da3:da3-small"]) == 4  # random + three identities
    MANAGER.clear()
