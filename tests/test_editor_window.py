"""The real editor window under Xvfb: open, select, step, prompt, render, save, screenshot."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

import rotograph

from conftest import GRAPHS, ROOT

ARTIFACTS = ROOT / "artifacts"


def test_editor_session(tmp_path):
    if shutil.which("xvfb-run") is None:
        pytest.fail("xvfb-run is missing: apt-get install xvfb (.ci/run does)")
    run = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable,
                          str(ROOT / "tests" / "editor_session.py"), str(GRAPHS / "quickstart.json"), str(tmp_path)],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    seen = json.loads((tmp_path / "session.json").read_text())
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "editor.png", ARTIFACTS / "editor.png")  # the test artefact
    assert seen["first"] == ["read", 1001] and seen["frames"] == [1002, 1003]
    assert seen["point_added"] and seen["keyframes"] == [1003, 1041]  # the current frame became a keyframe
    assert seen["render"].startswith("rendered 1 frames"), seen["render"]
    assert seen["read_view_pos"][0] < 1000 and seen["read_view_pos"][1] < 1000  # F brought it into view
    assert seen["groups"] == ["soften"] and seen["group_drawn"]  # Grow + Feather drawn as one Group node
    assert (tmp_path / "render" / "quickstart" / "quickstart.1003.exr").exists()
    saved = rotograph.load(seen["saved"])
    assert saved.groups["soften"].nodes == ["grow", "feather"]
    kf = [k for k in saved.nodes["track"].prompts if k["frame"] == 1003][0]
    assert kf["points"] == [[640.0, 360.0, 1]]
    assert saved.ui["read"]["pos"] == rotograph.load(GRAPHS / "quickstart.json").ui["read"]["pos"]

    shot = cv2.imread(str(tmp_path / "editor.png")).astype(np.float32) / 255
    def crop(rect):
        x, y, w, h = (int(v) for v in rect)
        return shot[y:y + h, x:x + w]
    # nodes are drawn: the read node's box differs from the empty canvas grid below it
    node = crop(seen["rects"]["node:read"])
    canvas = crop(seen["rects"]["canvas"])
    empty = canvas[-120:-20, 20:200]
    assert node.size and abs(node.mean() - empty.mean()) > 0.02 and node.max() > 0.8  # light title text
    # the viewer shows the plate: its pixels carry the frame's colours (the bunny's green grass)
    viewer = crop(seen["rects"]["viewer"])
    from rotograph.colour import from_linear

    plate = from_linear(rotograph.load(GRAPHS / "quickstart.json").evaluate("read", 1003), "sRGB")
    v = viewer.reshape(-1, 3)[:, ::-1]  # BGR → RGB
    greenish = v[(v[:, 1] > v[:, 0] + 0.1) & (v[:, 1] > v[:, 2] + 0.1)]
    plate_green = ((plate[..., 1] > plate[..., 0] + 0.1) & (plate[..., 1] > plate[..., 2] + 0.1)).mean()
    assert plate_green > 0.1 and len(greenish) / len(v) > 0.5 * plate_green  # the plot also has margins
