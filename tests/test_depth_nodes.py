"""Depth nodes against known geometry: planes, ramps and the wall scene."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rotograph
from rotograph import Context, DepthMap
from rotograph.core.types import CameraData

CTX = Context(1001, "d")


def _node(registry, type_id, **params):
    return registry.get(type_id)("d", **params)


def _camera(w=80, h=60, f=70.0, extrinsics=None):
    return CameraData(np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]]), np.eye(4) if extrinsics is None else extrinsics,
                      (w, h))


def _plane_depth(cam, normal, d):
    """Z-depth of the plane n·X = d seen by ``cam`` (camera space = world here)."""
    w, h = cam.size
    k = cam.intrinsics
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    rays = np.stack([(xs - k[0][2]) / k[0][0], (ys - k[1][2]) / k[1][1], np.ones_like(xs)], -1)
    return (d / (rays @ np.asarray(normal))).astype(np.float32)


@pytest.mark.parametrize("normal", [(0, 0, -1), (0.3, 0, -1), (0, -0.4, -1), (0.2, 0.25, -1)])
def test_normals_of_planes(registry, normal):
    n = np.asarray(normal, np.float64) / np.linalg.norm(normal)
    cam = _camera()
    z = _plane_depth(cam, n, -5.0)
    out = _node(registry, "rotograph.DepthToNormals", smoothing=0.0).compute(CTX, DepthMap(z, True, "m"), cam)
    inner = out[2:-2, 2:-2].reshape(-1, 3)
    assert np.abs(inner - n).max() < 1e-3  # facing the camera (−Z in OpenCV camera space)


def test_world_space_normals(registry):
    yaw = math.radians(30)
    r = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])  # cam → world
    ext = np.eye(4)
    ext[:3, :3] = r.T
    cam = _camera(extrinsics=ext)
    z = _plane_depth(cam, np.array([0, 0, -1.0]), -5.0)  # the plane, in camera space
    out = _node(registry, "rotograph.DepthToNormals", smoothing=0.0, world_space=True).compute(
        CTX, DepthMap(z, True, "m"), cam)
    assert np.abs(out[2:-2, 2:-2].reshape(-1, 3) - r @ [0, 0, -1]).max() < 1e-3


def test_depth_matte_and_layers(registry):
    z = np.tile(np.linspace(0, 10, 101, dtype=np.float32), (3, 1))  # 0.1 units per pixel
    d = DepthMap(z, True, "m")
    m = _node(registry, "rotograph.DepthMatte", near=3, far=6, falloff=1).compute(CTX, d)[0]
    at = lambda v: m[int(round(v * 10))]  # noqa: E731
    assert at(1.9) == 0 and at(2.5) == pytest.approx(0.5) and at(3) == 1 and at(6) == 1 and at(6.5) == pytest.approx(0.5)
    assert at(7.1) == 0
    hard = _node(registry, "rotograph.DepthMatte", near=3, far=6, falloff=0, invert=True).compute(CTX, d)[0]
    assert hard[29] == 1 and hard[30] == 0 and hard[60] == 0 and hard[61] == 1
    layers = _node(registry, "rotograph.DepthLayers", split_near=2, split_far=6, softness=1).compute(CTX, d)
    total = layers["foreground"] + layers["midground"] + layers["background"]
    assert np.allclose(total, 1) and all(v.min() >= -1e-6 for v in layers.values())
    row = {k: v[0] for k, v in layers.items()}
    assert row["foreground"][10] == 1 and row["midground"][40] == 1 and row["background"][80] == 1
    assert row["foreground"][20] == pytest.approx(0.5) and row["background"][60] == pytest.approx(0.5)


def test_depth_graph_to_exr(registry, tmp_path, monkeypatch):
    """Depth → normals → multi-layer EXR on the wall scene (tests/plugins)."""
    from conftest import PLUGINS, read_exr

    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(PLUGINS))
    reg = rotograph.Registry.default()
    g = rotograph.Graph(reg)
    g.add("test.WallScene", "scene")
    g.add("rotograph.DepthToNormals", "normals", smoothing=0.0, world_space=True)
    g.add("rotograph.DepthLayers", "layers", split_near=5.0, split_far=5.2, softness=0.05)
    g.add("rotograph.WriteEXR", "out", file=str(tmp_path / "d.####.exr"), normals_type="float")
    for a, b in [("scene.depth", "normals.depth"), ("scene.camera", "normals.camera"), ("scene.depth", "layers.depth"),
                 ("scene.depth", "out.depth"), ("normals.normals", "out.normals"), ("layers.foreground", "out.matte")]:
        g.connect(a, b)
    assert rotograph.render(g, "1001-1003", cache=rotograph.Cache()).ok
    layers = read_exr(tmp_path / "d.1003.exr")
    n = np.dstack([layers["N.X"], layers["N.Y"], layers["N.Z"]])[2:-2, 2:-2]
    assert np.abs(n - [0, 0, -1]).max() < 1e-3  # the wall faces the camera, in world space whatever the yaw
    assert 0 < layers["matte.A"].mean() < 1  # the turning camera sees the wall nearer on one side
