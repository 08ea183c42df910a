"""Camera files (.chan, JSON, NPZ) and PLY point clouds from a scene with a known answer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import rotograph

from conftest import PLUGINS


@pytest.fixture
def scene(monkeypatch):
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(PLUGINS))
    import sys

    sys.path.insert(0, str(PLUGINS))
    import scene_doubles

    return rotograph.Registry.default(), scene_doubles


def _rot(axis, deg):
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return {"x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]), "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]


def _graph(registry, tmp_path, **writers):
    g = rotograph.Graph(registry)
    g.add("test.WallScene", "scene")
    for name, (type_id, params, links) in writers.items():
        g.add(type_id, name, **params)
        for out, inp in links:
            g.connect(f"scene.{out}", f"{name}.{inp}")
    return g


def test_camera_files(scene, tmp_path):
    registry, doubles = scene
    links = [("camera", "camera")]
    g = _graph(registry, tmp_path, chan=("rotograph.WriteCamera", {"file": str(tmp_path / "cam.chan")}, links),
               js=("rotograph.WriteCamera", {"file": str(tmp_path / "cam.json")}, links),
               npz=("rotograph.WriteCamera", {"file": str(tmp_path / "cam.npz")}, links))
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    rows = np.loadtxt(tmp_path / "cam.chan")
    assert rows.shape == (10, 8) and list(rows[:, 0]) == list(range(1001, 1011))
    for row in rows:
        frame, tx, ty, tz, rx, ry, rz, vfov = row
        cam = doubles.camera(int(frame))
        # rebuild the OpenCV world-to-camera matrix from Nuke's convention: camera-to-world in a
        # +Y-up world, −Z forward, rotation order ZXY (Z first: R = Ry·Rx·Rz)
        c2w = np.eye(4)
        c2w[:3, :3] = _rot("y", ry) @ _rot("x", rx) @ _rot("z", rz)
        c2w[:3, 3] = [tx, ty, tz]
        flip = np.diag([1, -1, -1, 1])
        assert np.allclose(flip @ np.linalg.inv(c2w) @ flip, cam.extrinsics, atol=1e-6)
        assert abs(rx) < 1e-6 and abs(rz) < 1e-6 and ry == pytest.approx(-2.0 * (frame - 1001))  # upright, turning
        assert vfov == pytest.approx(math.degrees(2 * math.atan(48 / 2 / 60.0)), abs=1e-6)
    doc = json.loads((tmp_path / "cam.json").read_text())
    assert np.allclose(doc["frames"]["1004"]["extrinsics"], doubles.camera(1004).extrinsics)
    arrays = np.load(tmp_path / "cam.npz")
    assert arrays["intrinsics"].shape == (10, 3, 3) and np.allclose(arrays["extrinsics"][9], doubles.camera(1010).extrinsics)


def _read_ply(path):
    data = path.read_bytes()
    head, body = data.split(b"end_header\n", 1)
    lines = head.decode().splitlines()
    assert lines[:2] == ["ply", "format binary_little_endian 1.0"]
    n = int(next(line.split()[-1] for line in lines if line.startswith("element vertex")))
    props = [line.split()[1:] for line in lines if line.startswith("property")]
    types = {"float": "<f4", "uchar": "u1"}
    return np.frombuffer(body, dtype=[(name, types[t]) for t, name in props], count=n)


def test_point_cloud_lands_on_the_wall(scene, tmp_path):
    registry, doubles = scene
    links = [("image", "image"), ("depth", "depth"), ("camera", "camera")]
    g = _graph(registry, tmp_path, ply=("rotograph.WritePointCloud",
                                        {"file": str(tmp_path / "cloud.####.ply"), "stride": 2}, links))
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    v = _read_ply(tmp_path / "cloud.1006.ply")
    assert len(v) == 24 * 32
    assert np.abs(v["z"]).max() < 1e-4  # world space: every point on the wall z = 0
    from rotograph.io.colour import from_linear

    img = g.evaluate("scene", 1006, "image")[::2, ::2]
    expected = (np.clip(from_linear(img, "sRGB"), 0, 1) * 255 + 0.5).astype(np.uint8).reshape(-1, 3)
    assert np.array_equal(np.stack([v["red"], v["green"], v["blue"]], 1), expected)  # sRGB 8-bit colours
    # camera space with a matte: only the left half, Z equal to the depth
    g.add("rotograph.Keyer", "half", screen="blue", adaptive=False, combine="average", clip_black=0.5)
    g.connect("scene.image", "half.image")
    g.connect("half.matte", "ply.matte")
    g.set("ply.world_space", False)
    g.set("ply.stride", 1)
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    v = _read_ply(tmp_path / "cloud.1006.ply")
    matte = g.evaluate("half", 1006)
    assert len(v) == int((matte > 0.5).sum()) and 0 < len(v) < 64 * 48
    z = g.evaluate("scene", 1006, "depth").z
    assert np.allclose(np.sort(v["z"]), np.sort(z[matte > 0.5]), atol=1e-5)
