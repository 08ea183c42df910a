"""A global, voxel-downsampled point cloud of the known-camera scene (read back with numpy) and
the Blender hand-off script (read back with Python's ast), against the scene's exact answers."""

from __future__ import annotations

import ast

import numpy as np
import pytest

import rotograph

from test_delivery_images import read_oiio
from test_geometry_outputs import _read_ply


@pytest.fixture
def scene(plugin_registry):
    import scene_doubles

    g = rotograph.Graph(plugin_registry)
    g.add("test.WallScene", "scene")
    return g, scene_doubles


def _wall_points(doubles, frames, stride):
    """World points of the wall seen by every ``stride``-th pixel: each pixel's ray from the
    camera centre, intersected with the plane z = 0 (no depth map involved)."""
    out = []
    for f in frames:
        cam = doubles.camera(f)
        c2w = np.linalg.inv(cam.extrinsics)
        ys, xs = np.mgrid[0:doubles.H:stride, 0:doubles.W:stride] + 0.5
        rays = np.stack([(xs - doubles.W / 2) / doubles.F, (ys - doubles.H / 2) / doubles.F, np.ones_like(xs)], -1)
        rays = rays.reshape(-1, 3) @ c2w[:3, :3].T
        centre = c2w[:3, 3]
        out.append(centre - rays * (centre[2] / rays[:, 2:3]))
    return np.concatenate(out)


def _cloud(g, tmp_path, name, **params):
    g.add("rotograph.WritePointCloud", name, file=str(tmp_path / f"{name}.ply"), mode="global", **params)
    for port in ("image", "depth", "camera"):
        g.connect(f"scene.{port}", f"{name}.{port}")


def test_global_point_cloud_lands_on_the_wall(scene, tmp_path):
    g, doubles = scene
    _cloud(g, tmp_path, "all", stride=2)
    _cloud(g, tmp_path, "voxels", stride=2, voxel_size=0.25)
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    every = _read_ply(tmp_path / "all.ply")
    truth = _wall_points(doubles, range(1001, 1011), 2)
    assert len(every) == len(truth) == 10 * 24 * 32  # every point of every frame, in world space
    pts = np.stack([every["x"], every["y"], every["z"]], 1).astype(np.float64)
    assert np.abs(pts[:, 2]).max() < 1e-4  # on the wall
    assert np.abs(np.sort(pts[:, 0]) - np.sort(truth[:, 0])).max() < 1e-4
    voxels = _read_ply(tmp_path / "voxels.ply")
    vpts = np.stack([voxels["x"], voxels["y"], voxels["z"]], 1).astype(np.float64)
    assert np.abs(vpts[:, 2]).max() < 1e-4  # voxel means of wall points stay on the wall
    keys = np.floor(vpts / 0.25).astype(np.int64)
    assert len(np.unique(keys, axis=0)) == len(vpts)  # one point per voxel
    # the wall lies on a voxel boundary (z = 0): float noise puts its points on either side, so
    # compare the voxels' columns in x and y
    got = {tuple(k) for k in keys[:, :2]}
    want = {tuple(k) for k in np.floor(truth[:, :2] / 0.25).astype(np.int64)}
    assert len(got ^ want) <= 0.01 * len(want) and len(vpts) <= 2 * len(want) and len(vpts) < len(every) / 4  # (at most 2 per column)


def test_confidence_threshold(scene, tmp_path):
    g, doubles = scene
    g.add("rotograph.Keyer", "half", screen="blue", adaptive=False, combine="average", clip_black=0.5)
    g.connect("scene.image", "half.image")
    _cloud(g, tmp_path, "sure", stride=1, min_confidence=0.5)
    g.connect("half.matte", "sure.confidence")
    assert rotograph.render(g, "1001-1002", cache=rotograph.Cache()).ok
    kept = sum(int((g.evaluate("half", f) >= 0.5).sum()) for f in (1001, 1002))
    cloud = _read_ply(tmp_path / "sure.ply")
    assert 0 < len(cloud) == kept < 2 * 64 * 48


def test_global_mode_takes_one_file_and_frame_mode_a_pattern(scene, tmp_path):
    g, _ = scene
    g.add("rotograph.WritePointCloud", "ply", file=str(tmp_path / "c.####.ply"), mode="global")
    for port in ("image", "depth", "camera"):
        g.connect(f"scene.{port}", f"ply.{port}")
    with pytest.raises(rotograph.GraphError, match="mode global needs a file without a frame pattern"):
        g.validate()
    g.set("ply.mode", "frame")
    g.validate()


def test_blender_script(scene, tmp_path):
    g, doubles = scene
    _cloud(g, tmp_path, "cloud", stride=4, voxel_size=0.1)
    g.add("rotograph.WriteBlender", "blender", file=str(tmp_path / "shot.py"), fps="23.976")
    for a, b in [("scene.camera", "blender.camera"), ("scene.image", "blender.image"), ("cloud.written", "blender.file_cloud")]:
        g.connect(a, b)
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    tree = ast.parse((tmp_path / "shot.py").read_text())
    data = {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name) and t.id.isupper() and t.id != "HERE"}
    assert data["FPS"] == (24000, 1001) and data["FRAMES"] == (1001, 1010) and data["RESOLUTION"] == (64, 48)
    assert data["POINT_CLOUD"] == "cloud.ply" and data["PLATE"] == "shot_plate/plate.####.png"
    for f in (1001, 1010):
        plate, _ = read_oiio(tmp_path / "shot_plate" / f"plate.{f}.png")
        assert plate.shape == (48, 64, 3)
    blender_to_cv = np.linalg.inv(np.array(data["CV_TO_BLENDER"]))
    cam_flip = np.diag([1.0, -1.0, -1.0, 1.0])  # Blender cameras look down −Z, +Y up
    assert [row[0] for row in data["CAMERA"]] == list(range(1001, 1011))
    for frame, lens, shift_x, shift_y, matrix in data["CAMERA"]:
        world_to_camera = np.linalg.inv(blender_to_cv @ np.array(matrix) @ cam_flip)
        assert np.allclose(world_to_camera, doubles.camera(frame).extrinsics, atol=1e-9)
        assert lens == pytest.approx(doubles.F * 36.0 / doubles.W) and shift_x == shift_y == 0.0
    m = np.array(data["CAMERA"][0][4])
    assert np.allclose(m[:3, :3] @ [0, 0, -1], [0, 1, 0])  # frame 1001 looks along Blender's +Y ...
    assert np.allclose(m[:3, 3], [0.0, -5.0, -0.2])  # ... from 5 units before the wall
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert {"bpy.ops.wm.ply_import", "bpy.ops.export_scene.fbx", "bpy.ops.wm.alembic_export"} <= calls


def test_blender_runs_the_script_and_exports(scene, tmp_path):
    """Inside real Blender: `blender` on PATH, or $ROTOGRAPH_BPY_PYTHON, a Python with the `bpy`
    module (pip install bpy==4.2.0 on Python 3.11). Skipped where neither is installed."""
    import os
    import shutil
    import subprocess

    bpy_python, blender = os.environ.get("ROTOGRAPH_BPY_PYTHON"), shutil.which("blender")
    if not (bpy_python or blender):
        pytest.skip("no Blender: put blender on PATH or set ROTOGRAPH_BPY_PYTHON")
    g, _ = scene
    _cloud(g, tmp_path, "cloud", stride=4, voxel_size=0.1)
    g.add("rotograph.WriteBlender", "blender", file=str(tmp_path / "shot.py"))
    for a, b in [("scene.camera", "blender.camera"), ("scene.image", "blender.image"), ("cloud.written", "blender.file_cloud")]:
        g.connect(a, b)
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    script = str(tmp_path / "shot.py")
    run = [bpy_python, script] if bpy_python else [blender, "-b", "--python-exit-code", "1", "--python", script]
    for fmt in ("fbx", "abc"):
        out = subprocess.run(run + ["--", "--export", fmt, str(tmp_path / f"shot.{fmt}")], capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        assert (tmp_path / f"shot.{fmt}").stat().st_size > 1000
