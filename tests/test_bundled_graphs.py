"""The bundled graphs run as shipped on the sample plates ``python -m rotograph.io.samples``
(``make demo``) writes, from any working directory (their paths are relative to graphs/): each
one's Read finds its plates, greenscreen.json renders a matte that
matches the sample's known alpha. sam3_matte.json and depth_layers.json need SAM 3 on a CUDA GPU
and downloaded weights: here they are loaded and validated up to that model node."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

import rotograph
from rotograph.io.samples import greenscreen_frame, make_plates

from conftest import GRAPHS

SIZE = (144, 256)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """A copy of the repository's graphs/ beside plates/ as ``make demo`` writes it (3 frames,
    256 px wide)."""
    root = tmp_path_factory.mktemp("shipped")
    make_plates(str(root), frames=3, width=SIZE[1])
    shutil.copytree(GRAPHS, root / "graphs")
    return root


def test_make_plates_writes_what_the_graphs_read(shipped, registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the folder that holds graphs/ and plates/
    for name in ("greenscreen.json", "sam3_matte.json", "depth_layers.json"):
        g = rotograph.load(shipped / "graphs" / name, registry)
        read = g.nodes["read"]
        read.check()
        assert read.frame_range(None) == (1001, 1003), name
        image = g.evaluate("read", 1002)
        assert image.shape == (*SIZE, 3) and image.dtype == np.float32 and 0 < image.mean() < 1, name
    # the shot is the sample clip's frames as linear EXR; a second run keeps the files
    before = {p: p.stat().st_mtime_ns for p in (shipped / "plates").iterdir()}
    make_plates(str(shipped), frames=3, width=SIZE[1])
    assert {p: p.stat().st_mtime_ns for p in (shipped / "plates").iterdir()} == before


def test_greenscreen_graph_renders_as_shipped(shipped, tmp_path):
    run = subprocess.run([sys.executable, "-m", "rotograph.cli", "render", str(shipped / "graphs" / "greenscreen.json"),
                          "--cache", str(tmp_path / "cache"), "-q"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    from rotograph.io.media import read_image

    for i in range(3):
        out = shipped / "render" / "greenscreen" / f"greenscreen.{1001 + i}.exr"
        matte = read_image(str(out), "matte")[0][..., 0]
        _, alpha = greenscreen_frame(i, SIZE)
        assert np.abs(matte - alpha).mean() < 0.02, i
        assert matte[alpha == 1].mean() > 0.98 and matte[alpha == 0].mean() < 0.02


@pytest.mark.parametrize("name", ["sam3_matte.json", "depth_layers.json"])
def test_sam3_graphs_validate_on_any_machine(shipped, registry, tmp_path, monkeypatch, name):
    """The shipped SAM 3 graphs validate on any machine (SAM 3 runs on the CPU too, text concepts
    included): the plates they read are found, and nothing stops before the model."""
    monkeypatch.chdir(tmp_path)  # the graph's relative paths are read from its file's folder, not the cwd
    g = rotograph.load(shipped / "graphs" / name, registry)
    g.validate()
    report = rotograph.render(g, targets=["read"], cache=rotograph.Cache())
    assert report.ok and report.frames == [1001, 1002, 1003]
